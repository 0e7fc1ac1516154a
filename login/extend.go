package login

import (
	"context"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
)

// EventSessionExtended is audited when a re-authentication extends a
// session (SPEC §2.5: biometric IB Key access beyond 12 hours).
const EventSessionExtended = "session.extended"

// ExtendInTx moves the end of a live session to until, inside tx, after
// the caller has verified a re-authentication. It never shortens a
// session and never revives an ended or expired one; extended reports
// whether the end moved.
func (s *Service) ExtendInTx(ctx context.Context, tx sls.Tx, actor, sessionID string, until, now time.Time) (ss *sls.Session, extended bool, err error) {
	ss, err = tx.Session(ctx, sessionID)
	if errors.Is(err, sls.ErrNotFound) {
		return nil, false, sls.Errorf(sls.CodeNotFound, "Unknown session.")
	}
	if err != nil {
		return nil, false, err
	}
	if !ss.Live(now) || !until.After(ss.ExpiresAt) {
		return ss, false, nil
	}
	old := ss.ExpiresAt
	ss.ExpiresAt, ss.LastSeenAt = until, now
	if err := tx.PutSession(ctx, ss); err != nil {
		return nil, false, err
	}
	return ss, true, sls.Audit(ctx, tx, now, actor, EventSessionExtended, ss.UserID, ss.DeviceID,
		map[string]any{"session_id": ss.ID, "from": old, "to": until, "platform": ss.Platform})
}
