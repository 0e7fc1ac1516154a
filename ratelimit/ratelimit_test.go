package ratelimit_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

func retryAfter(t *testing.T, err error) int {
	t.Helper()
	var e *sls.Error
	if !errors.As(err, &e) || e.Code != sls.CodeRateLimited {
		t.Fatalf("got %v, want a rate_limited error", err)
	}
	s, ok := e.Detail["retry_after_seconds"].(int)
	if !ok {
		t.Fatalf("no retry_after_seconds in %v", e.Detail)
	}
	return s
}

func TestTake(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	l, err := ratelimit.New(storetest.MustOpenSQLite(t), clk, map[string]ratelimit.Rule{
		"r":   {Rate: 5, Per: time.Minute, Burst: 2}, // one every 12s
		"off": {},
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		advance time.Duration
		key     string
		wait    int // 0: allowed
	}{
		{0, "a", 0}, {0, "a", 0}, {0, "a", 12},
		{0, "b", 0}, // keys are separate
		{5 * time.Second, "a", 7},
		{6*time.Second + 500*time.Millisecond, "a", 1}, // 0.5s left rounds up
		{500 * time.Millisecond, "a", 0},
		{0, "a", 12},
		{time.Hour, "a", 0}, {0, "a", 0}, {0, "a", 12}, // a quiet hour refills the burst, no more
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		err := l.Take(ctx, "r", s.key)
		if s.wait == 0 && err != nil {
			t.Fatalf("step %d: refused: %v", i, err)
		}
		if s.wait != 0 {
			if got := retryAfter(t, err); got != s.wait {
				t.Fatalf("step %d: retry after %d, want %d", i, got, s.wait)
			}
		}
	}
	for i := 0; i < 100; i++ {
		if err := l.Take(ctx, "off", "a"); err != nil {
			t.Fatal("a rule with no rate limited")
		}
		if err := l.Take(ctx, "unknown", "a"); err != nil {
			t.Fatal("an unknown rule limited")
		}
	}
	var nilLimiter *ratelimit.Limiter
	if err := nilLimiter.Take(ctx, "r", "a"); err != nil {
		t.Fatal("a nil limiter limited")
	}
	clk.Advance(time.Hour)
	if err := l.Purge(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestRuleValidate(t *testing.T) {
	for _, tc := range []struct {
		r  ratelimit.Rule
		ok bool
	}{
		{ratelimit.Rule{}, true},
		{ratelimit.Rule{Rate: 1, Per: time.Second, Burst: 1}, true},
		{ratelimit.Rule{Rate: 1, Burst: 1}, false},
		{ratelimit.Rule{Rate: 1, Per: time.Second}, false},
		{ratelimit.Rule{Rate: -1}, false},
		{ratelimit.Rule{Rate: 10, Per: time.Nanosecond, Burst: 1}, false},
	} {
		if err := tc.r.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: err %v, want ok=%v", tc.r, err, tc.ok)
		}
	}
	for name, r := range ratelimit.Defaults() {
		if err := r.Validate(); err != nil || r.Rate == 0 {
			t.Errorf("default %s: %v", name, err)
		}
	}
}

// One IPv6 /64 is one client: rotating addresses inside it does not
// escape the per-address limits.
func TestAddressKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"},
		{"not-an-ip", "not-an-ip"},
	} {
		if got := ratelimit.AddressKey(c.in); got != c.want {
			t.Errorf("AddressKey(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if ratelimit.AccountKey("2001:db8::1", "u") != ratelimit.AccountKey("2001:db8::2", "u") {
		t.Error("per-account key differs within one /64")
	}
}

// FuzzAddressKey: any client address string gives a key without
// panicking; addresses in one IPv6 /64 share it, and a key is its own key
// (so a key never moves between buckets).
func FuzzAddressKey(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "2001:db8::1%eth0", "", "garbage", "fe80::1%25zone"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := ratelimit.AddressKey(s)
		if again := ratelimit.AddressKey(k); again != k {
			t.Fatalf("%q has key %q, whose key is %q", s, k, again)
		}
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Unmap().Is6() || a.Zone() != "" {
			return
		}
		b := a.As16()
		b[15] ^= 0xff
		if other := ratelimit.AddressKey(netip.AddrFrom16(b).String()); other != k {
			t.Fatalf("%s and a neighbour in its /64 have keys %q and %q", s, k, other)
		}
	})
}

// TestPeek: a peek answers as Take would and counts nothing.
func TestPeek(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC))
	l, err := ratelimit.New(storetest.MustOpenSQLite(t), clk, map[string]ratelimit.Rule{"r": {Rate: 5, Per: time.Minute, Burst: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		if err := l.Peek(ctx, "r", "a"); err != nil {
			t.Fatalf("peek counted: %v", err)
		}
	}
	for range 2 {
		if err := l.Take(ctx, "r", "a"); err != nil {
			t.Fatal(err)
		}
	}
	if got := retryAfter(t, l.Peek(ctx, "r", "a")); got != 12 {
		t.Errorf("peek over the limit: retry after %d, want 12", got)
	}
}
