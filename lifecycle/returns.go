package lifecycle

import (
	"context"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
)

// Return reasons (SPEC §6).
const (
	ReturnDamage         = "damage"
	ReturnConsolidation  = "consolidation"
	ReturnAccountClosure = "account_closure"
	ReturnReplacement    = "replacement"
)

var returnReasons = map[string]bool{ReturnDamage: true, ReturnConsolidation: true, ReturnAccountClosure: true, ReturnReplacement: true}

// ReturnAddress is where the client sends devices back.
type ReturnAddress struct {
	Region  policy.Region `json:"region"`
	Address string        `json:"address"`
	Advice  string        `json:"advice"`
}

const returnAdvice = "Send the device with the return form by a tracked carrier: you are responsible for it until it arrives. " +
	"Security Code Cards are not returned: destroy them and confirm it."

func (s *Service) returnAddress(a *sls.Account) (*ReturnAddress, error) {
	r, addr, err := s.Config.Returns.ReturnAddressFor(a.Jurisdiction)
	if err != nil {
		return nil, sls.Errorf(sls.CodeUnavailable, "No return address is configured for your region; please contact Client Services.").Wrap(err)
	}
	return &ReturnAddress{Region: r, Address: addr, Advice: returnAdvice}, nil
}

// ReturnAddressFor returns the return address for the user's region (by
// the account's country of residence).
func (s *Service) ReturnAddressFor(ctx context.Context, u *sls.User) (*ReturnAddress, error) {
	var out *ReturnAddress
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		a, err := tx.Account(ctx, u.AccountID)
		if err != nil {
			return err
		}
		out, err = s.returnAddress(a)
		return err
	})
	return out, err
}

// ReturnRequest is the return form.
type ReturnRequest struct {
	DeviceID string `json:"device_id" required:"true"`
	Reason   string `json:"reason" required:"true"` // damage, consolidation, account_closure, replacement
	Carrier  string `json:"carrier" required:"true"`
	Tracking string `json:"tracking"`
}

// ReturnAnswer confirms a recorded return.
type ReturnAnswer struct {
	Order         *OrderView     `json:"order"`
	ReturnAddress *ReturnAddress `json:"return_address"`
	// Warning is set when no other device can log the user in any more.
	Warning string `json:"warning,omitempty"`
}

// SendReturn records that the client sends a device back (SPEC §6). The
// device stops working at once: it is in the post. Printed cards are
// destroyed instead (ConfirmDestroyed); apps and codes have nothing to
// return.
func (s *Service) SendReturn(ctx context.Context, user *sls.User, req ReturnRequest) (*ReturnAnswer, error) {
	if !returnReasons[req.Reason] {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The return reason must be damage, consolidation, account_closure or replacement.").WithDetail("field", "reason")
	}
	carrier, err := cleanText("carrier", req.Carrier, true)
	if err != nil {
		return nil, err
	}
	tracking, err := cleanText("tracking number", req.Tracking, false)
	if err != nil {
		return nil, err
	}
	now := s.now()
	actor := sls.ActorUser(user.ID)
	var out *ReturnAnswer
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, user.ID)
		if err != nil {
			return err
		}
		d, err := userDevice(ctx, tx, u, req.DeviceID)
		if err != nil {
			return err
		}
		if err := disposable(d.Kind, policy.DisposalReturn); err != nil {
			return err
		}
		a, err := tx.Account(ctx, u.AccountID)
		if err != nil {
			return err
		}
		addr, err := s.returnAddress(a)
		if err != nil {
			return err
		}
		o, err := s.recordFor(ctx, tx, d, actor, now)
		if err != nil {
			return err
		}
		o.ReturnReason, o.ReturnCarrier, o.ReturnTracking, o.ReturnRegion, o.ReturnSentAt = req.Reason, carrier, tracking, string(addr.Region), now
		if err := s.step(ctx, tx, o, policy.EventSendReturn, actor, now,
			map[string]any{"reason": req.Reason, "carrier": carrier, "tracking": tracking, "region": addr.Region}); err != nil {
			return err
		}
		if err := s.revokeCard(ctx, tx, o, actor, "returned: "+req.Reason, sls.EndDeviceRevoked, now); err != nil {
			return err
		}
		v, err := s.view(ctx, tx, o, false)
		if err != nil {
			return err
		}
		out = &ReturnAnswer{Order: v, ReturnAddress: addr}
		if left, err := lastDevice(ctx, tx, u, now); err != nil {
			return err
		} else if left {
			out.Warning = "You have no other active security device: you will need Client Services to log in with a second factor."
		}
		return nil
	})
	return out, err
}

// lastDevice reports whether the user has no usable device left.
func lastDevice(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) (bool, error) {
	devs, err := tx.Devices(ctx, u.ID)
	if err != nil {
		return false, err
	}
	for _, d := range devs {
		if d.Usable(now) {
			return false, nil
		}
	}
	return true, nil
}

// disposable refuses a disposal that does not fit the kind (SPEC §6:
// Security Code Cards are destroyed, not returned).
func disposable(k sls.DeviceKind, want policy.Disposal) error {
	got := policy.DisposalOf(k)
	if got == want {
		return nil
	}
	switch got {
	case policy.DisposalDestroy:
		return sls.Errorf(sls.CodeConflict, "A %s is not returned: destroy it and confirm its destruction.", k.Title()).
			WithDetail(policy.DetailCondition, CondDestroyNotReturn)
	case policy.DisposalReturn:
		return sls.Errorf(sls.CodeConflict, "A %s is returned, not destroyed: send it back with the return form.", k.Title()).
			WithDetail(policy.DetailCondition, CondDestroyNotReturn)
	}
	return sls.Errorf(sls.CodeConflict, "A %s is not a physical object: there is nothing to return or destroy.", k.Title()).
		WithDetail(policy.DetailCondition, CondNothingToReturn)
}

// Report records that the client lost a device, had it stolen, or broke
// it. Its rows are revoked at once; a lost or stolen device's deposit is
// forfeited, a broken one's waits for its return (SPEC §6).
func (s *Service) Report(ctx context.Context, user *sls.User, deviceID, what string) (*OrderView, error) {
	ev := map[string]policy.Event{"lost": policy.EventReportLost, "stolen": policy.EventReportStolen, "damaged": policy.EventReportDamaged}[what]
	if ev == "" {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Report a device lost, stolen or damaged.").WithDetail("field", "what")
	}
	now := s.now()
	actor := sls.ActorUser(user.ID)
	var out *OrderView
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, user.ID)
		if err != nil {
			return err
		}
		d, err := userDevice(ctx, tx, u, deviceID)
		if err != nil {
			return err
		}
		if !d.Kind.Physical() {
			return sls.Errorf(sls.CodeInvalidArgument, "Only physical devices are reported here; Client Services revokes a lost %s.", d.Kind.Title())
		}
		o, err := s.recordFor(ctx, tx, d, actor, now)
		if err != nil {
			return err
		}
		if err := s.step(ctx, tx, o, ev, actor, now, nil); err != nil {
			return err
		}
		if err := s.revokeCard(ctx, tx, o, actor, "reported "+what, endReason(ev), now); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, o, false)
		return err
	})
	return out, err
}

// ConfirmDestroyed records the client's confirmation that a printed card
// (Security Code Card, Online Security Code Card) was destroyed; the card
// stops working.
func (s *Service) ConfirmDestroyed(ctx context.Context, user *sls.User, deviceID string, confirm bool) (*sls.Device, error) {
	if !confirm {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Confirm that you destroyed the card (confirm: true).").WithDetail("field", "confirm")
	}
	now := s.now()
	actor := sls.ActorUser(user.ID)
	var out *sls.Device
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, user.ID)
		if err != nil {
			return err
		}
		d, err := userDevice(ctx, tx, u, deviceID)
		if err != nil {
			return err
		}
		if err := disposable(d.Kind, policy.DisposalDestroy); err != nil {
			return err
		}
		was := d.State
		if d.State != sls.StateRevoked && d.State != sls.StateExpired {
			d.State = sls.StateRevoked
			if err := tx.PutDevice(ctx, d); err != nil {
				return err
			}
			if _, err := sls.EndSessions(ctx, tx, sls.SessionFilter{DeviceID: d.ID}, sls.EndDeviceRevoked, actor, now); err != nil {
				return err
			}
		}
		out = d
		return sls.Audit(ctx, tx, now, actor, EventDeviceDestroyed, u.ID, d.ID, map[string]any{"kind": d.Kind, "serial": d.Serial, "was": was})
	})
	return out, err
}
