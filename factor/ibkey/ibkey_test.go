package ibkey

import (
	"context"
	"crypto/ecdh"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/config/field"
	"github.com/secure-login-system/sls/factor/sms"
	proto "github.com/secure-login-system/sls/ibkey"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fakeNotifier struct {
	mu    sync.Mutex
	notes []sls.Notification
}

func (f *fakeNotifier) Notify(_ context.Context, _ sls.Tx, n sls.Notification) error {
	f.mu.Lock()
	f.notes = append(f.notes, n)
	f.mu.Unlock()
	return nil
}

func (f *fakeNotifier) kinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var k []string
	for _, n := range f.notes {
		k = append(k, n.Kind)
	}
	return k
}

var fastArgon = passhash.Default

// node is one server's worth of services on a shared store.
type node struct {
	svc   *Service
	login *login.Service
}

type env struct {
	t     *testing.T
	store sls.Store
	clk   *fakeClock
	notes *fakeNotifier
	seal  *seal.Sealer
	a, b  node
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	return newEnvOn(t, cfg, storetest.MustOpenSQLite(t))
}

// newEnvOn is newEnv on the given store.
func newEnvOn(t *testing.T, cfg Config, store sls.Store) *env {
	t.Helper()
	e := &env{t: t, store: store, clk: &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}, notes: &fakeNotifier{}}
	var err error
	if e.seal, err = seal.New(make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	e.a, e.b = e.node(cfg), e.node(cfg)
	return e
}

func (e *env) node(cfg Config) node {
	var n node
	mg := &manage.Service{Store: e.store, Sealer: e.seal, Clock: e.clk, Argon: fastArgon}
	svc, err := New(Deps{Store: e.store, Sealer: e.seal, Clock: e.clk, Notifier: e.notes, Argon: fastArgon, Config: cfg,
		Codes:    &sms.Codes{Sealer: e.seal, Notifier: e.notes, Rules: sms.DefaultRules()},
		Activate: mg.ActivateInTx, Login: func() *login.Service { return n.login }})
	if err != nil {
		e.t.Fatal(err)
	}
	n.svc = svc
	fs, _ := sls.NewFactors(svc.Factor())
	if n.login, err = login.New(login.Deps{Store: e.store, Factors: fs, Clock: e.clk,
		Config: login.Config{Argon: fastArgon, MaxFailures: 4}}); err != nil {
		e.t.Fatal(err)
	}
	return n
}

const password = "correct horse battery"

// user creates a user with a verified mobile number and a portal session.
func (e *env) user(name string) (*sls.User, *sls.Session) {
	e.t.Helper()
	hash, _ := passhash.Hash([]byte(password), fastArgon)
	now := e.clk.Now()
	u := &sls.User{ID: "usr_" + name, Username: name, AccountID: "A" + name, PasswordHash: hash, Mobile: "+12015550100",
		MobileVerifiedAt: now, CreatedAt: now}
	ss := &sls.Session{ID: "ses_" + name, TokenHash: "tok_" + name, UserID: u.ID, Platform: sls.PlatformPortal, Scope: sls.ScopeFull,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}
	err := e.store.Update(context.Background(), func(tx sls.Tx) error {
		if err := tx.CreateAccount(context.Background(), &sls.Account{ID: u.AccountID, BaseCurrency: "USD", Jurisdiction: "US", CreatedAt: now}); err != nil {
			return err
		}
		if err := tx.CreateUser(context.Background(), u); err != nil {
			return err
		}
		return tx.CreateSession(context.Background(), ss)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return u, ss
}

// phone is the app side, in memory.
type phone struct {
	instance, token string
	sign            ed25519.PrivateKey
	keys            map[string][]byte // user id → offline key
	devices         map[string]string // user id → device id
}

// userWithApp creates a user (see user) whose app is activated on node a.
func (e *env) userWithApp(name string) (*sls.User, *phone) {
	e.t.Helper()
	u, ss := e.user(name)
	_, code, err := e.a.svc.Ticket(context.Background(), ss)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.activate(e.a, nil, code)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, p
}

func (e *env) activate(n node, p *phone, code proto.Code) (*phone, error) {
	e.t.Helper()
	dh, _ := proto.NewDHKey(nil)
	req := proto.ActivateRequest{Code: code.String(), AppDH: dh.PublicKey().Bytes()}
	if p == nil {
		pub, priv, _ := ed25519.GenerateKey(nil)
		p = &phone{sign: priv, keys: map[string][]byte{}, devices: map[string]string{}}
		req.Platform, req.SignPub = proto.PlatformAndroid, pub
	} else {
		req.InstanceID = p.instance
		req.Signature = ed25519.Sign(p.sign, proto.ActivationMessage(p.instance, code.Hash(), req.AppDH))
	}
	resp, err := n.svc.Activate(context.Background(), req, "192.0.2.9")
	if err != nil {
		return p, err
	}
	return p, e.finish(p, dh, code.Hash(), resp)
}

func (e *env) finish(p *phone, dh *ecdh.PrivateKey, binding string, resp *proto.ActivateResponse) error {
	tr := proto.Transcript{Binding: binding, InstanceID: resp.InstanceID, UserID: resp.UserID, DeviceID: resp.DeviceID,
		AppDH: dh.PublicKey().Bytes(), ServerDH: resp.ServerDH}
	key, confirm, err := proto.Agree(dh, resp.ServerDH, tr)
	if err != nil {
		return err
	}
	if err := proto.CheckConfirm(confirm, resp.Confirm); err != nil {
		return err
	}
	p.instance = resp.InstanceID
	if resp.Token != "" {
		p.token = resp.Token
	}
	p.keys[resp.UserID], p.devices[resp.UserID] = key, resp.DeviceID
	return nil
}

func (e *env) instance(p *phone) *sls.IBKeyInstance {
	var in *sls.IBKeyInstance
	e.store.View(context.Background(), func(tx sls.Tx) error {
		var err error
		in, err = tx.IBKeyInstance(context.Background(), p.instance)
		return err
	})
	return in
}

func (e *env) answerPush(n node, p *phone, push proto.Push, decision, number string, key []byte) (*proto.AnswerResult, error) {
	a := proto.Approval{Version: 1, PushID: push.ID, Tx: push.Tx, DeviceID: push.DeviceID, Decision: decision, Number: number, Unlock: proto.UnlockPIN}
	if key == nil {
		key = p.keys[push.UserID]
	}
	a.Sign(p.sign, key)
	return n.svc.Answer(context.Background(), e.instance(p), a)
}

func reason(err error) string {
	var e *sls.Error
	if errors.As(err, &e) {
		r, _ := e.Detail["reason"].(string)
		return r
	}
	return ""
}

func extraOf(t *testing.T, st *login.Step) promptExtra {
	t.Helper()
	var x promptExtra
	if st.Prompt == nil || json.Unmarshal(st.Prompt.Extra, &x) != nil {
		t.Fatalf("no IB Key prompt: %+v", st)
	}
	return x
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"defaults", func(*Config) {}, true},
		{"ticket over 10 minutes", func(c *Config) { c.TicketTTL = field.Duration(11 * time.Minute) }, false},
		{"one-digit number", func(c *Config) { c.MatchDigits = 1 }, false},
		{"slow poll", func(c *Config) { c.PollInterval = field.Duration(5 * time.Second) }, false},
		{"extended under 30h", func(c *Config) { c.ExtendedTrading = field.Duration(24 * time.Hour) }, false},
		{"gateway without secret", func(c *Config) { c.Gateway = &GatewayConfig{URL: "https://gw.example", SecretFile: "/nonexistent"} }, false},
		{"gateway over http", func(c *Config) { c.Gateway = &GatewayConfig{URL: "http://gw.example"} }, false},
	} {
		cfg := Config{}.WithDefaults()
		c.mod(&cfg)
		if err := cfg.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestActivationAndPushAcrossNodes(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	alice, ss := e.user("alice")
	tk, code, err := e.a.svc.Ticket(ctx, ss)
	if err != nil || tk.HasIBKey || tk.Code != code.Grouped() {
		t.Fatalf("ticket: %+v %v", tk, err)
	}
	if tk2, _, _ := e.b.svc.Ticket(ctx, ss); tk2.Code != tk.Code {
		t.Fatal("the session's ticket changed")
	}
	p, err := e.activate(e.a, nil, code)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.activate(e.a, nil, code); reason(err) != "ticket_used" || !errors.Is(err, &sls.Error{Code: sls.CodeActivationFailed}) {
		t.Fatalf("reuse: %v", err)
	}

	// App connected to node A; the login runs on node B.
	wake, cancel := e.a.svc.Hub().Subscribe(alice.ID)
	defer cancel()
	st, err := e.b.login.Start(ctx, login.StartRequest{Username: "alice", Password: password, Platform: sls.PlatformTrading, ClientIP: "198.51.100.7"})
	if err != nil || st.State != sls.LoginChallenged {
		t.Fatalf("start: %+v %v", st, err)
	}
	x := extraOf(t, st)
	e.a.svc.hub.poll(ctx, e.clk.Now().Add(-time.Second)) // node A's next poll
	select {
	case <-wake:
	default:
		t.Fatal("node A did not learn of the push created on node B")
	}
	pend, _, err := e.a.svc.Pending(ctx, e.instance(p))
	if err != nil || len(pend) != 1 || pend[0].ID != x.PushID || pend[0].ClientIP != "198.51.100.7" || pend[0].Username != "alice" {
		t.Fatalf("pending: %+v %v", pend, err)
	}
	// Not approved yet: an empty answer is not an answer and counts nothing.
	if _, err := e.b.login.Answer(ctx, st.LoginID, ""); sls.ErrorCode(err) != sls.CodeConflict {
		t.Fatalf("early answer: %v", err)
	}
	res, err := e.answerPush(e.a, p, pend[0], proto.DecisionApprove, st.Prompt.MatchNumber, nil)
	if err != nil || res.State != sls.PushApproved {
		t.Fatalf("approve: %+v %v", res, err)
	}
	begun := time.Now()
	w, _, err := e.b.login.Wait(ctx, st.LoginID, 5*time.Second, nil, Settled)
	if err != nil || extraOf(t, w).Push != sls.PushApproved || time.Since(begun) > time.Second {
		// Approved before the wait began: it returns at once.
		t.Fatalf("wait: %+v %v after %s", w, err, time.Since(begun))
	}
	done, err := e.b.login.Answer(ctx, st.LoginID, "")
	if err != nil || done.Session == nil || done.Session.Session.DeviceKind != sls.KindIBKey {
		t.Fatalf("complete: %+v %v", done, err)
	}
	// The approval is single-use.
	if _, err := e.answerPush(e.a, p, pend[0], proto.DecisionApprove, st.Prompt.MatchNumber, nil); sls.ErrorCode(err) != sls.CodeConflict {
		t.Fatalf("second approval: %v", err)
	}
}

// On PostgreSQL the app's answer to a push locks the user before the
// login, as the page's answer does (sqlstore's LoginWithUserForUpdate):
// held the other way round, the two could each wait for the other.
func TestPushAnswerLocksUserFirst(t *testing.T) {
	store, dsn := storetest.OpenPostgres(t) // skips without a server
	e := newEnvOn(t, Config{}, store)
	ctx := context.Background()
	alice, p := e.userWithApp("alice")
	st, err := e.a.login.Start(ctx, login.StartRequest{Username: "alice", Password: password, Platform: sls.PlatformTrading, ClientIP: "198.51.100.7"})
	if err != nil || st.State != sls.LoginChallenged {
		t.Fatalf("start: %+v %v", st, err)
	}
	pend, _, err := e.a.svc.Pending(ctx, e.instance(p))
	if err != nil || len(pend) != 1 {
		t.Fatalf("pending: %+v %v", pend, err)
	}
	storetest.LocksFirst(t, dsn,
		storetest.Row{Table: "users", Column: "id", Value: alice.ID},
		storetest.Row{Table: "logins", Column: "id_hash", Value: sls.TokenHash(st.LoginID)},
		func() error {
			_, err := e.answerPush(e.a, p, pend[0], proto.DecisionApprove, st.Prompt.MatchNumber, nil)
			return err
		})
}

func TestWrongPINAndNumberAreCounted(t *testing.T) {
	e := newEnv(t, Config{MaxBadUnlocks: 2})
	ctx := context.Background()
	_, ss := e.user("bob")
	_, code, _ := e.a.svc.Ticket(ctx, ss)
	p, err := e.activate(e.a, nil, code)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := e.a.login.Start(ctx, login.StartRequest{Username: "bob", Password: password, Platform: sls.PlatformPortal})
	pend, _, _ := e.a.svc.Pending(ctx, e.instance(p))
	wrongKey := make([]byte, 32) // what a wrong PIN unwraps to
	if _, err := e.answerPush(e.a, p, pend[0], proto.DecisionApprove, st.Prompt.MatchNumber, wrongKey); reason(err) != "bad_unlock" || !errors.Is(err, sls.ErrBadResponse) {
		t.Fatalf("bad unlock: %v", err)
	}
	if _, err := e.answerPush(e.a, p, pend[0], proto.DecisionApprove, st.Prompt.MatchNumber, wrongKey); !errors.Is(err, sls.ErrBadResponse) {
		t.Fatalf("second bad unlock: %v", err)
	}
	// MaxBadUnlocks reached: the push is rejected; the login stays for challenge/response.
	cur, _ := e.a.login.Status(ctx, st.LoginID)
	if extraOf(t, cur).Push != sls.PushRejected || cur.State != sls.LoginChallenged {
		t.Fatalf("after bad unlocks: %+v", cur)
	}
	// Wrong number on a fresh login.
	st, _ = e.a.login.Start(ctx, login.StartRequest{Username: "bob", Password: password, Platform: sls.PlatformPortal})
	pend, _, _ = e.a.svc.Pending(ctx, e.instance(p))
	wrong := "00"
	if st.Prompt.MatchNumber == wrong {
		wrong = "11"
	}
	// The fourth failure locks the user (MaxFailures 4).
	if _, err := e.answerPush(e.a, p, pend[0], proto.DecisionApprove, wrong, nil); reason(err) != "wrong_number" {
		t.Fatalf("wrong number: %v", err)
	}
	_, live := storetest.LiveSession(t, e.store, "usr_bob", "", sls.PlatformTrading, sls.ScopeFull, e.clk.Now())
	st, _ = e.a.login.Start(ctx, login.StartRequest{Username: "bob", Password: password, Platform: sls.PlatformPortal})
	if _, err := e.a.login.Answer(ctx, st.LoginID, "00000000"); !errors.Is(err, sls.ErrLocked) {
		t.Fatalf("fourth failure: %v", err)
	}
	if _, _, err := e.a.login.Authenticate(ctx, live, ""); !errors.Is(err, sls.ErrUnauthenticated) {
		t.Fatalf("a session of the locked user: %v", err)
	}
}

func TestDenyAndFlood(t *testing.T) {
	e := newEnv(t, Config{MaxUnanswered: 3})
	ctx := context.Background()
	_, ss := e.user("carol")
	_, code, _ := e.a.svc.Ticket(ctx, ss)
	p, _ := e.activate(e.a, nil, code)
	start := func() *login.Step {
		st, err := e.a.login.Start(ctx, login.StartRequest{Username: "carol", Password: password, Platform: sls.PlatformPortal, ClientIP: "203.0.113.5"})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := start()
	pend, _, _ := e.a.svc.Pending(ctx, e.instance(p))
	if res, err := e.answerPush(e.a, p, pend[0], proto.DecisionDeny, "", nil); err != nil || res.State != sls.PushDenied {
		t.Fatalf("deny: %v", err)
	}
	if cur, _ := e.a.login.Status(ctx, st.LoginID); cur.State != sls.LoginFailed {
		t.Fatalf("denied login: %+v", cur)
	}
	start()                    // 2: superseded by the next
	first := start()           // 3 at expiry
	e.clk.add(3 * time.Minute) // past push_ttl
	if err := e.a.svc.ExpirePushes(ctx, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	if cur, _ := e.a.login.Status(ctx, first.LoginID); extraOf(t, cur).Push != sls.PushExpired {
		t.Fatalf("expired push: %+v", cur.Prompt)
	}
	st = start()
	if x := extraOf(t, st); x.Push != "off" || st.Prompt.MatchNumber != "" || st.Prompt.Challenge == "" {
		t.Fatalf("flood: %+v", st.Prompt)
	}
	kinds := e.notes.kinds()
	if !contains(kinds, sls.NotePushDenied) || !contains(kinds, sls.NotePushFlood) {
		t.Fatalf("notifications: %v", kinds)
	}
	// Challenge/response completes the login and switches pushes back on.
	resp, _ := proto.Respond(p.keys["usr_carol"], st.Prompt.Challenge)
	if _, err := e.a.login.Answer(ctx, st.LoginID, resp); err != nil {
		t.Fatal(err)
	}
	if x := extraOf(t, start()); x.Push != sls.PushPending {
		t.Fatalf("after success: %+v", x)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestAddUserBySMS(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	_, ss := e.user("dan")
	e.user("eve")
	_, code, _ := e.a.svc.Ticket(ctx, ss)
	p, _ := e.activate(e.a, nil, code)
	in := e.instance(p)
	_, errWrong := e.a.svc.AddUser(ctx, in, proto.AddUserRequest{Username: "eve", Password: "not it"}, "")
	_, errUnknown := e.a.svc.AddUser(ctx, in, proto.AddUserRequest{Username: "nobody", Password: password}, "")
	if !errors.Is(errWrong, sls.ErrInvalidCredentials) || errWrong.Error() != errUnknown.Error() {
		t.Fatalf("wrong password %v vs unknown user %v", errWrong, errUnknown)
	}
	resp, err := e.a.svc.AddUser(ctx, in, proto.AddUserRequest{Username: "eve", Password: password}, "")
	if err != nil || resp.SentTo != "+1••••••0100" {
		t.Fatalf("add user: %+v %v", resp, err)
	}
	e.notes.mu.Lock()
	n := e.notes.notes[len(e.notes.notes)-1]
	e.notes.mu.Unlock()
	if n.Kind != sls.NoteIBKeyActivationCode || n.Channel != "sms" || len(n.Data["Code"]) != 6 {
		t.Fatalf("notification: %+v", n)
	}
	try := func(sms string) (*proto.ActivateResponse, *ecdh.PrivateKey, error) {
		dh, _ := proto.NewDHKey(nil)
		binding := proto.PendingHash(resp.PendingID)
		req := proto.ActivateRequest{PendingID: resp.PendingID, SMSCode: sms, InstanceID: p.instance, AppDH: dh.PublicKey().Bytes(),
			Signature: ed25519.Sign(p.sign, proto.ActivationMessage(p.instance, binding, dh.PublicKey().Bytes()))}
		r, err := e.b.svc.Activate(ctx, req, "")
		return r, dh, err
	}
	if _, _, err := try("000000"); reason(err) != "wrong_code" && n.Data["Code"] != "000000" {
		t.Fatalf("wrong code: %v", err)
	}
	r, dh, err := try(n.Data["Code"])
	if err != nil {
		t.Fatal(err)
	}
	if err := e.finish(p, dh, proto.PendingHash(resp.PendingID), r); err != nil || len(p.keys) != 2 {
		t.Fatalf("finish: %v", err)
	}
	if _, _, err := try(n.Data["Code"]); reason(err) != "ticket_used" {
		t.Fatalf("code reused: %v", err)
	}
	// The SMS resend interval holds for Add User too: asking again within
	// two minutes sends nothing.
	e.notes.mu.Lock()
	sent := len(e.notes.notes)
	e.notes.mu.Unlock()
	if _, err := e.a.svc.AddUser(ctx, in, proto.AddUserRequest{Username: "eve", Password: password}, ""); sls.ErrorCode(err) != sls.CodeRateLimited {
		t.Fatalf("Add User again within the resend interval: %v", err)
	}
	e.notes.mu.Lock()
	again := len(e.notes.notes)
	e.notes.mu.Unlock()
	if again != sent {
		t.Fatalf("Add User within the interval sent %d codes", again-sent)
	}
	e.clk.add(2 * time.Minute)
	if _, err := e.a.svc.AddUser(ctx, in, proto.AddUserRequest{Username: "eve", Password: password}, ""); err != nil {
		t.Fatalf("Add User after the interval: %v", err)
	}
}

func TestMigrationRevokesOldInstance(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	_, ss := e.user("fay")
	_, code, _ := e.a.svc.Ticket(ctx, ss)
	old, _ := e.activate(e.a, nil, code)
	_, code2, _ := e.a.svc.Ticket(ctx, ss)
	if _, err := e.activate(e.a, old, code2); reason(err) != "already_active" {
		t.Fatalf("already active: %v", err)
	}
	// A session the old phone opened must not outlive the migration.
	var oldDev string
	_ = e.store.View(ctx, func(tx sls.Tx) error {
		ds, err := tx.Devices(ctx, "usr_fay")
		for _, d := range ds {
			if d.Kind == sls.KindIBKey && d.State == sls.StateActive {
				oldDev = d.ID
			}
		}
		return err
	})
	_, oldTok := storetest.LiveSession(t, e.store, "usr_fay", oldDev, sls.PlatformTrading, sls.ScopeFull, e.clk.Now())
	if _, _, err := e.a.login.Authenticate(ctx, oldTok, ""); err != nil {
		t.Fatalf("old phone's session before migration: %v", err)
	}
	_, code3, _ := e.a.svc.Ticket(ctx, ss)
	nw, err := e.activate(e.a, nil, code3)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.a.login.Authenticate(ctx, oldTok, ""); !errors.Is(err, sls.ErrUnauthenticated) {
		t.Fatalf("old phone's session after migration: %v", err)
	}
	st, _ := e.a.login.Start(ctx, login.StartRequest{Username: "fay", Password: password, Platform: sls.PlatformPortal})
	if pend, _, _ := e.a.svc.Pending(ctx, e.instance(old)); len(pend) != 0 {
		t.Fatalf("old instance still gets pushes: %+v", pend)
	}
	oldResp, _ := proto.Respond(old.keys["usr_fay"], st.Prompt.Challenge)
	if _, err := e.a.login.Answer(ctx, st.LoginID, oldResp); !errors.Is(err, sls.ErrBadResponse) {
		t.Fatalf("old key answered: %v", err)
	}
	resp, _ := proto.Respond(nw.keys["usr_fay"], st.Prompt.Challenge)
	if _, err := e.a.login.Answer(ctx, st.LoginID, resp); err != nil {
		t.Fatalf("new key: %v", err)
	}
}

// TestStepUpPush: a session step-up by push binds the push to the
// step-up's handle; an approval is answered with an empty answer, a
// pending push is no answer yet, a denial ends the step-up and a wrong
// number counts toward the lockout with the step-up's purpose.
func TestStepUpPush(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	_, ss := e.user("dora")
	_, code, _ := e.a.svc.Ticket(ctx, ss)
	p, err := e.activate(e.a, nil, code)
	if err != nil {
		t.Fatal(err)
	}
	dev := p.devices["usr_dora"]
	stepUps := e.a.login.StepUps()
	start := func() (*login.StepUp, proto.Push) {
		t.Helper()
		up, err := stepUps.Start(ctx, ss, dev)
		if err != nil || up.Prompt == nil || up.Prompt.MatchNumber == "" {
			t.Fatalf("start: %+v %v", up, err)
		}
		pend, _, _ := e.a.svc.Pending(ctx, e.instance(p))
		if len(pend) != 1 || pend[0].Tx != proto.TxBinding(sls.TokenHash(up.ID), pend[0].ID) {
			t.Fatalf("push not bound to the step-up: %+v", pend)
		}
		return up, pend[0]
	}

	up, push := start()
	if _, err := stepUps.Answer(ctx, ss, up.ID, ""); sls.ErrorCode(err) != sls.CodeConflict {
		t.Fatalf("pending push: %v", err)
	}
	if _, err := e.answerPush(e.b, p, push, proto.DecisionApprove, up.Prompt.MatchNumber, nil); err != nil {
		t.Fatalf("approve: %v", err)
	}
	res, err := stepUps.Answer(ctx, ss, up.ID, "")
	if err != nil || !res.Proven || res.ProvenKind != sls.KindIBKey {
		t.Fatalf("approved push: %+v %v", res, err)
	}

	up, push = start()
	if _, err := e.answerPush(e.a, p, push, proto.DecisionDeny, "", nil); err != nil {
		t.Fatalf("deny: %v", err)
	}
	if _, err := stepUps.Answer(ctx, ss, up.ID, ""); !errors.Is(err, sls.ErrLoginExpired) {
		t.Fatalf("denied step-up still open: %v", err)
	}

	up, push = start()
	wrong := "00"
	if up.Prompt.MatchNumber == wrong {
		wrong = "11"
	}
	if _, err := e.answerPush(e.a, p, push, proto.DecisionApprove, wrong, nil); reason(err) != "wrong_number" {
		t.Fatalf("wrong number: %v", err)
	}
	var found bool
	_, _ = e.store.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
	_ = e.store.View(ctx, func(tx sls.Tx) error {
		u, _ := tx.User(ctx, "usr_dora")
		if u.FailedAnswers != 1 {
			t.Errorf("failures %d, want 1", u.FailedAnswers)
		}
		es, err := tx.AuditEntries(ctx, 0, 1000)
		for _, en := range es {
			found = found || (en.Event == sls.EventSecondFactorFail && strings.Contains(string(en.Detail), `"purpose":"step_up"`))
		}
		return err
	})
	if !found {
		t.Fatal("the wrong number is not audited with the step-up's purpose")
	}
}
