package lifecycle

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/protect"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// Monday 2 March 2026, 10:00 in New York.
var t0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// fakeNotifier records notifications, after checking that their data fit
// the kind's template exactly (as the real outbox does).
type fakeNotifier struct {
	mu   sync.Mutex
	sent []sls.Notification
}

func (f *fakeNotifier) Notify(_ context.Context, _ sls.Tx, n sls.Notification) error {
	if _, _, err := notify.Render(notify.Kind(n.Kind), "en", n.Data); err != nil {
		return fmt.Errorf("fake notifier: %s: %w", n.Kind, err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, n)
	return nil
}

// kinds lists the kinds sent to userID, in order.
func (f *fakeNotifier) kinds(userID string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, n := range f.sent {
		if n.UserID == userID {
			out = append(out, n.Kind)
		}
	}
	return out
}

func (f *fakeNotifier) count(userID, kind string) int {
	n := 0
	for _, k := range f.kinds(userID) {
		if k == kind {
			n++
		}
	}
	return n
}

var returns = policy.ReturnAddresses{Addresses: map[policy.Region]string{
	policy.RegionUSCanada: "SLS Returns\n1 Main St\nGreenwich CT 06830\nUSA",
	policy.RegionEurope:   "SLS Returns Europe\nHerengracht 1\nAmsterdam\nNL",
}}

type env struct {
	t      *testing.T
	store  sls.Store
	clk    *clock.Fake
	sealer *seal.Sealer
	mgr    *manage.Service
	prot   *protect.Service
	svc    *Service
	notes  *fakeNotifier
}

func testSealer(t *testing.T) *seal.Sealer {
	t.Helper()
	s, err := seal.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, storetest.MustOpenSQLite(t), clock.NewFake(t0), testSealer(t), &fakeNotifier{})
}

func newEnvWith(t *testing.T, store sls.Store, clk *clock.Fake, sealer *seal.Sealer, notes *fakeNotifier) *env {
	mgr := &manage.Service{Store: store, Sealer: sealer, Clock: clk, Argon: passhash.Default}
	prot := &protect.Service{Store: store, Sealer: sealer, Clock: clk, Devices: mgr}
	svc := &Service{Store: store, Sealer: sealer, Clock: clk, Manage: mgr, Protect: prot, Notifier: notes,
		Config: Config{Returns: returns}}
	return &env{t: t, store: store, clk: clk, sealer: sealer, mgr: mgr, prot: prot, svc: svc, notes: notes}
}

var ctx = context.Background()

const address = "Ada Client\n10 Elm Street\nSpringfield IL 62701\nUSA"

// client creates an account with equity (USD) and a user on it.
func (e *env) client(name, jurisdiction string, equityUSD int64) *sls.User {
	e.t.Helper()
	acct := strings.ToUpper(strings.ReplaceAll(name, "-", "")) + "1"
	if _, err := e.mgr.CreateAccount(ctx, "operator:test", manage.NewAccount{ID: acct, BaseCurrency: "USD", EquityMinor: equityUSD * 100,
		Jurisdiction: jurisdiction}); err != nil {
		e.t.Fatal(err)
	}
	u, err := e.mgr.CreateUser(ctx, "operator:test", manage.NewUser{Username: name, Password: "correct horse battery", AccountID: acct,
		Email: name + "@example.com"})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func sessionOf(u *sls.User, kind sls.DeviceKind) *sls.Session {
	return &sls.Session{ID: sls.NewID("ses"), UserID: u.ID, Platform: sls.PlatformPortal, DeviceKind: kind, DeviceID: "dev_" + string(kind), Scope: sls.ScopeFull}
}

// order previews and places a new DSC+ order.
func (e *env) order(u *sls.User, pin string) *Confirmation {
	e.t.Helper()
	sess := sessionOf(u, sls.KindCodeCard)
	req := OrderRequest{ShippingAddress: address, PIN: pin}
	sum, err := e.svc.Preview(ctx, sess, u, req)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Summary = sum.Digest
	c, err := e.svc.Place(ctx, sess, u, req)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// ship ships an order and returns the card key.
func (e *env) ship(orderID string) []byte {
	e.t.Helper()
	out, err := e.svc.Ship(ctx, "operator:test", orderID, ShipRequest{Carrier: "DHL", Tracking: "JD0001"})
	if err != nil {
		e.t.Fatal(err)
	}
	key, err := hex.DecodeString(out.Card.Key)
	if err != nil {
		e.t.Fatal(err)
	}
	return key
}

// activate answers an activation challenge with the card.
func (e *env) activate(u *sls.User, orderID string, key []byte, pin string) (*OrderView, error) {
	ch, err := e.svc.StartActivation(ctx, u, orderID)
	if err != nil {
		return nil, err
	}
	resp, err := dscplus.Respond(key, pin, ch.Challenge)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.svc.Activate(ctx, u, orderID, resp)
}

func (e *env) orderState(id string) string {
	e.t.Helper()
	v, err := e.svc.Order(ctx, "", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return v.State
}

func (e *env) device(id string) *sls.Device { return storetest.MustDevice(e.t, e.store, id) }

// ledgerKinds lists an order's ledger entry kinds in order.
func (e *env) ledgerKinds(orderID string) string {
	e.t.Helper()
	v, err := e.svc.Order(ctx, "", orderID)
	if err != nil {
		e.t.Fatal(err)
	}
	var k []string
	for _, d := range v.Deposits {
		k = append(k, d.Kind)
	}
	return strings.Join(k, ",")
}

func codeOf(err error) string {
	var e *sls.Error
	if errors.As(err, &e) {
		return string(e.Code)
	}
	if err == nil {
		return ""
	}
	return "internal: " + err.Error()
}

func condOf(err error) string {
	var e *sls.Error
	if errors.As(err, &e) {
		c, _ := e.Detail[policy.DetailCondition].(string)
		return c
	}
	return ""
}
