package protect

import (
	"context"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
)

// StepUpStart is a confirmation waiting for its answer. ConfirmationID is
// a bearer secret: it goes back in a JSON body, never in a URL.
type StepUpStart struct {
	ConfirmationID string         `json:"confirmation_id"`
	DeviceID       string         `json:"device_id"`
	DeviceKind     sls.DeviceKind `json:"device_kind"`
	Prompt         *sls.Prompt    `json:"prompt,omitempty"`
	Deadline       time.Time      `json:"deadline"`
	Currency       string         `json:"currency"`
	Amount         string         `json:"amount"`
}

// StepUpResult is a confirmation answered correctly.
type StepUpResult struct {
	Confirmed  bool           `json:"confirmed"`
	DeviceKind sls.DeviceKind `json:"device_kind"`
	ValidUntil time.Time      `json:"valid_until"`
}

// StepUpRequest starts a confirmation of one withdrawal with one device.
type StepUpRequest struct {
	DeviceID string `json:"device_id"`
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

// StartStepUp challenges one of the user's devices to confirm a
// withdrawal of the given amount (SPEC §4: the device that authenticated
// the withdrawal sets the limit). The challenge is the device's login
// challenge; the login's attempt rules and the user's lockout apply.
func (s *Service) StartStepUp(ctx context.Context, sess *sls.Session, user *sls.User, req StepUpRequest) (*StepUpStart, error) {
	m, err := ParseAmount(req.Currency, req.Amount)
	if err != nil {
		return nil, err
	}
	factors := s.factors()
	if factors == nil {
		return nil, sls.Errorf(sls.CodeUnavailable, "Withdrawal confirmations are not available.")
	}
	cfg := s.cfg()
	now := s.now()
	id := sls.NewToken("wconf")
	var out *StepUpStart
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, user.ID)
		if err != nil {
			return err
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		d, err := tx.Device(ctx, req.DeviceID)
		if errors.Is(err, sls.ErrNotFound) || (err == nil && d.UserID != u.ID) {
			return sls.Errorf(sls.CodeNotFound, "This device is not one of your security devices.")
		}
		if err != nil {
			return err
		}
		f := factors[d.Kind]
		if ok, err := sls.DeviceAvailable(ctx, tx, f, u, d, now); err != nil {
			return err
		} else if !ok {
			return sls.ErrDeviceUnavailable
		}
		// The factor sees a login transaction: the same screen, deadline
		// and state as at login. It is kept in step_ups, never in the
		// logins table, so it can never turn into a session.
		l := &sls.LoginTx{IDHash: sls.TokenHash(id), UserID: u.ID, Platform: sess.Platform, State: sls.LoginChallenged, DeviceID: d.ID,
			CreatedAt: now, Deadline: now.Add(cfg.StepUpAnswerTTL), ClientIP: sess.ClientIP}
		if err := f.Challenge(ctx, tx, u, d, l, now); err != nil {
			return err
		}
		if l.Deadline.After(now.Add(cfg.StepUpAnswerTTL)) {
			l.Deadline = now.Add(cfg.StepUpAnswerTTL)
		}
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		su := &sls.StepUp{IDHash: l.IDHash, UserID: u.ID, SessionID: sess.ID, DeviceID: d.ID, DeviceKind: d.Kind, Currency: m.Currency,
			AmountMinor: m.Minor, Prompt: l.Prompt, FactorState: l.FactorState, CreatedAt: now, Deadline: l.Deadline}
		if err := tx.CreateStepUp(ctx, su); err != nil {
			return err
		}
		out = &StepUpStart{ConfirmationID: id, DeviceID: d.ID, DeviceKind: d.Kind, Prompt: l.Prompt, Deadline: l.Deadline,
			Currency: m.Currency, Amount: FormatAmount(m.Currency, m.Minor)}
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventStepUpStarted, u.ID, d.ID,
			map[string]any{"kind": d.Kind, "currency": m.Currency, "amount_minor": m.Minor, "session_id": sess.ID})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) factors() sls.Factors {
	if s.Factors == nil {
		return nil
	}
	return s.Factors()
}

// AnswerStepUp checks the answer to a confirmation's challenge. A wrong
// answer counts toward the user's lockout like a failed login answer and
// returns bad_response (or account_locked, or too_many_attempts when the
// confirmation is used up); the counts are committed even so.
func (s *Service) AnswerStepUp(ctx context.Context, sess *sls.Session, user *sls.User, confirmationID, answer string) (*StepUpResult, error) {
	if confirmationID == "" || len(confirmationID) > 128 {
		return nil, sls.Errorf(sls.CodeNotFound, "Unknown withdrawal confirmation.")
	}
	if len(answer) > 512 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The answer is too long.")
	}
	factors := s.factors()
	if factors == nil {
		return nil, sls.Errorf(sls.CodeUnavailable, "Withdrawal confirmations are not available.")
	}
	cfg := s.cfg()
	now := s.now()
	var out *StepUpResult
	var outcome error
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		out, outcome = nil, nil
		su, err := tx.StepUpForUpdate(ctx, sls.TokenHash(confirmationID))
		if errors.Is(err, sls.ErrNotFound) || (err == nil && (su.UserID != user.ID || su.SessionID != sess.ID)) {
			return sls.Errorf(sls.CodeNotFound, "Unknown withdrawal confirmation.")
		}
		if err != nil {
			return err
		}
		switch {
		case !su.VerifiedAt.IsZero():
			return sls.Errorf(sls.CodeConflict, "This withdrawal confirmation was already answered.")
		case su.Attempts >= cfg.MaxAnswers:
			return sls.ErrTooManyAttempts
		case !now.Before(su.Deadline):
			return sls.Errorf(sls.CodeLoginExpired, "The confirmation has expired. Please start over.")
		}
		u, err := tx.UserForUpdate(ctx, su.UserID)
		if err != nil {
			return err
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		d, err := tx.Device(ctx, su.DeviceID)
		if err != nil {
			return err
		}
		f := factors[d.Kind]
		if f == nil || !d.Usable(now) || d.UserID != u.ID {
			return sls.ErrDeviceUnavailable
		}
		l := &sls.LoginTx{IDHash: su.IDHash, UserID: u.ID, Platform: sess.Platform, State: sls.LoginChallenged, DeviceID: d.ID,
			CreatedAt: su.CreatedAt, Deadline: su.Deadline, ClientIP: sess.ClientIP, Prompt: su.Prompt, FactorState: su.FactorState,
			Attempts: su.Attempts}
		su.Attempts++
		_, verr := f.Verify(ctx, tx, u, d, l, answer, now)
		if verr != nil {
			if !errors.Is(verr, sls.ErrBadResponse) {
				return verr // not an answer (e.g. a push not yet approved): nothing counted
			}
			outcome = sls.ErrBadResponse
			u.FailedAnswers++
			if u.FailedAnswers >= cfg.MaxFailures {
				u.LockedUntil, u.FailedAnswers, outcome = now.Add(cfg.LockoutCooldown), 0, sls.ErrLocked
			} else if su.Attempts >= cfg.MaxAnswers {
				outcome = sls.ErrTooManyAttempts
			}
			if err := tx.PutUser(ctx, u); err != nil {
				return err
			}
			if err := tx.PutStepUp(ctx, su); err != nil {
				return err
			}
			if err := tx.PutDevice(ctx, d); err != nil {
				return err
			}
			if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), sls.EventSecondFactorFail, u.ID, d.ID,
				map[string]any{"kind": d.Kind, "step": "withdrawal_confirmation", "attempt": su.Attempts}); err != nil {
				return err
			}
			if errors.Is(outcome, sls.ErrLocked) {
				return sls.RecordLockout(ctx, tx, u, d.ID,
					map[string]any{"until": u.LockedUntil, "max_failures": cfg.MaxFailures}, now)
			}
			return nil
		}
		u.FailedAnswers = 0
		if err := tx.PutUser(ctx, u); err != nil {
			return err
		}
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		su.VerifiedAt, su.FactorState = now, nil
		if err := tx.PutStepUp(ctx, su); err != nil {
			return err
		}
		out = &StepUpResult{Confirmed: true, DeviceKind: d.Kind, ValidUntil: now.Add(cfg.StepUpValidity)}
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventStepUpConfirmed, u.ID, d.ID,
			map[string]any{"kind": d.Kind, "currency": su.Currency, "amount_minor": su.AmountMinor, "session_id": sess.ID})
	})
	if err != nil {
		return nil, err
	}
	return out, outcome
}
