package login

import (
	"context"
	"errors"
	"fmt"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/ratelimit"
)

// Credentials are what a client presents at the password step.
type Credentials struct {
	Username, Password string
	// ClientToken is the known-client token of an earlier login from this
	// browser or app (empty: none).
	ClientToken string
	ClientIP    string
}

// Audit events of the password step. Strings are stored; never rename one.
const (
	// EventHeldOff: wrong passwords from unknown clients hold them off
	// for the user for a while.
	EventHeldOff = "login.held_off"
	// EventKnownClientRevoked: a known client's token gave too many wrong
	// passwords and no longer vouches for it.
	EventKnownClientRevoked = "login.known_client_revoked"
)

// CheckPassword checks a username and password for flows that start with
// them and have no known-client token (IB Key "Add User" in the app). See
// checkPassword.
func (s *Service) CheckPassword(ctx context.Context, username, password, clientIP string, detail map[string]any) (*sls.User, error) {
	u, _, err := s.checkPassword(ctx, Credentials{Username: username, Password: password, ClientIP: clientIP}, detail, nil)
	return u, err
}

// knownClientTouch is how stale a known client's last use may get before
// a login records it again: it only orders the clients kept
// (knownClientsKept), and a write per login would cost a statement.
const knownClientTouch = time.Hour

// rightPassword continues a login whose password was right, in the
// transaction that records it: u is read with UserForUpdate.
type rightPassword func(tx sls.Tx, u *sls.User, known *sls.KnownClient) error

// checkPassword checks the password step and returns the user and the
// known client that vouched for the request (nil: none), or
// ErrInvalidCredentials.
//
// Nothing in the answer tells a guesser more than "wrong": an unknown
// user, a wrong password, a right password for a locked user and a right
// password while unknown clients are held off all get the same error
// after the same work — one Argon2id hash (against a dummy for unknown
// users) and one audited transaction. Only a client holding a known-client
// token of the user (a device cookie, OWASP "Slow Down Online Guessing
// Attacks with Device Cookies") is told that the user is locked, and only
// with the right password: the token proves an earlier complete login.
//
// Wrong passwords from unknown clients hold unknown clients off for the
// user (Config.UntrustedBurst, UntrustedHoldOff), and at
// MaxPasswordFailures in a row (NIST SP 800-63B §5.2.2) until a login
// from a known client or an operator's unlock; they never lock the user
// out of the clients it logged in with before, so a stranger who knows a
// username cannot aim the lock-out at its owner. A known client counts
// its own wrong passwords and stops vouching after
// KnownClientMaxFailures.
func (s *Service) checkPassword(ctx context.Context, c Credentials, detail map[string]any, then rightPassword) (*sls.User, *sls.KnownClient, error) {
	if c.Username == "" || c.Password == "" || len(c.Username) > 128 || len(c.Password) > 1024 {
		// Length caps keep the hash's input bounded; they are far above
		// NIST SP 800-63B §5.1.1.2's required 64 characters.
		return nil, nil, sls.ErrInvalidCredentials
	}
	// Rate limits come before any work (NIST SP 800-63B §5.2.2; OWASP
	// Credential Stuffing Prevention): per address, then per (address,
	// username) so one source cannot aim a dictionary at one user. The
	// limiter hashes the keys. They are read here and taken below, in
	// the transaction that records the outcome: one flushed commit per
	// step.
	addrKey := ratelimit.AddressKey(c.ClientIP)
	acctKey := ratelimit.AccountKey(c.ClientIP, normalizeUsername(c.Username))
	take := func(tx sls.Tx) error {
		if err := s.limiter.TakeIn(ctx, tx, ratelimit.PasswordAddress, addrKey); err != nil {
			return err
		}
		return s.limiter.TakeIn(ctx, tx, ratelimit.PasswordAccount, acctKey)
	}
	var user *sls.User
	var known *sls.KnownClient
	// Reads without a transaction: each statement stands alone.
	err := s.store.Read(ctx, func(tx sls.Tx) error {
		if err := s.limiter.PeekIn(ctx, tx, ratelimit.PasswordAddress, addrKey); err != nil {
			return err
		}
		if err := s.limiter.PeekIn(ctx, tx, ratelimit.PasswordAccount, acctKey); err != nil {
			return err
		}
		tokenHash := ""
		if c.ClientToken != "" && len(c.ClientToken) <= 128 {
			tokenHash = sls.TokenHash(c.ClientToken)
		}
		var err error
		user, known, err = tx.UserAndKnownClient(ctx, normalizeUsername(c.Username), tokenHash)
		if known != nil && !known.Valid(user.ID) {
			known = nil
		}
		return err
	})
	if e := (*sls.Error)(nil); errors.As(err, &e) && e.Code == sls.CodeRateLimited && e.Detail["limit"] == ratelimit.PasswordAccount {
		// A try refused for the username still counts for the address,
		// so that one source spraying one user runs out of both.
		if terr := s.limiter.Take(ctx, ratelimit.PasswordAddress, addrKey); terr != nil {
			return nil, nil, terr
		}
	}
	if err != nil && !errors.Is(err, sls.ErrNotFound) {
		return nil, nil, err
	}
	// At most Hashing's slots of Argon2id run at once: memory stays
	// bounded under any number of concurrent logins.
	release, err := s.hashing.Enter(ctx)
	if err != nil { // busy (passhash.ErrBusy, a 503 for the client) or the client left
		return nil, nil, err
	}
	hash := s.dummyHash()
	if user != nil {
		hash = user.PasswordHash
	}
	ok, _, herr := passhash.Check([]byte(c.Password), hash, s.cfg.Argon)
	release() // the slot bounds hash memory; the database work below needs none
	if herr != nil {
		s.log.ErrorContext(ctx, "stored password hash unreadable", "user_id", idOf(user), "err", herr)
		ok = false
	}
	now := s.clock.Now()
	right := user != nil && ok
	if user != nil && (user.Locked(now) || (known == nil && now.Before(user.UntrustedUntil))) {
		// Held off: the right and the wrong password get the same answer.
		reason := "held_off"
		if user.Locked(now) {
			reason = "locked"
		}
		if err := s.store.Update(ctx, func(tx sls.Tx) error {
			if err := take(tx); err != nil {
				return err
			}
			if known != nil && !right {
				if err := s.countKnownClientFailure(ctx, tx, user.ID, known, now); err != nil {
					return err
				}
			}
			return sls.Audit(ctx, tx, now, sls.ActorSystem, sls.EventLoginRefused, user.ID, "", withDetail(detail, "reason", reason))
		}); err != nil {
			return nil, nil, err
		}
		if known != nil && right {
			return nil, nil, sls.ErrLocked
		}
		return nil, nil, sls.ErrInvalidCredentials
	}
	if right {
		if err := s.store.Update(ctx, func(tx sls.Tx) error {
			if err := take(tx); err != nil {
				return err
			}
			u, err := tx.UserForUpdate(ctx, user.ID)
			if err != nil {
				return err
			}
			// Consecutive failures end with a right password; one from
			// a known client also ends the hold-off of unknown ones.
			changed := u.FailedPasswords > 0
			u.FailedPasswords = 0
			if known != nil {
				changed = changed || !u.UntrustedUntil.IsZero()
				u.UntrustedUntil = time.Time{}
				if known.Failures > 0 || now.Sub(known.LastUsedAt) >= knownClientTouch {
					known.Failures, known.LastUsedAt = 0, now
					if err := tx.PutKnownClient(ctx, known); err != nil {
						return err
					}
				}
			}
			if changed {
				if err := tx.PutUser(ctx, u); err != nil {
					return err
				}
			}
			if then == nil {
				return nil
			}
			return then(tx, u, known)
		}); err != nil {
			return nil, nil, err
		}
		return user, known, nil
	}
	// Unknown users and wrong passwords do the same work: one audited
	// transaction (which, for a real user, counts the failure).
	if err := s.store.Update(ctx, func(tx sls.Tx) error {
		if err := take(tx); err != nil {
			return err
		}
		if user != nil {
			var err error
			if known != nil {
				err = s.countKnownClientFailure(ctx, tx, user.ID, known, now)
			} else {
				err = s.countUnknownClientFailure(ctx, tx, user.ID, now)
			}
			if err != nil {
				return err
			}
		}
		return sls.Audit(ctx, tx, now, sls.ActorSystem, sls.EventLoginFailed, idOf(user), "", detail)
	}); err != nil {
		return nil, nil, err
	}
	return nil, nil, sls.ErrInvalidCredentials
}

// countUnknownClientFailure counts a wrong password from a client without
// a known-client token of the user: every UntrustedBurst in a row hold
// unknown clients off for UntrustedHoldOff, doubled each time (capped at
// a day), and MaxPasswordFailures in a row hold them off until a login
// from a known client or an operator's unlock. The user is told at the
// first hold-off and at the last.
func (s *Service) countUnknownClientFailure(ctx context.Context, tx sls.Tx, userID string, now time.Time) error {
	u, err := tx.UserForUpdate(ctx, userID)
	if err != nil {
		return err
	}
	u.FailedPasswords++
	n, burst := u.FailedPasswords, s.cfg.UntrustedBurst
	var until time.Time
	if d := sls.HoldOff(n, burst, s.cfg.UntrustedHoldOff, s.cfg.MaxPasswordFailures); d > 0 {
		until = now.Add(d)
	}
	if !until.IsZero() {
		u.UntrustedUntil = until
		s.log.WarnContext(ctx, "unknown clients held off after wrong passwords", "user_id", u.ID, "failures", n, "until", until)
		if err := sls.Audit(ctx, tx, now, sls.ActorSystem, EventHeldOff, u.ID, "",
			map[string]any{"failures": n, "until": until, "max_password_failures": s.cfg.MaxPasswordFailures}); err != nil {
			return err
		}
		if n == burst || n == s.cfg.MaxPasswordFailures {
			if err := s.notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NotePasswordGuessing,
				Data: map[string]string{"Count": fmt.Sprint(n)}}); err != nil {
				return err
			}
		}
	}
	return tx.PutUser(ctx, u)
}

// countKnownClientFailure counts a wrong password given with a known
// client's token; at KnownClientMaxFailures the token stops vouching.
func (s *Service) countKnownClientFailure(ctx context.Context, tx sls.Tx, userID string, known *sls.KnownClient, now time.Time) error {
	known.Failures++
	known.LastUsedAt = now
	if known.Failures >= s.cfg.KnownClientMaxFailures && known.RevokedAt.IsZero() {
		known.RevokedAt = now
		if err := sls.Audit(ctx, tx, now, sls.ActorSystem, EventKnownClientRevoked, userID, "",
			map[string]any{"failures": known.Failures}); err != nil {
			return err
		}
	}
	return tx.PutKnownClient(ctx, known)
}

// knownClientsKept bounds the known clients remembered per user (the most
// recently used stay).
const knownClientsKept = 20

// rememberClient makes a known-client token for the browser or app that
// just completed a login for u, and returns it (shown once). A client
// that was already known (knownHash, its token's hash) keeps its token:
// one app logging in all day must not push the user's other known
// clients out of the kept few.
func (s *Service) rememberClient(ctx context.Context, tx sls.Tx, u *sls.User, knownHash string, now time.Time) (string, error) {
	if knownHash != "" {
		return "", nil
	}
	token := sls.NewToken("slc")
	if err := tx.CreateKnownClient(ctx, &sls.KnownClient{TokenHash: sls.TokenHash(token), UserID: u.ID, CreatedAt: now, LastUsedAt: now}); err != nil {
		return "", err
	}
	return token, tx.PruneKnownClients(ctx, u.ID, knownClientsKept)
}

func (s *Service) notify(ctx context.Context, tx sls.Tx, n sls.Notification) error {
	if s.notes == nil {
		return nil
	}
	return s.notes.Notify(ctx, tx, n)
}

// withDetail returns a copy of detail with one more field.
func withDetail(detail map[string]any, k string, v any) map[string]any {
	out := make(map[string]any, len(detail)+1)
	for key, val := range detail {
		out[key] = val
	}
	out[k] = v
	return out
}
