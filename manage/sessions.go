package manage

import (
	"context"
	"time"

	sls "github.com/secure-login-system/sls"
)

// UserSessions lists a user's sessions (every state, oldest first), for
// Client Services and the Security Team.
func (s *Service) UserSessions(ctx context.Context, username string) (*sls.User, []*sls.Session, error) {
	var u *sls.User
	var list []*sls.Session
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		if u, err = LookupUser(ctx, tx, username); err != nil {
			return err
		}
		list, err = tx.Sessions(ctx, u.ID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for _, ss := range list {
		ss.Username = u.Username
	}
	if list == nil {
		list = []*sls.Session{}
	}
	return u, list, nil
}

// EndUserSessions ends one session of the user (sessionID) or, when
// sessionID is empty, all of them, and returns the ids it ended (none when
// they had all ended already). A session id that is not the user's is
// not_found. The audit entry (session.ended.operator) names the operator.
func (s *Service) EndUserSessions(ctx context.Context, actor, username, sessionID string) ([]string, error) {
	now := s.now()
	var ended []string
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := LookupUser(ctx, tx, username)
		if err != nil {
			return err
		}
		ended, err = sls.EndSessions(ctx, tx, sls.SessionFilter{UserID: u.ID, SessionID: sessionID}, sls.EndByOperator, actor, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	if ended == nil {
		ended = []string{}
	}
	return ended, nil
}

// endDeviceSessions ends the sessions d authenticated; a helper for the
// device actions above, which all end them the same way.
func endDeviceSessions(ctx context.Context, tx sls.Tx, d *sls.Device, why sls.SessionEndReason, actor string, now time.Time) error {
	_, err := sls.EndSessions(ctx, tx, sls.SessionFilter{DeviceID: d.ID}, why, actor, now)
	return err
}
