package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The portal on a phone and on a computer, in every language: the main
// journeys (and the message preferences, whose channel table is the widest) at 390 CSS px (an iPhone 12–14) and 1280 px, each page checked
// for reflow (WCAG 2.1 1.4.10: nothing cut off or scrolling sideways at
// 360 and 390 px), target size (2.5.5: 44×44 CSS px for buttons, form
// controls and menu links), a one-row menu at 1280 px, and axe-core (via
// shot). With SLS_SCREENSHOTS=$PWD/docs/screenshots the screenshots land
// in docs/screenshots/<width>/<lang>/ (see docs/screenshots/README.md).

var screenLangs = []string{"en", "es", "hu", "zh-Hans"}

// reflowScript: the page is no wider than the window.
const reflowScript = `document.documentElement.scrollWidth <= window.innerWidth`

// targetScript lists the buttons, form controls and menu links shown
// smaller than 44×44 CSS px (WCAG 2.1 2.5.5). A check box or radio
// button is measured with the label around it, which takes the tap too;
// one without such a label is measured alone.
const targetScript = `(() => {
  const bad = [];
  for (const el of document.querySelectorAll("button, a.button, input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, summary, nav.menu a")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (getComputedStyle(el).visibility === "hidden") continue;
    if (r.height < 43.5 || r.width < 43.5) bad.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " '" + (el.textContent || el.name || "").trim().slice(0, 20) + "' " + Math.round(r.width) + "x" + Math.round(r.height));
  }
  for (const el of document.querySelectorAll("input[type=checkbox], input[type=radio]")) {
    const r = (el.closest("label") || el).getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.height < 43.5 || r.width < 43.5) bad.push("input#" + el.id + " " + Math.round(r.width) + "x" + Math.round(r.height));
  }
  return bad;
})()`

// navRowsScript counts the rows the shown menu takes.
const navRowsScript = `(() => {
  const tops = new Set();
  for (const li of document.querySelectorAll("nav.menu .menu-wide li")) { const r = li.getBoundingClientRect(); if (r.height) tops.add(Math.round(r.top)); }
  return tops.size;
})()`

func (b *browser) eval(expr string) any {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](expr))
	if err != nil {
		b.t.Fatalf("evaluating %.40q: %v", expr, err)
	}
	return v
}

func (b *browser) setWidth(w int64) {
	b.t.Helper()
	if w < 700 {
		b.do(chromedp.EmulateViewport(w, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulateTouch))
	} else {
		b.do(chromedp.EmulateViewport(w, 900))
	}
}

// checkLayout checks the current page at width w (and, on a phone, at
// 360 px too).
func (b *browser) checkLayout(w int64, name string) {
	b.t.Helper()
	widths := []int64{w}
	if w < 700 {
		widths = []int64{360, w}
	}
	for _, x := range widths {
		b.setWidth(x)
		if ok, _ := b.eval(reflowScript).(bool); !ok {
			b.t.Errorf("%s scrolls sideways at %d px: scrollWidth %v", name, x, b.eval(`document.documentElement.scrollWidth`))
		}
	}
	if bad, _ := b.eval(targetScript).([]any); len(bad) > 0 {
		b.t.Errorf("%s at %d px: targets under 44 px: %v", name, w, bad)
	}
	if w >= 1280 && b.has("nav.menu") {
		if rows := b.eval(navRowsScript); rows != float64(1) {
			b.t.Errorf("%s at %d px: the menu takes %v rows", name, w, rows)
		}
	}
}

// screen saves a screenshot as <width>/<lang>/<name> after checkLayout.
func (b *browser) screen(w int64, lang, name string) {
	b.t.Helper()
	b.checkLayout(w, lang+"/"+name)
	b.shot(fmt.Sprintf("%d/%s/%s", w, lang, name))
}

// useLang switches the pages to lang with the header's language form.
func (b *browser) useLang(lang string) {
	b.t.Helper()
	if b.attr("html", "lang") == lang {
		return
	}
	b.do(chromedp.SetValue(chromedp.CSS("#lang-switch"), lang))
	b.submit("header form[action='/lang'] button")
	if got := b.attr("html", "lang"); got != lang {
		b.t.Fatalf("switched to %s, page in %s", lang, got)
	}
}

func TestPortalScreens(t *testing.T) {
	n, card := portalNode(t)
	dir := t.TempDir()
	n.mustCtl("", "sftp", "register", "alice-docs", "--user", "alice", "--ftp", "--allow", "127.0.0.2")
	pdf := filepath.Join(dir, "U7001_2026-11.pdf")
	if err := os.WriteFile(pdf, []byte(minimalPDF), 0o600); err != nil {
		t.Fatal(err)
	}
	n.mustCtl("", "statement", "deliver", "--to", "alice-docs", pdf)

	for _, w := range []int64{390, 1280} {
		t.Run(fmt.Sprint(w), func(t *testing.T) {
			b := newBrowser(t, n.url, browserOpt{mobile: w < 700})
			b.setWidth(w)
			for _, lang := range screenLangs {
				b.open("/login")
				b.useLang(lang)
				b.expect("#login-form")
				b.screen(w, lang, "01-login")
				b.passwordStep("alice")
				b.expect("#challenge", "#response")
				b.screen(w, lang, "02-challenge")
				b.fill("#response", dscRespond(t, card, "2468", b.text("#challenge")))
				b.submit("#answer-form button[type=submit]")
				b.expect("#logout")
				b.useLang(lang)
				b.expect("#ibkey-banner")
				b.checkBanner(w)
				b.screen(w, lang, "03-home")
				if w < 700 {
					// The menu opens without JavaScript (a <details>).
					b.do(chromedp.Click(chromedp.CSS("nav.menu summary")))
					b.expect("nav.menu details[open]")
					b.screen(w, lang, "04-menu")
				}
				for _, p := range []struct{ path, sel, name string }{
					{"/settings/security", "#devices", "05-security"},
					{"/settings/sessions", "#sessions", "06-sessions"},
					{"/withdraw", "#limits", "07-withdraw"},
					{"/messages", "main h1", "08-messages"},
					{"/statements", "table.documents", "09-statements"},
					{"/settings/messages", "#prefs-channels", "10-preferences"},
				} {
					b.open(p.path)
					b.expect(p.sel)
					b.screen(w, lang, p.name)
				}
				b.logout()
			}
		})
	}
}

// checkBanner: on a phone the IB Key banner leads with the activation
// string and the link that opens the app with the QR code's payload, the
// QR code after them; on a computer the QR code comes first.
func (b *browser) checkBanner(w int64) {
	b.t.Helper()
	top := func(sel string) float64 {
		v, _ := b.eval(fmt.Sprintf(`document.querySelector(%q).getBoundingClientRect().top`, sel)).(float64)
		return v
	}
	code := b.text("#activation-code")
	if w < 700 {
		if href := b.attr("#ibkey-app-link", "href"); href != "SLSIBKEY:"+strings.ReplaceAll(code, "-", "") {
			b.t.Errorf("the app link is %q for the string %q", href, code)
		}
		if c, q, l := top("#activation-code"), top("#ibkey-qr"), top("#ibkey-app-link"); !(c < q && l < q) {
			b.t.Errorf("on a phone the QR code (top %v) comes before the string (%v) or the link (%v)", q, c, l)
		}
	} else {
		if q, c := top("#ibkey-qr"), top("#activation-code"); !(q < c) {
			b.t.Errorf("on a computer the string (top %v) comes before the QR code (%v)", c, q)
		}
		if visible, _ := b.eval(`document.querySelector("#ibkey-app-link").getClientRects().length > 0`).(bool); visible {
			b.t.Error("the app link is shown on a computer")
		}
	}
}

// TestPortalKeyboardLogin logs in with the keyboard alone: Tab to each
// field, type, Enter (WCAG 2.1 2.1.1 keyboard).
func TestPortalKeyboardLogin(t *testing.T) {
	n, card := portalNode(t)
	b := newBrowser(t, n.url, browserOpt{})
	b.open("/login")
	tabTo := func(id string) {
		t.Helper()
		for range 15 {
			b.do(chromedp.KeyEvent("\t"))
			if got, _ := b.eval(`document.activeElement ? document.activeElement.id : ""`).(string); got == id {
				return
			}
		}
		t.Fatalf("Tab never reached #%s\n%s", id, b.dump())
	}
	enter := func() {
		t.Helper()
		ctx, cancel := b.query()
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.KeyEvent("\r"))); err != nil {
			t.Fatalf("Enter: %v\n%s", err, b.dump())
		}
	}
	tabTo("username")
	b.do(chromedp.KeyEvent("alice"))
	tabTo("password")
	b.do(chromedp.KeyEvent(pw))
	enter()
	b.expect("#challenge")
	challenge := b.text("#challenge")
	tabTo("response")
	b.do(chromedp.KeyEvent(dscRespond(t, card, "2468", challenge)))
	enter()
	b.expect("#logout")
	// Log Out by keyboard too.
	tabTo("logout")
	enter()
	b.expect("#login-form")
}

// TestPortalPhoneMenuWithoutJavaScript opens the phone menu and follows a
// link with JavaScript off: the menu is a <details>, which the browser
// opens by itself.
func TestPortalPhoneMenuWithoutJavaScript(t *testing.T) {
	n, card := portalNode(t)
	b := newBrowser(t, n.url, browserOpt{mobile: true, noScript: true})
	b.dscLogin("alice", card, "2468")
	if visible, _ := b.eval(`document.querySelector("nav.menu .menu-wide").getClientRects().length > 0`).(bool); visible {
		t.Fatal("the wide menu is shown on a phone")
	}
	b.do(chromedp.Click(chromedp.CSS("nav.menu summary")))
	b.expect("nav.menu details[open]")
	b.submit(`nav.menu details a[href="/settings/sessions"]`)
	if loc := b.location(); loc != "/settings/sessions" {
		t.Fatalf("the menu led to %s", loc)
	}
	if cur := b.text("nav.menu summary .current"); cur != "Sessions" {
		t.Fatalf("the closed menu names %q as the current page", cur)
	}
}
