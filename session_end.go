package sls

import (
	"context"
	"errors"
	"time"
)

// SessionEndReason says why sessions were ended on the user's behalf. Each
// reason has its own audit event (EndReason.Event), so the trail tells a
// revoked device from a locked user without reading the detail. Strings
// are stored; never rename one.
type SessionEndReason string

// Reasons for ending sessions that the user did not end.
const (
	EndDeviceRevoked   SessionEndReason = "device_revoked"   // an operator or the system revoked the device
	EndDeviceSuspended SessionEndReason = "device_suspended" // an operator suspended the device
	EndDeviceLost      SessionEndReason = "device_lost"      // the client reported the device lost or stolen
	EndDeviceMigrated  SessionEndReason = "device_migrated"  // IB Key moved to another phone
	EndDeviceReplaced  SessionEndReason = "device_replaced"  // a replacement device took its place
	EndDeviceExpired   SessionEndReason = "device_expired"   // a temporary device stopped being valid
	EndUserLocked      SessionEndReason = "user_locked"      // the user was locked (by an operator or a lock-out)
	EndUserDisabled    SessionEndReason = "user_disabled"    // an operator disabled or deleted the user
	EndPasswordChanged SessionEndReason = "password_changed" // the password was changed or reset
	EndAccountClosed   SessionEndReason = "account_closed"   // the account was closed
	EndByOperator      SessionEndReason = "operator"         // an operator ended the sessions explicitly
	EndOperatorToken   SessionEndReason = "operator_token"   // an operator traded the login session for an operator token
	EndRPLogout        SessionEndReason = "rp_logout"        // the user logged out of an application that logs in through the OIDC provider
)

// Event is the audit event recorded when sessions end for reason r:
// "session.ended." followed by the reason.
func (r SessionEndReason) Event() string { return EventSessionEnded + "." + string(r) }

// SessionFilter selects the live sessions EndSessions ends: the one
// SessionID names (of UserID, when set), else those DeviceID
// authenticated, else those of UserID but the ones whose scope is Keep
// (when set). An empty filter is refused, never "everything".
type SessionFilter struct {
	DeviceID  string // every session the device authenticated
	UserID    string // every session of the user
	SessionID string // one session (with UserID: only if it is the user's)
	Keep      Scope  // with UserID: leave sessions of this scope running
}

// EndSessions ends, inside tx, the sessions f selects that have not ended
// yet, and audits them as one event named after reason (with the session
// ids, never tokens). It is the one way a device, a user or an operator
// action ends sessions, so that every path ends them the same way; a
// session that ends stops authenticating at once on every node, because
// login.Service.Authenticate reads the session row. It returns the ids it
// ended; none is not an error and writes no audit entry. The entry names
// the user and, when there is one, the device.
func EndSessions(ctx context.Context, tx Tx, f SessionFilter, reason SessionEndReason, actor string, now time.Time) ([]string, error) {
	var ids []string
	var err error
	userID, deviceID := f.UserID, f.DeviceID
	switch {
	case f.SessionID != "":
		var ss *Session
		if ss, err = endOne(ctx, tx, f, now); ss != nil {
			ids, userID, deviceID = []string{ss.ID}, ss.UserID, ss.DeviceID
		}
	case f.DeviceID != "":
		ids, err = tx.EndSessionsByDevice(ctx, f.DeviceID, now)
	case f.UserID != "":
		ids, err = tx.EndSessionsByUser(ctx, f.UserID, f.Keep, now)
	default:
		return nil, Errorf(CodeInternal, "sls: EndSessions without a filter")
	}
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	if userID == "" && deviceID != "" {
		if d, err := tx.Device(ctx, deviceID); err == nil {
			userID = d.UserID
		}
	}
	detail := map[string]any{"reason": string(reason), "session_ids": ids, "count": len(ids)}
	return ids, Audit(ctx, tx, now, actor, reason.Event(), userID, deviceID, detail)
}

// endOne ends one session and returns it (nil when it had ended already),
// refusing one that is not f.UserID's (when set) with not_found, as if it
// did not exist.
func endOne(ctx context.Context, tx Tx, f SessionFilter, now time.Time) (*Session, error) {
	ss, err := tx.Session(ctx, f.SessionID)
	if errors.Is(err, ErrNotFound) || (err == nil && f.UserID != "" && ss.UserID != f.UserID) {
		return nil, Errorf(CodeNotFound, "Unknown session.")
	}
	if err != nil || !ss.EndedAt.IsZero() {
		return nil, err
	}
	ss.EndedAt = now
	if err := tx.PutSession(ctx, ss); err != nil {
		return nil, err
	}
	return ss, nil
}

// RecordLockout records that u was just locked by a lock-out rule (too many
// wrong answers or passwords; the caller has set u.LockedUntil and stores
// u): it audits user.locked with detail and ends all of u's sessions, so a
// locked user has no way in at all, not only no new login. Every
// lock-out path calls it, so none forgets either half.
func RecordLockout(ctx context.Context, tx Tx, u *User, deviceID string, detail map[string]any, now time.Time) error {
	if err := Audit(ctx, tx, now, ActorSystem, EventLockout, u.ID, deviceID, detail); err != nil {
		return err
	}
	_, err := EndSessions(ctx, tx, SessionFilter{UserID: u.ID}, EndUserLocked, ActorSystem, now)
	return err
}
