package policy

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/secure-login-system/sls"
)

func TestParseIPRestrictions(t *testing.T) {
	got, err := ParseIPRestrictions([]string{
		"203.0.113.7",
		" 198.51.100.0/24 ",
		"2001:db8::1",
		"2001:DB8:1::/48",
		"::ffff:192.0.2.9",
		"::ffff:192.0.2.0/120",
		"203.0.113.7/32", // duplicate of the first
		"10.0.0.0/8",
		"2001:db8::/32",
		"127.0.0.1",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"203.0.113.7/32", "198.51.100.0/24", "2001:db8::1/128", "2001:db8:1::/48",
		"192.0.2.9/32", "192.0.2.0/24", "10.0.0.0/8", "2001:db8::/32", "127.0.0.1/32"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].String() != want[i] {
			t.Errorf("entry %d = %s, want %s", i, got[i], want[i])
		}
	}
	if p, err := ParseIPRestrictions(nil); err != nil || len(p) != 0 {
		t.Errorf("empty list: %v, %v", p, err)
	}

	for _, tc := range []struct {
		in   string
		want string
	}{
		{"", "empty entry"},
		{"   ", "empty entry"},
		{"example.com", "not an IP address"},
		{"203.0.113", "not an IP address"},
		{"203.0.113.256", "not an IP address"},
		{"203.0.113.0/33", "not an IP address"},
		{"203.0.113.0/", "not an IP address"},
		{"203.0.113.0/24/8", "not an IP address"},
		{"203.0.113.7-203.0.113.9", "not an IP address"},
		{"0203.0.113.7", "not an IP address"},
		{"fe80::1%eth0", "zone"},
		{"fe80::%eth0/64", "zone"},
		{"10.1.2.3/8", "host bits are set; write 10.0.0.0/8 for the network or 10.1.2.3 for the single address"},
		{"::ffff:10.1.2.3/104", "write 10.0.0.0/8"},
		{"0.0.0.0/0", "too wide"},
		{"128.0.0.0/1", "too wide"},
		{"10.0.0.0/7", "too wide"},
		{"::/0", "too wide"},
		{"2000::/3", "too wide"},
		{"2001:db8::/31", "too wide"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"ff02::1", "multicast"},
		{strings.Repeat("1", 100), "too long"},
	} {
		_, err := ParseIPRestrictions([]string{"192.0.2.1", tc.in})
		e := wantRefusal(t, err, sls.CodeInvalidArgument, "")
		if !strings.Contains(e.Message, tc.want) || !strings.HasPrefix(e.Message, "IP restriction 2 (") || e.Detail["index"] != 2 {
			t.Errorf("ParseIPRestrictions(%q) = %v, want %q", tc.in, e, tc.want)
		}
	}
}

func TestIPAllowed(t *testing.T) {
	prefixes, err := ParseIPRestrictions([]string{"203.0.113.7", "198.51.100.0/24", "2001:db8:1::/48"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"203.0.113.7", true},
		{"203.0.113.8", false},
		{"198.51.100.0", true},
		{"198.51.100.255", true},
		{"198.51.101.0", false},
		{"::ffff:203.0.113.7", true},  // dual-stack listener view of an IPv4 client
		{"::ffff:198.51.100.9", true}, //
		{"::ffff:203.0.113.8", false}, //
		{"2001:db8:1:ffff::1", true},
		{"2001:db8:2::1", false},
		{"fe80::1%eth0", false},
		{"2001:db8:1::5%eth0", true}, // the zone is ignored
		{"::203.0.113.7", false},     // IPv4-compatible (deprecated), not mapped: a different address
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := IPAllowed(prefixes, a); got != tc.want {
			t.Errorf("IPAllowed(%s) = %v, want %v", tc.addr, got, tc.want)
		}
	}
	if IPAllowed(prefixes, netip.Addr{}) {
		t.Error("invalid address allowed under restrictions")
	}
	if !IPAllowed(nil, netip.MustParseAddr("192.0.2.1")) || !IPAllowed(nil, netip.Addr{}) {
		t.Error("empty list must not restrict")
	}
	// Prefixes built by hand in mapped form still match IPv4 clients.
	mapped := []netip.Prefix{netip.MustParsePrefix("::ffff:192.0.2.0/120")}
	if !IPAllowed(mapped, netip.MustParseAddr("192.0.2.44")) {
		t.Error("mapped prefix does not match plain IPv4")
	}
	// A zero Prefix in the list matches nothing.
	if IPAllowed([]netip.Prefix{{}}, netip.MustParseAddr("192.0.2.44")) {
		t.Error("zero prefix matched")
	}
}

// FuzzParseIPRestrictions: never panics; what it accepts is normalised
// (masked, no mapped IPv4, not too wide, no duplicates), reparses to
// itself, and IPAllowed admits each network's own address.
func FuzzParseIPRestrictions(f *testing.F) {
	for _, s := range []string{
		"203.0.113.7", "198.51.100.0/24", "2001:db8::1", "::ffff:192.0.2.9\n::ffff:192.0.2.0/120",
		"fe80::1%eth0", "10.1.2.3/8", "0.0.0.0/0", "", "a\nb", "1.2.3.4\n1.2.3.4/32", "::", "224.0.0.1",
		"2001:db8::/31", " 127.0.0.1 ", "1.2.3.4/024",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries := strings.Split(s, "\n")
		got, err := ParseIPRestrictions(entries)
		if err != nil {
			if got != nil {
				t.Fatal("prefixes with an error")
			}
			if sls.ErrorCode(err) != sls.CodeInvalidArgument {
				t.Fatalf("error code %s", sls.ErrorCode(err))
			}
			return
		}
		seen := map[netip.Prefix]bool{}
		texts := make([]string, len(got))
		for i, p := range got {
			a := p.Addr()
			if !p.IsValid() || p.Masked() != p || a.Is4In6() || a.Zone() != "" || seen[p] ||
				(a.Is4() && p.Bits() < MinPrefixBitsIPv4) || (a.Is6() && p.Bits() < MinPrefixBitsIPv6) {
				t.Fatalf("accepted %q as %v", s, p)
			}
			seen[p] = true
			if !IPAllowed(got, a) {
				t.Fatalf("%v does not admit its own address", p)
			}
			texts[i] = p.String()
		}
		again, err := ParseIPRestrictions(texts)
		if err != nil || len(again) != len(got) {
			t.Fatalf("reparse %v: %v, %v", texts, again, err)
		}
		for i := range got {
			if again[i] != got[i] {
				t.Fatalf("reparse %d: %v != %v", i, again[i], got[i])
			}
		}
	})
}
