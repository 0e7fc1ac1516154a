package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/ratelimit"
)

// TestClientIP: forwarding headers are believed only from trusted
// proxies, right to left, and spoofed or garbage entries never choose the
// address.
func TestClientIP(t *testing.T) {
	trusted, err := httpapi.ParseProxies([]string{"10.0.0.0/8", "2001:db8::1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		proxies httpapi.Proxies
		peer    string
		headers map[string][]string
		want    string
	}{
		{"no proxies: header ignored", nil, "198.51.100.7:4000", map[string][]string{"X-Forwarded-For": {"1.2.3.4"}}, "198.51.100.7"},
		{"untrusted peer spoofs XFF", trusted, "198.51.100.7:4000", map[string][]string{"X-Forwarded-For": {"10.0.0.5, 1.2.3.4"}}, "198.51.100.7"},
		{"untrusted peer spoofs Forwarded", trusted, "198.51.100.7:4000", map[string][]string{"Forwarded": {"for=1.2.3.4"}}, "198.51.100.7"},
		{"trusted proxy, one hop", trusted, "10.0.0.2:4000", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
		{"client prepends a fake hop", trusted, "10.0.0.2:4000", map[string][]string{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9"}}, "203.0.113.9"},
		{"several trusted hops", trusted, "10.0.0.2:4000", map[string][]string{"X-Forwarded-For": {"1.2.3.4, 203.0.113.9, 10.1.1.1, 10.2.2.2"}}, "203.0.113.9"},
		{"header split over lines", trusted, "10.0.0.2:4000", map[string][]string{"X-Forwarded-For": {"1.2.3.4", "203.0.113.9, 10.1.1.1"}}, "203.0.113.9"},
		{"all hops trusted", trusted, "10.0.0.2:4000", map[string][]string{"X-Forwarded-For": {"10.9.9.9, 10.1.1.1"}}, "10.9.9.9"},
		{"garbage right of client", trusted, "10.0.0.2:4000", map[string][]string{"X-Forwarded-For": {"203.0.113.9, <script>"}}, "10.0.0.2"},
		{"garbage only", trusted, "10.0.0.2:4000", map[string][]string{"X-Forwarded-For": {"not an address"}}, "10.0.0.2"},
		{"empty header", trusted, "10.0.0.2:4000", map[string][]string{"X-Forwarded-For": {""}}, "10.0.0.2"},
		{"trusted proxy without header", trusted, "10.0.0.2:4000", nil, "10.0.0.2"},
		{"Forwarded with port and quotes", trusted, "10.0.0.2:4000", map[string][]string{"Forwarded": {`for="[2001:db8:cafe::17]:4711";proto=https, for=10.1.1.1`}}, "2001:db8:cafe::17"},
		{"Forwarded wins over XFF", trusted, "10.0.0.2:4000", map[string][]string{"Forwarded": {"for=192.0.2.60;by=10.0.0.2"}, "X-Forwarded-For": {"1.2.3.4"}}, "192.0.2.60"},
		{"Forwarded obfuscated", trusted, "10.0.0.2:4000", map[string][]string{"Forwarded": {"for=_hidden"}}, "10.0.0.2"},
		{"Forwarded unknown", trusted, "10.0.0.2:4000", map[string][]string{"Forwarded": {"for=unknown"}}, "10.0.0.2"},
		{"IPv6 trusted single address", trusted, "[2001:db8::1]:443", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
		{"IPv4-mapped peer", trusted, "[::ffff:10.0.0.2]:443", map[string][]string{"X-Forwarded-For": {"203.0.113.9"}}, "203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for k, vs := range tc.headers {
				for _, v := range vs {
					r.Header.Add(k, v)
				}
			}
			var got string
			httpapi.TrustProxies(tc.proxies, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = httpapi.ClientIP(r)
			})).ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Fatalf("client %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", ""} {
		if _, err := httpapi.ParseProxies([]string{bad}); err == nil {
			t.Errorf("%q accepted as a trusted proxy", bad)
		}
	}
}

// TestHTTPSBehindProxy: the scheme is believed from a trusted proxy only,
// beside the client's own hop, and decides HSTS; never on localhost.
func TestHTTPSBehindProxy(t *testing.T) {
	trusted, err := httpapi.ParseProxies([]string{"10.0.0.0/8"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		peer    string
		host    string
		headers map[string]string
		https   bool
	}{
		{"plain, no proxy", "198.51.100.7:4000", "sls.example", nil, false},
		{"untrusted peer claims https", "198.51.100.7:4000", "sls.example", map[string]string{"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"}, false},
		{"trusted proxy, X-Forwarded-Proto", "10.0.0.2:4000", "sls.example", map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}, true},
		{"trusted proxy, http", "10.0.0.2:4000", "sls.example", map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http"}, false},
		{"proto beside the client's hop", "10.0.0.2:4000", "sls.example", map[string]string{"X-Forwarded-For": "203.0.113.9, 10.1.1.1", "X-Forwarded-Proto": "https, http"}, true},
		{"Forwarded proto", "10.0.0.2:4000", "sls.example", map[string]string{"Forwarded": "for=203.0.113.9;proto=https"}, true},
		{"Forwarded client prepends https", "10.0.0.2:4000", "sls.example", map[string]string{"Forwarded": "for=1.2.3.4;proto=https, for=203.0.113.9;proto=http"}, false},
		{"https behind proxy on localhost", "10.0.0.2:4000", "localhost:8080", map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr, r.Host = tc.peer, tc.host
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			var https bool
			httpapi.TrustProxies(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				https = httpapi.IsHTTPS(r)
				httpapi.SetHSTS(w, r)
			})).ServeHTTP(w, r)
			if https != tc.https {
				t.Fatalf("IsHTTPS %v, want %v", https, tc.https)
			}
			wantHSTS := tc.https && tc.host != "localhost:8080"
			if got := w.Header().Get("Strict-Transport-Security") != ""; got != wantHSTS {
				t.Fatalf("HSTS sent %v, want %v", got, wantHSTS)
			}
		})
	}
}

// TestRetryAfter: a refusal's wait becomes the Retry-After header.
func TestRetryAfter(t *testing.T) {
	w := httptest.NewRecorder()
	httpapi.WriteError(w, httptest.NewRequest("POST", "/", nil), nil, ratelimit.Refusal(1500*time.Millisecond))
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" {
		t.Fatalf("status %d, Retry-After %q; want 429 and 2", w.Code, w.Header().Get("Retry-After"))
	}
}
