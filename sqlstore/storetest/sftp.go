package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("SFTPClients", testSFTPClients)
	Register("SFTPKeys", testSFTPKeys)
	Register("SFTPNetworks", testSFTPNetworks)
}

func testSFTPClients(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "sftpowner")
	c := &sls.SFTPClient{Username: "acme-reports", UserID: u.ID, Enabled: true, CreatedAt: t0, UpdatedAt: t0}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateSFTPClient(ctx, c) })
	err := s.Update(context.Background(), func(tx sls.Tx) error {
		dup := *c
		return tx.CreateSFTPClient(context.Background(), &dup)
	})
	if !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("duplicate client: %v, want conflict", err)
	}
	err = s.Update(context.Background(), func(tx sls.Tx) error {
		return tx.CreateSFTPClient(context.Background(), &sls.SFTPClient{Username: "orphan", UserID: "usr_nobody", CreatedAt: t0, UpdatedAt: t0})
	})
	if err == nil || errors.Is(err, sls.ErrConflict) {
		t.Fatalf("client of an unknown user: %v, want a foreign-key error", err)
	}
	second := &sls.SFTPClient{Username: "acme-backup", UserID: u.ID, QuotaBytes: 5 << 20, CreatedAt: t0, UpdatedAt: t0}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateSFTPClient(ctx, second) })

	c.Enabled, c.PGPKey, c.PGPFingerprint, c.QuotaBytes, c.UpdatedAt = false, "-----BEGIN PGP PUBLIC KEY BLOCK-----\n…", "ABCD", 3<<30, t0.Add(time.Hour)
	// FTP access: the hash, the plain-FTP switch and the hold-off survive.
	c.FTPPasswordHash, c.FTPPlain, c.FTPFailures, c.FTPHeldUntil = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5", true, 4, t0.Add(2*time.Hour)
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.SFTPClientForUpdate(ctx, c.Username)
		if err != nil {
			return err
		}
		if !got.Enabled {
			return errors.New("enabled flag not stored")
		}
		return tx.PutSFTPClient(ctx, c)
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.SFTPClient(ctx, c.Username)
		if err != nil {
			return err
		}
		if *got != *c {
			return fmt.Errorf("got %+v, want %+v", got, c)
		}
		if _, err := tx.SFTPClient(ctx, "nobody"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("missing client: %v", err)
		}
		all, err := tx.SFTPClients(ctx)
		if err != nil {
			return err
		}
		if len(all) != 2 || all[0].Username != "acme-backup" || all[1].Username != "acme-reports" || *all[0] != *second {
			return fmt.Errorf("list: %+v", all)
		}
		mine, err := tx.SFTPClientsByUser(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(mine) != 2 {
			return fmt.Errorf("by user: %+v", mine)
		}
		none, err := tx.SFTPClientsByUser(ctx, "usr_other")
		if err != nil || len(none) != 0 {
			return fmt.Errorf("by other user: %+v %v", none, err)
		}
		return nil
	})
	err = s.Update(context.Background(), func(tx sls.Tx) error {
		return tx.PutSFTPClient(context.Background(), &sls.SFTPClient{Username: "nobody", UpdatedAt: t0})
	})
	if !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("put missing client: %v", err)
	}
}

func sftpKey(id, user, fp string, at time.Time) *sls.SFTPKey {
	return &sls.SFTPKey{ID: id, Username: user, AuthorizedKey: "ssh-ed25519 AAAA" + id + " c", Fingerprint: fp,
		Type: "ssh-ed25519", Bits: 256, Format: "openssh", Comment: "c", AddedAt: at}
}

func testSFTPKeys(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "keyowner")
	for _, name := range []string{"one", "two"} {
		update(t, s, func(ctx context.Context, tx sls.Tx) error {
			return tx.CreateSFTPClient(ctx, &sls.SFTPClient{Username: name, UserID: u.ID, Enabled: true, CreatedAt: t0, UpdatedAt: t0})
		})
	}
	k1 := sftpKey("sk_1", "one", "SHA256:aaa", t0)
	k2 := sftpKey("sk_2", "one", "SHA256:bbb", t0.Add(time.Minute))
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.AddSFTPKey(ctx, k1); err != nil {
			return err
		}
		if err := tx.AddSFTPKey(ctx, k2); err != nil {
			return err
		}
		// The same key on another client is another registration.
		return tx.AddSFTPKey(ctx, sftpKey("sk_3", "two", "SHA256:aaa", t0))
	})
	// A duplicate is a conflict that leaves the transaction usable (on
	// PostgreSQL a failed statement would abort it).
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.AddSFTPKey(ctx, sftpKey("sk_dup", "one", "SHA256:aaa", t0)); !errors.Is(err, sls.ErrConflict) {
			return fmt.Errorf("duplicate key: %v, want conflict", err)
		}
		_, err := tx.SFTPKeys(ctx, "one", false)
		return err
	})
	at := t0.Add(time.Hour)
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.RevokeSFTPKey(ctx, "one", "sk_1", at) })
	for _, c := range []struct{ user, id string }{{"one", "sk_1"}, {"two", "sk_2"}, {"one", "sk_none"}} {
		err := s.Update(context.Background(), func(tx sls.Tx) error { return tx.RevokeSFTPKey(context.Background(), c.user, c.id, at) })
		if !errors.Is(err, sls.ErrNotFound) {
			t.Errorf("revoke %s/%s: %v, want not found", c.user, c.id, err)
		}
	}
	// Once revoked, the same key may be registered again.
	k4 := sftpKey("sk_4", "one", "SHA256:aaa", t0.Add(2*time.Hour))
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.AddSFTPKey(ctx, k4) })
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		active, err := tx.SFTPKeys(ctx, "one", false)
		if err != nil {
			return err
		}
		if len(active) != 2 || *active[0] != *k2 || *active[1] != *k4 {
			return fmt.Errorf("active keys: %+v", active)
		}
		all, err := tx.SFTPKeys(ctx, "one", true)
		if err != nil {
			return err
		}
		k1.RevokedAt = at
		if len(all) != 3 || *all[0] != *k1 {
			return fmt.Errorf("all keys: %+v", all)
		}
		other, err := tx.SFTPKeys(ctx, "two", false)
		if err != nil || len(other) != 1 {
			return fmt.Errorf("client two: %+v %v", other, err)
		}
		return nil
	})
}

func testSFTPNetworks(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "netowner")
	for _, name := range []string{"v4", "v6", "off"} {
		update(t, s, func(ctx context.Context, tx sls.Tx) error {
			return tx.CreateSFTPClient(ctx, &sls.SFTPClient{Username: name, UserID: u.ID, Enabled: name != "off", CreatedAt: t0, UpdatedAt: t0})
		})
	}
	pfx := func(ss ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, s := range ss {
			out = append(out, netip.MustParsePrefix(s))
		}
		return out
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.SetSFTPNetworks(ctx, "v4", pfx("10.9.9.9/32", "198.51.100.0/24")); err != nil {
			return err
		}
		if err := tx.SetSFTPNetworks(ctx, "v4", pfx("203.0.113.7/32", "198.51.100.0/24", "203.0.113.7/32")); err != nil {
			return err // replaces; the duplicate is stored once
		}
		if err := tx.SetSFTPNetworks(ctx, "v6", pfx("2001:db8:1::/48", "192.0.2.1/32")); err != nil {
			return err
		}
		return tx.SetSFTPNetworks(ctx, "off", pfx("192.0.2.128/25"))
	})
	for _, bad := range pfx("198.51.100.7/24", "::ffff:192.0.2.1/128") {
		err := s.Update(context.Background(), func(tx sls.Tx) error {
			return tx.SetSFTPNetworks(context.Background(), "v4", []netip.Prefix{bad})
		})
		if err == nil {
			t.Errorf("SetSFTPNetworks(%s) succeeded; want an error", bad)
		}
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.SFTPNetworks(ctx, "v4")
		if err != nil {
			return err
		}
		if want := pfx("198.51.100.0/24", "203.0.113.7/32"); !slices.Equal(got, want) {
			return fmt.Errorf("v4 networks %v, want %v", got, want)
		}
		got, err = tx.SFTPNetworks(ctx, "v6")
		if err != nil {
			return err
		}
		if want := pfx("192.0.2.1/32", "2001:db8:1::/48"); !slices.Equal(got, want) {
			return fmt.Errorf("v6 networks %v, want %v", got, want)
		}
		return nil
	})
	cases := []struct {
		addr string
		want bool
	}{
		{"203.0.113.7", true},
		{"203.0.113.6", false},
		{"203.0.113.8", false},
		{"10.9.9.9", false}, // replaced
		{"198.51.100.0", true},
		{"198.51.100.255", true},
		{"198.51.101.0", false},
		{"198.51.99.255", false},
		{"::ffff:203.0.113.7", true}, // a dual-stack listener's view of an IPv4 peer
		{"192.0.2.1", true},
		{"192.0.2.200", false}, // only on the disabled client's list
		{"2001:db8:1::", true},
		{"2001:db8:1:ffff:ffff:ffff:ffff:ffff", true},
		{"2001:db8:2::1", false},
		{"2001:db8:0:ffff::1", false},
		{"::cb00:7107", false}, // 203.0.113.7's bits as IPv6: another family
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		for _, c := range cases {
			got, err := tx.SFTPAddrAllowed(ctx, netip.MustParseAddr(c.addr))
			if err != nil {
				return err
			}
			if got != c.want {
				t.Errorf("SFTPAddrAllowed(%s) = %v, want %v", c.addr, got, c.want)
			}
		}
		if ok, err := tx.SFTPAddrAllowed(ctx, netip.Addr{}); ok || err != nil {
			t.Errorf("SFTPAddrAllowed(invalid) = %v, %v", ok, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.SetSFTPNetworks(ctx, "v4", nil) })
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		if ok, err := tx.SFTPAddrAllowed(ctx, netip.MustParseAddr("203.0.113.7")); ok || err != nil {
			return fmt.Errorf("emptied list still admits: %v %v", ok, err)
		}
		return nil
	})
}
