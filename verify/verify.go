// Package verify is the one verifier of "prove you hold the device": the
// login's second step, a session step-up, a withdrawal confirmation, the
// activation of a shipped card, and the failures the IB Key app and the
// phone confirmation report. It is the only place that counts answers:
// the challenge's attempt budget, the user's lockout (sls.Lockout, which
// audits second_factor.failed and user.locked) and the reset on success.
// Factors (sls.Factor) only prepare and check; callers own their
// transaction and what a success leads to (a session, a confirmed
// withdrawal, an active card, a proven session).
package verify

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"time"

	sls "github.com/secure-login-system/sls"
)

// Verifier challenges devices and counts the answers. The zero value is
// not usable; build one with the server's factors and lockout rule.
type Verifier struct {
	Factors sls.Factors
	// Lockout locks the user after too many failed answers across all of
	// the user's challenges (NIST SP 800-63B §5.2.2).
	Lockout sls.Lockout
	// MaxAttempts bounds the answers one challenge accepts (login's
	// max_answers).
	MaxAttempts int
	// Metrics, when set, times every factor check.
	Metrics *Metrics
}

// Result is the outcome of an answer that was an answer at all. Refusal
// is nil on success; otherwise it is what to give the client
// (ErrBadResponse, ErrLocked when this failure locked the user,
// ErrTooManyAttempts when the challenge is used up), and the caller must
// commit: the count is stored.
type Result struct {
	Verified sls.Verified
	Refusal  error
	// Spent reports that the challenge accepts no more answers (locked
	// or out of attempts); the caller ends it.
	Spent bool
}

// OK reports a right answer.
func (r Result) OK() bool { return r.Refusal == nil }

// usable checks that d is the user's and may be proven for purpose:
// usable (active, not expired) and available (sls.DeviceAvailable) or,
// for an activation, pending.
func (v *Verifier) usable(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, purpose sls.Purpose, now time.Time) (sls.Factor, error) {
	f := v.Factors[d.Kind]
	if f == nil || d.UserID != u.ID {
		return nil, sls.ErrDeviceUnavailable
	}
	if purpose.Activates() {
		if d.State != sls.StatePending {
			return nil, sls.Errorf(sls.CodeConflict, "The device is %s, not waiting for activation.", d.State)
		}
		return f, nil
	}
	if ok, err := sls.DeviceAvailable(ctx, tx, f, u, d, now); err != nil {
		return nil, err
	} else if !ok {
		return nil, sls.ErrDeviceUnavailable
	}
	return f, nil
}

// Start challenges d for c, whose IDHash, Purpose, binding, UserID,
// CreatedAt and Deadline the caller set (Deadline caps the factor's own
// lifetime). u must be read with UserForUpdate. It refuses a locked user
// and a device that is not the user's, not usable (pending, for an
// activation) or not available; it asks the factor for the screen (c's
// Prompt and FactorState, reset first) and stores d. The caller stores c.
func (v *Verifier) Start(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, c *sls.Challenge, now time.Time) error {
	if u.Locked(now) {
		return sls.ErrLocked
	}
	f, err := v.usable(ctx, tx, u, d, c.Purpose, now)
	if err != nil {
		return err
	}
	limit := c.Deadline
	c.DeviceID, c.Prompt, c.FactorState = d.ID, nil, nil
	before := snapshot(d)
	if err := f.Challenge(ctx, tx, u, d, c, now); err != nil {
		return err
	}
	if c.Deadline.IsZero() || c.Deadline.After(limit) {
		c.Deadline = limit
	}
	return putIfChanged(ctx, tx, before, d)
}

// snapshot copies d, its byte slices included, so that a factor changing
// them in place is still seen as a change.
func snapshot(d *sls.Device) sls.Device {
	c := *d
	c.Secret, c.FactorState = bytes.Clone(d.Secret), bytes.Clone(d.FactorState)
	return c
}

// putIfChanged stores d when a factor changed it since before: most
// challenges and answers change nothing on the device, and a login's
// statements are round trips on PostgreSQL.
func putIfChanged(ctx context.Context, tx sls.Tx, before sls.Device, d *sls.Device) error {
	if before.State == d.State && before.Serial == d.Serial && before.Label == d.Label &&
		before.ActivatedAt.Equal(d.ActivatedAt) && before.ExpiresAt.Equal(d.ExpiresAt) &&
		bytes.Equal(before.Secret, d.Secret) && bytes.Equal(before.FactorState, d.FactorState) {
		return nil
	}
	return tx.PutDevice(ctx, d)
}

// Answer checks answer to c with d (c.DeviceID), for u read with
// UserForUpdate. Refusals that count nothing come back as the error
// (expired, used up, locked, device gone, a push not yet approved): the
// caller returns it and nothing is stored. An answer that was checked
// comes back as a Result, after the count was applied: c.Attempts, the
// user's failures or lock (audited with c's purpose) and d are stored or
// changed in memory as documented; the caller stores c.
func (v *Verifier) Answer(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, c *sls.Challenge, answer string, now time.Time) (Result, error) {
	switch {
	case len(answer) > sls.MaxAnswer:
		return Result{}, sls.Errorf(sls.CodeInvalidArgument, "The answer is too long.")
	case !now.Before(c.Deadline):
		return Result{}, sls.ErrLoginExpired
	case v.MaxAttempts > 0 && c.Attempts >= v.MaxAttempts:
		return Result{}, sls.ErrTooManyAttempts
	case u.Locked(now):
		return Result{}, sls.ErrLocked
	case d.ID != c.DeviceID || c.UserID != u.ID:
		return Result{}, sls.ErrDeviceUnavailable
	}
	f, err := v.usable(ctx, tx, u, d, c.Purpose, now)
	if err != nil {
		return Result{}, err
	}
	c.Attempts++
	start := time.Now()
	before := snapshot(d)
	verified, verr := f.Verify(ctx, tx, u, d, c, answer, now)
	v.Metrics.observe(d.Kind, verr, start)
	if verr != nil {
		if !errors.Is(verr, sls.ErrBadResponse) {
			c.Attempts-- // not an answer at all (a push not yet approved): nothing counted
			return Result{}, verr
		}
		refusal, err := v.Fail(ctx, tx, u, d.ID, c.Purpose, detailOf(c, d), now)
		if err != nil {
			return Result{}, err
		}
		r := Result{Refusal: refusal, Spent: errors.Is(refusal, sls.ErrLocked)}
		if !r.Spent && v.MaxAttempts > 0 && c.Attempts >= v.MaxAttempts {
			r.Refusal, r.Spent = sls.ErrTooManyAttempts, true
		}
		return r, putIfChanged(ctx, tx, before, d)
	}
	if u.FailedAnswers != 0 {
		v.Lockout.Succeed(u)
		if err := tx.PutUser(ctx, u); err != nil {
			return Result{}, err
		}
	}
	c.FactorState = nil // single use
	return Result{Verified: verified}, putIfChanged(ctx, tx, before, d)
}

// Fail counts one failed proof that did not go through Answer (the IB Key
// app reporting a wrong PIN or a wrong number, a wrong phone
// confirmation code) toward u's lockout: it stores u and audits
// second_factor.failed with the purpose in the detail, and user.locked
// when this failure locks u. It returns ErrBadResponse or ErrLocked.
func (v *Verifier) Fail(ctx context.Context, tx sls.Tx, u *sls.User, deviceID string, purpose sls.Purpose, detail map[string]any, now time.Time) (error, error) {
	det := maps.Clone(detail)
	if det == nil {
		det = map[string]any{}
	}
	det["purpose"] = purpose
	return v.Lockout.Fail(ctx, tx, u, deviceID, det, now)
}

// detailOf is what the audit trail keeps of a failed answer to c (never a
// secret).
func detailOf(c *sls.Challenge, d *sls.Device) map[string]any {
	det := map[string]any{"kind": d.Kind, "attempt": c.Attempts}
	if c.Platform != "" {
		det["platform"] = c.Platform
	}
	if c.ClientIP != "" {
		det["ip"] = c.ClientIP
	}
	if c.Bound.SessionID != "" {
		det["session_id"] = c.Bound.SessionID
	}
	if c.Bound.OrderID != "" {
		det["order_id"] = c.Bound.OrderID
	}
	if c.Bound.Currency != "" {
		det["currency"], det["amount_minor"] = c.Bound.Currency, c.Bound.AmountMinor
	}
	return det
}

func errorIsBadResponse(err error) bool { return errors.Is(err, sls.ErrBadResponse) }
