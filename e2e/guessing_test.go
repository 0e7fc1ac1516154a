package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestGuessingCannotLockOutTheOwner: a stranger's wrong passwords hold
// strangers off (and the right password then looks wrong to them), while
// the owner's app, a known client since its last login, still logs in,
// and the owner is told.
func TestGuessingCannotLockOutTheOwner(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		n.mustCtl("", "account", "create", "--id", "U9801", "--currency", "USD", "--equity", "2500000.00", "--jurisdiction", "US")
		n.mustCtl(pw+"\n", "user", "create", "--username", "gina", "--account", "U9801", "--email", "gina@example.test")
		card := filepath.Join(t.TempDir(), "card.json")
		n.mustCtl("", "dscplus", "issue", "gina", "--pin", "2468", "--out", card)
		login := func(password, clientToken string) apiResult {
			return call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "gina", "password": password,
				"platform": "trading", "client_token": clientToken})
		}
		complete := func(r apiResult) apiResult {
			t.Helper()
			done := answer(t, n, r.str("login_id"), dscRespond(t, card, "2468", r.str("prompt", "challenge")))
			if done.Status != 201 {
				t.Fatalf("login: %s", done.Raw)
			}
			return done
		}
		known := complete(login(pw, "")).str("session", "client_token")
		if known == "" {
			t.Fatal("a first login from an unknown app got no client token")
		}

		// The stranger guesses: ten wrong passwords hold strangers off.
		for i := 0; i < 10; i++ {
			if r := login("guess-"+string(rune('a'+i)), ""); r.code() != "invalid_credentials" {
				t.Fatalf("guess %d: %s", i+1, r.Raw)
			}
		}
		right, wrong := login(pw, ""), login("another-guess", "")
		if right.code() != "invalid_credentials" || !right.sameAs(wrong) {
			t.Fatalf("held off: the right password %d %s, a wrong one %d %s", right.Status, right.Raw, wrong.Status, wrong.Raw)
		}
		// The owner's app logs in all the same.
		r := login(pw, known)
		if r.Status != 200 || r.str("state") != "challenged" {
			t.Fatalf("the owner's known app during the attack: %s", r.Raw)
		}
		complete(r)
		n.waitSink("gina@example.test", "password_guessing", 1)
		audit := n.mustCtl("", "audit", "list", "--limit", "10000")
		for _, ev := range []string{"login.held_off", "login.refused"} {
			if !strings.Contains(audit, ev) {
				t.Errorf("%s not audited", ev)
			}
		}
	})
}
