package delivery

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// cheapArgon keeps the test fast; the rule under test is not the hash.
var cheapArgon = passhash.Params{MemoryKiB: 64, Iterations: 1, Parallelism: 1}

// TestAuthenticateFTP: FTP passwords follow the password login's rules:
// unknown names, wrong passwords, addresses off the list and held-off
// clients are all refused with ErrFTPRefused, and the hold-off starts
// after the burst and is ended by a new password only.
func TestAuthenticateFTP(t *testing.T) {
	st := storetest.MustOpenSQLite(t)
	ctx := context.Background()
	u := storetest.Fixture(t, st, "ftpowner")
	clk := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	on := true
	s, err := New(Deps{Store: st, Clock: clk, Log: slog.New(slog.DiscardHandler),
		FTP: FTPGuard{Argon: cheapArgon, Burst: 3, HoldOff: 15 * time.Minute, MaxFailures: 9}})
	if err != nil {
		t.Fatal(err)
	}
	s.cfg.Enabled, s.cfg.DefaultQuotaBytes, s.cfg.QuotaFiles = &on, 1<<20, 100
	hash, err := passhash.Hash([]byte("right-password"), cheapArgon)
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	err = st.Update(ctx, func(tx sls.Tx) error {
		if err := tx.CreateSFTPClient(ctx, &sls.SFTPClient{Username: "acme", UserID: u.ID, Enabled: true, FTPPasswordHash: hash, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		if err := tx.CreateSFTPClient(ctx, &sls.SFTPClient{Username: "noftp", UserID: u.ID, Enabled: true, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.SetSFTPNetworks(ctx, "acme", []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})
	})
	if err != nil {
		t.Fatal(err)
	}
	in, out := netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("198.51.100.7")
	refused := func(name, user, pw string, addr netip.Addr) {
		t.Helper()
		if a, err := s.AuthenticateFTP(ctx, user, pw, addr); !errors.Is(err, ErrFTPRefused) {
			t.Errorf("%s: %+v, %v; want ErrFTPRefused", name, a, err)
		}
	}
	a, err := s.AuthenticateFTP(ctx, "ACME", "right-password", in)
	if err != nil || a.Username != "acme" || a.QuotaBytes != 1<<20 || a.QuotaEntries != 100 || a.PlainAllowed {
		t.Fatalf("right password: %+v, %v", a, err)
	}
	refused("unknown user", "nobody", "right-password", in)
	refused("client without FTP", "noftp", "", in)
	refused("address off the list", "acme", "right-password", out)
	refused("empty password", "acme", "", in)
	refused("wrong password 2", "acme", "wrong", in)
	refused("wrong password 3", "acme", "wrong", in) // the third in a row: held off
	refused("right password while held off", "acme", "right-password", in)
	var c *sls.SFTPClient
	_ = st.View(ctx, func(tx sls.Tx) error { c, err = tx.SFTPClient(ctx, "acme"); return err })
	if c.FTPFailures != 3 || !c.FTPHeldUntil.Equal(now.Add(15*time.Minute)) {
		t.Fatalf("after three failures: %d failures, held until %v", c.FTPFailures, c.FTPHeldUntil)
	}
	clk.Advance(16 * time.Minute)
	if _, err := s.AuthenticateFTP(ctx, "acme", "right-password", in); err != nil {
		t.Fatalf("after the hold-off: %v", err)
	}
	_ = st.View(ctx, func(tx sls.Tx) error { c, err = tx.SFTPClient(ctx, "acme"); return err })
	if c.FTPFailures != 0 {
		t.Errorf("a right password leaves %d failures counted", c.FTPFailures)
	}
	// Plain FTP is in force only with an OpenPGP key.
	_ = st.Update(ctx, func(tx sls.Tx) error {
		c, _ := tx.SFTPClientForUpdate(ctx, "acme")
		c.FTPPlain = true
		return tx.PutSFTPClient(ctx, c)
	})
	if a, _ := s.AuthenticateFTP(ctx, "acme", "right-password", in); a == nil || a.PlainAllowed {
		t.Errorf("plain FTP without a PGP key: %+v", a)
	}
}

// TestAuthenticateFTPRateLimits: right passwords never use up the
// budget; wrong ones do, and then even the right one is refused.
func TestAuthenticateFTPRateLimits(t *testing.T) {
	st := storetest.MustOpenSQLite(t)
	ctx := context.Background()
	u := storetest.Fixture(t, st, "ftplimits")
	clk := clock.NewFake(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	lim, err := ratelimit.New(st, clk, map[string]ratelimit.Rule{
		ratelimit.PasswordAddress: {Rate: 20, Per: time.Minute, Burst: 10},
		ratelimit.PasswordAccount: {Rate: 5, Per: time.Minute, Burst: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Deps{Store: st, Clock: clk, FTP: FTPGuard{Limiter: lim, Argon: cheapArgon, Burst: 100, HoldOff: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := passhash.Hash([]byte("pw"), cheapArgon)
	now := clk.Now()
	_ = st.Update(ctx, func(tx sls.Tx) error {
		if err := tx.CreateSFTPClient(ctx, &sls.SFTPClient{Username: "lim", UserID: u.ID, Enabled: true, FTPPasswordHash: hash, CreatedAt: now, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.SetSFTPNetworks(ctx, "lim", []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")})
	})
	addr := netip.MustParseAddr("192.0.2.1")
	for i := range 30 {
		if _, err := s.AuthenticateFTP(ctx, "lim", "pw", addr); err != nil {
			t.Fatalf("right password %d: %v", i, err)
		}
	}
	for range 3 {
		if _, err := s.AuthenticateFTP(ctx, "lim", "guess", addr); !errors.Is(err, ErrFTPRefused) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, err := s.AuthenticateFTP(ctx, "lim", "pw", addr); err == nil || !strings.Contains(err.Error(), "rate limited") {
		t.Errorf("after the burst of wrong passwords: %v, want rate limited", err)
	}
}
