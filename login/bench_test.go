package login_test

import (
	"context"
	"slices"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"golang.org/x/crypto/argon2"

	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// BenchmarkLogin measures, interleaved in one loop so that a shared and
// noisy machine slows all three alike:
//
//   - argon2id: the bare Argon2id check with the default parameters, as
//     the server computes it (passhash) — the cost a login must pay and
//     the baseline;
//   - x/crypto: the same hash with golang.org/x/crypto/argon2.IDKey, which
//     allocates its memory on every call: the bound without passhash's
//     own implementation;
//   - full: the whole login (password, DSC+ challenge, answer, session);
//   - factor: the second-factor step alone (a fresh DSC+ challenge and its
//     answer, after the password was accepted).
//
// It reports the medians and the ratios full/argon2id (how much a login
// costs beyond its hash), factor/argon2id and full/x/crypto:
//
//	go test -run XXX -bench Login -benchtime 200x ./login/
func BenchmarkLogin(b *testing.B) {
	h := newHarness(b, storetest.MustOpenSQLite(b))
	h.user("bench")
	key := h.dscCard("bench")
	ctx := context.Background()
	// The login as the server runs it: with its rate limits (raised so
	// that they never refuse, but their rows are still written) and the
	// bound on concurrent hashes.
	rules := ratelimit.Defaults()
	for name := range rules {
		rules[name] = ratelimit.Rule{Rate: 1_000_000, Per: time.Second, Burst: 1_000_000}
	}
	limiter, err := ratelimit.New(h.store, h.clock, rules)
	if err != nil {
		b.Fatal(err)
	}
	svc, err := login.New(login.Deps{Store: h.store, Factors: h.login.Factors(), Clock: h.clock, Limiter: limiter,
		Hashing: passhash.NewGate(2, 32, 2*time.Second)})
	if err != nil {
		b.Fatal(err)
	}
	h.login = svc
	stored, err := passhash.Hash([]byte(password), passhash.Default)
	if err != nil {
		b.Fatal(err)
	}
	salt := []byte("a salt of 16 b..")
	p := passhash.Default
	var argon, xcrypto, full, factor []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		argon2.IDKey([]byte(password), salt, p.Iterations, p.MemoryKiB, p.Parallelism, 32)
		xcrypto = append(xcrypto, time.Since(t0))

		t0 = time.Now()
		if ok, _, _ := passhash.Check([]byte(password), stored, passhash.Default); !ok {
			b.Fatal("hash mismatch")
		}
		argon = append(argon, time.Since(t0))

		t0 = time.Now()
		st, err := h.login.Start(ctx, login.StartRequest{Username: "bench", Password: password, Platform: sls.PlatformPortal, ClientIP: "192.0.2.1"})
		if err != nil {
			b.Fatal(err)
		}
		resp, _ := dscplus.Respond(key, "4321", st.Prompt.Challenge)
		if _, err := h.login.Answer(ctx, st.LoginID, resp); err != nil {
			b.Fatal(err)
		}
		full = append(full, time.Since(t0))

		st, err = h.login.Start(ctx, login.StartRequest{Username: "bench", Password: password, Platform: sls.PlatformPortal, ClientIP: "192.0.2.1"})
		if err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		st, err = h.login.SelectDevice(ctx, st.LoginID, st.DeviceID) // a fresh challenge
		if err != nil {
			b.Fatal(err)
		}
		resp, _ = dscplus.Respond(key, "4321", st.Prompt.Challenge)
		if _, err := h.login.Answer(ctx, st.LoginID, resp); err != nil {
			b.Fatal(err)
		}
		factor = append(factor, time.Since(t0))
	}
	b.StopTimer()
	ma, mf, mx, mc := median(argon), median(full), median(factor), median(xcrypto)
	b.ReportMetric(float64(ma.Microseconds())/1000, "argon2id-ms")
	b.ReportMetric(float64(mc.Microseconds())/1000, "xcrypto-argon2id-ms")
	b.ReportMetric(float64(mf)/float64(mc), "full/xcrypto")
	b.ReportMetric(float64(mf.Microseconds())/1000, "full-login-ms")
	b.ReportMetric(float64(mx.Microseconds())/1000, "factor-step-ms")
	b.ReportMetric(float64(mf)/float64(ma), "full/argon2id")
	b.ReportMetric(float64(mx)/float64(ma), "factor/argon2id")
	b.ReportMetric(0, "ns/op") // the loop mixes three things; the medians above are the figures
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
