package httpapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Proxies is the set of reverse proxies whose forwarding headers
// (X-Forwarded-For, and RFC 7239 Forwarded) are believed. Empty, the
// default, believes no header: the client address is the TCP peer.
type Proxies []netip.Prefix

// ParseProxies reads a list of CIDRs ("10.0.0.0/8") or single addresses.
func ParseProxies(list []string) (Proxies, error) {
	var ps Proxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q is not an address or CIDR", s)
			}
			ps = append(ps, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is not an address or CIDR", s)
		}
		ps = append(ps, p.Masked())
	}
	return ps, nil
}

func (ps Proxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

type clientIPKey struct{}

// TrustProxies decides the client address of every request once, at the
// outer edge, and keeps it for ClientIP. The peer is believed first; only
// when the peer is a trusted proxy are the forwarding headers read, right
// to left, and the first address that is not itself a trusted proxy is
// the client (the addresses left of it were written by the client and
// prove nothing). A header that cannot be read stops the walk at the last
// trusted hop, which then counts as the client: garbage never turns into
// an address of the sender's choosing.
func TrustProxies(ps Proxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip := clientAddr(ps, r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientIPKey{}, ip)))
	})
}

// ClientIP is the address of the caller: the one TrustProxies decided, or
// the TCP peer when it did not run.
func ClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPKey{}).(string); ok {
		return ip
	}
	return peerIP(r)
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func clientAddr(ps Proxies, r *http.Request) string {
	peer := peerIP(r)
	cur, err := netip.ParseAddr(peer)
	if len(ps) == 0 || err != nil || !ps.trusts(cur) {
		return peer
	}
	hops, ok := forwardedHops(r.Header)
	if !ok {
		return cur.Unmap().String()
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // unreadable hop: keep the last trusted one
		}
		cur = a.Unmap()
		if !ps.trusts(cur) {
			break
		}
	}
	return cur.String()
}

// forwardedHops lists the forwarded-for addresses, oldest first, from
// Forwarded (RFC 7239) when present, else from X-Forwarded-For. Every
// instance of the header counts, in order (RFC 9110 §5.3). ok is false
// when neither header is present. Unreadable entries are kept as they
// are so the walk stops on them.
func forwardedHops(h http.Header) (hops []string, ok bool) {
	if fw := h.Values("Forwarded"); len(fw) > 0 {
		for _, line := range fw {
			for _, elem := range strings.Split(line, ",") {
				hop := "" // an element without for= is unreadable here
				for _, pair := range strings.Split(elem, ";") {
					k, v, found := strings.Cut(strings.TrimSpace(pair), "=")
					if found && strings.EqualFold(k, "for") {
						hop = forwardedNode(v)
					}
				}
				hops = append(hops, hop)
			}
		}
		return hops, true
	}
	xff := h.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return nil, false
	}
	for _, line := range xff {
		for _, v := range strings.Split(line, ",") {
			hops = append(hops, strings.TrimSpace(v))
		}
	}
	return hops, true
}

// forwardedNode reads an RFC 7239 §6 node: an address, optionally quoted,
// IPv6 in brackets, optionally with a port. Obfuscated identifiers and
// "unknown" give "" (unreadable).
func forwardedNode(v string) string {
	v = strings.Trim(strings.TrimSpace(v), `"`)
	if strings.HasPrefix(v, "[") {
		end := strings.IndexByte(v, ']')
		if end < 0 {
			return ""
		}
		return v[1:end]
	}
	if host, _, err := net.SplitHostPort(v); err == nil {
		return host
	}
	return v
}
