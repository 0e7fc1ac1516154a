package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/audit"
	"github.com/secure-login-system/sls/sftpd"
	"github.com/secure-login-system/sls/sqlstore/storetest"
	"github.com/secure-login-system/sls/sshkey"
)

func TestParseAllow(t *testing.T) {
	cases := []struct {
		in      []string
		want    []string // prefixes; nil with errPart set
		errPart string
	}{
		{in: []string{"203.0.113.7"}, want: []string{"203.0.113.7/32"}},
		{in: []string{" 2001:db8::1 "}, want: []string{"2001:db8::1/128"}},
		{in: []string{"::ffff:203.0.113.7"}, want: []string{"203.0.113.7/32"}},
		{in: []string{"::ffff:203.0.113.0/120"}, want: []string{"203.0.113.0/24"}},
		{in: []string{"198.51.100.0/24", "2001:db8::/48", "198.51.100.0/24"}, want: []string{"198.51.100.0/24", "2001:db8::/48"}},
		{in: []string{"10.1.0.0/16"}, want: []string{"10.1.0.0/16"}},
		{in: []string{"2001:db8::/32"}, want: []string{"2001:db8::/32"}},
		{in: []string{}, want: []string{}},
		{in: []string{"10.0.0.0/15"}, errPart: "too wide"},
		{in: []string{"0.0.0.0/0"}, errPart: "too wide"},
		{in: []string{"::/0"}, errPart: "too wide"},
		{in: []string{"2001:db8::/31"}, errPart: "too wide"},
		{in: []string{"203.0.113.7/24"}, errPart: "write 203.0.113.0/24 for the network, or 203.0.113.7/32"},
		{in: []string{"fe80::1%eth0"}, errPart: "not an IP address"},
		{in: []string{"example.com"}, errPart: "not an IP address"},
		{in: []string{"203.0.113.7/33"}, errPart: "not an IP address"},
		{in: []string{"::ffff:0:0/90"}, errPart: "mixes IPv4 and IPv6"},
		{in: []string{""}, errPart: "not an IP address"},
	}
	for _, c := range cases {
		got, err := parseAllow(c.in)
		if c.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), c.errPart) || sls.ErrorCode(err) != sls.CodeInvalidArgument {
				t.Errorf("parseAllow(%q) = %v, %v; want an invalid_argument error with %q", c.in, got, err, c.errPart)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseAllow(%q): %v", c.in, err)
			continue
		}
		var gs []string
		for _, p := range got {
			gs = append(gs, p.String())
		}
		if !slices.Equal(gs, c.want) && !(len(gs) == 0 && len(c.want) == 0) {
			t.Errorf("parseAllow(%q) = %v, want %v", c.in, gs, c.want)
		}
	}
	many := make([]string, maxAllowEntries+1)
	for i := range many {
		many[i] = netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}).String()
	}
	if _, err := parseAllow(many); err == nil {
		t.Error("more than maxAllowEntries accepted")
	}
}

func TestParseKeys(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "sshkey", "testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	keys, err := parseKeys([]string{read("rsa2048.pub"), read("ed25519.rfc4716"), read("ecdsa256.pkix.pem")})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.warning != "" {
			t.Errorf("%s: unexpected warning %q", k.key.Format, k.warning)
		}
	}
	// The same key in two formats is one key.
	_, err = parseKeys([]string{read("rsa2048.pub"), read("rsa2048.rfc4716")})
	if err == nil || !strings.Contains(err.Error(), "Keys 1 and 2 are the same key") {
		t.Errorf("same key twice: %v", err)
	}
	// A .ppk gives its public part and a warning.
	keys, err = parseKeys([]string{read("rsa2048-v2-aes.ppk")})
	if err != nil {
		t.Fatal(err)
	}
	if keys[0].key.Format != sshkey.FormatPPK || !strings.Contains(keys[0].warning, "private key") {
		t.Errorf(".ppk: %+v", keys[0])
	}
	// Refusals carry sshkey's message, the key's position and a reason.
	for _, c := range []struct{ file, reason, part string }{
		{"rsa1024.pub", "weak", "at least 2048"},
		{"dsa.pub", "unsupported", ""},
	} {
		_, err := parseKeys([]string{read("ed25519.pub"), read(c.file)})
		var e *sls.Error
		if !errors.As(err, &e) || e.Code != sls.CodeInvalidArgument || e.Detail["key"] != 2 || e.Detail["reason"] != c.reason ||
			!strings.HasPrefix(e.Message, "Key 2 was refused: ") || !strings.Contains(e.Message, c.part) || strings.Contains(e.Message, "sshkey:") {
			t.Errorf("%s: %#v", c.file, err)
		}
	}
}

func TestRefusalLimiter(t *testing.T) {
	l := &refusalLimiter{window: time.Minute, last: map[netip.Addr]*refusal{}}
	a, b := netip.MustParseAddr("198.51.100.1"), netip.MustParseAddr("2001:db8::1")
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		addr   netip.Addr
		at     time.Duration
		audit  bool
		folded int
	}{
		{a, 0, true, 0},
		{a, time.Second, false, 0},
		{b, 2 * time.Second, true, 0}, // another address is audited on its own
		{a, 30 * time.Second, false, 0},
		{a, 61 * time.Second, true, 2}, // the two refusals in between are counted
		{a, 62 * time.Second, false, 0},
		{a, 59 * time.Second, true, 1}, // clock moved back: audit rather than hide
	}
	for i, s := range steps {
		audit, folded := l.admit(s.addr, t0.Add(s.at))
		if audit != s.audit || folded != s.folded {
			t.Errorf("step %d: admit = %v, %d; want %v, %d", i, audit, folded, s.audit, s.folded)
		}
	}
	// A flood from many addresses does not grow the map without bound.
	for i := range maxRefusalAddrs + 10 {
		l.admit(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), t0.Add(90*time.Second))
	}
	if len(l.last) > maxRefusalAddrs {
		t.Errorf("limiter holds %d addresses", len(l.last))
	}
}

// TestStoreDirectory: what the SSH server sees of the clients is what the
// store holds, on both engines.
func TestStoreDirectory(t *testing.T) {
	for _, eng := range []struct {
		name string
		open func(testing.TB) sls.Store
	}{
		{"sqlite", func(tb testing.TB) sls.Store { return storetest.MustOpenSQLite(tb) }},
		{"postgres", func(tb testing.TB) sls.Store { return storetest.MustOpenPostgres(tb) }},
	} {
		t.Run(eng.name, func(t *testing.T) {
			st := eng.open(t)
			ctx := context.Background()
			u := storetest.Fixture(t, st, "dirowner")
			b, err := os.ReadFile(filepath.Join("..", "sshkey", "testdata", "ed25519.pub"))
			if err != nil {
				t.Fatal(err)
			}
			k, err := sshkey.ParsePublicKey(b)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			err = st.Update(ctx, func(tx sls.Tx) error {
				for _, name := range []string{"on", "off"} {
					if err := tx.CreateSFTPClient(ctx, &sls.SFTPClient{Username: name, UserID: u.ID, Enabled: name == "on", CreatedAt: now, UpdatedAt: now}); err != nil {
						return err
					}
					if err := tx.AddSFTPKey(ctx, newKeyRow(name, k, now)); err != nil {
						return err
					}
				}
				if err := tx.SetSFTPNetworks(ctx, "on", []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}); err != nil {
					return err
				}
				return tx.SetSFTPNetworks(ctx, "off", []netip.Prefix{netip.MustParsePrefix("198.51.100.9/32")})
			})
			if err != nil {
				t.Fatal(err)
			}
			d := &storeDirectory{store: st, defaultQuota: 12345}
			c, err := d.Client(ctx, "on")
			if err != nil {
				t.Fatal(err)
			}
			if c.QuotaBytes != 12345 {
				t.Errorf("client without a quota of its own: quota %d, want the default", c.QuotaBytes)
			}
			err = st.Update(ctx, func(tx sls.Tx) error {
				on, err := tx.SFTPClientForUpdate(ctx, "on")
				if err != nil {
					return err
				}
				on.QuotaBytes = 777
				return tx.PutSFTPClient(ctx, on)
			})
			if err != nil {
				t.Fatal(err)
			}
			if c, err = d.Client(ctx, "on"); err != nil || c.QuotaBytes != 777 {
				t.Fatalf("client with its own quota: %+v, %v", c, err)
			}
			if len(c.Keys) != 1 || string(c.Keys[0].Marshal()) != string(k.PublicKey.Marshal()) ||
				len(c.Allowed) != 1 || c.Allowed[0].String() != "192.0.2.0/24" {
				t.Errorf("client: %+v", c)
			}
			for _, name := range []string{"off", "nobody", "ON"} {
				if _, err := d.Client(ctx, name); !errors.Is(err, sftpd.ErrUnknownClient) {
					t.Errorf("Client(%q): %v, want ErrUnknownClient", name, err)
				}
			}
			for addr, want := range map[string]bool{"192.0.2.77": true, "198.51.100.9": false, "203.0.113.1": false} {
				if got, err := d.AddrAllowed(ctx, netip.MustParseAddr(addr)); err != nil || got != want {
					t.Errorf("AddrAllowed(%s) = %v, %v; want %v", addr, got, err, want)
				}
			}
		})
	}
}

// FuzzParseAllow: any operator input either is refused with an
// invalid_argument error or yields prefixes the store accepts.
func FuzzParseAllow(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "2001:db8::/48", "::ffff:1.2.3.4/120", "10.0.0.0/8", "1.2.3.4/24", "fe80::1%eth0", "", "/", "1.2.3.4/", "::/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseAllow([]string{s})
		if err != nil {
			if sls.ErrorCode(err) != sls.CodeInvalidArgument {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		for _, p := range got {
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Fatalf("%q gave %v", s, p)
			}
			if min := map[bool]int{true: minIPv4Bits, false: minIPv6Bits}[p.Addr().Is4()]; p.Bits() < min {
				t.Fatalf("%q gave the wide %v", s, p)
			}
		}
	})
}

// TestStoreAuditor: every event queued before stop is in the trail, in
// order, with the client's user; refusals of one address are folded.
func TestStoreAuditor(t *testing.T) {
	st := storetest.MustOpenSQLite(t)
	ctx := context.Background()
	u := storetest.Fixture(t, st, "audited")
	now := time.Now()
	err := st.Update(ctx, func(tx sls.Tx) error {
		return tx.CreateSFTPClient(ctx, &sls.SFTPClient{Username: "audited-c", UserID: u.ID, Enabled: true, CreatedAt: now, UpdatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Deps{Store: st, Clock: sls.SystemClock{}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	a := s.NewAuditor()
	go a.Run()
	const n = 1000
	for i := range n {
		a.Audit(ctx, sftpd.EventDownload, map[string]string{"user": "audited-c", "file": fmt.Sprintf("/f%d", i)})
	}
	for range 5 {
		a.Audit(ctx, sftpd.EventAddrRefused, map[string]string{"addr": "203.0.113.9", "reason": "not on allow-list"})
	}
	a.Audit(ctx, sftpd.EventAuthFailed, map[string]string{"user": "stranger", "reason": "unknown user"})
	a.Stop()
	var entries []audit.Entry
	_, _ = st.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
	err = st.View(ctx, func(tx sls.Tx) error {
		var err error
		entries, err = tx.AuditEntries(ctx, 0, 10000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n+2 {
		t.Fatalf("%d entries, want %d", len(entries), n+2)
	}
	for i, e := range entries[:n] {
		if e.Event != sftpd.EventDownload || e.UserID != u.ID || e.Actor != sls.ActorSystem || !strings.Contains(e.Detail, fmt.Sprintf(`"/f%d"`, i)) {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
	if e := entries[n]; e.Event != sftpd.EventAddrRefused || e.UserID != "" {
		t.Errorf("refusal entry: %+v", e)
	}
	if e := entries[n+1]; e.Event != sftpd.EventAuthFailed || e.UserID != "" {
		t.Errorf("unknown user's entry: %+v", e)
	}
}
