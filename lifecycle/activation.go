package lifecycle

import (
	"context"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/verify"
)

// ActivationChallenge is what the activation screen shows: enter the PIN
// and this challenge into the new card and type back its response.
type ActivationChallenge struct {
	OrderID   string    `json:"order_id"`
	Challenge string    `json:"challenge"`
	Deadline  time.Time `json:"deadline"`
	Message   string    `json:"message"`
}

// StartActivation gives the client a challenge to answer with the new
// card: answering it proves the client holds the card (and knows its PIN).
// The challenge comes from the one verifier (package verify), which
// refuses a locked user and a card not waiting for activation.
func (s *Service) StartActivation(ctx context.Context, user *sls.User, orderID string) (*ActivationChallenge, error) {
	now := s.now()
	var out *ActivationChallenge
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		o, u, err := lockOrder(ctx, tx, orderID)
		if err != nil || o.UserID != user.ID {
			return sls.Errorf(sls.CodeNotFound, "No device order %q.", orderID)
		}
		if err := activatable(o); err != nil {
			return err
		}
		d, err := tx.Device(ctx, o.DeviceID)
		if err != nil {
			return err
		}
		c := &sls.Challenge{Purpose: sls.PurposeCardActivation, Bound: sls.Binding{OrderID: o.ID}, UserID: u.ID,
			CreatedAt: now, Deadline: now.Add(s.challengeTTL())}
		if err := s.verifier().Start(ctx, tx, u, d, c, now); err != nil {
			return err
		}
		o.ActivationChallenge, o.ActivationDeadline, o.UpdatedAt = c.Prompt.Challenge, c.Deadline, now
		if err := tx.PutDeviceOrder(ctx, o); err != nil {
			return err
		}
		out = &ActivationChallenge{OrderID: o.ID, Challenge: c.Prompt.Challenge, Deadline: o.ActivationDeadline,
			Message: "Enter your PIN into the new Digital Security Card+, then this challenge, and type the 8-digit response."}
		return nil
	})
	return out, err
}

// verifier is the one verifier (package verify) for the card's activation
// challenge, under the login's lockout rule. The challenge takes one
// answer: it is spent either way.
func (s *Service) verifier() *verify.Verifier {
	cfg := login.Config{MaxFailures: s.Config.MaxFailures, LockoutCooldown: s.Config.LockoutCooldown}.WithDefaults()
	card := &dscplus.Factor{Sealer: s.Sealer, Rand: s.rand(), ChallengeTTL: s.challengeTTL()}
	return &verify.Verifier{Factors: sls.Factors{sls.KindDSCPlus: card},
		Lockout: sls.Lockout{MaxFailures: cfg.MaxFailures, Cooldown: cfg.LockoutCooldown}, MaxAttempts: 1, Metrics: s.VerifyMetrics}
}

// activatable: a card with the client (delivered), or on its way (shipped:
// the client holding it proves the delivery).
func activatable(o *sls.DeviceOrder) error {
	switch policy.State(o.State) {
	case policy.StateDelivered, policy.StateShipped:
		return nil
	}
	_, err := policy.Transition(policy.State(o.State), policy.EventActivate)
	return err
}

// Activate checks the response of the new card to the activation
// challenge and activates it. A wrong response counts toward the user's
// lockout like a failed login answer, and the challenge is spent either
// way (start again for a new one).
func (s *Service) Activate(ctx context.Context, user *sls.User, orderID, response string) (*OrderView, error) {
	if len(response) > 64 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The response is too long.")
	}
	now := s.now()
	actor := sls.ActorUser(user.ID)
	var out *OrderView
	var outcome error
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		out, outcome = nil, nil
		o, u, err := lockOrder(ctx, tx, orderID)
		if err != nil || o.UserID != user.ID {
			return sls.Errorf(sls.CodeNotFound, "No device order %q.", orderID)
		}
		if err := activatable(o); err != nil {
			return err
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		if o.ActivationChallenge == "" || !now.Before(o.ActivationDeadline) {
			return sls.Errorf(sls.CodeConflict, "Ask for an activation challenge first (it lives %s).", s.challengeTTL())
		}
		d, err := tx.Device(ctx, o.DeviceID)
		if err != nil {
			return err
		}
		c := &sls.Challenge{Purpose: sls.PurposeCardActivation, Bound: sls.Binding{OrderID: o.ID}, UserID: u.ID, DeviceID: d.ID,
			Prompt: &sls.Prompt{Kind: sls.KindDSCPlus, Challenge: o.ActivationChallenge}, Deadline: o.ActivationDeadline}
		o.ActivationChallenge, o.ActivationDeadline = "", time.Time{}
		res, err := s.verifier().Answer(ctx, tx, u, d, c, response, now)
		if err != nil {
			return err
		}
		if !res.OK() {
			outcome = res.Refusal
			if errors.Is(outcome, sls.ErrTooManyAttempts) {
				outcome = sls.ErrBadResponse // one answer per challenge: ask for a new one
			}
			return tx.PutDeviceOrder(ctx, o)
		}
		if o.State == string(policy.StateShipped) {
			o.DeliveredAt = now
			if err := s.step(ctx, tx, o, policy.EventDeliver, actor, now, map[string]any{"proof": "activated by the client with the card"}); err != nil {
				return err
			}
		}
		if err := s.Manage.ActivateInTx(ctx, tx, actor, u, d, now); err != nil {
			return err
		}
		o.ActivatedAt = now
		if err := s.step(ctx, tx, o, policy.EventActivate, actor, now, map[string]any{"device_id": d.ID}); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, o, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, outcome
}
