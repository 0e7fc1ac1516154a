package login_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// knownClient completes one login of user with its DSC+ and returns the
// known-client token the login handed out.
func (h *harness) knownClient(svc *login.Service, user string, key []byte) string {
	// A login from a client without a token: it is issued one.
	h.t.Helper()
	st, err := svc.Start(context.Background(), login.StartRequest{Username: user, Password: password, Platform: sls.PlatformPortal})
	if err != nil {
		h.t.Fatal(err)
	}
	done, err := svc.Answer(context.Background(), st.LoginID, respond(h.t.(*testing.T), key, "4321", st))
	if err != nil || done.Session == nil || done.Session.ClientToken == "" {
		h.t.Fatalf("login: %+v %v", done, err)
	}
	return done.Session.ClientToken
}

func try(svc *login.Service, user, pw, token string) error {
	_, err := svc.Start(context.Background(), login.StartRequest{Username: user, Password: pw, Platform: sls.PlatformPortal,
		ClientIP: "192.0.2.99", ClientToken: token})
	return err
}

// A locked user's right password answers exactly as a wrong one (no
// oracle), except to a known client, which may be told it is locked.
func TestLockoutIsNoOracle(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("dave")
		key := h.dscCard("dave")
		known := h.knownClient(h.login, "dave", key)
		var last error
		for i := 0; i < 10; i++ { // 10 failed answers over several logins lock the user
			st := h.start("dave", sls.PlatformPortal)
			_, last = h.login.Answer(ctx, st.LoginID, "00000000")
		}
		if !errors.Is(last, sls.ErrLocked) {
			t.Fatalf("10th failure: %v, want locked", last)
		}
		right, wrong := try(h.login, "dave", password, ""), try(h.login, "dave", "not-the-password", "")
		if !reflect.DeepEqual(right, wrong) || !errors.Is(right, sls.ErrInvalidCredentials) {
			t.Fatalf("locked: right password %v, wrong %v: they must be the same", right, wrong)
		}
		if err := try(h.login, "dave", password, known); !errors.Is(err, sls.ErrLocked) {
			t.Fatalf("known client, right password: %v, want locked", err)
		}
		if err := try(h.login, "dave", "not-the-password", known); !errors.Is(err, sls.ErrInvalidCredentials) {
			t.Fatalf("known client, wrong password: %v", err)
		}
		// The cool-down ends the lock.
		h.clock.Advance(31 * time.Minute)
		st := h.start("dave", sls.PlatformPortal)
		if _, err := h.login.Answer(ctx, st.LoginID, respond(t, key, "4321", st)); err != nil {
			t.Fatalf("after cool-down: %v", err)
		}
	})
}

func TestOperatorUnlock(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("erin")
		h.dscCard("erin")
		for i := 0; i < 10; i++ {
			st := h.start("erin", sls.PlatformPortal)
			h.login.Answer(ctx, st.LoginID, "00000000")
		}
		if err := try(h.login, "erin", password, ""); !errors.Is(err, sls.ErrInvalidCredentials) {
			t.Fatalf("locked: %v", err)
		}
		if _, err := h.manage.Unlock(ctx, "operator:test", "erin"); err != nil {
			t.Fatal(err)
		}
		h.start("erin", sls.PlatformPortal)
	})
}

// Wrong passwords from strangers hold strangers off, never the owner's
// known browser, and never end the owner's sessions (OWASP device
// cookies); at MaxPasswordFailures in a row strangers stay held off
// until the owner logs in from a known client.
func TestPasswordGuessingHoldsOffUnknownClients(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("pete")
		key := h.dscCard("pete")
		svc, err := login.New(login.Deps{Store: h.store, Factors: h.login.Factors(), Clock: h.clock,
			Config: login.Config{MaxPasswordFailures: 30, UntrustedBurst: 10, UntrustedHoldOff: 15 * time.Minute}})
		if err != nil {
			t.Fatal(err)
		}
		known := h.knownClient(svc, "pete", key)
		_, live := storetest.LiveSession(t, h.store, h.userID("pete"), "", sls.PlatformTrading, sls.ScopeFull, h.clock.Now())
		// Two wrong, then right: the count starts again.
		try(svc, "pete", "guess", "")
		try(svc, "pete", "guess", "")
		if err := try(svc, "pete", password, ""); err != nil {
			t.Fatalf("right password after two wrong: %v", err)
		}
		for i := 0; i < 10; i++ {
			if err := try(svc, "pete", "guess", ""); !errors.Is(err, sls.ErrInvalidCredentials) {
				t.Fatalf("guess %d: %v", i+1, err)
			}
		}
		// Held off: the right password looks like a wrong one to a stranger…
		if err := try(svc, "pete", password, ""); !errors.Is(err, sls.ErrInvalidCredentials) {
			t.Fatalf("stranger with the right password while held off: %v", err)
		}
		// …the owner's session goes on, and their known browser logs in.
		if _, _, err := svc.Authenticate(ctx, live, ""); err != nil {
			t.Fatalf("the owner's session after the guessing: %v", err)
		}
		if err := try(svc, "pete", password, known); err != nil {
			t.Fatalf("known client during the hold-off: %v", err)
		}
		// A login from a known client ends the hold-off of strangers.
		if err := try(svc, "pete", password, ""); err != nil {
			t.Fatalf("after the owner's login: %v", err)
		}
		// The hold-off ends by itself, and doubles with each burst.
		for i := 0; i < 10; i++ {
			try(svc, "pete", "guess", "")
		}
		h.clock.Advance(16 * time.Minute)
		if err := try(svc, "pete", password, ""); err != nil {
			t.Fatalf("after the first hold-off: %v", err)
		}
		// 30 in a row (MaxPasswordFailures): held off until a known client logs in.
		// (While held off, guesses are not even counted: reaching the
		// limit takes 15 + 30 minutes of waiting here, and days at the
		// default figures.)
		for burst := 0; burst < 3; burst++ {
			for i := 0; i < 10; i++ {
				try(svc, "pete", "guess", "")
			}
			h.clock.Advance(time.Hour)
		}
		h.clock.Advance(48 * time.Hour)
		if err := try(svc, "pete", password, ""); !errors.Is(err, sls.ErrInvalidCredentials) {
			t.Fatalf("two days after %d wrong passwords: %v", 30, err)
		}
		if err := try(svc, "pete", password, known); err != nil {
			t.Fatalf("known client: %v", err)
		}
		if err := try(svc, "pete", password, ""); err != nil {
			t.Fatalf("after the owner's login: %v", err)
		}
	})
}

// A known client's token counts its own wrong passwords and stops
// vouching after KnownClientMaxFailures; a token of another user vouches
// for nobody.
func TestKnownClientCountsItsOwnFailures(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		h.user("kim")
		h.user("lou")
		key := h.dscCard("kim")
		svc, err := login.New(login.Deps{Store: h.store, Factors: h.login.Factors(), Clock: h.clock,
			Config: login.Config{UntrustedBurst: 3, KnownClientMaxFailures: 4}})
		if err != nil {
			t.Fatal(err)
		}
		known := h.knownClient(svc, "kim", key)
		for i := 0; i < 3; i++ { // strangers: held off
			try(svc, "kim", "guess", "")
		}
		for i := 0; i < 3; i++ { // the known client's own mistakes do not hold it off…
			try(svc, "kim", "typo", known)
		}
		if err := try(svc, "kim", password, known); err != nil {
			t.Fatalf("known client after 3 typos: %v", err)
		}
		for i := 0; i < 3; i++ { // strangers again
			try(svc, "kim", "guess", "")
		}
		for i := 0; i < 4; i++ { // …until it reaches its own limit
			try(svc, "kim", "typo", known)
		}
		if err := try(svc, "kim", password, known); !errors.Is(err, sls.ErrInvalidCredentials) {
			t.Fatalf("revoked known client during a hold-off: %v", err)
		}
		// (lou has no device: past the password, the login stops there.)
		if err := try(svc, "lou", password, known); errors.Is(err, sls.ErrInvalidCredentials) {
			t.Fatalf("another user's token is just no token: %v", err)
		}
	})
}

// Re-selecting a device draws a new challenge, so it spends one of the
// login's answers: a login allows MaxAnswers challenges and answers in
// all, however they are mixed.
func TestReselectionSpendsAnswers(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("rita")
		h.dscCard("rita")
		st := h.start("rita", sls.PlatformPortal) // one device: challenged at once (not counted)
		var err error
		for i := 1; i <= 5; i++ {
			_, err = h.login.SelectDevice(ctx, st.LoginID, st.DeviceID)
			if i < 5 && err != nil {
				t.Fatalf("re-selection %d: %v", i, err)
			}
		}
		if !errors.Is(err, sls.ErrTooManyAttempts) {
			t.Fatalf("5th re-selection: %v, want too_many_attempts", err)
		}
		if _, err := h.login.Answer(ctx, st.LoginID, "12345678"); !errors.Is(err, sls.ErrTooManyAttempts) {
			t.Fatalf("answer after the login was spent: %v", err)
		}
	})
}

// FuzzNormalizeUsername: a typed username normalizes without panicking
// to the form it is stored in, which normalizes to itself: otherwise one
// user could be looked up under two names (and counted under two keys).
func FuzzNormalizeUsername(f *testing.F) {
	for _, s := range []string{"Sara", " sara ", "", "İstanbul", "ǅ", "\u00a0x\u00a0", "\xff", "K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := login.NormalizeUsername(s)
		if again := login.NormalizeUsername(n); again != n {
			t.Fatalf("%q normalizes to %q, then to %q", s, n, again)
		}
	})
}

// A known client keeps its token: it is not issued another at each
// login, so one app logging in all day cannot push the user's other known
// clients out of the few kept.
func TestKnownClientKeepsItsToken(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("kay")
		key := h.dscCard("kay")
		svc, err := login.New(login.Deps{Store: h.store, Factors: h.login.Factors(), Clock: h.clock,
			Config: login.Config{UntrustedBurst: 3}})
		if err != nil {
			t.Fatal(err)
		}
		browser := h.knownClient(svc, "kay", key)
		app := h.knownClient(svc, "kay", key)
		for i := 0; i < 30; i++ { // more logins than known clients are kept
			st, err := svc.Start(ctx, login.StartRequest{Username: "kay", Password: password, Platform: sls.PlatformTrading, ClientToken: app})
			if err != nil {
				t.Fatal(err)
			}
			done, err := svc.Answer(ctx, st.LoginID, respond(t, key, "4321", st))
			if err != nil || done.Session.ClientToken != "" {
				t.Fatalf("login %d of a known app: %+v %v (it keeps its token)", i, done, err)
			}
		}
		for i := 0; i < 3; i++ { // strangers: held off
			try(svc, "kay", "guess", "")
		}
		if err := try(svc, "kay", password, browser); err != nil {
			t.Fatalf("the browser's token after 30 logins of the app: %v", err)
		}
	})
}
