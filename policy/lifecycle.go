package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/secure-login-system/sls"
)

// State is where a physical device (a DSC+ order, or a legacy token) is in
// its life, from the order to its return or loss (SPEC §6). It tracks the
// object and the USD 20 deposit; whether the device answers logins is
// sls.DeviceState.
type State string

// States. Stored in the database: never rename one.
const (
	StateOrdered           State = "ordered"             // order placed, deposit held
	StateShipped           State = "shipped"             // handed to the carrier
	StateDelivered         State = "delivered"           // with the client, not yet active
	StateActive            State = "active"              // activated by the client or automatically
	StateDamaged           State = "damaged"             // reported broken, to be returned
	StateReturnSent        State = "return_sent"         // the client sent it back; still the client's responsibility
	StateReturned          State = "returned"            // received back
	StateLost              State = "lost"                // lost (by the client, or by the carrier on the way out)
	StateStolen            State = "stolen"              // reported stolen
	StateCancelled         State = "cancelled"           // order cancelled before delivery
	StateClosedNotReturned State = "closed_not_returned" // the account closed without the device coming back
)

// Event is something that happens to a physical device.
type Event string

// Events. Stored in the audit trail: never rename one.
const (
	EventShip                       Event = "ship"                         // operator ships the order
	EventCancel                     Event = "cancel"                       // order cancelled before shipping
	EventUndeliverable              Event = "undeliverable"                // carrier brought it back to us
	EventLostInShipping             Event = "lost_in_shipping"             // carrier lost it on the way to the client
	EventDeliver                    Event = "deliver"                      // carrier confirms delivery
	EventActivate                   Event = "activate"                     // the client activates it
	EventAutoActivate               Event = "auto_activate"                // activated AutoActivationDelay after delivery
	EventReportLost                 Event = "report_lost"                  // the client reports it lost
	EventReportStolen               Event = "report_stolen"                // the client reports it stolen
	EventReportDamaged              Event = "report_damaged"               // the client reports it broken
	EventSendReturn                 Event = "send_return"                  // the client sends it back with the return form
	EventReceive                    Event = "receive"                      // we receive it back
	EventReceiveDeliberatelyDamaged Event = "receive_deliberately_damaged" // we receive it back, deliberately damaged
	EventReturnLost                 Event = "return_lost"                  // the return never arrived
	EventCloseNotReturned           Event = "close_not_returned"           // the account closed while the client still had it
)

// transitions is the lifecycle, SPEC §6: from state, event → to state.
// Anything not listed is forbidden. lost, stolen, returned, cancelled and
// closed_not_returned are final: the deposit has been settled.
var transitions = map[State]map[Event]State{
	StateOrdered: {
		EventShip:   StateShipped,
		EventCancel: StateCancelled,
	},
	StateShipped: {
		EventDeliver:        StateDelivered,
		EventUndeliverable:  StateCancelled,
		EventLostInShipping: StateLost,
	},
	StateDelivered: {
		EventActivate:         StateActive,
		EventAutoActivate:     StateActive,
		EventReportLost:       StateLost,
		EventReportStolen:     StateStolen,
		EventReportDamaged:    StateDamaged,
		EventSendReturn:       StateReturnSent,
		EventCloseNotReturned: StateClosedNotReturned,
	},
	StateActive: {
		EventReportLost:       StateLost,
		EventReportStolen:     StateStolen,
		EventReportDamaged:    StateDamaged,
		EventSendReturn:       StateReturnSent,
		EventCloseNotReturned: StateClosedNotReturned,
	},
	StateDamaged: {
		EventSendReturn:       StateReturnSent,
		EventCloseNotReturned: StateClosedNotReturned,
	},
	StateReturnSent: {
		EventReceive:                    StateReturned,
		EventReceiveDeliberatelyDamaged: StateReturned,
		EventReturnLost:                 StateLost,
	},
	StateReturned:          {},
	StateLost:              {},
	StateStolen:            {},
	StateCancelled:         {},
	StateClosedNotReturned: {},
}

// allEvents lists every event, for validation and messages.
var allEvents = []Event{
	EventShip, EventCancel, EventDeliver, EventUndeliverable, EventLostInShipping,
	EventActivate, EventAutoActivate, EventReportLost, EventReportStolen,
	EventReportDamaged, EventSendReturn, EventReceive,
	EventReceiveDeliberatelyDamaged, EventReturnLost, EventCloseNotReturned,
}

// Valid reports whether s is a known state.
func (s State) Valid() bool { _, ok := transitions[s]; return ok }

// Final reports whether no event leaves s.
func (s State) Final() bool { return s.Valid() && len(transitions[s]) == 0 }

// Valid reports whether e is a known event.
func (e Event) Valid() bool { return slices.Contains(allEvents, e) }

// Events returns the events allowed in state s, in a stable order.
func Events(s State) []Event {
	var out []Event
	for _, e := range allEvents {
		if _, ok := transitions[s][e]; ok {
			out = append(out, e)
		}
	}
	return out
}

// Transition returns the state a device in from reaches on event. An
// unknown state or event is invalid_argument; an event the state does not
// allow is conflict, with Detail "state", "event" and "allowed" (the events
// that state allows). Apply DepositEffect(event) only after a transition
// succeeded.
func Transition(from State, event Event) (State, error) {
	if !from.Valid() {
		return "", sls.Errorf(sls.CodeInvalidArgument, "Unknown device state %q.", string(from))
	}
	if !event.Valid() {
		return "", sls.Errorf(sls.CodeInvalidArgument, "Unknown device event %q.", string(event))
	}
	to, ok := transitions[from][event]
	if !ok {
		allowed := Events(from)
		names := make([]string, len(allowed))
		for i, e := range allowed {
			names[i] = string(e)
		}
		hint := "it is final"
		if len(names) > 0 {
			hint = "allowed: " + strings.Join(names, ", ")
		}
		return "", sls.Errorf(sls.CodeConflict, "A device that is %s cannot take the event %s (%s).", from, event, hint).
			WithDetail("state", string(from)).WithDetail("event", string(event)).WithDetail("allowed", names)
	}
	return to, nil
}

// DepositOutcome is what happens to the deposit held for a device.
type DepositOutcome int

// Deposit outcomes.
const (
	DepositKeep    DepositOutcome = iota // still held
	DepositRelease                       // released to the client
	DepositForfeit                       // kept as compensation
)

func (d DepositOutcome) String() string {
	switch d {
	case DepositRelease:
		return "release"
	case DepositForfeit:
		return "forfeit"
	}
	return "keep"
}

// Deposit is the amount held on an account when a DSC+ is ordered
// (SPEC §6: USD 20).
const Deposit = 20 * Dollar

// DepositEffect says what an event does to the deposit (SPEC §6: the hold
// is released when the device is returned, and kept as compensation if it
// is lost, stolen, deliberately damaged, or not returned when the account
// closes).
//
// Where the SPEC is silent: an order cancelled before shipping, brought
// back by the carrier, or lost by the carrier on its way out releases the
// hold (the device and shipping are free, and the client never had it); a
// return lost on its way back is forfeited (the client is responsible until
// it arrives, SPEC §6); a device reported broken keeps the hold until it is
// received, when inspection decides between receive and
// receive_deliberately_damaged.
func DepositEffect(e Event) DepositOutcome {
	switch e {
	case EventCancel, EventUndeliverable, EventLostInShipping, EventReceive:
		return DepositRelease
	case EventReportLost, EventReportStolen, EventReceiveDeliberatelyDamaged,
		EventReturnLost, EventCloseNotReturned:
		return DepositForfeit
	}
	return DepositKeep
}

// AutoActivationDelay is how long after delivery a shipped replacement
// activates by itself: three weeks (SPEC §6).
const AutoActivationDelay = 21 * 24 * time.Hour

// DefaultActivationNotices are when the client is told before
// auto-activation: a week before, and a day before ("before it happens and
// just before", SPEC §6).
var DefaultActivationNotices = []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}

// AutoActivationAt returns when a device delivered at deliveredAt activates
// by itself: exactly AutoActivationDelay later (elapsed time, not wall
// clock, so a daylight-saving change does not move it by an hour).
func AutoActivationAt(deliveredAt time.Time) time.Time {
	return deliveredAt.Add(AutoActivationDelay)
}

// ActivationNoticeTimes returns when to notify the client before the
// auto-activation of a device delivered at deliveredAt, earliest first.
// before lists how long before activation each notice goes out; nil means
// DefaultActivationNotices. Each must be positive and shorter than
// AutoActivationDelay (a notice cannot precede delivery), and none may
// repeat.
func ActivationNoticeTimes(deliveredAt time.Time, before []time.Duration) ([]time.Time, error) {
	if before == nil {
		before = DefaultActivationNotices
	}
	sorted := slices.Clone(before)
	slices.Sort(sorted)
	for i, b := range sorted {
		if b <= 0 || b >= AutoActivationDelay {
			return nil, fmt.Errorf("policy: activation notice %v before: must be between 0 and %v", b, AutoActivationDelay)
		}
		if i > 0 && sorted[i-1] == b {
			return nil, fmt.Errorf("policy: activation notice %v before: given twice", b)
		}
	}
	at := AutoActivationAt(deliveredAt)
	out := make([]time.Time, len(sorted))
	for i, b := range sorted {
		out[len(sorted)-1-i] = at.Add(-b)
	}
	return out, nil
}

// DefaultDeliveryBusinessDays is how many business days after the order the
// confirmation promises delivery. The SPEC gives no figure; ten business
// days covers an international tracked courier with some margin, and
// operators set their own.
const DefaultDeliveryBusinessDays = 10

// ExpectedDelivery returns the expected delivery date shown when a device
// is ordered at orderedAt (SPEC §6): businessDays business days of cal after
// the business day of the order (an order on a weekend or holiday counts
// from the next business day). businessDays ≤ 0 means
// DefaultDeliveryBusinessDays.
func ExpectedDelivery(orderedAt time.Time, businessDays int, cal Calendar) Date {
	if businessDays <= 0 {
		businessDays = DefaultDeliveryBusinessDays
	}
	return cal.AddBusinessDays(cal.BusinessDayOf(orderedAt), businessDays)
}

// Disposal is what happens to a device the client no longer uses.
type Disposal string

// Disposals.
const (
	DisposalReturn  Disposal = "return"  // sent back to a regional return address
	DisposalDestroy Disposal = "destroy" // destroyed by the client (printed cards)
	DisposalNone    Disposal = "none"    // nothing physical (app, SMS, passcode): deactivate only
)

// DisposalOf says whether a device of kind is returned, destroyed or
// neither (SPEC §6: Security Code Cards are destroyed, not returned;
// physical tokens are returned). The printed Online Security Code Card is
// destroyed like its legacy sibling. An unknown kind is treated as a
// token to return: asking for a return that proves unnecessary costs less
// than letting hardware go missing.
func DisposalOf(kind sls.DeviceKind) Disposal {
	switch {
	case kind == sls.KindCodeCard || kind == sls.KindOnlineCard:
		return DisposalDestroy
	case kind == sls.KindIBKey || kind == sls.KindSMS || kind == sls.KindTempPasscode:
		return DisposalNone
	}
	return DisposalReturn // Physical() kinds, and unknown kinds
}

// Returned reports whether a device of kind goes back to the brokerage
// (and through the return states of the lifecycle).
func Returned(kind sls.DeviceKind) bool { return DisposalOf(kind) == DisposalReturn }

// ReplacementReason is why a device is replaced.
type ReplacementReason string

// Replacement reasons.
const (
	ReplaceLost    ReplacementReason = "lost"
	ReplaceStolen  ReplacementReason = "stolen"
	ReplaceDamaged ReplacementReason = "damaged"
)

// Fees are the configurable replacement fees in US cents. The zero value
// charges nothing: the SPEC makes device and shipping free and leaves
// replacement fees to configuration (SPEC §6).
type Fees struct {
	Lost, Stolen, Damaged int64
}

// Validate checks that no fee is negative.
func (f Fees) Validate() error {
	for _, v := range []struct {
		name string
		fee  int64
	}{{"lost", f.Lost}, {"stolen", f.Stolen}, {"damaged", f.Damaged}} {
		if v.fee < 0 {
			return fmt.Errorf("policy: replacement fee for %s device is negative", v.name)
		}
	}
	return nil
}

// Replacement returns the fee for replacing a device for reason.
func (f Fees) Replacement(reason ReplacementReason) (int64, error) {
	var fee int64
	switch reason {
	case ReplaceLost:
		fee = f.Lost
	case ReplaceStolen:
		fee = f.Stolen
	case ReplaceDamaged:
		fee = f.Damaged
	default:
		return 0, fmt.Errorf("policy: unknown replacement reason %q", string(reason))
	}
	if fee < 0 {
		return 0, fmt.Errorf("policy: replacement fee for %s device is negative", reason)
	}
	return fee, nil
}
