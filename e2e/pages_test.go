package e2e

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestPortalReloadAfterWrongCode: a wrong security code redirects to the
// challenge page (post/redirect/get), so reloading it shows the page
// again and answers nothing: the attempts left stay as they were.
func TestPortalReloadAfterWrongCode(t *testing.T) {
	n, card := portalNode(t)
	b := newBrowser(t, n.url, browserOpt{})
	b.passwordStep("alice")
	b.expect("#challenge", "#response", "#attempts-left")
	if left := b.attr("#attempts-left", "data-left"); left != "5" {
		t.Fatalf("attempts before any answer: %s", left)
	}
	b.fill("#response", "12345678")
	b.submit("#answer-form button[type=submit]")
	if msg := b.text("#page-error"); !strings.Contains(msg, "Attempts left for this login: 4") {
		t.Fatalf("wrong response: %q", msg)
	}
	if loc := b.location(); loc != "/login" {
		t.Fatalf("the wrong answer's page is %s, not the challenge page by GET", loc)
	}
	for range 2 {
		b.do(chromedp.Reload())
		b.expect("#challenge")
		if b.has("#page-error") {
			t.Fatalf("the error outlived its page: %s", b.dump())
		}
		if left := b.attr("#attempts-left", "data-left"); left != "4" {
			t.Fatalf("a reload answered again: %s attempts left", left)
		}
	}
	b.fill("#response", dscRespond(t, card, "2468", b.text("#challenge")))
	b.submit("#answer-form button[type=submit]")
	b.expect("#logout")
}

var deviceRE = regexp.MustCompile(`device (dev_[a-z0-9]+)`)

// TestPortalWithdrawalConfirmation: a client logged in with a Security
// Code Card confirms a withdrawal over the card's limit with a DSC+ in
// signing mode; a wrong response is refused on the same challenge.
func TestPortalWithdrawalConfirmation(t *testing.T) {
	n, card := startNode(t, ""), filepath.Join(t.TempDir(), "card.json")
	values := portalUser(t, n, "carl", "U7901", true, false)
	n.mustCtl("", "dscplus", "issue", "carl", "--pin", "5190", "--serial", "DSC-7901", "--out", card)
	// A new device holds withdrawals to the cool-down tier; Client
	// Services lifts it after calling back.
	n.mustCtl("", "user", "clear-cool-down", "carl", "--reason", "called back on the number on file")
	b := newBrowser(t, n.url, browserOpt{})
	b.codeCardLogin("carl", values)

	b.open("/withdraw")
	b.fill("#amount", "250000")
	b.submit("#withdraw-form button[type=submit]")
	if msg := b.text("#page-error"); !strings.Contains(msg, "over the limit") {
		t.Fatalf("over the card's limit: %q", msg)
	}
	if v := b.attr("#amount", "value"); v != "250000" {
		t.Fatalf("the amount was not kept across the redirect: %q", v)
	}
	b.submit("#confirm-link") // a link: the click leads to the page
	b.expect("#confirm-form", `input[data-kind="dscplus"]`)
	b.shot("95-withdraw-confirm")

	b.fill("#amount", "250000")
	b.fill("#payee", "DE89 3704 0044 0532 0130 00")
	b.do(chromedp.Click(chromedp.CSS(`input[data-kind="dscplus"]`)))
	b.submit("#confirm-form button[type=submit]")
	b.expect("#sign-code", "#sign-payee", "#sign-amount", "#response")
	if b.text("#sign-payee") != "3000" || b.text("#sign-amount") != "250000" {
		t.Fatalf("signing parts: %s", b.dump())
	}
	b.shot("96-withdraw-confirm-sign")
	code := b.text("#sign-code")

	b.fill("#response", "12345678")
	b.submit("#answer-form button[type=submit]")
	if msg := b.text("#page-error"); !strings.Contains(msg, "not correct") || b.text("#sign-code") != code {
		t.Fatalf("wrong response: %s", b.dump())
	}
	out, err := exec.Command(bin["dsccard"], "--card", card, "--pin", "5190", "--sign", "--code", code, "--payee", "3000", "--amount", "250000").CombinedOutput()
	if err != nil {
		t.Fatalf("dsccard --sign: %v %s", err, out)
	}
	b.fill("#response", strings.TrimSpace(string(out)))
	b.submit("#answer-form button[type=submit]")
	if loc := b.location(); loc != "/withdraw" {
		t.Fatalf("after the confirmation: %s", b.dump())
	}
	if msg := b.text(".notice"); !strings.Contains(msg, "250,000.00") || !strings.Contains(msg, "Digital Security Card+") {
		t.Fatalf("the confirmed withdrawal: %q", msg)
	}
	if used := b.text("#window-day td:nth-of-type(2)"); !strings.Contains(used, "250,000.00") {
		t.Fatalf("used today: %q", used)
	}
	b.shot("97-withdraw-confirmed")
	// A reload of the result books nothing more.
	b.do(chromedp.Reload())
	if used := b.text("#window-day td:nth-of-type(2)"); !strings.Contains(used, "250,000.00") {
		t.Fatalf("used today after a reload: %q", used)
	}
}

// TestPortalPennyStock: an opted-out client without IP restrictions is
// refused the penny-stock permission, with the condition; with
// restrictions it is granted.
func TestPortalPennyStock(t *testing.T) {
	n := startNode(t, "")
	values := portalUser(t, n, "pia", "U7902", true, true)
	b := newBrowser(t, n.url, browserOpt{})
	b.codeCardLogin("pia", values)
	b.open("/settings/security")
	b.do(chromedp.Click(chromedp.CSS("#optout summary")), chromedp.Click(chromedp.CSS("#understand")))
	b.submit("#optout-form button[type=submit]")
	if b.attr("#participation-state", "data-opted-out") != "true" {
		t.Fatalf("not opted out: %s", b.dump())
	}
	b.submit("#penny-link")
	b.expect("#penny-state", "#penny-condition", "#penny-on")
	b.submit("#penny-on")
	if msg := b.text("#page-error"); !strings.Contains(msg, "IP restrictions") {
		t.Fatalf("penny stock without IP restrictions: %q", msg)
	}
	if b.attr("#penny-state", "data-requested") != "false" {
		t.Fatalf("the refused permission was granted: %s", b.dump())
	}
	b.shot("98-penny-stock-refused")

	b.open("/settings/security")
	b.fillArea("#ip_restrictions", "127.0.0.0/8")
	b.submit("#ip-form button[type=submit]")
	b.open("/settings/penny-stock")
	if b.has("#penny-condition") {
		t.Fatalf("condition shown with IP restrictions set: %s", b.dump())
	}
	b.submit("#penny-on")
	if b.attr("#penny-state", "data-effective") != "true" || !strings.Contains(b.text(".notice"), "penny-stock") {
		t.Fatalf("penny stock with IP restrictions: %s", b.dump())
	}
	b.shot("98b-penny-stock")
	b.submit("#penny-off")
	if b.attr("#penny-state", "data-requested") != "false" {
		t.Fatalf("penny stock given up: %s", b.dump())
	}
}

// TestPortalReportDeviceLost: a client reports a DSC+ lost outside a
// replacement order; it stops working at once.
func TestPortalReportDeviceLost(t *testing.T) {
	n, card := startNode(t, ""), filepath.Join(t.TempDir(), "card.json")
	values := portalUser(t, n, "rita", "U7903", true, false)
	issued := n.mustCtl("", "dscplus", "issue", "rita", "--pin", "5190", "--serial", "DSC-7903", "--out", card)
	dev := deviceRE.FindStringSubmatch(issued)
	if dev == nil {
		t.Fatalf("dscplus issue: %s", issued)
	}
	b := newBrowser(t, n.url, browserOpt{})
	b.codeCardLogin("rita", values)
	b.open("/settings/security")
	b.submit("#report-device-link")
	b.expect("#report-device-form", "#what-lost", "#report-confirm")
	b.shot("99-report-device")

	// Without the box ticked: refused, the choices kept.
	b.do(chromedp.SetValue(chromedp.CSS("#device_id"), dev[1]), chromedp.Click(chromedp.CSS("#what-lost")))
	// The browser would not send the form without the box; the server
	// refuses it anyway.
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.getElementById("report-confirm").required = false`)); err != nil {
		t.Fatal(err)
	}
	b.submit("#report-device-button")
	if msg := b.text("#page-error"); !strings.Contains(msg, "tick the box") {
		t.Fatalf("report without confirming: %s", b.dump())
	}
	if ok, _ := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.getElementById("what-lost").checked`)); !ok {
		t.Fatalf("the choice was not kept: %s", b.dump())
	}
	b.do(chromedp.SetValue(chromedp.CSS("#device_id"), dev[1]), chromedp.Click(chromedp.CSS("#report-confirm")))
	b.submit("#report-device-button")
	if msg := b.text(".notice"); !strings.Contains(msg, "reported lost") {
		t.Fatalf("report: %s", b.dump())
	}
	if strings.Contains(b.dump(), dev[1]) {
		t.Fatalf("the lost device is still offered: %s", b.dump())
	}
	b.shot("99b-device-reported")
	b.logout()
	// The card no longer logs in.
	if r := startLogin(t, n, "rita", "portal"); strings.Contains(string(r.Raw), dev[1]) {
		t.Fatalf("the lost DSC+ was offered at login: %s", r.Raw)
	}
}
