package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPortalPasswordChangeAndReset: a client changes the password in the
// portal (with a device proven just now) and is told by email; refused
// passwords say why. Client Services then resets it without ever seeing
// the new password or the code, and the client sets one on the reset page
// reached from the login page.
func TestPortalPasswordChangeAndReset(t *testing.T) {
	n := startNode(t, "")
	n.mustCtl("", "account", "create", "--id", "PW1", "--currency", "USD", "--equity", "2500000.00", "--jurisdiction", "US")
	n.mustCtl(pw+"\n", "user", "create", "--username", "paula", "--account", "PW1", "--email", "paula@example.invalid")
	card := filepath.Join(t.TempDir(), "card.json")
	n.mustCtl("", "dscplus", "issue", "paula", "--pin", "2468", "--out", card)
	b := newBrowser(t, n.url, browserOpt{})
	b.dscLogin("paula", card, "2468")

	b.open("/settings/security")
	b.submit("#change-password-link")
	b.expect("#password-form")
	b.shot("45-password-change")
	b.checkAccessibility("password change")
	change := func(current, next, confirm string) {
		b.fill("#current_password", current)
		b.fill("#new_password", next)
		b.fill("#confirm_password", confirm)
		b.submit("#change-password")
	}
	change(pw, "short", "short")
	if msg := b.text("#page-error"); !strings.Contains(msg, "too short") {
		t.Fatalf("short password: %q", msg)
	}
	change(pw, "a much longer new password", "a different one")
	if msg := b.text("#page-error"); !strings.Contains(msg, "differ") {
		t.Fatalf("mismatch: %q", msg)
	}
	change("not my password", "a much longer new password", "a much longer new password")
	if msg := b.text("#page-error"); !strings.Contains(msg, "current password is not right") {
		t.Fatalf("wrong current password: %q", msg)
	}
	newPW := "correct horse battery staple, 2026"
	change(pw, newPW, newPW)
	b.expect("#devices")
	if !strings.Contains(b.location(), "n=password_changed") {
		t.Fatalf("after the change: %s", b.location())
	}
	if msgs := n.waitSink("paula@example.invalid", "password_changed", 1); !strings.Contains(msgs[0].Body, "changed") {
		t.Fatalf("notice: %+v", msgs[0])
	}
	b.logout()

	// Client Services resets it: the code goes to the client's email; the
	// operator is told where, not what.
	out := n.mustCtl("", "user", "reset-password", "paula", "--verified", "called back on the number on file, ref 9")
	if !strings.Contains(out, "email to p****@example.invalid") || regexp.MustCompile(`[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}`).MatchString(out) {
		t.Fatalf("reset-password: %s", out)
	}
	code := regexp.MustCompile(`[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}`).FindString(n.waitSink("paula@example.invalid", "password_reset_code", 1)[0].Body)
	if code == "" {
		t.Fatal("no code in the email")
	}
	b.open("/login")
	b.submit("#forgot")
	b.expect("#reset-form")
	b.shot("46-password-reset")
	b.checkAccessibility("password reset")
	reset := func(user, code, next string) {
		b.fill("#username", user)
		b.fill("#code", code)
		b.fill("#new_password", next)
		b.fill("#confirm_password", next)
		b.submit("#reset-password")
	}
	reset("paula", "AAAA-BBBB-CCCC", "yet another new password")
	if msg := b.text("#page-error"); !strings.Contains(msg, "not right") {
		t.Fatalf("wrong code: %q", msg)
	}
	reset("paula", code, "paula-is-here-1")
	if msg := b.text("#page-error"); !strings.Contains(msg, "username") {
		t.Fatalf("password with the username: %q", msg)
	}
	reset("paula", code, "Password123!")
	if msg := b.text("#page-error"); !strings.Contains(msg, "too common") {
		t.Fatalf("blocklisted password: %q", msg)
	}
	after := "yet another new password"
	reset("paula", strings.ToLower(code), after)
	b.expect("#login-form")
	if !strings.Contains(b.location(), "n=password_reset") {
		t.Fatalf("after the reset: %s", b.location())
	}
	b.fill("#username", "paula")
	b.fill("#password", after)
	b.submit("#login-form button[type=submit]")
	b.chooseDevice("dscplus")
	b.fill("#response", dscRespond(t, card, "2468", b.text("#challenge")))
	b.submit("#answer-form button[type=submit]")
	b.expect("#logout")
	if n := len(n.waitSink("paula@example.invalid", "password_changed", 2)); n != 2 {
		t.Fatalf("%d password notices", n)
	}
}

// TestUserLifecycleWithSlsctl: Client Services disables, enables and
// deletes a user with slsctl; a deleted user cannot log in, and the audit
// history stays.
func TestUserLifecycleWithSlsctl(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		setupUser(t, n, "ulla", "UL1")
		n.mustCtl("", "codecard", "issue", "ulla")
		login := func() string {
			return call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "ulla", "password": pw, "platform": "portal"}).code()
		}
		if c := login(); c != "" {
			t.Fatalf("login before: %s", c)
		}
		if out, err := n.ctl("", "user", "disable", "ulla"); err == nil {
			t.Fatalf("disable without a reason: %s", out)
		}
		n.mustCtl("", "user", "disable", "ulla", "--reason", "fraud review 42")
		if c := login(); c != "invalid_credentials" {
			t.Fatalf("login while disabled: %s", c)
		}
		n.mustCtl("", "user", "enable", "ulla", "--reason", "review cleared")
		if c := login(); c != "" {
			t.Fatalf("login after enabling: %s", c)
		}
		n.mustCtl("", "user", "update", "ulla", "--email", "ulla@example.invalid", "--lang", "hu")
		n.mustCtl("", "user", "delete", "ulla", "--reason", "the client asked for erasure")
		if c := login(); c != "invalid_credentials" {
			t.Fatalf("login after deletion: %s", c)
		}
		show := n.mustCtl("", "user", "show", "ulla")
		if !strings.Contains(show, `"deleted_at"`) || strings.Contains(show, "ulla@example.invalid") {
			t.Fatalf("deleted user: %s", show)
		}
		list := n.mustCtl("", "audit", "list", "--limit", "1000")
		for _, ev := range []string{"user.created", "user.disabled", "user.enabled", "user.updated", "user.deleted"} {
			if !strings.Contains(list, ev) {
				t.Errorf("audit history lacks %s", ev)
			}
		}
	})
}
