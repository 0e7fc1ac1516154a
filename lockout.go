package sls

import (
	"context"
	"time"
)

// Lockout is the rule that locks a user after too many failed
// second-factor answers, counted across all of the user's logins and
// activations (NIST SP 800-63B §5.2.2: at most 100 consecutive failures).
type Lockout struct {
	MaxFailures int
	Cooldown    time.Duration
}

// Fail records one failed answer for u, whose row the caller holds locked
// (UserForUpdate): it stores u, audits the failure with detail (never a
// secret) and, when this failure locks u, the lockout. It returns the
// error to give the client: ErrLocked when this failure locked the user,
// else ErrBadResponse.
func (r Lockout) Fail(ctx context.Context, tx Tx, u *User, deviceID string, detail map[string]any, now time.Time) (outcome, err error) {
	u.FailedAnswers++
	outcome = ErrBadResponse
	locked := r.MaxFailures > 0 && u.FailedAnswers >= r.MaxFailures
	if locked {
		u.LockedUntil, u.FailedAnswers, outcome = now.Add(r.Cooldown), 0, ErrLocked
	}
	if err := tx.PutUser(ctx, u); err != nil {
		return nil, err
	}
	if err := Audit(ctx, tx, now, ActorUser(u.ID), EventSecondFactorFail, u.ID, deviceID, detail); err != nil {
		return nil, err
	}
	if locked {
		if err := RecordLockout(ctx, tx, u, deviceID,
			map[string]any{"until": u.LockedUntil, "max_failures": r.MaxFailures}, now); err != nil {
			return nil, err
		}
	}
	return outcome, nil
}

// Succeed clears u's failure count after a right answer (u is stored by
// the caller).
func (r Lockout) Succeed(u *User) { u.FailedAnswers = 0 }

// HeldOffIndefinitely stands for "until a known client logs in or an
// operator unlocks" (HoldOff's answer at the last failure).
const HeldOffIndefinitely = 100 * 365 * 24 * time.Hour

// HoldOff is the password guessing rule: after the n-th wrong password in
// a row, every burst-th one holds further attempts off for base, doubled
// each time and capped at a day, and the max-th holds them off
// indefinitely. 0 means no hold-off starts at this failure. NIST SP
// 800-63B §5.2.2 allows at most 100 consecutive failures per account;
// the growing delays are its "wait periods that increase as the number
// of failures grow". Both the password login (against unknown clients)
// and FTP report access count failures with it.
func HoldOff(n, burst int, base time.Duration, max int) time.Duration {
	switch {
	case max > 0 && n >= max:
		return HeldOffIndefinitely
	case burst > 0 && n > 0 && n%burst == 0:
		d := base << (n/burst - 1)
		if d > 24*time.Hour || d <= 0 {
			d = 24 * time.Hour
		}
		return d
	}
	return 0
}
