package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/policy"
)

// ShipRequest is what the operator records when handing an order to the
// carrier.
type ShipRequest struct {
	Carrier  string `json:"carrier" required:"true"`
	Tracking string `json:"tracking" required:"true"`
	// Serial is the serial number printed on the card; empty lets the
	// system choose one.
	Serial string `json:"serial,omitempty"`
}

// Shipped is the answer to Ship: the order, and the card file to write
// into the physical card (its key: it goes to the card output directory
// and nowhere else, never into an answer).
type Shipped struct {
	Order    *OrderView        `json:"order"`
	Card     *dscplus.CardFile `json:"-"`
	CardFile string            `json:"card_file"`
}

// Ship makes the card of an order (through package manage, pending until
// activation, with the PIN the client chose) and records the shipment. The
// PIN is erased from the order once the card exists.
func (s *Service) Ship(ctx context.Context, actor, orderID string, req ShipRequest) (*Shipped, error) {
	carrier, err := cleanText("carrier", req.Carrier, true)
	if err != nil {
		return nil, err
	}
	tracking, err := cleanText("tracking number", req.Tracking, true)
	if err != nil {
		return nil, err
	}
	var pin, userID string
	err = s.Store.View(ctx, func(tx sls.Tx) error {
		o, err := tx.DeviceOrder(ctx, orderID)
		if errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No device order %q.", orderID)
		}
		if err != nil {
			return err
		}
		if _, err := policy.Transition(policy.State(o.State), policy.EventShip); err != nil {
			return err
		}
		if o.Kind != sls.KindDSCPlus || len(o.SealedPIN) == 0 {
			return sls.Errorf(sls.CodeConflict, "Order %s has no card to make.", o.ID)
		}
		b, err := s.Sealer.Open(pinPlace(o.ID), o.SealedPIN)
		if err != nil {
			return fmt.Errorf("lifecycle: PIN of %s: %w", o.ID, err)
		}
		pin, userID = string(b), o.UserID
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The card is issued in manage's own transaction; if the shipment
	// cannot be recorded after it (another operator shipped the order at
	// the same moment), the new card is revoked before anyone holds it.
	issued, err := s.Manage.IssueDSCPlus(ctx, actor, userID, strings.ToUpper(strings.TrimSpace(req.Serial)), pin, false)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *Shipped
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		o, _, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if o.State != string(policy.StateOrdered) || o.DeviceID != "" {
			return sls.Errorf(sls.CodeConflict, "Order %s was shipped meanwhile.", o.ID)
		}
		o.DeviceID, o.Serial, o.Carrier, o.Tracking, o.ShippedAt, o.SealedPIN = issued.Device.ID, issued.Device.Serial, carrier, tracking, now, nil
		if err := s.step(ctx, tx, o, policy.EventShip, actor, now, map[string]any{"carrier": carrier, "tracking": tracking, "device_id": o.DeviceID}); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, o.UserID, sls.NoteDeviceShipped, map[string]string{"Device": string(o.Kind), "Carrier": carrier, "Tracking": tracking}); err != nil {
			return err
		}
		v, err := s.view(ctx, tx, o, true)
		if err != nil {
			return err
		}
		out = &Shipped{Order: v, Card: issued.Card}
		return nil
	})
	if err != nil {
		if rerr := s.revokeOrphan(ctx, actor, issued.Device.ID); rerr != nil {
			s.log().Error("lifecycle: card issued for an order that did not ship could not be revoked", "device_id", issued.Device.ID, "err", rerr)
		}
		return nil, err
	}
	return out, nil
}

func (s *Service) revokeOrphan(ctx context.Context, actor, deviceID string) error {
	now := s.now()
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		d, err := tx.Device(ctx, deviceID)
		if err != nil {
			return err
		}
		if d.State == sls.StateRevoked {
			return nil
		}
		d.State = sls.StateRevoked
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, sls.EventDeviceRevoked, d.UserID, d.ID, map[string]any{"kind": d.Kind, "reason": "shipment not recorded"})
	})
}

// Deliver records the carrier's delivery (at, or now when zero). The card
// activates by itself policy.AutoActivationDelay later unless the client
// activates it first.
func (s *Service) Deliver(ctx context.Context, actor, orderID string, at time.Time) (*OrderView, error) {
	now := s.now()
	if at.IsZero() {
		at = now
	}
	if at.After(now) {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "A delivery cannot be recorded in the future.")
	}
	var out *OrderView
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		o, _, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if at.Before(o.ShippedAt) {
			return sls.Errorf(sls.CodeInvalidArgument, "The delivery cannot precede the shipment (%s).", o.ShippedAt.Format(time.RFC3339))
		}
		o.DeliveredAt, o.AutoActivateAt = at, policy.AutoActivationAt(at)
		if err := s.step(ctx, tx, o, policy.EventDeliver, actor, now, map[string]any{"delivered_at": at, "auto_activate_at": o.AutoActivateAt}); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, o.UserID, sls.NoteDeviceDelivered, map[string]string{"Device": string(o.Kind)}); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, o, true)
		return err
	})
	return out, err
}

// Assessments on receipt.
const (
	AssessIntact              = "intact"
	AssessDeliberatelyDamaged = "deliberately_damaged"
)

// Receive records that a returned device arrived, with the operator's
// assessment: intact (or damaged by wear or accident) releases the
// deposit; deliberately damaged forfeits it (SPEC §6).
func (s *Service) Receive(ctx context.Context, actor, orderID, assessment, note string) (*OrderView, error) {
	ev := policy.EventReceive
	// The assessment is never assumed: "intact" releases the deposit and
	// the ledger is append-only, so an empty one is a mistake to refuse.
	switch assessment {
	case AssessIntact:
	case AssessDeliberatelyDamaged:
		ev = policy.EventReceiveDeliberatelyDamaged
	default:
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The assessment must be %s or %s.", AssessIntact, AssessDeliberatelyDamaged)
	}
	note, err := cleanNote(note)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *OrderView
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		o, _, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		o.ReceivedAt, o.Assessment = now, assessment
		if err := s.step(ctx, tx, o, ev, actor, now, map[string]any{"assessment": assessment, "note": note}); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, o.UserID, sls.NoteReturnReceived, map[string]string{"Device": string(o.Kind)}); err != nil {
			return err
		}
		out, err = s.view(ctx, tx, o, true)
		return err
	})
	return out, err
}

func cleanNote(note string) (string, error) {
	note = strings.TrimSpace(note)
	if len(note) > 500 {
		return "", sls.Errorf(sls.CodeInvalidArgument, "The note is too long (500 characters at most).")
	}
	return note, nil
}

// operatorEvents are the events Client Services may record directly (on
// the carrier's word or the client's phone call).
var operatorEvents = map[policy.Event]bool{
	policy.EventCancel: true, policy.EventUndeliverable: true, policy.EventLostInShipping: true, policy.EventReturnLost: true,
	policy.EventReportLost: true, policy.EventReportStolen: true, policy.EventReportDamaged: true, policy.EventSendReturn: true,
}

// revoking events leave a card that nobody must log in with.
var revoking = map[policy.Event]bool{
	policy.EventCancel: true, policy.EventUndeliverable: true, policy.EventLostInShipping: true, policy.EventReturnLost: true,
	policy.EventReportLost: true, policy.EventReportStolen: true, policy.EventReportDamaged: true, policy.EventSendReturn: true,
	policy.EventCloseNotReturned: true,
}

// endReason is why the sessions of a card revoked by event ev end: a card
// reported lost or stolen (or lost on its way back) may be in other
// hands; any other revocation is a plain one.
func endReason(ev policy.Event) sls.SessionEndReason {
	switch ev {
	case policy.EventReportLost, policy.EventReportStolen, policy.EventLostInShipping, policy.EventReturnLost:
		return sls.EndDeviceLost
	}
	return sls.EndDeviceRevoked
}

// Apply records an event decided by an operator: cancel, undeliverable,
// lost_in_shipping, return_lost, report_lost, report_stolen,
// report_damaged or send_return. The card's device rows are revoked.
func (s *Service) Apply(ctx context.Context, actor, orderID string, ev policy.Event, note string) (*OrderView, error) {
	if !operatorEvents[ev] {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "Event %q is not recorded this way (ship, deliver and receive have their own commands).", string(ev))
	}
	note, err := cleanNote(note)
	if err != nil {
		return nil, err
	}
	now := s.now()
	var out *OrderView
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		o, _, err := lockOrder(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if ev == policy.EventSendReturn && o.ReturnSentAt.IsZero() {
			o.ReturnSentAt = now
		}
		if err := s.step(ctx, tx, o, ev, actor, now, map[string]any{"note": note}); err != nil {
			return err
		}
		if revoking[ev] {
			if err := s.revokeCard(ctx, tx, o, actor, string(ev), endReason(ev), now); err != nil {
				return err
			}
		}
		out, err = s.view(ctx, tx, o, true)
		return err
	})
	return out, err
}
