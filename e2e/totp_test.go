package e2e

import (
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// oathtool computes a code with Debian's oathtool, an implementation of
// RFC 6238 no one here wrote.
func oathtool(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	out, err := exec.Command("oathtool", "--totp", "-b", secret, "--now", at.UTC().Format("2006-01-02 15:04:05 UTC")).CombinedOutput()
	if err != nil {
		t.Fatalf("oathtool: %v %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestTOTPWithOathtool: an authenticator app enrolled after a DSC+ login,
// confirmed and used with codes from oathtool; each code logs in once and
// only once; slsctl totp issue prints a URI whose secret oathtool reads.
func TestTOTPWithOathtool(t *testing.T) {
	if _, err := exec.LookPath("oathtool"); err != nil {
		t.Skip("oathtool is not installed (scripts/test installs it)")
	}
	n, card := portalNode(t)
	r := chooseDevice(t, n, startLogin(t, n, "alice", "portal"), "dscplus")
	done := answer(t, n, r.str("login_id"), dscRespond(t, card, "2468", r.str("prompt", "challenge")))
	tok := done.str("session", "token")
	if tok == "" {
		t.Fatalf("DSC+ login: %s", done.Raw)
	}
	e := call(t, "POST", n.url+"/api/v1/totp", tok, map[string]any{"label": "oathtool"})
	if e.Status != 201 {
		t.Fatalf("enrol: %d %s", e.Status, e.Raw)
	}
	secret, dev := e.str("secret"), e.str("device", "id")
	if c := call(t, "POST", n.url+"/api/v1/totp/"+dev+"/confirm", tok, map[string]any{"code": oathtool(t, secret, time.Now())}); c.str("device", "state") != "active" {
		t.Fatalf("confirm: %d %s", c.Status, c.Raw)
	}

	// The next step's code (one step ahead is allowed): it logs in once.
	code := oathtool(t, secret, time.Now().Add(30*time.Second))
	login := func() apiResult {
		t.Helper()
		r := chooseDevice(t, n, startLogin(t, n, "alice", "portal"), "totp")
		if r.str("prompt", "kind") != "totp" {
			t.Fatalf("TOTP prompt: %s", r.Raw)
		}
		return answer(t, n, r.str("login_id"), code)
	}
	if ok := login(); ok.str("state") != "completed" || ok.str("session", "session", "device_kind") != "totp" {
		t.Fatalf("TOTP login: %d %s", ok.Status, ok.Raw)
	}
	if again := login(); again.code() != "bad_response" {
		t.Fatalf("the same code twice: %d %s", again.Status, again.Raw)
	}

	// Scripted setup: the URI slsctl prints holds a secret oathtool reads.
	out := n.mustCtl("", "totp", "issue", "alice", "--label", "script")
	uri := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("slsctl totp issue printed %q", out)
	}
	q := u.Query()
	if q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Fatalf("URI parameters: %s", uri)
	}
	id := strings.Fields(strings.SplitN(out, "\n", 2)[1])[2]
	if got := n.mustCtl("", "totp", "confirm", "alice", id, oathtool(t, q.Get("secret"), time.Now())); !strings.Contains(got, "active") {
		t.Fatalf("slsctl totp confirm: %s", got)
	}
	if devs := n.mustCtl("", "devices", "alice"); strings.Count(devs, "totp") < 2 {
		t.Fatalf("devices: %s", devs)
	}
}

// TestPortalTOTP: the portal's setup page shows the QR code and the typed
// key; oathtool's first code activates the app, which then logs in.
func TestPortalTOTP(t *testing.T) {
	if _, err := exec.LookPath("oathtool"); err != nil {
		t.Skip("oathtool is not installed (scripts/test installs it)")
	}
	n, card := portalNode(t)
	b := newBrowser(t, n.url, browserOpt{})
	b.dscLogin("alice", card, "2468")
	b.open("/settings/security")
	b.submit("#totp-link")
	b.fill("#label", "phone")
	b.submit("#totp-start")
	b.expect("#totp-qr", "#totp-secret", "#totp-confirm-form")
	b.shot("totp-01-setup")
	secret := strings.ReplaceAll(b.text("#totp-secret"), " ", "")
	b.fill("#code", "000000")
	b.submit("#totp-confirm")
	if !b.has("#page-error") || !b.has("#totp-confirm-form") {
		t.Fatalf("wrong first code: %s", b.dump())
	}
	b.fill("#code", oathtool(t, secret, time.Now()))
	b.submit("#totp-confirm")
	if !strings.Contains(b.text(".notice"), "authenticator app is active") {
		t.Fatalf("after confirming: %s", b.dump())
	}
	b.logout()
	b.passwordStep("alice")
	b.chooseDevice("totp")
	b.shot("totp-02-login")
	b.fill("#response", oathtool(t, secret, time.Now().Add(30*time.Second)))
	b.submit("#answer-form button[type=submit]")
	b.expect("#logout")
}
