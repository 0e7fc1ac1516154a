package login_test

import (
	"context"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/ratelimit"
)

// limited returns a service on h's store with tight limits.
func (h *harness) limited(t *testing.T, gate *passhash.Gate) *login.Service {
	t.Helper()
	lim, err := ratelimit.New(h.store, h.clock, map[string]ratelimit.Rule{
		ratelimit.PasswordAddress:  {Rate: 3, Per: time.Minute, Burst: 3},
		ratelimit.PasswordAccount:  {Rate: 2, Per: time.Minute, Burst: 2},
		ratelimit.SecondFactorUser: {Rate: 2, Per: time.Minute, Burst: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := login.New(login.Deps{Store: h.store, Factors: h.login.Factors(), Clock: h.clock, Limiter: lim, Hashing: gate})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func wantCode(t *testing.T, err error, code sls.Code, what string) {
	t.Helper()
	if sls.ErrorCode(err) != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

// TestPasswordRateLimits: per (address, username), then per address; a
// different address has its own budget; the budget comes back with time.
func TestPasswordRateLimits(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("rita")
		h.dscCard("rita")
		svc := h.limited(t, nil)
		try := func(user, pw, ip string) error {
			_, err := svc.Start(ctx, login.StartRequest{Username: user, Password: pw, Platform: sls.PlatformPortal, ClientIP: ip})
			return err
		}
		wantCode(t, try("rita", "wrong", "192.0.2.1"), sls.CodeInvalidCredentials, "guess 1")
		wantCode(t, try("RITA", "wrong", "192.0.2.1"), sls.CodeInvalidCredentials, "guess 2")
		wantCode(t, try("Rita", password, "192.0.2.1"), sls.CodeRateLimited, "third try at one user (usernames fold)")
		wantCode(t, try("someone", "wrong", "192.0.2.1"), sls.CodeRateLimited, "fourth try from one address")
		if err := try("rita", password, "198.51.100.2"); err != nil {
			t.Fatalf("another address: %v", err)
		}
		h.clock.Advance(30 * time.Second)
		if err := try("rita", password, "192.0.2.1"); err != nil {
			t.Fatalf("after 30 s: %v", err)
		}
	})
}

// TestSecondFactorRateLimit: answers (and re-selections) per user.
func TestSecondFactorRateLimit(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		h.user("sam")
		key := h.dscCard("sam")
		svc := h.limited(t, nil)
		st, err := svc.Start(ctx, login.StartRequest{Username: "sam", Password: password, Platform: sls.PlatformPortal, ClientIP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Answer(ctx, st.LoginID, "00000000")
		wantCode(t, err, sls.CodeBadResponse, "answer 1")
		_, err = svc.SelectDevice(ctx, st.LoginID, st.Devices[0].ID)
		if err != nil {
			t.Fatalf("re-select: %v", err)
		}
		_, err = svc.Answer(ctx, st.LoginID, "00000000")
		wantCode(t, err, sls.CodeRateLimited, "third try within a minute")
		h.clock.Advance(time.Minute)
		st2, err := svc.Status(ctx, st.LoginID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Answer(ctx, st.LoginID, respond(t, key, "4321", st2)); err != nil {
			t.Fatalf("right answer a minute later: %v", err)
		}
	})
}

// TestHashingBusy: when every hashing slot is taken and there is no
// queue, a password check is refused at once as busy, with a wait.
func TestHashingBusy(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		gate := passhash.NewGate(1, 0, time.Second)
		svc := h.limited(t, gate)
		release, err := gate.Enter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.Start(context.Background(), login.StartRequest{Username: "nobody", Password: "x", Platform: sls.PlatformPortal, ClientIP: "192.0.2.1"})
		wantCode(t, err, sls.CodeUnavailable, "all slots busy")
		if e := err.(*sls.Error); e.Detail["retry_after_seconds"] != 1 {
			t.Fatalf("detail %v, want retry_after_seconds 1", e.Detail)
		}
		release()
		_, err = svc.Start(context.Background(), login.StartRequest{Username: "nobody", Password: "x", Platform: sls.PlatformPortal, ClientIP: "192.0.2.1"})
		wantCode(t, err, sls.CodeInvalidCredentials, "slot free again")
	})
}
