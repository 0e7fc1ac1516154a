package policy

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/secure-login-system/sls"
)

// Shortest networks accepted as IP restrictions. A wider network restricts
// almost nothing, yet having restrictions lifts the penny-stock ban on
// opted-out accounts (SPEC §5), so "0.0.0.0/0" must not count as one. An
// IPv4 /8 is about the largest single allocation; an IPv6 /32 is a whole
// ISP (sites get /48).
const (
	MinPrefixBitsIPv4 = 8
	MinPrefixBitsIPv6 = 32
)

// MaxIPRestrictionLen bounds one entry; the longest valid text (an IPv6
// address with an embedded IPv4 and a /128) is 49 characters.
const MaxIPRestrictionLen = 64

// ParseIPRestrictions parses the addresses a user allows trading-platform
// logins from (SPEC §5): single IPv4 or IPv6 addresses ("203.0.113.7",
// "2001:db8::1") and networks in CIDR form ("203.0.113.0/24"). Entries are
// trimmed and normalised: a single address becomes a /32 or /128 prefix,
// IPv4-mapped IPv6 ("::ffff:203.0.113.7", "::ffff:203.0.113.0/120") becomes
// plain IPv4, exact duplicates are kept once, and the order is kept.
//
// Refused, each with an invalid_argument *sls.Error naming the entry (Detail
// "index", 1-based, and "entry"): empty or overlong entries, anything that
// is not an address or CIDR, zoned addresses ("fe80::1%eth0": a zone is
// local to one host), networks with host bits set ("10.1.2.3/8" — the user
// may have meant a single address, so neither reading is guessed), networks
// wider than MinPrefixBitsIPv4 / MinPrefixBitsIPv6, and the unspecified or
// multicast addresses (never the source of a login).
func ParseIPRestrictions(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	seen := make(map[netip.Prefix]bool, len(entries))
	for i, raw := range entries {
		p, err := parseIPRestriction(raw)
		if err != nil {
			return nil, sls.Errorf(sls.CodeInvalidArgument, "IP restriction %d (%q): %s", i+1, clip(raw), err.Error()).
				WithDetail("index", i+1).WithDetail("entry", clip(raw))
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// clip keeps error messages short when the input is huge.
func clip(s string) string {
	if len(s) > MaxIPRestrictionLen {
		return s[:MaxIPRestrictionLen] + "…"
	}
	return s
}

type restrictionError string

func (e restrictionError) Error() string { return string(e) }

func parseIPRestriction(raw string) (netip.Prefix, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return netip.Prefix{}, restrictionError("empty entry")
	case len(s) > MaxIPRestrictionLen:
		return netip.Prefix{}, restrictionError("too long to be an address")
	case strings.Contains(s, "%"):
		return netip.Prefix{}, restrictionError("addresses with a zone (%…) are not accepted")
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, restrictionError("not an IP address or CIDR network")
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, restrictionError(fmt.Sprintf("host bits are set; write %s for the network or %s for the single address",
				normPrefix(m), p.Addr().Unmap()))
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, restrictionError("not an IP address or CIDR network")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	p = normPrefix(p)
	a := p.Addr()
	switch {
	case a.IsUnspecified() && p.Bits() == a.BitLen():
		return netip.Prefix{}, restrictionError("the unspecified address cannot be the source of a login")
	case a.IsMulticast():
		return netip.Prefix{}, restrictionError("a multicast address cannot be the source of a login")
	case a.Is4() && p.Bits() < MinPrefixBitsIPv4:
		return netip.Prefix{}, restrictionError(fmt.Sprintf("the network is too wide (at most /%d for IPv4)", MinPrefixBitsIPv4))
	case a.Is6() && p.Bits() < MinPrefixBitsIPv6:
		return netip.Prefix{}, restrictionError(fmt.Sprintf("the network is too wide (at most /%d for IPv6)", MinPrefixBitsIPv6))
	}
	return p, nil
}

// normPrefix turns an IPv4-mapped IPv6 prefix of /96 or longer into the
// IPv4 prefix it covers, so that one rule matches a client however its
// address reaches us.
func normPrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p
}

// IPAllowed reports whether a trading-platform login from addr is allowed by
// the user's restrictions. An empty list means no restriction. The address
// is compared without its zone and, when IPv4-mapped IPv6
// ("::ffff:203.0.113.7", as a dual-stack listener reports IPv4 clients), as
// plain IPv4. An invalid address is refused when there are restrictions.
func IPAllowed(prefixes []netip.Prefix, addr netip.Addr) bool {
	if len(prefixes) == 0 {
		return true
	}
	if !addr.IsValid() {
		return false
	}
	addr = addr.WithZone("").Unmap()
	for _, p := range prefixes {
		if p.IsValid() && normPrefix(p).Contains(addr) {
			return true
		}
	}
	return false
}
