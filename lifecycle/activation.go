package lifecycle

import (
	"context"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/policy"
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
func (s *Service) StartActivation(ctx context.Context, user *sls.User, orderID string) (*ActivationChallenge, error) {
	ch, err := factor.Digits(s.rand(), 6)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *ActivationChallenge
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		o, _, err := lockOrder(ctx, tx, orderID)
		if err != nil || o.UserID != user.ID {
			return sls.Errorf(sls.CodeNotFound, "No device order %q.", orderID)
		}
		if err := activatable(o); err != nil {
			return err
		}
		o.ActivationChallenge, o.ActivationDeadline, o.UpdatedAt = ch, now.Add(s.challengeTTL()), now
		if err := tx.PutDeviceOrder(ctx, o); err != nil {
			return err
		}
		out = &ActivationChallenge{OrderID: o.ID, Challenge: ch, Deadline: o.ActivationDeadline,
			Message: "Enter your PIN into the new Digital Security Card+, then this challenge, and type the 8-digit response."}
		return nil
	})
	return out, err
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
	lockout := login.Config{MaxFailures: s.Config.MaxFailures, LockoutCooldown: s.Config.LockoutCooldown}.WithDefaults()
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
		if d.State != sls.StatePending {
			return sls.Errorf(sls.CodeConflict, "The card is %s, not waiting for activation.", d.State)
		}
		ch := o.ActivationChallenge
		o.ActivationChallenge, o.ActivationDeadline = "", time.Time{}
		l := &sls.LoginTx{UserID: u.ID, DeviceID: d.ID, State: sls.LoginChallenged, Prompt: &sls.Prompt{Kind: sls.KindDSCPlus, Challenge: ch}}
		_, verr := (&dscplus.Factor{Sealer: s.Sealer}).Verify(ctx, tx, u, d, l, response, now)
		if errors.Is(verr, sls.ErrBadResponse) {
			outcome = sls.ErrBadResponse
			u.FailedAnswers++
			if u.FailedAnswers >= lockout.MaxFailures {
				u.LockedUntil, u.FailedAnswers, outcome = now.Add(lockout.LockoutCooldown), 0, sls.ErrLocked
			}
			if err := tx.PutUser(ctx, u); err != nil {
				return err
			}
			if err := tx.PutDeviceOrder(ctx, o); err != nil {
				return err
			}
			if err := sls.Audit(ctx, tx, now, actor, sls.EventSecondFactorFail, u.ID, d.ID, map[string]any{"kind": d.Kind, "step": "card_activation", "order_id": o.ID}); err != nil {
				return err
			}
			if errors.Is(outcome, sls.ErrLocked) {
				return sls.RecordLockout(ctx, tx, u, d.ID, map[string]any{"until": u.LockedUntil, "max_failures": lockout.MaxFailures}, now)
			}
			return nil
		}
		if verr != nil {
			return verr
		}
		u.FailedAnswers = 0
		if err := tx.PutUser(ctx, u); err != nil {
			return err
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
