package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// virtualAuthenticator gives the browser a platform authenticator through
// the DevTools WebAuthn domain: resident keys, user verification that
// succeeds, presence confirmed at once.
func (b *browser) virtualAuthenticator() {
	b.t.Helper()
	b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}})
		return err
	}))
}

// click presses a button that does not leave the page.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeEnabled))
}

// TestPortalPasskey: in Chromium with a virtual authenticator, a passkey
// is registered after a DSC+ login, logs in as the second factor, then
// alone once allowed; it answers nothing on another origin; once removed
// it logs in no more.
func TestPortalPasskey(t *testing.T) {
	n, card := portalNode(t)
	// WebAuthn binds passkeys to a domain: the portal is opened as
	// localhost (the relying party of a loopback listener).
	base := strings.Replace(n.url, "127.0.0.1", "localhost", 1)
	b := newBrowser(t, base, browserOpt{})
	b.virtualAuthenticator()
	b.dscLogin("alice", card, "2468")
	b.open("/settings/security")
	b.submit("#passkeys-link")
	b.expect("#no-passkeys", "#passkey-begin-form")
	b.fill("#passkey-name", "laptop")
	b.submit("#passkey-begin")
	b.expect("#passkey-create")
	b.shot("passkey-01-create")
	b.submit("#passkey-create")
	if !strings.Contains(b.text(".notice"), "passkey is ready") || !strings.Contains(b.text("#passkeys"), "laptop") {
		t.Fatalf("after registering: %s", b.dump())
	}
	b.shot("passkey-02-list")

	// The second factor after the password.
	b.logout()
	b.passwordStep("alice")
	b.chooseDevice("passkey")
	b.shot("passkey-03-login")
	b.submit("#passkey-get")
	b.expect("#logout")

	// Alone, once allowed (that needs the device just proven: the login).
	b.open("/settings/passkeys")
	b.submit("#passkeys .first-step-on")
	b.expect("#passkeys .first-step-off")
	b.logout()
	b.open("/login")
	b.submit("#passkey-login-link")
	b.submit("#passkey-get")
	b.expect("#logout")
	if devs := n.mustCtl("", "sessions", "alice"); !strings.Contains(devs, "passkey") {
		t.Fatalf("sessions: %s", devs)
	}

	// Another origin: the browser will not use a localhost passkey for
	// 127.0.0.1, so nothing logs in there.
	other := newBrowser(t, n.url, browserOpt{})
	other.virtualAuthenticator()
	other.open("/login/passkey")
	other.click("#passkey-get")
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(other.text("#passkey-status"), "did not answer") && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if other.has("#logout") || !strings.Contains(other.text("#passkey-status"), "did not answer") {
		t.Fatalf("another origin: %s", other.dump())
	}

	// Removed: the authenticator still has the key, the server refuses it.
	b.open("/settings/passkeys")
	b.submit("#passkeys .passkey-remove")
	// The session was the passkey's: removing it ended the session too.
	if b.location() != "/login" {
		t.Fatalf("after removing: %s", b.dump())
	}
	b.open("/login/passkey")
	b.submit("#passkey-get")
	if b.has("#logout") || !strings.Contains(b.text("#page-error"), "cannot log you in") {
		t.Fatalf("removed passkey: %s", b.dump())
	}
}
