package protect

import (
	"context"
	"errors"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/verify"
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
	Payee          string         `json:"payee,omitempty"`
}

// StepUpResult is a confirmation answered correctly.
type StepUpResult struct {
	Confirmed  bool           `json:"confirmed"`
	DeviceKind sls.DeviceKind `json:"device_kind"`
	ValidUntil time.Time      `json:"valid_until"`
}

// StepUpRequest starts a confirmation of one withdrawal with one device.
type StepUpRequest struct {
	DeviceID string `json:"device_id" required:"true"`
	Currency string `json:"currency" required:"true"`
	Amount   string `json:"amount" required:"true"`
	// Payee is the account the withdrawal pays (an IBAN or account
	// number, 4–34 letters and digits; spaces and dashes are ignored). The
	// confirmation is bound to it: it cannot pay another account.
	Payee string `json:"payee,omitempty"`
}

// StartStepUp challenges one of the user's devices to confirm a
// withdrawal of the given amount (SPEC §4: the device that authenticated
// the withdrawal sets the limit). The challenge signs the amount and payee
// where the device can (factor.Signs); the login's attempt rules and the
// user's lockout apply.
func (s *Service) StartStepUp(ctx context.Context, sess *sls.Session, user *sls.User, req StepUpRequest) (*StepUpStart, error) {
	m, err := ParseAmount(req.Currency, req.Amount)
	if err != nil {
		return nil, err
	}
	payee, err := NormalizePayee(req.Payee)
	if err != nil {
		return nil, err
	}
	return s.startConfirmation(ctx, sess, user, req.DeviceID, sls.PurposeWithdrawal,
		sls.Binding{SessionID: sess.ID, Currency: m.Currency, AmountMinor: m.Minor, Payee: payee})
}

// startConfirmation challenges one of the user's devices for a
// confirmation of purpose bound to b.
func (s *Service) startConfirmation(ctx context.Context, sess *sls.Session, user *sls.User, deviceID string, purpose sls.Purpose, b sls.Binding) (*StepUpStart, error) {
	factors := s.factors()
	if factors == nil {
		return nil, sls.Errorf(sls.CodeUnavailable, "Confirmations are not available.")
	}
	cfg := s.cfg()
	now := s.now()
	id := sls.NewToken("wconf")
	var out *StepUpStart
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, user.ID)
		if err != nil {
			return err
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		d, err := tx.Device(ctx, deviceID)
		if errors.Is(err, sls.ErrNotFound) || (err == nil && d.UserID != u.ID) {
			return sls.Errorf(sls.CodeNotFound, "This device is not one of your security devices.")
		}
		if err != nil {
			return err
		}
		// The factor shows the same screen as at login, or its signing
		// screen. The challenge is kept in step_ups, never in the logins
		// table, so it can never turn into a session.
		su := &sls.StepUp{DeviceKind: d.Kind, Challenge: sls.Challenge{IDHash: sls.TokenHash(id), Purpose: purpose,
			Bound: b, UserID: u.ID, Platform: sess.Platform, ClientIP: sess.ClientIP, CreatedAt: now, Deadline: now.Add(cfg.StepUpAnswerTTL)}}
		if err := s.verifier(factors).Start(ctx, tx, u, d, &su.Challenge, now); err != nil {
			return err
		}
		if err := tx.CreateStepUp(ctx, su); err != nil {
			return err
		}
		out = &StepUpStart{ConfirmationID: id, DeviceID: d.ID, DeviceKind: d.Kind, Prompt: su.Prompt, Deadline: su.Deadline, Payee: b.Payee}
		if b.Currency != "" {
			out.Currency, out.Amount = b.Currency, FormatAmount(b.Currency, b.AmountMinor)
		}
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventStepUpStarted, u.ID, d.ID,
			map[string]any{"kind": d.Kind, "purpose": purpose, "currency": b.Currency, "amount_minor": b.AmountMinor, "session_id": sess.ID,
				"payee": MaskPayee(b.Payee)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// verifier is the one verifier (package verify) with the login's lockout
// rules.
func (s *Service) verifier(factors sls.Factors) *verify.Verifier {
	cfg := s.cfg()
	return &verify.Verifier{Factors: factors, Lockout: sls.Lockout{MaxFailures: cfg.MaxFailures, Cooldown: cfg.LockoutCooldown},
		MaxAttempts: cfg.MaxAnswers, Metrics: s.VerifyMetrics}
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
func (s *Service) AnswerStepUp(ctx context.Context, sess *sls.Session, confirmationID, answer string) (*StepUpResult, error) {
	return s.answerConfirmation(ctx, sess, sls.PurposeWithdrawal, confirmationID, answer)
}

// answerConfirmation answers a confirmation of purpose.
func (s *Service) answerConfirmation(ctx context.Context, sess *sls.Session, purpose sls.Purpose, confirmationID, answer string) (*StepUpResult, error) {
	if len(answer) > sls.MaxAnswer {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The answer is too long.")
	}
	factors := s.factors()
	if factors == nil {
		return nil, sls.Errorf(sls.CodeUnavailable, "Confirmations are not available.")
	}
	cfg := s.cfg()
	now := s.now()
	var out *StepUpResult
	var outcome error
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		out, outcome = nil, nil
		su, d, res, err := s.verifier(factors).AnswerInSession(ctx, tx, sess, purpose, confirmationID, answer,
			sls.Errorf(sls.CodeNotFound, "Unknown confirmation."), now)
		if errors.Is(err, sls.ErrLoginExpired) {
			return sls.Errorf(sls.CodeLoginExpired, "The confirmation has expired. Please start over.")
		}
		if err != nil {
			return err // not counted
		}
		if !res.OK() {
			outcome = res.Refusal
			return nil
		}
		out = &StepUpResult{Confirmed: true, DeviceKind: d.Kind, ValidUntil: now.Add(cfg.StepUpValidity)}
		return sls.Audit(ctx, tx, now, sls.ActorUser(su.UserID), EventStepUpConfirmed, su.UserID, d.ID,
			map[string]any{"kind": d.Kind, "purpose": purpose, "currency": su.Bound.Currency, "amount_minor": su.Bound.AmountMinor, "session_id": sess.ID})
	})
	if err != nil {
		return nil, err
	}
	return out, outcome
}

// NormalizePayee checks a payee account (an IBAN or an account number)
// and returns it in the form confirmations are bound to: letters and
// digits, upper case, without the spaces and dashes people type. "" stays
// "" (no payee named).
func NormalizePayee(s string) (string, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '-':
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		default:
			return "", sls.Errorf(sls.CodeInvalidArgument, "The payee account holds letters and digits only.").WithDetail("field", "payee")
		}
	}
	p := b.String()
	if p != "" && (len(p) < 4 || len(p) > 34) {
		return "", sls.Errorf(sls.CodeInvalidArgument, "The payee account must be 4 to 34 letters and digits (an IBAN has at most 34).").WithDetail("field", "payee")
	}
	return p, nil
}

// MaskPayee shows the last four characters of a payee account, as
// statements do.
func MaskPayee(p string) string {
	if len(p) <= 4 {
		return p
	}
	return "…" + p[len(p)-4:]
}
