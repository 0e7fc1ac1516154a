package manage

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/passhash"
)

// Events of passwords. Strings are stored; never rename one.
const (
	EventPasswordChanged      = "password.changed"
	EventPasswordChangeFailed = "password.change_failed"
	EventPasswordResetSent    = "password.reset_sent"
	EventPasswordReset        = "password.reset"
	EventPasswordResetFailed  = "password.reset_failed"
)

// ResetTTL is how long a reset code works: minutes, not hours (OWASP
// Forgot Password Cheat Sheet: reset tokens are single use and expire
// quickly).
const ResetTTL = 30 * time.Minute

// ChangePassword sets a new password for the user of session sess after
// checking the current one; the user's other sessions end and the user is
// told on every channel they have.
func (s *Service) ChangePassword(ctx context.Context, sess *sls.Session, current, next, clientIP string) error {
	var u *sls.User
	if err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		u, err = tx.User(ctx, sess.UserID)
		return err
	}); err != nil {
		return err
	}
	ok, _, err := s.Hashing.Check(ctx, []byte(current), u.PasswordHash, s.Argon)
	switch {
	case errors.Is(err, passhash.ErrBusy):
		return err // a 503 for the client: no verdict on the password
	case ctx.Err() != nil:
		return ctx.Err() // the client left: no verdict on the password
	}
	if err != nil || !ok { // a wrong password, or a stored hash that cannot be read
		if err := s.Store.Update(ctx, func(tx sls.Tx) error {
			return sls.Audit(ctx, tx, s.now(), sls.ActorUser(u.ID), EventPasswordChangeFailed, u.ID, "", map[string]any{"ip": clientIP})
		}); err != nil {
			return err
		}
		return sls.Errorf(sls.CodeInvalidCredentials, "The current password is not right.")
	}
	if current == next {
		return sls.Errorf(sls.CodeInvalidArgument, "The new password must differ from the current one.").WithDetail("reason", "unchanged")
	}
	return s.setPassword(ctx, u.ID, next, sess.ID, "", sls.ActorUser(u.ID), "changed", map[string]any{"ip": clientIP, "session_id": sess.ID})
}

// setPassword checks and stores a new password inside one transaction,
// ends every session but keep (a session id, or ""), spends waiting reset
// codes (the one presented, resetHash, must still be unused: two requests
// with one code cannot both set a password), audits and tells the user on
// every channel.
func (s *Service) setPassword(ctx context.Context, userID, next, keep, resetHash, actor, how string, detail map[string]any) error {
	var u *sls.User
	if err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		u, err = tx.User(ctx, userID)
		return err
	}); err != nil {
		return err
	}
	if err := s.checkPassword(next, u.OptedOut, u.Username, localPart(u.Email)); err != nil {
		return err
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return err
	}
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		now := s.now()
		u, err := tx.UserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		if u.Inactive() {
			return sls.Errorf(sls.CodeConflict, "This user is disabled.")
		}
		if resetHash != "" {
			r, err := tx.PasswordResetForUpdate(ctx, resetHash)
			if errors.Is(err, sls.ErrNotFound) || (err == nil && (r.UserID != u.ID || !r.UsedAt.IsZero() || !now.Before(r.ExpiresAt))) {
				return errBadReset
			}
			if err != nil {
				return err
			}
		}
		// A proven new password ends any guessing hold-off.
		u.PasswordHash, u.FailedPasswords, u.UntrustedUntil = hash, 0, time.Time{}
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		sessions, err := tx.Sessions(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, ss := range sessions {
			if ss.ID == keep || !ss.EndedAt.IsZero() {
				continue
			}
			if _, err := sls.EndSessions(ctx, tx, sls.SessionFilter{UserID: u.ID, SessionID: ss.ID}, sls.EndPasswordChanged, actor, now); err != nil {
				return err
			}
		}
		if err := tx.SpendPasswordResets(ctx, u.ID, now); err != nil {
			return err
		}
		event := EventPasswordChanged
		if how == "reset" {
			event = EventPasswordReset
			if s.PasswordReset != nil {
				if err := s.PasswordReset(ctx, tx, u, now); err != nil {
					return err
				}
			}
		}
		if err := sls.Audit(ctx, tx, now, actor, event, u.ID, "", detail); err != nil {
			return err
		}
		return s.tellEverywhere(ctx, tx, u, sls.Notification{UserID: u.ID, Kind: sls.NotePasswordChanged,
			Data: map[string]string{"Time": now.UTC().Format("2006-01-02 15:04 MST"), "How": how}})
	})
}

// tellEverywhere sends n on every channel the user has (sls.TellEverywhere).
func (s *Service) tellEverywhere(ctx context.Context, tx sls.Tx, u *sls.User, n sls.Notification) error {
	if s.Notifier == nil {
		return nil
	}
	return sls.TellEverywhere(ctx, tx, s.Notifier, u, n)
}

func localPart(email string) string {
	l, _, _ := strings.Cut(email, "@")
	return l
}

// ResetSent says where a reset code went, never the code.
type ResetSent struct {
	Channels  []string  `json:"channels"`
	ExpiresAt time.Time `json:"expires_at"`
}

var resetEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newResetCode returns a code of 60 random bits, "XXXX-XXXX-XXXX".
func newResetCode() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	c := resetEncoding.EncodeToString(b)[:12]
	return c[:4] + "-" + c[4:8] + "-" + c[8:], nil
}

func normalizeResetCode(c string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(strings.TrimSpace(c)))
}

func (s *Service) resetHash(code string) string {
	return hex.EncodeToString(s.Sealer.KeyedHash("sls password reset v1", []byte(normalizeResetCode(code))))
}

// StartPasswordReset sends a one-time reset code to the user's own
// verified mobile number and email address, after Client Services
// verified the user's identity (verification says how). The operator
// never sees the code; earlier codes stop working.
func (s *Service) StartPasswordReset(ctx context.Context, actor, username, verification string) (*ResetSent, error) {
	verification, err := reasonText(verification)
	if err != nil {
		return nil, err
	}
	code, err := newResetCode()
	if err != nil {
		return nil, err
	}
	var out *ResetSent
	_, err = s.changeUser(ctx, username, func(tx sls.Tx, u *sls.User, now time.Time) error {
		if err := notDeleted(u); err != nil {
			return err
		}
		out = &ResetSent{ExpiresAt: now.Add(ResetTTL)}
		if u.Mobile != "" && !u.MobileVerifiedAt.IsZero() {
			out.Channels = append(out.Channels, "sms to the number ending "+u.Mobile[max(0, len(u.Mobile)-4):])
		}
		if u.Email != "" {
			out.Channels = append(out.Channels, "email to "+maskEmail(u.Email))
		}
		if len(out.Channels) == 0 || s.Notifier == nil {
			return sls.Errorf(sls.CodeConflict, "User %s has no verified mobile number or email address for the code to reach.", u.Username)
		}
		if err := tx.SpendPasswordResets(ctx, u.ID, now); err != nil {
			return err
		}
		if err := tx.CreatePasswordReset(ctx, &sls.PasswordReset{TokenHash: s.resetHash(code), UserID: u.ID, CreatedBy: actor,
			CreatedAt: now, ExpiresAt: out.ExpiresAt}); err != nil {
			return err
		}
		data := map[string]string{"Code": code, "Until": out.ExpiresAt.UTC().Format("2006-01-02 15:04 MST")}
		if u.Mobile != "" && !u.MobileVerifiedAt.IsZero() {
			if err := s.Notifier.Notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NotePasswordResetCode, Channel: "sms", Data: data}); err != nil {
				return err
			}
		}
		if u.Email != "" {
			if err := s.Notifier.Notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NotePasswordResetCode, Channel: "email", Data: data}); err != nil {
				return err
			}
		}
		return sls.Audit(ctx, tx, now, actor, EventPasswordResetSent, u.ID, "", map[string]any{"identity_verification": verification, "to": out.Channels})
	})
	return out, err
}

func maskEmail(e string) string {
	l, d, _ := strings.Cut(e, "@")
	if len(l) > 1 {
		l = l[:1] + strings.Repeat("*", len(l)-1)
	}
	return l + "@" + d
}

var errBadReset = sls.Errorf(sls.CodeInvalidCredentials, "The username or the reset code is not right, or the code expired or was used. Ask Client Services for a new one.")

// CompletePasswordReset sets a new password with a reset code: the code
// must be the user's, unused and unexpired; it is spent, every session
// ends, and the user is told on every channel.
func (s *Service) CompletePasswordReset(ctx context.Context, username, code, next, clientIP string) error {
	var userID string
	// A write transaction: the reset row is read with its lock (the row is
	// checked again, under lock, where the password is set).
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		userID = ""
		u, err := tx.UserByUsername(ctx, login.NormalizeUsername(username))
		if errors.Is(err, sls.ErrNotFound) {
			return errBadReset
		}
		if err != nil {
			return err
		}
		r, err := tx.PasswordResetForUpdate(ctx, s.resetHash(code))
		if errors.Is(err, sls.ErrNotFound) || (err == nil && (r.UserID != u.ID || !r.UsedAt.IsZero() || !s.now().Before(r.ExpiresAt))) {
			userID = u.ID
			return errBadReset
		}
		if err != nil {
			return err
		}
		userID = u.ID
		return nil
	})
	if errors.Is(err, errBadReset) {
		if userID != "" {
			if err := s.Store.Update(ctx, func(tx sls.Tx) error {
				return sls.Audit(ctx, tx, s.now(), sls.ActorSystem, EventPasswordResetFailed, userID, "", map[string]any{"ip": clientIP})
			}); err != nil {
				return err
			}
		}
		return errBadReset
	}
	if err != nil {
		return err
	}
	// setPassword spends every waiting code of the user in its transaction.
	return s.setPassword(ctx, userID, next, "", s.resetHash(code), sls.ActorUser(userID), "reset", map[string]any{"ip": clientIP})
}
