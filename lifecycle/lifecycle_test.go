package lifecycle

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/policy"
)

type fixture struct {
	e     *env
	u     *sls.User
	order string
	key   []byte
}

func (f *fixture) deviceID() string {
	v, err := f.e.svc.Order(ctx, "", f.order)
	if err != nil {
		f.e.t.Fatal(err)
	}
	return v.DeviceID
}

var ops = map[string]func(f *fixture) error{
	"ship": func(f *fixture) error {
		out, err := f.e.svc.Ship(ctx, "operator:test", f.order, ShipRequest{Carrier: "UPS", Tracking: "1Z999"})
		if err == nil {
			f.key = mustHex(out.Card.Key)
		}
		return err
	},
	"deliver": func(f *fixture) error {
		_, err := f.e.svc.Deliver(ctx, "operator:test", f.order, time.Time{})
		return err
	},
	"activate": func(f *fixture) error {
		if f.key == nil {
			_, err := f.e.svc.StartActivation(ctx, f.u, f.order)
			return err
		}
		_, err := f.e.activate(f.u, f.order, f.key, "2468")
		return err
	},
	"report_lost":    func(f *fixture) error { _, err := f.e.svc.Report(ctx, f.u, f.deviceID(), "lost"); return err },
	"report_stolen":  func(f *fixture) error { _, err := f.e.svc.Report(ctx, f.u, f.deviceID(), "stolen"); return err },
	"report_damaged": func(f *fixture) error { _, err := f.e.svc.Report(ctx, f.u, f.deviceID(), "damaged"); return err },
	"return": func(f *fixture) error {
		_, err := f.e.svc.SendReturn(ctx, f.u, ReturnRequest{DeviceID: f.deviceID(), Reason: ReturnDamage, Carrier: "USPS", Tracking: "9400"})
		return err
	},
	"receive": func(f *fixture) error {
		_, err := f.e.svc.Receive(ctx, "operator:test", f.order, AssessIntact, "")
		return err
	},
	"receive_damaged": func(f *fixture) error {
		_, err := f.e.svc.Receive(ctx, "operator:test", f.order, AssessDeliberatelyDamaged, "cut")
		return err
	},
	"cancel":           apply(policy.EventCancel),
	"undeliverable":    apply(policy.EventUndeliverable),
	"lost_in_shipping": apply(policy.EventLostInShipping),
	"return_lost":      apply(policy.EventReturnLost),
}

func apply(ev policy.Event) func(f *fixture) error {
	return func(f *fixture) error { _, err := f.e.svc.Apply(ctx, "operator:test", f.order, ev, "test"); return err }
}

func mustHex(s string) []byte {
	b := make([]byte, len(s)/2)
	for i := range b {
		fmt.Sscanf(s[2*i:2*i+2], "%02x", &b[i])
	}
	return b
}

// TestLifecycleTransitions drives each path of SPEC §6 through the service
// — every step audited, every deposit effect in the ledger — and tries the
// forbidden steps on the way ("op!" must be refused as a conflict and
// change nothing).
func TestLifecycleTransitions(t *testing.T) {
	cases := []struct {
		steps  string
		state  string
		ledger string
		device sls.DeviceState // the card's login state at the end ("" when none was made)
	}{
		{"ship deliver activate", "active", "hold", sls.StateActive},
		{"cancel", "cancelled", "hold,release", ""},
		{"ship undeliverable", "cancelled", "hold,release", sls.StateRevoked},
		{"ship lost_in_shipping", "lost", "hold,release", sls.StateRevoked},
		{"ship deliver report_lost", "lost", "hold,forfeit", sls.StateRevoked},
		{"ship deliver activate report_stolen", "stolen", "hold,forfeit", sls.StateRevoked},
		{"ship deliver activate report_damaged return receive", "returned", "hold,release", sls.StateRevoked},
		{"ship deliver activate return receive_damaged", "returned", "hold,forfeit", sls.StateRevoked},
		{"ship deliver activate return return_lost", "lost", "hold,forfeit", sls.StateRevoked},
		{"ship activate", "active", "hold", sls.StateActive}, // holding the card proves the delivery
		{"deliver! activate! receive! return_lost! ship ship! cancel! deliver cancel!", "delivered", "hold", sls.StatePending},
		{"ship deliver activate activate! return report_lost! receive receive! return! cancel!", "returned", "hold,release", sls.StateRevoked},
		{"cancel ship! cancel! deliver!", "cancelled", "hold,release", ""},
	}
	e := newEnv(t)
	for i, c := range cases {
		t.Run(c.steps, func(t *testing.T) {
			u := e.client(fmt.Sprintf("lc%d", i), "US", 2_000_000)
			f := &fixture{e: e, u: u, order: e.order(u, "2468").Order.ID}
			for _, step := range strings.Fields(c.steps) {
				name, forbidden := strings.CutSuffix(step, "!")
				before := e.orderState(f.order)
				err := ops[name](f)
				switch {
				case forbidden && codeOf(err) != string(sls.CodeConflict):
					t.Fatalf("%s in state %s: %v, want conflict", name, before, err)
				case forbidden && e.orderState(f.order) != before:
					t.Fatalf("refused %s changed the state", name)
				case !forbidden && err != nil:
					t.Fatalf("%s in state %s: %v", name, before, err)
				}
			}
			if got := e.orderState(f.order); got != c.state {
				t.Fatalf("state %s, want %s", got, c.state)
			}
			if got := e.ledgerKinds(f.order); got != c.ledger {
				t.Fatalf("ledger %s, want %s", got, c.ledger)
			}
			if id := f.deviceID(); (id == "") != (c.device == "") || (id != "" && e.device(id).State != c.device) {
				t.Fatalf("card device %q, want state %q", id, c.device)
			}
			// Every transition is in the history and the audit trail.
			v, _ := e.svc.Order(ctx, "", f.order)
			if n := len(v.History); n != countOK(c.steps)+1 {
				t.Fatalf("history has %d entries for %q", n, c.steps)
			}
		})
	}
}

// countOK counts the history entries a sequence of steps leaves besides
// the order itself: one per step that succeeds, and activating a shipped
// card records its delivery as well.
func countOK(steps string) int {
	n := 0
	for _, s := range strings.Fields(steps) {
		if !strings.HasSuffix(s, "!") {
			n++
		}
	}
	if strings.HasPrefix(steps, "ship activate") {
		n++
	}
	return n
}

func TestOrderForm(t *testing.T) {
	e := newEnv(t)
	poor := e.client("poor", "US", 999_999)
	rich := e.client("rich", "US", 1_000_000)
	sess := sessionOf(rich, sls.KindCodeCard)
	// Eligibility at the threshold, configurable.
	if _, err := e.svc.Preview(ctx, sessionOf(poor, sls.KindCodeCard), poor, OrderRequest{ShippingAddress: address, PIN: "2468"}); condOf(err) != policy.CondEquityBelowThreshold {
		t.Fatalf("below the threshold: %v", err)
	}
	e.svc.Config.ThresholdUSD = 500_000 * 100 // the older article's figure
	if _, err := e.svc.Preview(ctx, sessionOf(poor, sls.KindCodeCard), poor, OrderRequest{ShippingAddress: address, PIN: "2468"}); err != nil {
		t.Fatalf("threshold lowered: %v", err)
	}
	e.svc.Config.ThresholdUSD = 0
	form, err := e.svc.Form(ctx, sess, rich)
	if err != nil || !form.Eligibility.Eligible || form.ShippingAddress != "" || form.DepositUSD != 2000 || form.DepositAccount != rich.AccountID {
		t.Fatalf("form: %+v %v", form, err)
	}
	for _, c := range []struct {
		req  OrderRequest
		cond string
	}{
		{OrderRequest{ShippingAddress: address, PIN: "1234"}, policy.CondPINWeak},
		{OrderRequest{ShippingAddress: address, PIN: "12a4"}, policy.CondPINFormat},
		{OrderRequest{PIN: "2468"}, ""}, // no address on file
	} {
		if _, err := e.svc.Preview(ctx, sess, rich, c.req); codeOf(err) != "invalid_argument" || condOf(err) != c.cond {
			t.Errorf("%+v: %v", c.req, err)
		}
	}
	// Expected delivery: 10 business days after Monday 2 March; a holiday
	// on the way moves it a day.
	req := OrderRequest{ShippingAddress: address, PIN: "2468", SaveAddress: true}
	sum, err := e.svc.Preview(ctx, sess, rich, req)
	if err != nil || sum.ExpectedDelivery != "2026-03-16" || sum.ShippingAddress != address {
		t.Fatalf("summary: %+v %v", sum, err)
	}
	if _, err := e.prot.AddHoliday(ctx, "operator:test", "2026-03-09", ""); err != nil {
		t.Fatal(err)
	}
	if sum2, _ := e.svc.Preview(ctx, sess, rich, req); sum2.ExpectedDelivery != "2026-03-17" || sum2.Digest != sum.Digest {
		t.Fatalf("with a holiday: %+v", sum2)
	}
	// "Back": a changed PIN or address needs a new summary.
	changed := req
	changed.PIN, changed.Summary = "2469", sum.Digest
	if _, err := e.svc.Place(ctx, sess, rich, changed); condOf(err) != CondSummaryChanged {
		t.Fatalf("changed after the summary: %v", err)
	}
	if _, err := e.svc.Place(ctx, sess, rich, req); codeOf(err) != "invalid_argument" {
		t.Fatalf("without the summary: %v", err)
	}
	req.Summary = sum.Digest
	conf, err := e.svc.Place(ctx, sess, rich, req)
	if err != nil || conf.ExpectedDelivery != "2026-03-17" || conf.Order.ShippingAddress != address || conf.DepositUSD != 2000 {
		t.Fatalf("place: %+v %v", conf, err)
	}
	if conf.Order.SealedPIN == nil || strings.Contains(fmt.Sprint(conf.Order.DeviceOrder), "2468") {
		t.Fatal("PIN not sealed")
	}
	// One order at a time; the address was kept on file.
	if _, err := e.svc.Preview(ctx, sess, rich, OrderRequest{PIN: "2468"}); condOf(err) != CondOrderUnderWay {
		t.Fatalf("second order: %v", err)
	}
	if a, _ := e.svc.Address(ctx, rich.ID); a != address {
		t.Fatalf("address on file: %q", a)
	}
	key := e.ship(conf.Order.ID)
	if _, err := e.activate(rich, conf.Order.ID, key, "2468"); err != nil {
		t.Fatal(err)
	}
	// Holding an active card, a new order must name it as replaced.
	if _, err := e.svc.Preview(ctx, sess, rich, OrderRequest{PIN: "2468"}); condOf(err) != CondAlreadyHeld {
		t.Fatalf("order while holding a card: %v", err)
	}
	if got := e.notes.kinds(rich.ID); strings.Join(got, ",") != sls.NoteDeviceShipped {
		t.Fatalf("notifications: %v", got)
	}
}

// TestActivationProof: a wrong response counts as a failed answer and
// spends the challenge; the PIN matters; the right card activates.
func TestActivationProof(t *testing.T) {
	e := newEnv(t)
	u := e.client("ada", "US", 2_000_000)
	id := e.order(u, "2468").Order.ID
	key := e.ship(id)
	if _, err := e.activate(u, id, key, "1357"); codeOf(err) != string(sls.CodeBadResponse) {
		t.Fatalf("wrong PIN: %v", err)
	}
	ch, _ := e.svc.StartActivation(ctx, u, id)
	resp, _ := dscplus.Respond(key, "2468", ch.Challenge)
	e.clk.Advance(4 * time.Minute)
	if _, err := e.svc.Activate(ctx, u, id, resp); codeOf(err) != string(sls.CodeConflict) {
		t.Fatalf("expired challenge: %v", err)
	}
	other := e.client("eve", "US", 2_000_000)
	if _, err := e.svc.StartActivation(ctx, other, id); codeOf(err) != string(sls.CodeNotFound) {
		t.Fatalf("someone else's order: %v", err)
	}
	v, err := e.activate(u, id, key, "2468")
	if err != nil || v.State != "active" || e.device(v.DeviceID).State != sls.StateActive {
		t.Fatalf("activate: %+v %v", v, err)
	}
}

func TestReplacement(t *testing.T) {
	e := newEnv(t)
	e.svc.Config.Fees = policy.Fees{Lost: 1500, Stolen: 0, Damaged: 500}
	u := e.client("rosa", "US", 100) // far below the threshold: replacements do not need it
	dev, err := e.mgr.IssueDSCPlus(ctx, "operator:test", u.Username, "DSC-OLD-1", "2468", true)
	if err != nil {
		t.Fatal(err)
	}
	req := OrderRequest{ShippingAddress: address, PIN: "8642", Replace: &Replacement{DeviceID: dev.Device.ID, Reason: policy.ReplaceLost}}
	// A lost card is replaced only with temporary access.
	if _, err := e.svc.Preview(ctx, sessionOf(u, sls.KindDSCPlus), u, req); condOf(err) != CondTemporaryAccessRequired {
		t.Fatalf("without temporary access: %v", err)
	}
	sess := sessionOf(u, sls.KindTempPasscode)
	sum, err := e.svc.Preview(ctx, sess, u, req)
	if err != nil || sum.FeeUSD != 1500 {
		t.Fatalf("preview: %+v %v", sum, err)
	}
	req.Summary = sum.Digest
	conf, err := e.svc.Place(ctx, sess, u, req)
	if err != nil {
		t.Fatal(err)
	}
	if e.device(dev.Device.ID).State != sls.StateRevoked {
		t.Fatal("the lost card still works")
	}
	old := conf.Order.ReplacesID
	if old == "" || e.orderState(old) != "lost" || conf.Order.Origin != sls.OriginReplacement || conf.Order.ReplaceReason != "lost" {
		t.Fatalf("old card not marked lost: %+v", conf.Order.DeviceOrder)
	}
	// The old card came from outside ordering: no deposit to forfeit.
	if e.ledgerKinds(old) != "" || e.ledgerKinds(conf.Order.ID) != "hold,fee" {
		t.Fatalf("ledgers: old %q new %q", e.ledgerKinds(old), e.ledgerKinds(conf.Order.ID))
	}
	key := e.ship(conf.Order.ID)
	if _, err := e.svc.Deliver(ctx, "operator:test", conf.Order.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.activate(u, conf.Order.ID, key, "8642"); err != nil {
		t.Fatal(err)
	}
	// The replacement is stolen in turn: its deposit is forfeited.
	sum, err = e.svc.Preview(ctx, sess, u, OrderRequest{ShippingAddress: address, PIN: "8642",
		Replace: &Replacement{DeviceID: e.mustOrder(conf.Order.ID).DeviceID, Reason: policy.ReplaceStolen}})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := e.svc.Place(ctx, sess, u, OrderRequest{ShippingAddress: address, PIN: "8642", Summary: sum.Digest,
		Replace: &Replacement{DeviceID: e.mustOrder(conf.Order.ID).DeviceID, Reason: policy.ReplaceStolen}})
	if err != nil {
		t.Fatal(err)
	}
	if e.orderState(conf.Order.ID) != "stolen" || e.ledgerKinds(conf.Order.ID) != "hold,fee,forfeit" || e.ledgerKinds(c2.Order.ID) != "hold" {
		t.Fatalf("stolen replacement: %s %s %s", e.orderState(conf.Order.ID), e.ledgerKinds(conf.Order.ID), e.ledgerKinds(c2.Order.ID))
	}
	if e.notes.count(u.ID, sls.NoteDepositForfeited) != 1 {
		t.Fatalf("forfeit notice: %v", e.notes.kinds(u.ID))
	}
	led, err := e.svc.Ledger(ctx, u.AccountID)
	if err != nil || led.HeldUSD != 2000 || led.ForfeitedUSD != 2000 || led.FeesUSD != 1500 {
		t.Fatalf("account ledger: %+v %v", led, err)
	}
}

func (e *env) mustOrder(id string) *OrderView {
	v, err := e.svc.Order(ctx, "", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return v
}

func TestReturnsAndDestruction(t *testing.T) {
	e := newEnv(t)
	de := e.client("dora", "DE", 2_000_000)
	ra, err := e.svc.ReturnAddressFor(ctx, de)
	if err != nil || ra.Region != policy.RegionEurope || !strings.Contains(ra.Address, "Amsterdam") {
		t.Fatalf("return address for Germany: %+v %v", ra, err)
	}
	jp := e.client("jun", "JP", 2_000_000)
	if _, err := e.svc.ReturnAddressFor(ctx, jp); codeOf(err) != string(sls.CodeUnavailable) {
		t.Fatalf("unconfigured region: %v", err)
	}
	card, err := e.mgr.IssueCodeCard(ctx, "operator:test", de.Username)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.SendReturn(ctx, de, ReturnRequest{DeviceID: card.Device.ID, Reason: ReturnConsolidation, Carrier: "DHL"})
	if condOf(err) != CondDestroyNotReturn {
		t.Fatalf("returning a code card: %v", err)
	}
	if _, err := e.svc.ConfirmDestroyed(ctx, de, card.Device.ID, false); codeOf(err) != "invalid_argument" {
		t.Fatalf("destruction not confirmed: %v", err)
	}
	d, err := e.svc.ConfirmDestroyed(ctx, de, card.Device.ID, true)
	if err != nil || d.State != sls.StateRevoked {
		t.Fatalf("destroyed: %+v %v", d, err)
	}
	// A legacy token from before ordering is returned through the lifecycle.
	tok, err := e.mgr.IssueDSCPlus(ctx, "operator:test", de.Username, "DSC-LEGACY", "2468", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmDestroyed(ctx, de, tok.Device.ID, true); condOf(err) != CondDestroyNotReturn {
		t.Fatalf("destroying a card that is returned: %v", err)
	}
	ans, err := e.svc.SendReturn(ctx, de, ReturnRequest{DeviceID: tok.Device.ID, Reason: ReturnAccountClosure, Carrier: "DHL", Tracking: "JD1"})
	if err != nil || ans.Order.ReturnRegion != "europe" || ans.Order.State != "return_sent" || ans.Warning == "" {
		t.Fatalf("return: %+v %v", ans, err)
	}
	v, err := e.svc.Receive(ctx, "operator:test", ans.Order.ID, AssessIntact, "")
	if err != nil || v.State != "returned" || v.Assessment != AssessIntact {
		t.Fatalf("receive: %+v %v", v, err)
	}
	if e.notes.count(de.ID, sls.NoteReturnReceived) != 1 || e.notes.count(de.ID, sls.NoteDepositReleased) != 0 {
		t.Fatalf("notices (no deposit to release for a legacy card): %v", e.notes.kinds(de.ID))
	}
}

// TestActivationLockoutAudited: wrong responses to the card's activation
// challenge count through the one verifier, so the lock they cause is in
// the audit trail (user.locked) like a lock caused at login, and the
// failures name their purpose.
func TestActivationLockoutAudited(t *testing.T) {
	e := newEnv(t)
	e.svc.Config.MaxFailures = 3
	u := e.client("lena", "US", 2_000_000)
	id := e.order(u, "2468").Order.ID
	key := e.ship(id)
	for i := 1; i <= 3; i++ {
		_, err := e.activate(u, id, key, "1357") // a wrong PIN gives a wrong response
		want := sls.CodeBadResponse
		if i == 3 {
			want = sls.CodeLocked
		}
		if codeOf(err) != string(want) {
			t.Fatalf("wrong response %d: %v, want %s", i, err, want)
		}
	}
	if _, err := e.svc.StartActivation(ctx, u, id); codeOf(err) != string(sls.CodeLocked) {
		t.Fatalf("a locked user got a challenge: %v", err)
	}
	var failed, locked int
	_, _ = e.store.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
	err := e.store.View(ctx, func(tx sls.Tx) error {
		es, err := tx.AuditEntries(ctx, 0, 1000)
		for _, en := range es {
			switch en.Event {
			case sls.EventSecondFactorFail:
				if !strings.Contains(string(en.Detail), `"purpose":"card_activation"`) || !strings.Contains(string(en.Detail), id) {
					t.Errorf("failure detail: %s", en.Detail)
				}
				failed++
			case sls.EventLockout:
				locked++
			}
		}
		return err
	})
	if err != nil || failed != 3 || locked != 1 {
		t.Fatalf("audit: %d failures, %d locks (%v); want 3 and 1", failed, locked, err)
	}
}

// Reporting a card lost first and then placing a plain order is still a
// replacement: the fee is charged, and a lost card still needs temporary
// access.
func TestReportThenPlainOrderIsAReplacement(t *testing.T) {
	e := newEnv(t)
	e.svc.Config.Fees = policy.Fees{Lost: 1500, Stolen: 0, Damaged: 500}
	u := e.client("rick", "US", 2_000_000)
	dev, err := e.mgr.IssueDSCPlus(ctx, "operator:test", u.Username, "DSC-OLD-2", "2468", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Report(ctx, u, dev.Device.ID, "lost"); err != nil {
		t.Fatal(err)
	}
	plain := OrderRequest{ShippingAddress: address, PIN: "8642"}
	if _, err := e.svc.Preview(ctx, sessionOf(u, sls.KindSMS), u, plain); condOf(err) != CondTemporaryAccessRequired {
		t.Fatalf("plain order after a loss report, without temporary access: %v", err)
	}
	sess := sessionOf(u, sls.KindTempPasscode)
	sum, err := e.svc.Preview(ctx, sess, u, plain)
	if err != nil || sum.FeeUSD != 1500 || sum.Replaces == nil || sum.Replaces.Reason != policy.ReplaceLost {
		t.Fatalf("plain order after a loss report: %+v %v", sum, err)
	}
	plain.Summary = sum.Digest
	conf, err := e.svc.Place(ctx, sess, u, plain)
	if err != nil {
		t.Fatal(err)
	}
	if conf.Order.ReplaceReason != "lost" || e.ledgerKinds(conf.Order.ID) != "hold,fee" {
		t.Fatalf("placed: %+v ledger %q", conf.Order.DeviceOrder, e.ledgerKinds(conf.Order.ID))
	}
	// Replaced once: the next order is not charged again for the same loss.
	if r, err := e.svc.Preview(ctx, sess, u, OrderRequest{ShippingAddress: address, PIN: "8642"}); err == nil && r.FeeUSD != 0 {
		t.Fatalf("the same loss charged twice: %+v", r)
	}
}
