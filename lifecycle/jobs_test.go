package lifecycle

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/scheduler"
	"github.com/secure-login-system/sls/sqlstore"
)

// delivered orders, ships and delivers a card at t0; it returns the order.
func (e *env) delivered(u *sls.User) (string, []byte) {
	e.t.Helper()
	id := e.order(u, "2468").Order.ID
	key := e.ship(id)
	if _, err := e.svc.Deliver(ctx, "operator:test", id, time.Time{}); err != nil {
		e.t.Fatal(err)
	}
	return id, key
}

func (e *env) runJob(at time.Time) {
	e.t.Helper()
	e.clk.Set(at)
	if err := e.svc.RunAutoActivation(ctx, at); err != nil {
		e.t.Fatal(err)
	}
}

// TestAutoActivation follows a delivered card through three weeks: a
// notice a week before, one a day before, then activation with its
// notice; every run after that changes nothing.
func TestAutoActivation(t *testing.T) {
	e := newEnv(t)
	u := e.client("amy", "US", 2_000_000)
	id, _ := e.delivered(u)
	at := policy.AutoActivationAt(t0)
	steps := []struct {
		at    time.Time
		kinds string
		state string
	}{
		{t0.Add(time.Hour), "device_shipped,device_delivered", "delivered"},
		{at.Add(-7*24*time.Hour - time.Second), "device_shipped,device_delivered", "delivered"},
		{at.Add(-7 * 24 * time.Hour), "device_shipped,device_delivered,auto_activation_coming", "delivered"},
		{at.Add(-2 * 24 * time.Hour), "device_shipped,device_delivered,auto_activation_coming", "delivered"},
		{at.Add(-24 * time.Hour), "device_shipped,device_delivered,auto_activation_coming,auto_activation_coming", "delivered"},
		{at.Add(-time.Second), "device_shipped,device_delivered,auto_activation_coming,auto_activation_coming", "delivered"},
		{at, "device_shipped,device_delivered,auto_activation_coming,auto_activation_coming,device_auto_activated", "active"},
		{at.Add(time.Hour), "device_shipped,device_delivered,auto_activation_coming,auto_activation_coming,device_auto_activated", "active"},
	}
	for _, s := range steps {
		e.runJob(s.at)
		e.runJob(s.at) // twice: idempotent
		if got := strings.Join(e.notes.kinds(u.ID), ","); got != s.kinds {
			t.Fatalf("at %v: notifications %s, want %s", s.at, got, s.kinds)
		}
		if got := e.orderState(id); got != s.state {
			t.Fatalf("at %v: state %s, want %s", s.at, got, s.state)
		}
	}
	v := e.mustOrder(id)
	if e.device(v.DeviceID).State != sls.StateActive || !v.ActivatedAt.Equal(at) || len(v.Notices) != 2 {
		t.Fatalf("after auto-activation: %+v", v.DeviceOrder)
	}
	// The notice names the activation date.
	for _, n := range e.notes.sent {
		if n.Kind == sls.NoteAutoActivationComing && n.Data["Date"] != "2026-03-23 15:00 UTC" {
			t.Fatalf("notice date %q", n.Data["Date"])
		}
	}
}

// TestAutoActivationNeverUnannounced: when the job first runs after the
// activation time (a clock jump, a stopped scheduler), the missed notices
// go out and the activation waits one final-notice period.
func TestAutoActivationNeverUnannounced(t *testing.T) {
	e := newEnv(t)
	u := e.client("ben", "US", 2_000_000)
	id, _ := e.delivered(u)
	late := policy.AutoActivationAt(t0).Add(time.Hour)
	e.runJob(late)
	if e.orderState(id) != "delivered" || e.notes.count(u.ID, sls.NoteAutoActivationComing) != 2 {
		t.Fatalf("late run: %s %v", e.orderState(id), e.notes.kinds(u.ID))
	}
	if got := e.mustOrder(id).AutoActivateAt; !got.Equal(late.Add(24 * time.Hour)) {
		t.Fatalf("postponed to %v", got)
	}
	e.runJob(late.Add(24*time.Hour - time.Second))
	if e.orderState(id) != "delivered" {
		t.Fatal("activated before the final notice period")
	}
	e.runJob(late.Add(24 * time.Hour))
	if e.orderState(id) != "active" || e.notes.count(u.ID, sls.NoteAutoActivationComing) != 2 {
		t.Fatalf("after the final period: %s %v", e.orderState(id), e.notes.kinds(u.ID))
	}
}

// TestClientActivationFirst: a card the client activated is left alone by
// the job, and so is one reported lost.
func TestClientActivationFirst(t *testing.T) {
	e := newEnv(t)
	u := e.client("cat", "US", 2_000_000)
	id, key := e.delivered(u)
	if _, err := e.activate(u, id, key, "2468"); err != nil {
		t.Fatal(err)
	}
	v := e.client("vin", "US", 2_000_000)
	lost, _ := e.delivered(v)
	if _, err := e.svc.Report(ctx, v, e.mustOrder(lost).DeviceID, "lost"); err != nil {
		t.Fatal(err)
	}
	e.runJob(policy.AutoActivationAt(t0).Add(48 * time.Hour))
	if e.notes.count(u.ID, sls.NoteAutoActivationComing)+e.notes.count(v.ID, sls.NoteAutoActivationComing) != 0 {
		t.Fatal("notices for cards not waiting")
	}
	if e.device(e.mustOrder(lost).DeviceID).State != sls.StateRevoked || e.orderState(lost) != "lost" {
		t.Fatal("a lost card was activated by the timer")
	}
}

// TestJobsOnTwoNodes runs the scheduler of two nodes on one database at
// once, many times: each notice and the activation happen exactly once.
func TestJobsOnTwoNodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sls.db")
	open := func() sls.Store {
		db, err := sqlstore.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	clk, sealer, notes := clock.NewFake(t0), testSealer(t), &fakeNotifier{}
	a, b := newEnvWith(t, open(), clk, sealer, notes), newEnvWith(t, open(), clk, sealer, notes)
	u := a.client("dan", "US", 2_000_000)
	a.delivered(u)
	scheds := []*scheduler.Scheduler{{Store: a.store, Clock: clk}, {Store: b.store, Clock: clk}}
	for i, s := range scheds {
		for _, j := range []*env{a, b}[i].svc.Jobs() {
			s.Add(j)
		}
	}
	// Each period, both nodes try at the same time; the Run functions
	// are also called directly on both, as if the claim had failed.
	at := policy.AutoActivationAt(t0)
	for _, now := range []time.Time{at.Add(-7 * 24 * time.Hour), at.Add(-24 * time.Hour), at, at.Add(time.Hour)} {
		clk.Set(now)
		var wg sync.WaitGroup
		for _, s := range scheds {
			wg.Add(2)
			go func() { defer wg.Done(); s.RunDue(ctx) }()
			go func() { defer wg.Done(); _ = a.svc.RunAutoActivation(ctx, now); _ = b.svc.RunAutoActivation(ctx, now) }()
		}
		wg.Wait()
	}
	if n := notes.count(u.ID, sls.NoteAutoActivationComing); n != 2 {
		t.Fatalf("%d notices, want 2", n)
	}
	if n := notes.count(u.ID, sls.NoteDeviceAutoActivated); n != 1 {
		t.Fatalf("%d activation notices, want 1", n)
	}
}

// TestLedgerRestartAndRace: the ledger keeps one settlement per order
// whatever happens: receipts racing on two nodes, and the same step again
// after a restart.
func TestLedgerRestartAndRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sls.db")
	clk, sealer, notes := clock.NewFake(t0), testSealer(t), &fakeNotifier{}
	db1, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db2, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newEnvWith(t, db1, clk, sealer, notes), newEnvWith(t, db2, clk, sealer, notes)
	u := a.client("eli", "US", 2_000_000)
	id, key := a.delivered(u)
	if _, err := a.activate(u, id, key, "2468"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.svc.SendReturn(ctx, u, ReturnRequest{DeviceID: a.mustOrder(id).DeviceID, Reason: ReturnConsolidation, Carrier: "UPS", Tracking: "1Z"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			svc := []*env{a, b}[i%2].svc
			assess := AssessIntact
			if i%3 == 0 {
				assess = AssessDeliberatelyDamaged
			}
			if _, err := svc.Receive(ctx, "operator:test", id, assess, ""); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if codeOf(err) != string(sls.CodeConflict) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d receipts succeeded, want 1", ok)
	}
	settled := a.ledgerKinds(id)
	if settled != "hold,release" && settled != "hold,forfeit" {
		t.Fatalf("ledger %s", settled)
	}
	db1.Close()
	db2.Close()
	// Restart: a new process on the same file.
	db3, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db3.Close()
	c := newEnvWith(t, db3, clk, sealer, notes)
	if _, err := c.svc.Receive(ctx, "operator:test", id, AssessIntact, ""); codeOf(err) != string(sls.CodeConflict) {
		t.Fatalf("receipt after restart: %v", err)
	}
	if got := c.ledgerKinds(id); got != settled {
		t.Fatalf("ledger after restart %s, want %s", got, settled)
	}
	led, _ := c.svc.Ledger(ctx, u.AccountID)
	if led.HeldUSD != 0 || led.ReleasedUSD+led.ForfeitedUSD != 2000 {
		t.Fatalf("ledger totals: %+v", led)
	}
	if notes.count(u.ID, sls.NoteDepositReleased)+notes.count(u.ID, sls.NoteDepositForfeited) != 1 {
		t.Fatalf("deposit notices: %v", notes.kinds(u.ID))
	}
}

func TestExpireDevices(t *testing.T) {
	e := newEnv(t)
	u := e.client("fay", "US", 100)
	_, pass, err := e.mgr.IssueTempPasscode(ctx, "operator:test", u.Username, "verified by phone")
	if err != nil {
		t.Fatal(err)
	}
	card, err := e.mgr.RequestOnlineCard(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Update(ctx, func(tx sls.Tx) error { return e.mgr.ActivateInTx(ctx, tx, "test", u, card.Device, t0) }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at         time.Time
		pass, card sls.DeviceState
	}{
		{t0.Add(12*24*time.Hour - time.Second), sls.StateActive, sls.StateActive},
		{t0.Add(12 * 24 * time.Hour), sls.StateExpired, sls.StateActive},
		{t0.Add(21 * 24 * time.Hour), sls.StateExpired, sls.StateExpired},
	} {
		if err := e.svc.ExpireDevices(ctx, c.at); err != nil {
			t.Fatal(err)
		}
		if p, k := e.device(pass.ID).State, e.device(card.Device.ID).State; p != c.pass || k != c.card {
			t.Fatalf("at %v: passcode %s card %s", c.at, p, k)
		}
	}
}

// TestAccountClosure: devices deactivated, sessions ended, deposits
// settled; afterwards the portal opens with the password alone, for
// statements only, and trading platforms are refused.
func TestAccountClosure(t *testing.T) {
	e := newEnv(t)
	u := e.client("gus", "US", 2_000_000)
	id, key := e.delivered(u)
	if _, err := e.activate(u, id, key, "2468"); err != nil {
		t.Fatal(err)
	}
	w := e.client("wes", "US", 2_000_000)
	inTransit := e.order(w, "2468").Order.ID
	e.ship(inTransit)
	if _, err := e.svc.CloseAccount(ctx, "operator:test", w.AccountID, "client request"); condOf(err) != CondInTransit {
		t.Fatalf("closure with a card in transit: %v", err)
	}
	if _, err := e.svc.Apply(ctx, "operator:test", inTransit, policy.EventUndeliverable, "returned to sender"); err != nil {
		t.Fatal(err)
	}
	ls, err := login.New(login.Deps{Store: e.store, Factors: sls.Factors{}, Clock: e.clk, Gate: login.BasicGate{}})
	if err != nil {
		t.Fatal(err)
	}
	// A live session to be ended.
	if err := e.store.Update(ctx, func(tx sls.Tx) error {
		return tx.CreateSession(ctx, &sls.Session{ID: "ses_live", TokenHash: "th", UserID: u.ID, Platform: sls.PlatformPortal, Scope: sls.ScopeFull,
			CreatedAt: e.clk.Now(), LastSeenAt: e.clk.Now(), ExpiresAt: e.clk.Now().Add(time.Hour)})
	}); err != nil {
		t.Fatal(err)
	}
	cl, err := e.svc.CloseAccount(ctx, "operator:test", u.AccountID, "client request")
	if err != nil || cl.DevicesRevoked != 1 || cl.SessionsEnded != 1 || cl.Orders[id] != string(policy.EventCloseNotReturned) {
		t.Fatalf("closure: %+v %v", cl, err)
	}
	if e.orderState(id) != "closed_not_returned" || e.ledgerKinds(id) != "hold,forfeit" || e.device(e.mustOrder(id).DeviceID).State != sls.StateRevoked {
		t.Fatal("the card kept was not settled")
	}
	if _, err := e.svc.CloseAccount(ctx, "operator:test", u.AccountID, "again"); codeOf(err) != string(sls.CodeConflict) {
		t.Fatalf("closing twice: %v", err)
	}
	st, err := ls.Start(ctx, login.StartRequest{Username: u.Username, Password: "correct horse battery", Platform: sls.PlatformPortal})
	if err != nil || st.Session == nil || st.Session.Session.Scope != sls.ScopeStatementsOnly || st.Session.Session.DeviceID != "" {
		t.Fatalf("portal after closure: %+v %v", st, err)
	}
	if _, err := ls.Start(ctx, login.StartRequest{Username: u.Username, Password: "correct horse battery", Platform: sls.PlatformTrading}); codeOf(err) != string(sls.CodeForbidden) {
		t.Fatalf("trading after closure: %v", err)
	}
	// Nothing else: no new order on a closed account.
	if _, err := e.svc.Preview(ctx, sessionOf(u, sls.KindTempPasscode), u, OrderRequest{ShippingAddress: address, PIN: "2468"}); codeOf(err) != string(sls.CodeForbidden) {
		t.Fatalf("order on a closed account: %v", err)
	}
}
