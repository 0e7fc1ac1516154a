package login_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/factor/cards"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/factor/temppass"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

const password = "correct horse battery"

type harness struct {
	t      testing.TB
	store  sls.Store
	clock  *clock.Fake
	login  *login.Service
	manage *manage.Service
	dsc    *dscplus.Factor
}

func newHarness(t testing.TB, store sls.Store) *harness {
	t.Helper()
	sealer, err := seal.New(bytes.Repeat([]byte{7}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC))
	dsc := &dscplus.Factor{Sealer: sealer}
	factors, err := sls.NewFactors(dsc,
		&cards.Factor{CardKind: sls.KindCodeCard, Sealer: sealer},
		&cards.Factor{CardKind: sls.KindOnlineCard, Sealer: sealer},
		&temppass.Factor{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := login.New(login.Deps{Store: store, Factors: factors, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, store: store, clock: clk, login: svc, dsc: dsc,
		manage: &manage.Service{Store: store, Sealer: sealer, Clock: clk, Argon: passhash.Default}}
}

func (h *harness) user(name string) *sls.User {
	h.t.Helper()
	ctx := context.Background()
	acct := strings.ToUpper(name) + "1"
	if _, err := h.manage.CreateAccount(ctx, "operator:test", manage.NewAccount{ID: acct, BaseCurrency: "USD", EquityMinor: 2e8, Jurisdiction: "US"}); err != nil {
		h.t.Fatal(err)
	}
	u, err := h.manage.CreateUser(ctx, "operator:test", manage.NewUser{Username: name, Password: password, AccountID: acct})
	if err != nil {
		h.t.Fatal(err)
	}
	return u
}

// dscCard issues an active DSC+ with PIN 4321 and returns its key.
func (h *harness) dscCard(username string) []byte {
	h.t.Helper()
	iss, err := h.manage.IssueDSCPlus(context.Background(), "operator:test", username, "", "4321", true)
	if err != nil {
		h.t.Fatal(err)
	}
	key, _ := hex.DecodeString(iss.Card.Key)
	return key
}

func (h *harness) start(username string, p sls.Platform) *login.Step {
	h.t.Helper()
	st, err := h.login.Start(context.Background(), login.StartRequest{Username: username, Password: password, Platform: p, ClientIP: "192.0.2.7"})
	if err != nil {
		h.t.Fatalf("start: %v", err)
	}
	return st
}

func respond(t *testing.T, key []byte, pin string, st *login.Step) string {
	t.Helper()
	if st.Prompt == nil || st.Prompt.Kind != sls.KindDSCPlus || len(st.Prompt.Challenge) != 6 {
		t.Fatalf("not a DSC+ challenge: %+v", st)
	}
	r, err := dscplus.Respond(key, pin, st.Prompt.Challenge)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func run(t *testing.T, fn func(t *testing.T, h *harness)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newHarness(t, storetest.MustOpenSQLite(t))) })
	t.Run("postgres", func(t *testing.T) { fn(t, newHarness(t, storetest.MustOpenPostgres(t))) })
}

func TestDSCPlusLogin(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		h.user("alice")
		key := h.dscCard("alice")
		st := h.start("Alice", sls.PlatformTrading) // usernames are case-insensitive
		if st.State != sls.LoginChallenged || len(st.Devices) != 1 {
			t.Fatalf("one device should be challenged at once: %+v", st)
		}
		if !st.Deadline.Equal(h.clock.Now().Add(3 * time.Minute)) {
			t.Errorf("deadline %v, want 3 minutes", st.Deadline)
		}
		done, err := h.login.Answer(context.Background(), st.LoginID, respond(t, key, "4321", st))
		if err != nil {
			t.Fatal(err)
		}
		s := done.Session.Session
		if s.DeviceKind != sls.KindDSCPlus || s.Platform != sls.PlatformTrading || s.Scope != sls.ScopeFull {
			t.Fatalf("session: %+v", s)
		}
		if len(done.Session.Token) < 40 {
			t.Fatalf("token too short: %d", len(done.Session.Token))
		}
		got, u, err := h.login.Authenticate(context.Background(), done.Session.Token, "")
		if err != nil || got.ID != s.ID || u.Username != "alice" {
			t.Fatalf("authenticate: %v %v", got, err)
		}
		// Completed once: the same answer again is refused.
		if _, err := h.login.Answer(context.Background(), st.LoginID, respond(t, key, "4321", st)); !errors.Is(err, sls.ErrLoginCompleted) {
			t.Fatalf("second answer: %v", err)
		}
	})
}

func TestWrongPINIsAFailedAnswer(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		h.user("bob")
		key := h.dscCard("bob")
		st := h.start("bob", sls.PlatformPortal)
		_, err := h.login.Answer(context.Background(), st.LoginID, respond(t, key, "1234", st))
		if !errors.Is(err, sls.ErrBadResponse) {
			t.Fatalf("wrong PIN: %v", err)
		}
		u, _ := h.manage.UserByName(context.Background(), "bob")
		if u.FailedAnswers != 1 {
			t.Fatalf("failures = %d, want 1", u.FailedAnswers)
		}
	})
}

func TestUnknownUserAndWrongPasswordLookTheSame(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		h.user("carol")
		_, e1 := h.login.Start(context.Background(), login.StartRequest{Username: "carol", Password: "nope-nope", Platform: sls.PlatformPortal})
		_, e2 := h.login.Start(context.Background(), login.StartRequest{Username: "nobody", Password: "nope-nope", Platform: sls.PlatformPortal})
		var a, b *sls.Error
		if !errors.As(e1, &a) || !errors.As(e2, &b) || a.Code != sls.CodeInvalidCredentials || a.Message != b.Message || a.Code != b.Code {
			t.Fatalf("errors differ: %v / %v", e1, e2)
		}
	})
}

func TestAnswerLimitPerLogin(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		h.user("fred")
		key := h.dscCard("fred")
		st := h.start("fred", sls.PlatformPortal)
		var err error
		for i := 0; i < 5; i++ {
			_, err = h.login.Answer(context.Background(), st.LoginID, "11111111")
		}
		if !errors.Is(err, sls.ErrTooManyAttempts) {
			t.Fatalf("5th wrong answer: %v", err)
		}
		if _, err := h.login.Answer(context.Background(), st.LoginID, respond(t, key, "4321", st)); !errors.Is(err, sls.ErrTooManyAttempts) {
			t.Fatalf("answer after the limit: %v", err)
		}
	})
}

func TestExpiredLogin(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		h.user("gina")
		key := h.dscCard("gina")
		st := h.start("gina", sls.PlatformPortal)
		h.clock.Advance(3*time.Minute + time.Second)
		if _, err := h.login.Answer(context.Background(), st.LoginID, respond(t, key, "4321", st)); !errors.Is(err, sls.ErrLoginExpired) {
			t.Fatalf("late answer: %v", err)
		}
	})
}

// fixedReader makes every random challenge the same, to test that a
// response accepted once is never accepted again.
type fixedReader struct{}

func (fixedReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 0x42
	}
	return len(p), nil
}

// thenReader gives 0x42 bytes on its first read and 0x17 after: the
// first challenge drawn repeats an earlier one, the next does not.
type thenReader struct{ reads int }

func (r *thenReader) Read(p []byte) (int, error) {
	b := byte(0x42)
	if r.reads > 0 {
		b = 0x17
	}
	r.reads++
	for i := range p {
		p[i] = b
	}
	return len(p), nil
}

// An accepted response is never accepted again, and the server never
// asks for it again either: a challenge whose response is remembered as
// used is drawn again (the right answer to it would be refused as a
// replay and count toward the lock-out).
func TestReplayRefusedAndNeverAskedFor(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("hank")
		key := h.dscCard("hank")
		h.dsc.Rand = fixedReader{}
		st1 := h.start("hank", sls.PlatformPortal)
		resp := respond(t, key, "4321", st1)
		if _, err := h.login.Answer(ctx, st1.LoginID, resp); err != nil {
			t.Fatal(err)
		}
		// The random source repeats the first challenge: drawn again.
		h.dsc.Rand = &thenReader{}
		st2 := h.start("hank", sls.PlatformPortal)
		if st2.Prompt.Challenge == st1.Prompt.Challenge {
			t.Fatal("a challenge whose response was used was issued again")
		}
		if _, err := h.login.Answer(ctx, st2.LoginID, resp); !errors.Is(err, sls.ErrBadResponse) {
			t.Fatalf("the old response to a new challenge: %v", err)
		}
		st3 := h.start("hank", sls.PlatformPortal)
		if _, err := h.login.Answer(ctx, st3.LoginID, respond(t, key, "4321", st3)); err != nil {
			t.Fatalf("the right response to a fresh challenge: %v", err)
		}
		// A random source that only ever repeats fails closed.
		h.dsc.Rand = fixedReader{}
		if _, err := h.login.Start(ctx, login.StartRequest{Username: "hank", Password: password, Platform: sls.PlatformPortal}); !errors.Is(err, sls.ErrDeviceUnavailable) {
			t.Fatalf("a stuck random source: %v", err)
		}
	})
}

func TestDeviceSelectionAndCodeCard(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("ivan")
		h.dscCard("ivan")
		iss, err := h.manage.IssueCodeCard(ctx, "operator:test", "ivan")
		if err != nil {
			t.Fatal(err)
		}
		var lastPair []int
		for i := 0; i < 6; i++ {
			st := h.start("ivan", sls.PlatformPortal)
			if st.State != sls.LoginSelectDevice || len(st.Devices) != 2 || st.Prompt != nil {
				t.Fatalf("two devices must be offered: %+v", st)
			}
			st, err = h.login.SelectDevice(ctx, st.LoginID, iss.Device.ID)
			if err != nil {
				t.Fatal(err)
			}
			ix := st.Prompt.Indices
			if len(ix) != 2 || ix[0] == ix[1] {
				t.Fatalf("indices: %v", ix)
			}
			if lastPair != nil && ix[0] == lastPair[0] && ix[1] == lastPair[1] {
				t.Fatalf("same pair twice in a row: %v", ix)
			}
			lastPair = ix
			a, _ := iss.Card.Value(ix[0])
			b, _ := iss.Card.Value(ix[1])
			done, err := h.login.Answer(ctx, st.LoginID, strings.ToLower(a)+" "+b)
			if err != nil {
				t.Fatal(err)
			}
			if done.Session.Session.DeviceKind != sls.KindCodeCard {
				t.Fatalf("session device: %+v", done.Session.Session)
			}
		}
		st := h.start("ivan", sls.PlatformPortal)
		if _, err := h.login.SelectDevice(ctx, st.LoginID, "dev_unknown"); sls.ErrorCode(err) != sls.CodeNotFound {
			t.Fatalf("unknown device: %v", err)
		}
	})
}

func TestTempPasscodeAccessWindows(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("judy")
		code, _, err := h.manage.IssueTempPasscode(ctx, "operator:test", "judy", "phone call, agent 17, ref 2026-1")
		if err != nil {
			t.Fatal(err)
		}
		// Never twice in a row.
		if _, _, err := h.manage.IssueTempPasscode(ctx, "operator:test", "judy", "again"); sls.ErrorCode(err) != sls.CodeNotEligible {
			t.Fatalf("second passcode: %v", err)
		}
		st := h.start("judy", sls.PlatformTrading)
		if st.Prompt.Kind != sls.KindTempPasscode {
			t.Fatalf("prompt: %+v", st.Prompt)
		}
		done, err := h.login.Answer(ctx, st.LoginID, strings.ToLower(code))
		if err != nil || done.Session.Session.Scope != sls.ScopeFull {
			t.Fatalf("day 0: %v %+v", err, done)
		}
		h.clock.Advance(49 * time.Hour)
		st = h.start("judy", sls.PlatformTrading)
		if _, err := h.login.Answer(ctx, st.LoginID, code); sls.ErrorCode(err) != sls.CodeForbidden {
			t.Fatalf("trading after 2 days: %v", err)
		}
		st = h.start("judy", sls.PlatformPortal)
		done, err = h.login.Answer(ctx, st.LoginID, code)
		if err != nil || done.Session.Session.Scope != sls.ScopeOnlineCardOnly {
			t.Fatalf("portal after 2 days: %v %+v", err, done)
		}
		// The client prints and activates an online card; then a new
		// temporary passcode may be issued again.
		card, err := h.manage.RequestOnlineCard(ctx, done.Session.Session.UserID)
		if err != nil {
			t.Fatal(err)
		}
		dev, values, pair, err := h.manage.OnlineCard(ctx, done.Session.Session.UserID)
		if err != nil || dev.ID != card.Device.ID {
			t.Fatal(err)
		}
		if _, err := h.manage.ActivateOnlineCard(ctx, dev.UserID, dev.ID, "000 000", h.login.Verifier()); !errors.Is(err, sls.ErrBadResponse) {
			t.Fatalf("wrong activation: %v", err)
		}
		a, _ := values.Value(pair[0])
		b, _ := values.Value(pair[1])
		act, err := h.manage.ActivateOnlineCard(ctx, dev.UserID, dev.ID, a+b, h.login.Verifier())
		if err != nil || act.State != sls.StateActive || !act.ExpiresAt.Equal(h.clock.Now().Add(21*24*time.Hour)) {
			t.Fatalf("activation: %v %+v", err, act)
		}
		if _, _, err := h.manage.IssueTempPasscode(ctx, "operator:test", "judy", "phone call 2"); err != nil {
			t.Fatalf("passcode after another device: %v", err)
		}
		// Past 12 days the passcode is gone.
		h.clock.Advance(12 * 24 * time.Hour)
		st = h.start("judy", sls.PlatformPortal)
		for _, d := range st.Devices {
			if d.Kind == sls.KindTempPasscode {
				t.Fatalf("expired passcode still offered")
			}
		}
	})
}

func TestSecretsNotInAuditTrail(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("kate")
		key := h.dscCard("kate")
		code, _, _ := h.manage.IssueTempPasscode(ctx, "operator:test", "kate", "phone")
		st := h.start("kate", sls.PlatformPortal)
		for _, d := range st.Devices {
			if d.Kind == sls.KindDSCPlus {
				st, _ = h.login.SelectDevice(ctx, st.LoginID, d.ID)
			}
		}
		resp := respond(t, key, "4321", st)
		h.login.Answer(ctx, st.LoginID, "99999999")
		h.login.Answer(ctx, st.LoginID, resp)
		var all strings.Builder
		_, _ = h.store.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
		h.store.View(ctx, func(tx sls.Tx) error {
			es, err := tx.AuditEntries(ctx, 0, 1000)
			for _, e := range es {
				all.WriteString(e.Detail + e.Event + "\n")
			}
			return err
		})
		for _, secret := range []string{resp, "99999999", temppass.Normalize(code), code, password, hex.EncodeToString(key), "4321"} {
			if strings.Contains(all.String(), secret) {
				t.Errorf("audit trail holds a secret %q", secret)
			}
		}
		if !strings.Contains(all.String(), sls.EventLoginSuccess) || !strings.Contains(all.String(), sls.EventSecondFactorFail) {
			t.Errorf("audit trail misses events:\n%s", all.String())
		}
		if n := storetest.VerifyChain(t, h.store); n < 5 {
			t.Fatalf("chain has %d entries", n)
		}
	})
}

func TestSessionsListAndEnd(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("leo")
		key := h.dscCard("leo")
		st := h.start("leo", sls.PlatformPortal)
		done, err := h.login.Answer(ctx, st.LoginID, respond(t, key, "4321", st))
		if err != nil {
			t.Fatal(err)
		}
		s := done.Session.Session
		list, err := h.login.Sessions(ctx, s.UserID)
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v %v", list, err)
		}
		if err := h.login.End(ctx, "usr_other", s.ID); sls.ErrorCode(err) != sls.CodeNotFound {
			t.Fatalf("ending another user's session: %v", err)
		}
		if err := h.login.End(ctx, s.UserID, s.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.login.Authenticate(ctx, done.Session.Token, ""); !errors.Is(err, sls.ErrUnauthenticated) {
			t.Fatalf("ended session still works: %v", err)
		}
		// Idle timeout.
		st = h.start("leo", sls.PlatformPortal)
		done, _ = h.login.Answer(ctx, st.LoginID, respond(t, key, "4321", st))
		h.clock.Advance(31 * time.Minute)
		if _, _, err := h.login.Authenticate(ctx, done.Session.Token, ""); !errors.Is(err, sls.ErrUnauthenticated) {
			t.Fatalf("idle session still works: %v", err)
		}
	})
}

func TestPasswordFailuresBoundedByNIST(t *testing.T) {
	if err := (login.Config{MaxPasswordFailures: 101}).WithDefaults().Validate(); err == nil {
		t.Fatal("accepted more than NIST's 100 consecutive failures")
	}
	if got := login.DefaultConfig().MaxPasswordFailures; got != 100 {
		t.Fatalf("default %d, want NIST's 100", got)
	}
}

func (h *harness) userID(name string) string {
	h.t.Helper()
	u, err := h.manage.UserByName(context.Background(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.ID
}

// onlyFrom is a SessionGate that allows one address.
type onlyFrom string

func (a onlyFrom) CheckSession(_ context.Context, _ sls.Tx, _ *sls.Session, _ *sls.User, ip string, _ time.Time) error {
	if ip != string(a) {
		return sls.Errorf(sls.CodeIPNotAllowed, "not from here")
	}
	return nil
}

// TestSessionGate: every use of a session passes the gate with its
// address; a refusal is audited (session id, address) and does not end
// the session, which works again from an allowed address.
func TestSessionGate(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("quin")
		svc, err := login.New(login.Deps{Store: h.store, Factors: h.login.Factors(), Clock: h.clock, Session: onlyFrom("192.0.2.1")})
		if err != nil {
			t.Fatal(err)
		}
		id, tok := storetest.LiveSession(t, h.store, h.userID("quin"), "", sls.PlatformTrading, sls.ScopeFull, h.clock.Now())
		if _, _, err := svc.Authenticate(ctx, tok, "192.0.2.1"); err != nil {
			t.Fatalf("allowed address: %v", err)
		}
		if _, _, err := svc.Authenticate(ctx, tok, "198.51.100.7"); sls.ErrorCode(err) != sls.CodeIPNotAllowed {
			t.Fatalf("other address: %v", err)
		}
		var found bool
		_, _ = h.store.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
		_ = h.store.View(ctx, func(tx sls.Tx) error {
			list, err := tx.AuditEntries(ctx, 0, 1000)
			for _, e := range list {
				found = found || (e.Event == login.EventSessionRefused && strings.Contains(e.Detail, id) &&
					strings.Contains(e.Detail, "198.51.100.7") && strings.Contains(e.Detail, "ip_not_allowed"))
			}
			return err
		})
		if !found {
			t.Error("the refusal is not audited with session id, address and reason")
		}
		if _, _, err := svc.Authenticate(ctx, tok, "192.0.2.1"); err != nil {
			t.Fatalf("back at the allowed address: %v", err)
		}
	})
}

// TestLockedUserSessionRefused: a session of a locked user is refused even
// if the lock was written without ending it (defense in depth).
func TestLockedUserSessionRefused(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("rita")
		id := h.userID("rita")
		_, tok := storetest.LiveSession(t, h.store, id, "", sls.PlatformTrading, sls.ScopeFull, h.clock.Now())
		if err := h.store.Update(ctx, func(tx sls.Tx) error {
			u, err := tx.UserForUpdate(ctx, id)
			if err != nil {
				return err
			}
			u.LockedUntil = h.clock.Now().Add(time.Hour)
			return tx.PutUser(ctx, u)
		}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := h.login.Authenticate(ctx, tok, ""); !errors.Is(err, sls.ErrLocked) {
			t.Fatalf("session of a locked user: %v", err)
		}
	})
}

// On PostgreSQL an answer locks the user before the login (sqlstore's
// LoginWithUserForUpdate), the order of every path that locks both (an
// IB Key app's answer, a step-up, a device order): held the other way
// round, two of them could each wait for the other.
func TestAnswerLocksUserFirst(t *testing.T) {
	store, dsn := storetest.OpenPostgres(t) // skips without a server
	h := newHarness(t, store)
	u := h.user("alice")
	key := h.dscCard("alice")
	st := h.start("alice", sls.PlatformTrading)
	response := respond(t, key, "4321", st)
	storetest.LocksFirst(t, dsn,
		storetest.Row{Table: "users", Column: "id", Value: u.ID},
		storetest.Row{Table: "logins", Column: "id_hash", Value: sls.TokenHash(st.LoginID)},
		func() error { _, err := h.login.Answer(context.Background(), st.LoginID, response); return err })
}
