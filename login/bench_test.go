package login_test

import (
	"cmp"
	"context"
	"os"
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
	// A context that can end, as a request's does (the store watches
	// such contexts, and that has a cost).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
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

// BenchmarkAnswer measures the second-factor step alone, a right DSC+
// answer that completes the login (session, replay record, audit entry,
// all in one durable commit), against its floor on the same store in
// the same loop: one durable transaction that inserts one row (an audit
// entry). The floor is what any durable answer must pay on this disk
// and driver (BEGIN IMMEDIATE, one statement, a WAL frame written and
// flushed, synchronous=FULL); the ratio is what the step costs beyond
// it. The logins are prepared first, with a cheap stored hash, and the
// client keeps its known-client token, as a returning client does; the
// timed steps run with a context that can end, as a request's does. It
// runs on SQLite, and on PostgreSQL too when SLS_TEST_POSTGRES names a
// server (the floor is then a round trip and the server's flush):
//
//	go test -run XXX -bench 'Answer$' -benchtime 2000x ./login/
//
// With SLS_BENCH_ANSWER_IDLE set to a duration (10ms, say), the loop
// sleeps that long, untimed, before each answer, as a node between one
// client's requests does: what a machine charges a request that finds
// its CPU idle (caches, and on a virtual machine the wake-up of a
// stopped virtual CPU) shows as the difference.
func BenchmarkAnswer(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkAnswer(b, storetest.MustOpenSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { benchmarkAnswer(b, storetest.MustOpenPostgres(b)) })
}

func benchmarkAnswer(b *testing.B, store sls.Store) {
	h := newHarness(b, store)
	h.manage.Argon = passhash.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1} // only the preparation hashes
	h.user("bench")
	key := h.dscCard("bench")
	ctx := context.Background()
	type pending struct{ loginID, response string }
	var logins []pending
	seen := map[string]bool{} // a repeated challenge or response would be refused as a replay
	known := ""
	for len(logins) < b.N {
		st, err := h.login.Start(ctx, login.StartRequest{Username: "bench", Password: password, Platform: sls.PlatformPortal,
			ClientIP: "192.0.2.1", ClientToken: known})
		if err != nil {
			b.Fatal(err)
		}
		resp, _ := dscplus.Respond(key, "4321", st.Prompt.Challenge)
		if seen[resp] || seen[st.Prompt.Challenge] {
			continue
		}
		seen[resp], seen[st.Prompt.Challenge] = true, true
		if known == "" {
			done, err := h.login.Answer(ctx, st.LoginID, resp)
			if err != nil {
				b.Fatal(err)
			}
			known = done.Session.ClientToken
			continue
		}
		logins = append(logins, pending{st.LoginID, resp})
	}
	var answer, floor []time.Duration
	// The steps run with a context that can end, as a request's does.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	idle, err := time.ParseDuration(cmp.Or(os.Getenv("SLS_BENCH_ANSWER_IDLE"), "0s"))
	if err != nil {
		b.Fatalf("SLS_BENCH_ANSWER_IDLE: %v", err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if idle > 0 {
			b.StopTimer()
			time.Sleep(idle)
			b.StartTimer()
		}
		t0 := time.Now()
		if _, err := h.login.Answer(ctx, logins[i].loginID, logins[i].response); err != nil {
			b.Fatal(err)
		}
		answer = append(answer, time.Since(t0))

		t0 = time.Now()
		if err := h.store.Update(ctx, func(tx sls.Tx) error {
			return sls.Audit(ctx, tx, h.clock.Now(), sls.ActorSystem, sls.EventLoginRefused, "", "", nil)
		}); err != nil {
			b.Fatal(err)
		}
		floor = append(floor, time.Since(t0))
	}
	b.StopTimer()
	ma, mf := median(answer), median(floor)
	b.ReportMetric(float64(ma.Microseconds()), "answer-µs")
	b.ReportMetric(float64(mf.Microseconds()), "durable-commit-µs")
	b.ReportMetric(float64(ma)/float64(mf), "answer/commit")
	b.ReportMetric(0, "ns/op") // two things interleaved; the medians above are the figures
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
