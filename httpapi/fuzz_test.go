package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// FuzzDecode: the strict decoder and the route table's well-formedness
// check never panic, agree on what is an object, and what Decode accepts
// is an object (never null, never a list, never two values).
func FuzzDecode(f *testing.F) {
	for _, s := range []string{"", " ", "{}", "{", "null", "[]", `{"name":"a","count":1}`, `{"assessment":"deliberately_damaged"`,
		`{} x`, `{}{}`, `"x"`, "\x00", `{"name":"\u0000"}`, `{"count":1e400}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var v decodeTarget
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		err := Decode(httptest.NewRecorder(), r, &v)
		wfErr := wellFormed([]byte(body))
		if err == nil {
			if wfErr != nil {
				t.Fatalf("Decode accepted %q, wellFormed refused it: %v", body, wfErr)
			}
			var m map[string]any
			if json.Unmarshal([]byte(body), &m) != nil || m == nil {
				t.Fatalf("Decode accepted %q, which is not one JSON object", body)
			}
		}
		r = httptest.NewRequest("POST", "/", strings.NewReader(body))
		_ = DecodeOptional(httptest.NewRecorder(), r, &v)
	})
}

// FuzzDecodeRequired: whatever the body, Decode never accepts one that
// leaves a required field out or null, and never panics on the check.
func FuzzDecodeRequired(f *testing.F) {
	for _, s := range []string{"{}", `{"list":[],"flag":false}`, `{"list":null,"flag":true}`, `{"LIST":[],"FLAG":true}`,
		`{"list":[],"flag":false,"list":null}`, `{"list":[],"LIST":null,"flag":true}`, `{"flag":true}`, `{"list":["a"],"flag":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var v requiredTarget
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		if Decode(httptest.NewRecorder(), r, &v) != nil {
			return
		}
		if v.List == nil {
			t.Fatalf("Decode accepted %q without the required list", body)
		}
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(body), &m) != nil {
			t.Fatalf("Decode accepted %q, which is not one JSON object", body)
		}
	})
}

// FuzzClientAddress: forwarding headers from a trusted proxy never panic
// and always give an address (or the peer); from an untrusted peer they
// are never believed.
func FuzzClientAddress(f *testing.F) {
	for _, s := range []string{"203.0.113.7", "203.0.113.7, 10.0.0.2", `for="[2001:db8::1]:4711"`, "unknown", "", ",,,", "for=_hidden", `for="`} {
		f.Add(s, s)
	}
	trusted, err := ParseProxies([]string{"10.0.0.0/8"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, xff, fwd string) {
		for _, peer := range []string{"10.1.2.3:5555", "198.51.100.9:5555"} {
			var got string
			h := TrustProxies(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClientIP(r) }))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = peer
			r.Header.Set("X-Forwarded-For", xff)
			r.Header.Set("Forwarded", fwd)
			h.ServeHTTP(httptest.NewRecorder(), r)
			if _, err := netip.ParseAddr(got); err != nil {
				t.Fatalf("peer %s, XFF %q, Forwarded %q: client %q is no address", peer, xff, fwd, got)
			}
			if peer == "198.51.100.9:5555" && got != "198.51.100.9" {
				t.Fatalf("an untrusted peer's headers were believed: %q", got)
			}
		}
	})
}

// FuzzParseProxies: a trusted_proxies entry of any content is refused or
// gives a prefix that contains its own address.
func FuzzParseProxies(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "2001:db8::1", "::ffff:10.0.0.1", "10.0.0.0/33", "", " 192.0.2.1 ", "fe80::1%eth0", "1.2.3.4/0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := ParseProxies([]string{s})
		if err != nil {
			return
		}
		if len(ps) != 1 || !ps[0].IsValid() {
			t.Fatalf("%q gave %v", s, ps)
		}
	})
}
