package protect

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/factor/cards"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/factor/temppass"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// Monday 2 March 2026, 10:00 in New York (15:00 UTC).
var t0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

var fastArgon = passhash.Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

type env struct {
	t       *testing.T
	store   sls.Store
	clk     *clock.Fake
	sealer  *seal.Sealer
	mgr     *manage.Service
	svc     *Service
	factors sls.Factors
}

func testSealer(t *testing.T) *seal.Sealer {
	t.Helper()
	s, err := seal.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newEnv(t *testing.T, store sls.Store) *env {
	t.Helper()
	if store == nil {
		store = storetest.MustOpenSQLite(t)
	}
	return newEnvWith(t, store, clock.NewFake(t0), testSealer(t))
}

func newEnvWith(t *testing.T, store sls.Store, clk *clock.Fake, sealer *seal.Sealer) *env {
	t.Helper()
	factors, err := sls.NewFactors(&dscplus.Factor{Sealer: sealer}, &cards.Factor{CardKind: sls.KindCodeCard, Sealer: sealer},
		&cards.Factor{CardKind: sls.KindOnlineCard, Sealer: sealer}, &temppass.Factor{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	mgr := &manage.Service{Store: store, Sealer: sealer, Clock: clk, Argon: fastArgon}
	e := &env{t: t, store: store, clk: clk, sealer: sealer, mgr: mgr, factors: factors}
	e.svc = &Service{Store: store, Sealer: sealer, Clock: clk, Devices: mgr, Factors: func() sls.Factors { return factors }}
	return e
}

var sameID = sls.Identity{DateOfBirth: "1975-05-05", Citizenship: "US", Residence: "US", IDType: "passport", IDNumber: "P123"}

type userOpt func(*manage.NewUser)

func withIdentity(id sls.Identity) userOpt { return func(n *manage.NewUser) { n.Identity = id } }
func admin(n *manage.NewUser)              { n.CanChangeSecurity = true }

func (e *env) account(id, jurisdiction string) {
	e.t.Helper()
	_, err := e.mgr.CreateAccount(context.Background(), "operator:test", manage.NewAccount{ID: id, BaseCurrency: "USD", EquityMinor: 2e8, Jurisdiction: jurisdiction})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) user(name, account string, opts ...userOpt) *sls.User {
	e.t.Helper()
	n := manage.NewUser{Username: name, Password: "correct horse battery", AccountID: account, Identity: sameID}
	for _, o := range opts {
		o(&n)
	}
	u, err := e.mgr.CreateUser(context.Background(), "operator:test", n)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// reload reads u again (after changes made by the service).
func (e *env) reload(u *sls.User) *sls.User {
	e.t.Helper()
	var out *sls.User
	if err := e.store.View(context.Background(), func(tx sls.Tx) error {
		var err error
		out, err = tx.User(context.Background(), u.ID)
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// dsc issues an active DSC+ and returns it with its card key.
func (e *env) dsc(u *sls.User, pin string) (*sls.Device, []byte) {
	e.t.Helper()
	out, err := e.mgr.IssueDSCPlus(context.Background(), "operator:test", u.Username, "", pin, true)
	if err != nil {
		e.t.Fatal(err)
	}
	key, err := hex.DecodeString(out.Card.Key)
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Device, key
}

// session is the session a login with a device of kind would have made.
func session(u *sls.User, kind sls.DeviceKind, deviceID string) *sls.Session {
	return &sls.Session{ID: sls.NewID("ses"), UserID: u.ID, Username: u.Username, Platform: sls.PlatformPortal, DeviceID: deviceID,
		DeviceKind: kind, Scope: sls.ScopeFull, ClientIP: "192.0.2.10"}
}

// fresh is s as if its device had been proven just now (at login or by
// a step-up), which a session needs for its device's withdrawal limit.
func (e *env) fresh(s *sls.Session) *sls.Session {
	c := *s
	if c.DeviceKind != "" {
		c.ProvenKind, c.ProvenAt = c.DeviceKind, e.clk.Now()
	}
	return &c
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

func usd(dollars int64) string { return FormatAmount("USD", dollars*100) }

// auditEvents returns the events of the trail, in order.
func (e *env) auditEvents() []string {
	e.t.Helper()
	var out []string
	_, _ = e.store.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
	if err := e.store.View(context.Background(), func(tx sls.Tx) error {
		es, err := tx.AuditEntries(context.Background(), 0, 100000)
		for _, x := range es {
			out = append(out, x.Event+" "+x.Detail)
		}
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return out
}
