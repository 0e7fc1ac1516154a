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

type clientKey struct{}

// clientInfo is what TrustProxies decided about the caller.
type clientInfo struct {
	ip    string
	https bool
	proxy bool // the peer is a trusted proxy
}

// TrustProxies decides the client address of every request once, at the
// outer edge, and keeps it for ClientIP. The peer is believed first; only
// when the peer is a trusted proxy are the forwarding headers read, right
// to left, and the first address that is not itself a trusted proxy is
// the client (the addresses left of it were written by the client and
// prove nothing). A header that cannot be read stops the walk at the last
// trusted hop, which then counts as the client: garbage never turns into
// an address of the sender's choosing. The scheme the client used (for
// IsHTTPS) is read the same way: from the connection, or from a trusted
// proxy's Forwarded proto= or X-Forwarded-Proto.
func TrustProxies(ps Proxies, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := decideClient(ps, r)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, c)))
	})
}

// ClientIP is the address of the caller: the one TrustProxies decided, or
// the TCP peer when it did not run.
func ClientIP(r *http.Request) string {
	if c, ok := r.Context().Value(clientKey{}).(clientInfo); ok {
		return c.ip
	}
	return peerIP(r)
}

// IsHTTPS reports whether the client reached us over TLS: this server's
// own, or a trusted proxy's that says so. It decides HSTS (RFC 6797 §7.2:
// the header is sent only over secure transport).
func IsHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	c, ok := r.Context().Value(clientKey{}).(clientInfo)
	return ok && c.https
}

// fromTrustedProxy reports whether the request came through a trusted
// proxy (TrustProxies decided).
func fromTrustedProxy(r *http.Request) bool {
	c, ok := r.Context().Value(clientKey{}).(clientInfo)
	return ok && c.proxy
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func decideClient(ps Proxies, r *http.Request) clientInfo {
	peer := peerIP(r)
	https := r.TLS != nil
	cur, err := netip.ParseAddr(peer)
	if len(ps) == 0 || err != nil || !ps.trusts(cur) {
		return clientInfo{ip: peer, https: https}
	}
	hops, protos, ok := forwardedHops(r.Header)
	if !ok {
		return clientInfo{ip: cur.Unmap().String(), https: https, proxy: true}
	}
	at := len(hops) // the hop chosen as the client; len(hops) means the peer
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(hops[i])
		if err != nil {
			break // unreadable hop: keep the last trusted one
		}
		cur, at = a.Unmap(), i
		if !ps.trusts(cur) {
			break
		}
	}
	if !https {
		// The scheme is the one the proxy that received the client's
		// connection wrote: the entry beside the client's hop when the
		// proxies append one each, else the single value they set.
		switch {
		case at < len(protos) && len(protos) == len(hops):
			https = strings.EqualFold(protos[at], "https")
		case len(protos) > 0 && len(protos) != len(hops):
			https = strings.EqualFold(protos[0], "https")
		}
	}
	return clientInfo{ip: cur.String(), https: https, proxy: true}
}

// forwardedHops lists the forwarded-for addresses, oldest first, from
// Forwarded (RFC 7239) when present, else from X-Forwarded-For, with the
// schemes beside them (Forwarded proto=, else X-Forwarded-Proto; "" where
// an element names none). Every instance of a header counts, in order
// (RFC 9110 §5.3). ok is false when neither header is present.
// Unreadable entries are kept as they are so the walk stops on them.
func forwardedHops(h http.Header) (hops, protos []string, ok bool) {
	if fw := h.Values("Forwarded"); len(fw) > 0 {
		for _, line := range fw {
			for _, elem := range strings.Split(line, ",") {
				hop, proto := "", "" // an element without for= is unreadable here
				for _, pair := range strings.Split(elem, ";") {
					k, v, found := strings.Cut(strings.TrimSpace(pair), "=")
					switch {
					case !found:
					case strings.EqualFold(k, "for"):
						hop = forwardedNode(v)
					case strings.EqualFold(k, "proto"):
						proto = strings.Trim(strings.TrimSpace(v), `"`)
					}
				}
				hops = append(hops, hop)
				protos = append(protos, proto)
			}
		}
		return hops, protos, true
	}
	xff := h.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return nil, nil, false
	}
	return commaList(xff), commaList(h.Values("X-Forwarded-Proto")), true
}

// commaList splits the lines of a comma-separated header into trimmed
// entries.
func commaList(lines []string) []string {
	var out []string
	for _, line := range lines {
		for _, v := range strings.Split(line, ",") {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
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

// SetHSTS asks browsers to use only HTTPS for this host from now on (RFC
// 6797), on answers that went over HTTPS (IsHTTPS: this server's TLS or a
// trusted proxy's). A year is OWASP's recommended max-age (HTTP Strict
// Transport Security Cheat Sheet); includeSubDomains is left to the
// brokerage, whose other hosts we do not know. Never on localhost, where
// a self-signed development certificate would otherwise pin HTTPS onto
// every local server.
func SetHSTS(w http.ResponseWriter, r *http.Request) {
	if IsHTTPS(r) && !loopbackHost(r.Host) {
		w.Header().Set("Strict-Transport-Security", "max-age=31536000")
	}
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}
