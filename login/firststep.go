package login

import (
	"context"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/ratelimit"
)

// FirstStepFactor is a device that is two factors in itself and that its
// user let log in without the password: a passkey, whose authenticator
// verified the user (PIN or biometrics) and signed for this site. The
// factor finds the device its answer names, then checks the answer.
type FirstStepFactor interface {
	// Identify names the user and device the answer is for; any error is
	// answered as a wrong password would be (no enumeration).
	Identify(ctx context.Context, tx sls.Tx, state, answer string, now time.Time) (userID, deviceID string, err error)
	// Verify checks the answer for d of u (read with UserForUpdate). It
	// returns sls.ErrBadResponse for a wrong answer (counted toward the
	// lock-out) and may change d (its counter), which the caller stores.
	Verify(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, state, answer string, now time.Time) (sls.Verified, error)
}

// FirstStepRequest is a login with a first-step device only.
type FirstStepRequest struct {
	Platform  sls.Platform
	ClientIP  string
	UserAgent string
	// State is the ceremony the factor began (opaque to the service);
	// Answer is the device's answer.
	State, Answer string
}

// FirstStep logs in with a first-step device: the same rules as a login
// with the password — the per-address limit on first steps, a locked or
// disabled user refused, the gate (IP restrictions, closure), the
// lock-out counting wrong answers, the audited session — and a refusal
// that tells nothing more than a wrong password.
func (s *Service) FirstStep(ctx context.Context, r FirstStepRequest, f FirstStepFactor) (*Step, error) {
	start := time.Now()
	if !r.Platform.Valid() {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "platform must be %q or %q", sls.PlatformPortal, sls.PlatformTrading)
	}
	if len(r.Answer) > 64<<10 || len(r.State) > 8<<10 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The answer is too long.")
	}
	now := s.clock.Now()
	var step *Step
	var refusal error
	err := s.store.Update(ctx, func(tx sls.Tx) error {
		step, refusal = nil, nil
		if err := s.limiter.TakeIn(ctx, tx, ratelimit.PasswordAddress, ratelimit.AddressKey(r.ClientIP)); err != nil {
			return err
		}
		uid, did, err := f.Identify(ctx, tx, r.State, r.Answer, now)
		if err != nil {
			refusal = sls.ErrInvalidCredentials
			return nil
		}
		u, err := tx.UserForUpdate(ctx, uid)
		if err != nil {
			return err
		}
		d, err := tx.Device(ctx, did)
		if err != nil || d.UserID != u.ID || !d.Usable(now) {
			refusal = sls.ErrInvalidCredentials
			return nil
		}
		if _, _, refusal, err = s.admit(ctx, tx, u, r.Platform, r.ClientIP, now); err != nil || refusal != nil {
			return err
		}
		v, verr := f.Verify(ctx, tx, u, d, r.State, r.Answer, now)
		if errors.Is(verr, sls.ErrBadResponse) {
			if refusal, err = s.verify.Fail(ctx, tx, u, d.ID, sls.PurposeLogin, map[string]any{"kind": d.Kind, "ip": r.ClientIP, "first_step": true}, now); err != nil {
				return err
			}
			if errors.Is(refusal, sls.ErrBadResponse) {
				refusal = sls.ErrInvalidCredentials
			}
			return tx.PutDevice(ctx, d)
		}
		if verr != nil {
			refusal = sls.ErrInvalidCredentials
			return nil
		}
		s.verify.Lockout.Succeed(u)
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		ns, refused, err := s.finishLogin(ctx, tx, u, d, r.Platform, r.ClientIP, r.UserAgent, "", v, true, now)
		if err != nil || refused != nil {
			refusal = refused
			return err
		}
		step = &Step{State: sls.LoginCompleted, DeviceID: d.ID, Session: ns}
		return nil
	})
	if err != nil {
		s.steps.done(start, "first_step", string(sls.ErrorCode(err)), "")
		return nil, err
	}
	if refusal != nil {
		s.steps.done(start, "first_step", string(sls.ErrorCode(refusal)), "")
		return nil, refusal
	}
	s.steps.done(start, "first_step", "ok", "")
	return step, nil
}
