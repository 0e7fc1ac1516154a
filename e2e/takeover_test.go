package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestPasswordOnlySessionCannotTakeOver replays the account takeover a
// review found: an opted-out user's trading login needs only the
// password, and that session could print and activate an online card,
// fetch an IB Key activation ticket for an attacker's phone, change the
// shipping address, report the real card lost and order a replacement
// with a PIN of the attacker's choice. Every step must now ask for a
// security device proven in the session (step_up_required), and the
// account must end as it began.
func TestPasswordOnlySessionCannotTakeOver(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db)
		n.mustCtl("", "account", "create", "--id", "U9901", "--currency", "USD", "--equity", "2500000.00", "--jurisdiction", "US")
		n.mustCtl(pw+"\n", "user", "create", "--username", "olga", "--account", "U9901", "--mobile", mobile, "--security-admin")
		card := filepath.Join(t.TempDir(), "card.json")
		n.mustCtl("", "dscplus", "issue", "olga", "--pin", "2468", "--serial", "DSC-9901", "--out", card)

		// The owner opts out of SLS for trading, with the card just proven.
		r := startLogin(t, n, "olga", "portal")
		owner := answer(t, n, r.str("login_id"), dscRespond(t, card, "2468", r.str("prompt", "challenge")))
		if owner.Status != 201 {
			t.Fatalf("owner login: %s", owner.Raw)
		}
		ownerToken := owner.str("session", "token")
		if o := call(t, "POST", n.url+"/api/v1/security/opt-out", ownerToken, nil); o.Status != 200 {
			t.Fatalf("opt out: %s", o.Raw)
		}
		devicesBefore := n.mustCtl("", "devices", "olga")

		// The attacker knows the password: a trading session, no device.
		a := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "olga", "password": pw, "platform": "trading"})
		if a.Status != 201 || a.str("session", "session", "device_kind") != "" {
			t.Fatalf("password-only trading login: %s", a.Raw)
		}
		tok := a.str("session", "token")
		// Reading and trading stay open to it.
		if r := call(t, "GET", n.url+"/api/v1/session", tok, nil); r.Status != 200 {
			t.Fatalf("session: %s", r.Raw)
		}
		if r := call(t, "GET", n.url+"/api/v1/withdrawals/limits", tok, nil); r.Status != 200 {
			t.Fatalf("limits: %s", r.Raw)
		}
		devID := ""
		for _, line := range strings.Split(devicesBefore, "\n") {
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "dev_") {
				devID = f[0]
			}
		}
		for _, step := range []struct {
			method, path string
			body         any
		}{
			{"POST", "/api/v1/onlinecard", nil},
			{"POST", "/api/v1/onlinecard/activate", map[string]any{"device_id": "dev_x", "values": "123 456"}},
			{"GET", "/api/v1/ibkey/ticket", nil},
			{"GET", "/api/v1/ibkey/ticket/qr.png", nil},
			{"PUT", "/api/v1/lifecycle/shipping-address", map[string]any{"shipping_address": "Mallory, 1 Drop St, Nowhere 00000, US"}},
			{"POST", "/api/v1/lifecycle/devices/" + devID + "/report", map[string]any{"what": "lost"}},
			{"POST", "/api/v1/dscplus/orders", map[string]any{"pin": "8642", "shipping_address": "Mallory, 1 Drop St, Nowhere 00000, US"}},
			{"POST", "/api/v1/mobile/verify", map[string]any{"mobile": "+12015550199"}},
			{"PUT", "/api/v1/preferences", map[string]any{"primary_lang": "en"}},
			{"POST", "/api/v1/security/opt-in", nil},
			{"PUT", "/api/v1/security/ip-restrictions", map[string]any{"ip_restrictions": []string{}}},
			{"PUT", "/api/v1/security/penny-stock", map[string]any{"enabled": true}},
		} {
			r := call(t, step.method, n.url+step.path, tok, step.body)
			if r.Status != 401 || r.code() != "step_up_required" {
				t.Errorf("%s %s with the password alone: %d %s", step.method, step.path, r.Status, r.Raw)
			}
		}
		// The portal still asks for the card.
		if r := startLogin(t, n, "olga", "portal"); r.str("state") == "completed" {
			t.Fatalf("portal login without a device: %s", r.Raw)
		}
		// Nothing changed: the same devices, the real card still active.
		if after := n.mustCtl("", "devices", "olga"); after != devicesBefore {
			t.Fatalf("devices changed:\nbefore %s\nafter  %s", devicesBefore, after)
		}
		if !strings.Contains(devicesBefore, "active") {
			t.Fatalf("the card is not active: %s", devicesBefore)
		}
	})
}
