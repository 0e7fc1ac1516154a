package e2e

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secure-login-system/sls/client"
)

// TestSessionsFollowDeviceAndUser: as Client Services would, on the real
// binaries: list a user's sessions, end one and all, revoke the device that
// opened a session, lock the user, and issue a DSC+ only under the order
// form's rules. Each time, a session that should stop working is refused.
func TestSessionsFollowDeviceAndUser(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		setupUser(t, n, "sam", "U9101")
		card := filepath.Join(t.TempDir(), "card.json")
		n.mustCtl("", "dscplus", "issue", "sam", "--pin", "2468", "--serial", "DSC-9101", "--out", card)
		login := func() (token, id string) {
			t.Helper()
			r := startLogin(t, n, "sam", "trading")
			done := answer(t, n, r.str("login_id"), dscRespond(t, card, "2468", r.str("prompt", "challenge")))
			if done.Status != 201 {
				t.Fatalf("login: %s", done.Raw)
			}
			return done.str("session", "token"), done.str("session", "session", "id")
		}
		works := func(token string) bool {
			t.Helper()
			s := call(t, "GET", n.url+"/api/v1/session", token, nil)
			if s.Status != 200 && s.Status != 401 {
				t.Fatalf("session check: %d %s", s.Status, s.Raw)
			}
			return s.Status == 200
		}

		tok1, id1 := login()
		tok2, _ := login()
		out := n.mustCtl("", "sessions", "sam")
		if !strings.Contains(out, id1) || !strings.Contains(out, "dscplus") || !strings.Contains(out, "LAST SEEN") || strings.Contains(out, tok1) {
			t.Fatalf("sessions table: %s", out)
		}
		// One session, then the rest.
		if out := n.mustCtl("", "sessions", "end", "sam", id1); !strings.Contains(out, id1) {
			t.Fatalf("end one: %s", out)
		}
		if works(tok1) || !works(tok2) {
			t.Fatal("ending one session ended the wrong one")
		}
		if out, err := n.ctl("", "sessions", "end", "sam", "ses_nosuch"); err == nil || !strings.Contains(out+err.Error(), "not_found") {
			t.Fatalf("ending an unknown session: %s %v", out, err)
		}
		n.mustCtl("", "sessions", "end", "sam")
		if works(tok2) {
			t.Fatal("end all left a session")
		}

		// Revoking the device ends what it opened.
		tok3, _ := login()
		var dev string
		for _, line := range strings.Split(n.mustCtl("", "devices", "sam"), "\n") {
			if strings.Contains(line, "dscplus") {
				dev = strings.Fields(line)[0]
			}
		}
		n.mustCtl("", "device", "revoke", dev, "--reason", "reported lost by phone")
		if works(tok3) {
			t.Fatal("a session of the revoked card still works")
		}

		// Locking the user ends the user's sessions; login is refused.
		n.mustCtl("", "dscplus", "issue", "sam", "--pin", "2468", "--serial", "DSC-9102", "--out", card)
		tok4, _ := login()
		if out, err := n.ctl("", "lock", "sam"); err == nil {
			t.Fatalf("lock without a reason: %s", out)
		}
		n.mustCtl("", "lock", "sam", "--reason", "suspected takeover, ticket 9")
		if works(tok4) {
			t.Fatal("a session of the locked user still works")
		}
		if r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "sam", "password": pw, "platform": "portal"}); r.code() != "invalid_credentials" {
			t.Fatalf("login of a locked user: %s", r.Raw)
		}
		audit := n.mustCtl("", "audit", "list", "--limit", "10000")
		for _, ev := range []string{"session.ended.operator", "session.ended.device_revoked", "user.locked", "session.ended.user_locked"} {
			if !strings.Contains(audit, ev) {
				t.Errorf("%s not audited", ev)
			}
		}

		// Operator issuance: weak PIN refused; ineligible account refused
		// unless overridden with a reason.
		n.mustCtl("", "account", "create", "--id", "U9102", "--currency", "USD", "--equity", "1000.00", "--jurisdiction", "US")
		n.mustCtl(pw+"\n", "user", "create", "--username", "pia", "--account", "U9102")
		out2 := filepath.Join(t.TempDir(), "pia.json")
		if out, err := n.ctl("", "dscplus", "issue", "sam", "--pin", "1234", "--out", out2); err == nil || !strings.Contains(out+err.Error(), "too easy") {
			t.Fatalf("weak PIN: %s %v", out, err)
		}
		if out, err := n.ctl("", "dscplus", "issue", "pia", "--pin", "2468", "--out", out2); err == nil || !strings.Contains(out+err.Error(), "not_eligible") {
			t.Fatalf("ineligible account: %s %v", out, err)
		}
		if out := n.mustCtl("", "dscplus", "issue", "pia", "--pin", "2468", "--out", out2, "--override-eligibility", "--reason", "Security Team approval 12"); !strings.Contains(out, "issued") {
			t.Fatalf("override: %s", out)
		}
		if audit := n.mustCtl("", "audit", "list", "--limit", "10000"); !strings.Contains(audit, "dscplus.eligibility_overridden") || !strings.Contains(audit, "Security Team approval 12") {
			t.Fatal("override not audited with its reason")
		}
	})
}

// getFrom sends GET url with token from the local address ip (any
// 127.0.0.0/8 address reaches a loopback listener on Linux), as a client
// on another network would.
func getFrom(t *testing.T, ip, url, token string) apiResult {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: d.DialContext}}
	defer c.CloseIdleConnections()
	cl := client.New("", token)
	cl.HTTP = c
	resp, err := cl.Send(context.Background(), "GET", url, "", nil)
	if err != nil {
		t.Skipf("cannot send from %s here: %v", ip, err)
	}
	if err := checkAnswer("GET", url, resp.Status, resp.Header, resp.Body); err != nil {
		t.Errorf("answer does not match the API document: %v", err)
	}
	return resultOf(resp)
}

// TestSessionFromAnotherAddress: a trading session opened from an address
// on the user's IP restriction list is refused, and audited, when it is
// used from an address off the list; it is not ended, and works again
// from the allowed address.
func TestSessionFromAnotherAddress(t *testing.T) {
	n := startNode(t, "", withArgs("--config", polConfigFile(t)))
	values := polUser(t, n, "olaf", "U9103", "300000.00", "US", true)
	token := polCardLogin(t, n, "olaf", values, "portal")
	if put := call(t, "PUT", n.url+"/api/v1/security/ip-restrictions", token, map[string]any{"ip_restrictions": []string{"127.0.0.1"}}); put.Status != 200 {
		t.Fatalf("set IP restrictions: %s", put.Raw)
	}
	trading := polCardLogin(t, n, "olaf", values, "trading")
	if r := getFrom(t, "127.0.0.1", n.url+"/api/v1/session", trading); r.Status != 200 {
		t.Fatalf("from the allowed address: %s", r.Raw)
	}
	if r := getFrom(t, "127.0.0.2", n.url+"/api/v1/session", trading); r.Status != 403 || r.code() != "ip_not_allowed" {
		t.Fatalf("from 127.0.0.2: %d %s", r.Status, r.Raw)
	}
	audit := n.mustCtl("", "audit", "list", "--limit", "10000")
	if !strings.Contains(audit, "session.refused") || !strings.Contains(audit, "127.0.0.2") {
		t.Fatalf("refusal not audited with the address")
	}
	if r := getFrom(t, "127.0.0.1", n.url+"/api/v1/session", trading); r.Status != 200 {
		t.Fatalf("back at the allowed address: %s", r.Raw)
	}
}
