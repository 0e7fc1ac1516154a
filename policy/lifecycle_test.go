package policy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/secure-login-system/sls"
)

var allStates = []State{
	StateOrdered, StateShipped, StateDelivered, StateActive, StateDamaged, StateReturnSent,
	StateReturned, StateLost, StateStolen, StateCancelled, StateClosedNotReturned,
}

// allowedTransitions is the lifecycle written out independently of the
// implementation's table, with the deposit effect of each step.
var allowedTransitions = []struct {
	from    State
	event   Event
	to      State
	deposit DepositOutcome
}{
	{StateOrdered, EventShip, StateShipped, DepositKeep},
	{StateOrdered, EventCancel, StateCancelled, DepositRelease},
	{StateShipped, EventDeliver, StateDelivered, DepositKeep},
	{StateShipped, EventUndeliverable, StateCancelled, DepositRelease},
	{StateShipped, EventLostInShipping, StateLost, DepositRelease},
	{StateDelivered, EventActivate, StateActive, DepositKeep},
	{StateDelivered, EventAutoActivate, StateActive, DepositKeep},
	{StateDelivered, EventReportLost, StateLost, DepositForfeit},
	{StateDelivered, EventReportStolen, StateStolen, DepositForfeit},
	{StateDelivered, EventReportDamaged, StateDamaged, DepositKeep},
	{StateDelivered, EventSendReturn, StateReturnSent, DepositKeep},
	{StateDelivered, EventCloseNotReturned, StateClosedNotReturned, DepositForfeit},
	{StateActive, EventReportLost, StateLost, DepositForfeit},
	{StateActive, EventReportStolen, StateStolen, DepositForfeit},
	{StateActive, EventReportDamaged, StateDamaged, DepositKeep},
	{StateActive, EventSendReturn, StateReturnSent, DepositKeep},
	{StateActive, EventCloseNotReturned, StateClosedNotReturned, DepositForfeit},
	{StateDamaged, EventSendReturn, StateReturnSent, DepositKeep},
	{StateDamaged, EventCloseNotReturned, StateClosedNotReturned, DepositForfeit},
	{StateReturnSent, EventReceive, StateReturned, DepositRelease},
	{StateReturnSent, EventReceiveDeliberatelyDamaged, StateReturned, DepositForfeit},
	{StateReturnSent, EventReturnLost, StateLost, DepositForfeit},
}

func TestTransitionAllowed(t *testing.T) {
	for _, tc := range allowedTransitions {
		to, err := Transition(tc.from, tc.event)
		if err != nil || to != tc.to {
			t.Errorf("Transition(%s, %s) = %s, %v; want %s", tc.from, tc.event, to, err, tc.to)
		}
		if got := DepositEffect(tc.event); got != tc.deposit {
			t.Errorf("DepositEffect(%s) = %s, want %s", tc.event, got, tc.deposit)
		}
	}
}

// Every (state, event) pair not in allowedTransitions is refused with
// conflict, naming what the state allows.
func TestTransitionForbidden(t *testing.T) {
	allowed := map[[2]string]bool{}
	for _, tc := range allowedTransitions {
		allowed[[2]string{string(tc.from), string(tc.event)}] = true
	}
	forbidden := 0
	for _, s := range allStates {
		for _, e := range allEvents {
			if allowed[[2]string{string(s), string(e)}] {
				continue
			}
			forbidden++
			to, err := Transition(s, e)
			if to != "" {
				t.Errorf("Transition(%s, %s) = %s with error", s, e, to)
			}
			ee := wantRefusal(t, err, sls.CodeConflict, "")
			if ee.Detail["state"] != string(s) || ee.Detail["event"] != string(e) {
				t.Errorf("detail = %v", ee.Detail)
			}
		}
	}
	if want := len(allStates)*len(allEvents) - len(allowedTransitions); forbidden != want {
		t.Errorf("%d forbidden pairs, want %d", forbidden, want)
	}

	// Representative refusals, with readable messages.
	for _, tc := range []struct {
		from  State
		event Event
		msg   string
	}{
		{StateOrdered, EventActivate, "A device that is ordered cannot take the event activate (allowed: ship, cancel)."},
		{StateShipped, EventCancel, "allowed: deliver, undeliverable, lost_in_shipping"},
		{StateActive, EventCancel, "A device that is active cannot take the event cancel"},
		{StateActive, EventAutoActivate, "cannot take the event auto_activate"},
		{StateReturnSent, EventCloseNotReturned, "allowed: receive, receive_deliberately_damaged, return_lost"},
		{StateReturned, EventReceive, "(it is final)"},
		{StateLost, EventReceive, "(it is final)"},
		{StateStolen, EventActivate, "(it is final)"},
		{StateCancelled, EventShip, "(it is final)"},
		{StateClosedNotReturned, EventReceive, "(it is final)"},
		{StateDamaged, EventActivate, "allowed: send_return, close_not_returned"},
	} {
		_, err := Transition(tc.from, tc.event)
		if e := wantRefusal(t, err, sls.CodeConflict, ""); !strings.Contains(e.Message, tc.msg) {
			t.Errorf("Transition(%s, %s) message %q, want %q", tc.from, tc.event, e.Message, tc.msg)
		}
	}
}

func TestTransitionUnknown(t *testing.T) {
	_, err := Transition("sold", EventShip)
	wantRefusal(t, err, sls.CodeInvalidArgument, "")
	_, err = Transition(StateOrdered, "teleport")
	wantRefusal(t, err, sls.CodeInvalidArgument, "")
	_, err = Transition("", "")
	wantRefusal(t, err, sls.CodeInvalidArgument, "")
}

func TestStatesAndEvents(t *testing.T) {
	final := []State{StateReturned, StateLost, StateStolen, StateCancelled, StateClosedNotReturned}
	for _, s := range allStates {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		if s.Final() != slices.Contains(final, s) {
			t.Errorf("%s.Final() = %v", s, s.Final())
		}
		if s.Final() != (len(Events(s)) == 0) {
			t.Errorf("Events(%s) = %v", s, Events(s))
		}
	}
	if len(allStates) != len(transitions) {
		t.Errorf("test knows %d states, table has %d", len(allStates), len(transitions))
	}
	if State("x").Valid() || State("x").Final() || Event("x").Valid() || Events("x") != nil {
		t.Error("unknown state or event accepted")
	}
	if got := Events(StateOrdered); !slices.Equal(got, []Event{EventShip, EventCancel}) {
		t.Errorf("Events(ordered) = %v", got)
	}
	// Every event is used by some transition, and has a deposit answer.
	for _, e := range allEvents {
		used := false
		for _, tc := range allowedTransitions {
			used = used || tc.event == e
		}
		if !used {
			t.Errorf("event %s is never allowed", e)
		}
	}
	if DepositEffect("teleport") != DepositKeep || DepositKeep.String() != "keep" ||
		DepositRelease.String() != "release" || DepositForfeit.String() != "forfeit" {
		t.Error("DepositOutcome")
	}
	if Deposit != 2000 {
		t.Errorf("Deposit = %d cents", Deposit)
	}
}

// A whole journey: ordered, shipped, delivered, auto-activated, broken,
// returned and received: the deposit is released exactly once.
func TestLifecycleJourney(t *testing.T) {
	s := StateOrdered
	released, forfeited := 0, 0
	for _, e := range []Event{EventShip, EventDeliver, EventAutoActivate, EventReportDamaged, EventSendReturn, EventReceive} {
		next, err := Transition(s, e)
		if err != nil {
			t.Fatalf("%s on %s: %v", e, s, err)
		}
		switch DepositEffect(e) {
		case DepositRelease:
			released++
		case DepositForfeit:
			forfeited++
		}
		s = next
	}
	if s != StateReturned || released != 1 || forfeited != 0 {
		t.Fatalf("end %s, released %d, forfeited %d", s, released, forfeited)
	}
}

func TestAutoActivation(t *testing.T) {
	delivered := time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC)
	if got, want := AutoActivationAt(delivered), time.Date(2026, 3, 22, 15, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("AutoActivationAt = %v, want %v", got, want)
	}
	// Across the New York DST change, 21 days of elapsed time.
	nyDelivered := at(2026, 3, 1, 15, 0)
	if got := AutoActivationAt(nyDelivered); got.Sub(nyDelivered) != 21*24*time.Hour {
		t.Errorf("elapsed %v", got.Sub(nyDelivered))
	}

	times, err := ActivationNoticeTimes(delivered, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{time.Date(2026, 3, 15, 15, 0, 0, 0, time.UTC), time.Date(2026, 3, 21, 15, 0, 0, 0, time.UTC)}
	if !slices.EqualFunc(times, want, time.Time.Equal) {
		t.Errorf("default notices = %v, want %v", times, want)
	}
	times, err = ActivationNoticeTimes(delivered, []time.Duration{time.Hour, 14 * 24 * time.Hour, 3 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	want = []time.Time{
		time.Date(2026, 3, 8, 15, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 19, 15, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 22, 14, 0, 0, 0, time.UTC),
	}
	if !slices.EqualFunc(times, want, time.Time.Equal) {
		t.Errorf("custom notices = %v, want %v", times, want)
	}
	if times, err := ActivationNoticeTimes(delivered, []time.Duration{}); err != nil || len(times) != 0 {
		t.Errorf("no notices: %v, %v", times, err)
	}
	for _, bad := range [][]time.Duration{
		{0}, {-time.Hour}, {21 * 24 * time.Hour}, {22 * 24 * time.Hour}, {time.Hour, time.Hour},
	} {
		if _, err := ActivationNoticeTimes(delivered, bad); err == nil || !strings.HasPrefix(err.Error(), "policy: ") {
			t.Errorf("ActivationNoticeTimes(%v) error = %v", bad, err)
		}
	}
	// The default list is not reordered by a call.
	if !slices.Equal(DefaultActivationNotices, []time.Duration{7 * 24 * time.Hour, 24 * time.Hour}) {
		t.Errorf("DefaultActivationNotices = %v", DefaultActivationNotices)
	}
}

func TestExpectedDelivery(t *testing.T) {
	cal := cal2026(t)
	for _, tc := range []struct {
		ordered time.Time
		days    int
		want    Date
	}{
		{at(2026, 12, 21, 10, 0), 3, Date{2026, 12, 24}},  // Mon → Thu
		{at(2026, 12, 22, 10, 0), 3, Date{2026, 12, 28}},  // over the Friday holiday and weekend
		{at(2026, 12, 26, 10, 0), 1, Date{2026, 12, 29}},  // Saturday counts from Monday
		{at(2026, 1, 15, 10, 0), 2, Date{2026, 1, 20}},    // Thu → Fri, (Mon holiday), Tue
		{at(2026, 12, 21, 10, 0), 10, Date{2027, 1, 6}},   // 22 23 24 28 29 30 31 (1 Jan) 4 5 6
		{at(2026, 12, 21, 10, 0), 0, Date{2027, 1, 6}},    // 0 means the default, 10
		{at(2026, 12, 21, 10, 0), -1, Date{2027, 1, 6}},   // so does a negative count
		{at(2026, 12, 21, 23, 30), 1, Date{2026, 12, 22}}, // late evening still Monday in New York
	} {
		if got := ExpectedDelivery(tc.ordered, tc.days, cal); got != tc.want {
			t.Errorf("ExpectedDelivery(%v, %d) = %v, want %v", tc.ordered, tc.days, got, tc.want)
		}
	}
}

func TestDisposalOf(t *testing.T) {
	for k, want := range map[sls.DeviceKind]Disposal{
		sls.KindDSCPlus:      DisposalReturn,
		sls.KindDSC:          DisposalReturn,
		sls.KindPlatinum:     DisposalReturn,
		sls.KindGold:         DisposalReturn,
		sls.KindCodeCard:     DisposalDestroy, // SPEC §6: destroyed, not returned
		sls.KindOnlineCard:   DisposalDestroy,
		sls.KindIBKey:        DisposalNone,
		sls.KindSMS:          DisposalNone,
		sls.KindTempPasscode: DisposalNone,
		"mystery":            DisposalReturn,
	} {
		if got := DisposalOf(k); got != want {
			t.Errorf("DisposalOf(%s) = %s, want %s", k, got, want)
		}
		if Returned(k) != (want == DisposalReturn) {
			t.Errorf("Returned(%s) = %v", k, Returned(k))
		}
		if k.Valid() && Returned(k) != k.Physical() {
			t.Errorf("%s: Returned %v but Physical %v", k, Returned(k), k.Physical())
		}
	}
}

func TestFees(t *testing.T) {
	var zero Fees
	for _, r := range []ReplacementReason{ReplaceLost, ReplaceStolen, ReplaceDamaged} {
		if fee, err := zero.Replacement(r); err != nil || fee != 0 {
			t.Errorf("zero Fees %s = %d, %v", r, fee, err)
		}
	}
	if err := zero.Validate(); err != nil {
		t.Error(err)
	}
	f := Fees{Lost: 25 * Dollar, Stolen: 10 * Dollar, Damaged: 5 * Dollar}
	for r, want := range map[ReplacementReason]int64{ReplaceLost: 2500, ReplaceStolen: 1000, ReplaceDamaged: 500} {
		if fee, err := f.Replacement(r); err != nil || fee != want {
			t.Errorf("%s = %d, %v", r, fee, err)
		}
	}
	if _, err := f.Replacement("bored"); err == nil {
		t.Error("unknown reason accepted")
	}
	neg := Fees{Stolen: -1}
	if err := neg.Validate(); err == nil || !strings.Contains(err.Error(), "stolen") {
		t.Errorf("Validate = %v", err)
	}
	if _, err := neg.Replacement(ReplaceStolen); err == nil {
		t.Error("negative fee charged")
	}
}
