package e2e

import (
	"path/filepath"

	"testing"

	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// TestTwoNodesBehaveAsOne starts two slsd processes on one PostgreSQL: a
// login started on one node is answered on the other, and failed answers
// on both nodes add up to one lockout.
func TestTwoNodesBehaveAsOne(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	dir := t.TempDir()
	a := startNode(t, dsn, withDataDir(dir))
	b := startNode(t, dsn, withDataDir(dir))
	setupUser(t, a, "nina", "U7007")
	card := filepath.Join(t.TempDir(), "card.json")
	a.mustCtl("", "dscplus", "issue", "nina", "--pin", "8642", "--out", card)

	r := startLogin(t, a, "nina", "portal")
	done := answer(t, b, r.str("login_id"), dscRespond(t, card, "8642", r.str("prompt", "challenge")))
	if done.Status != 201 {
		t.Fatalf("answer on the other node: %s", done.Raw)
	}
	token := done.str("session", "token")
	if s := call(t, "GET", a.url+"/api/v1/session", token, nil); s.Status != 200 {
		t.Fatalf("session from node b unknown on node a: %s", s.Raw)
	}

	var last apiResult
	for i := 0; i < 10; i++ {
		n := a
		if i%2 == 1 {
			n = b
		}
		r := startLogin(t, n, "nina", "portal")
		last = answer(t, n, r.str("login_id"), "00000000")
	}
	if last.code() != "account_locked" {
		t.Fatalf("failures on two nodes did not add up to a lockout: %s", last.Raw)
	}
	// Both nodes see the lock: the known client of the first login (made
	// on node b) is told so on either; a stranger is not.
	known := done.str("session", "client_token")
	for _, n := range []*node{a, b} {
		r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "nina", "password": pw, "platform": "portal", "client_token": known})
		if r.code() != "account_locked" {
			t.Fatalf("node %s does not see the lock: %s", n.url, r.Raw)
		}
		if r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "nina", "password": pw, "platform": "portal"}); r.code() != "invalid_credentials" {
			t.Fatalf("node %s tells a stranger of the lock: %s", n.url, r.Raw)
		}
	}
	if out := a.mustCtl("", "audit", "verify"); out == "" {
		t.Fatal("no audit output")
	}
}
