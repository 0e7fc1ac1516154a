package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// The Client Portal driven in a real Chromium (Debian's /usr/bin/chromium,
// which scripts/test installs), against real slsd processes. Each key page
// is saved as a screenshot: in $SLS_SCREENSHOTS when set (the docs keep a
// copy in docs/screenshots), else in the test's artifact directory
// (go test -artifacts keeps it under -outputdir).

const chromiumPath = "/usr/bin/chromium"

// browser is one headless Chromium with its own profile.
type browser struct {
	t      *testing.T
	ctx    context.Context
	base   string
	shots  string
	mobile bool
}

type browserOpt struct {
	mobile   bool
	noScript bool
	insecure bool // accept the self-signed certificate
}

func newBrowser(t *testing.T, base string, o browserOpt) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (scripts/test installs it)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1000, 800),
		chromedp.UserDataDir(t.TempDir()),
	}
	if o.insecure {
		opts = append(opts, chromedp.IgnoreCertErrors)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base, shots: screenshotDir(t), mobile: o.mobile}
	// The first action starts the browser; it must run on the browser's
	// own context (a shorter-lived one would end the browser with it).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if o.mobile {
		// A phone's CSS viewport (iPhone 12/13/14: 390×844), at scale 1
		// so the screenshots stay small.
		b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulateTouch))
	} else {
		b.do(chromedp.EmulateViewport(1000, 800))
	}
	if o.noScript {
		b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		}))
	}
	return b
}

var shotDirs = map[*testing.T]string{}

func screenshotDir(t *testing.T) string {
	if d, ok := shotDirs[t]; ok {
		return d
	}
	d := os.Getenv("SLS_SCREENSHOTS")
	if d == "" {
		d = t.ArtifactDir()
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", d)
	shotDirs[t] = d
	return d
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v\n%s", err, b.dump())
	}
}

// dump is the current page's text, for failure messages.
func (b *browser) dump() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	body, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
	return "at " + loc + ":\n" + body
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + path))
}

// submit clicks a button and waits for the page it leads to.
func (b *browser) submit(sel string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(sel)))); err != nil {
		b.t.Fatalf("submitting %s: %v\n%s", sel, err, b.dump())
	}
}

func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do(chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
}

// fillArea sets a textarea (whose content may be empty, which Clear
// cannot handle).
func (b *browser) fillArea(sel, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), value))
}

// pickDevice chooses the device without looking at the page that follows
// (which may already have moved on).
func (b *browser) pickDevice(kind string) {
	b.t.Helper()
	if !b.has("#select-form") {
		return
	}
	b.do(chromedp.Click(chromedp.CSS(`input[data-kind="` + kind + `"]`)))
	b.submit("#select-form button[type=submit]")
}

// query bounds the wait of a query for an element that may not come.
func (b *browser) query() (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, 15*time.Second)
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := b.query()
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v\n%s", sel, err, b.dump())
	}
	return strings.TrimSpace(s)
}

func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	ctx, cancel := b.query()
	defer cancel()
	r, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	if err != nil {
		b.t.Fatalf("attribute %s of %s: %v\n%s", name, sel, err, b.dump())
	}
	return r.Value
}

func (b *browser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, b.base)
}

// has reports whether an element is on the page now.
func (b *browser) has(sel string) bool {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return n
}

// waitFor waits until an element is visible.
func (b *browser) waitFor(sel string, timeout time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("waiting for %s: %v\n%s", sel, err, b.dump())
	}
}

// expect checks that the page shows each of the main elements.
func (b *browser) expect(sels ...string) {
	b.t.Helper()
	for _, s := range sels {
		if !b.has(s) {
			b.t.Fatalf("page lacks %s\n%s", s, b.dump())
		}
	}
}

// shot saves a screenshot of the whole page and checks its accessibility
// basics.
func (b *browser) shot(name string) {
	b.t.Helper()
	b.checkAccessibility(name)
	b.saveShot(name)
	// Regenerating the docs (SLS_SCREENSHOTS set), every page is also
	// kept at a phone's and a computer's width: <width>/pages/<name>.
	// Names that hold a width already (phone_test.go) are not.
	if os.Getenv("SLS_SCREENSHOTS") == "" || strings.Contains(name, "/") {
		return
	}
	b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulateTouch))
	b.saveShot("390/pages/" + name)
	b.do(chromedp.EmulateViewport(1280, 900))
	b.saveShot("1280/pages/" + name)
	if b.mobile {
		b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(1), chromedp.EmulateMobile, chromedp.EmulateTouch))
	} else {
		b.do(chromedp.EmulateViewport(1000, 800))
	}
}

// saveShot writes the page as it is now.
func (b *browser) saveShot(name string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if buf, err = smallPNG(buf); err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	// A name may hold directories: <width>/<lang>/<page> (phone_test.go).
	file := filepath.Join(b.shots, filepath.FromSlash(name)+".png")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(file, buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// smallPNG keeps the 256 most frequent colours of a screenshot (pages
// have few: text, backgrounds, borders, anti-aliasing) and maps the rest to
// the nearest, which makes the PNG a few times smaller and looks the same.
func smallPNG(raw []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	bounds := img.Bounds()
	counts := map[color.RGBA]int{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			counts[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := make([]color.RGBA, 0, len(counts))
	for c := range counts {
		colors = append(colors, c)
	}
	sort.Slice(colors, func(i, j int) bool {
		if counts[colors[i]] != counts[colors[j]] {
			return counts[colors[i]] > counts[colors[j]]
		}
		a, b := colors[i], colors[j]
		return uint32(a.R)<<16|uint32(a.G)<<8|uint32(a.B) < uint32(b.R)<<16|uint32(b.G)<<8|uint32(b.B)
	})
	if len(colors) > 256 {
		colors = colors[:256]
	}
	pal := make(color.Palette, len(colors))
	for i, c := range colors {
		pal[i] = c
	}
	out := image.NewPaletted(bounds, pal)
	index := map[color.RGBA]uint8{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// a11yScript lists accessibility problems: no lang, not one h1, skipped
// heading levels, controls without a label, images without alt text,
// buttons without a name, positive tabindex (which breaks the focus
// order), and text below WCAG AA contrast (4.5:1).
const a11yScript = `(() => {
  const p = [];
  if (!document.documentElement.lang) p.push("no lang attribute");
  const h1 = document.querySelectorAll("h1").length;
  if (h1 !== 1) p.push("h1 count " + h1);
  let last = 0;
  for (const h of document.querySelectorAll("h1,h2,h3,h4,h5,h6")) {
    const l = +h.tagName[1];
    if (l > last + 1) p.push("heading " + h.tagName + " after h" + last);
    last = l;
  }
  for (const el of document.querySelectorAll("input,select,textarea")) {
    if (el.type === "hidden" || el.type === "submit") continue;
    const ok = (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) || el.closest("label") || el.getAttribute("aria-label");
    if (!ok) p.push("unlabelled " + (el.id || el.name));
  }
  for (const img of document.querySelectorAll("img")) if (!img.getAttribute("alt")) p.push("img without alt");
  for (const b of document.querySelectorAll("button,a")) if (!b.textContent.trim() && !b.getAttribute("aria-label")) p.push("nameless " + b.tagName);
  for (const el of document.querySelectorAll("[tabindex]")) if (+el.getAttribute("tabindex") > 0) p.push("positive tabindex");
  const rgb = s => { const m = s.match(/[\d.]+/g); return m ? m.map(Number) : [0,0,0,0]; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); }; return 0.2126*f(c[0]) + 0.7152*f(c[1]) + 0.0722*f(c[2]); };
  const bg = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.length < 4 || c[3] > 0) return c; } return [255,255,255]; };
  for (const el of document.querySelectorAll("p,li,label,a,button,td,th,h1,h2,h3,span,summary,legend")) {
    if (!el.offsetParent || !el.textContent.trim()) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) p.push("contrast " + ratio.toFixed(2) + " of " + el.tagName + " '" + el.textContent.trim().slice(0, 30) + "'");
  }
  return p;
})()`

func (b *browser) checkAccessibility(name string) {
	b.t.Helper()
	problems, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](a11yScript))
	if err != nil {
		b.t.Fatalf("accessibility check of %s: %v", name, err)
	}
	if len(problems) > 0 {
		b.t.Errorf("accessibility of %s: %v", name, problems)
	}
	b.checkAxe(name)
}

// passwordStep fills the login form.
func (b *browser) passwordStep(user string) {
	b.t.Helper()
	b.open("/login")
	b.fill("#username", user)
	b.fill("#password", pw)
	b.submit("#login-form button[type=submit]")
}

// chooseDevice picks a device on "Select Second Factor Device".
func (b *browser) chooseDevice(kind string) {
	b.t.Helper()
	b.pickDevice(kind)
	if got := b.attr("section[data-kind]", "data-kind"); got != kind {
		b.t.Fatalf("chose %s, got the %s screen", kind, got)
	}
}

// dscLogin logs in with a DSC+ card file.
func (b *browser) dscLogin(user, card, pin string) {
	b.t.Helper()
	b.passwordStep(user)
	b.chooseDevice("dscplus")
	challenge := b.text("#challenge")
	b.fill("#response", dscRespond(b.t, card, pin, challenge))
	b.submit("#answer-form button[type=submit]")
	b.expect("#logout")
}

func (b *browser) logout() {
	b.t.Helper()
	b.submit("#logout")
	b.expect("#login-form")
}

// portalNode starts a node with a user holding a DSC+ card.
func portalNode(t *testing.T, opts ...nodeOpt) (*node, string) {
	t.Helper()
	n := startNode(t, "", opts...)
	setupUser(t, n, "alice", "U7001")
	card := filepath.Join(t.TempDir(), "card.json")
	n.mustCtl("", "dscplus", "issue", "alice", "--pin", "2468", "--serial", "DSC-7001", "--out", card)
	return n, card
}

func TestPortalDSCPlusLogin(t *testing.T) {
	n, card := portalNode(t)
	b := newBrowser(t, n.url, browserOpt{})

	b.open("/")
	if b.location() != "/login" {
		t.Fatalf("the portal without a session went to %s", b.location())
	}
	b.expect("#username", "#password", "#login-form button")
	b.shot("01-login")

	// Wrong password: the same message as an unknown user.
	b.fill("#username", "alice")
	b.fill("#password", "not the password")
	b.submit("#login-form button[type=submit]")
	if msg := b.text("#page-error"); msg != "The username or password is incorrect." {
		t.Fatalf("wrong password: %q", msg)
	}
	b.shot("02-login-error")

	b.passwordStep("alice")
	b.expect("#challenge", "#response")
	b.shot("03-dscplus-challenge")
	b.fill("#response", "12345678")
	b.submit("#answer-form button[type=submit]")
	if msg := b.text("#page-error"); !strings.Contains(msg, "not correct") || !strings.Contains(msg, "Attempts left for this login: 4") {
		t.Fatalf("wrong response: %q", msg)
	}
	b.fill("#response", dscRespond(t, card, "2468", b.text("#challenge")))
	b.submit("#answer-form button[type=submit]")
	b.expect("#logout", "nav.menu")
	if !strings.Contains(b.text("h1"), "alice") {
		t.Fatalf("home: %s", b.dump())
	}
	b.shot("04-home")

	b.open("/settings/security")
	b.expect(`#devices tr[data-kind="dscplus"][data-state="active"]`)
	b.shot("05-security")
	b.open("/settings/sessions")
	b.expect("#sessions")
	b.shot("06-sessions")
	b.logout()
	if !strings.Contains(b.text(".notice"), "logged out") {
		t.Fatalf("after logout: %s", b.dump())
	}
}

func TestPortalWithoutJavaScript(t *testing.T) {
	n, card := portalNode(t)
	b := newBrowser(t, n.url, browserOpt{noScript: true})
	b.dscLogin("alice", card, "2468")
	b.open("/settings/security")
	b.expect("#devices")
	b.logout()
}

func TestPortalPhoneSizedScreen(t *testing.T) {
	n, card := portalNode(t)
	b := newBrowser(t, n.url, browserOpt{mobile: true})
	b.open("/login")
	b.expect("#username", "#password")
	// Nothing wider than the screen: no sideways scrolling.
	if w, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth`)); err != nil || !w {
		t.Errorf("the login page scrolls sideways on a phone (%v)", err)
	}
	b.shot("10-mobile-login")
	b.dscLogin("alice", card, "2468")
	b.shot("11-mobile-home")
}

func TestPortalCodeCardAndLanguages(t *testing.T) {
	n, _ := portalNode(t)
	values := parseCard(n.codeCard("alice"))
	b := newBrowser(t, n.url, browserOpt{})
	b.passwordStep("alice")
	b.expect("#select-form")
	b.shot("20-select-device")
	b.chooseDevice("codecard")
	i1, i2 := b.attr("#value1", "data-index"), b.attr("#value2", "data-index")
	b.shot("21-codecard")
	b.fill("#value1", values[i1])
	b.fill("#value2", values[i2])
	b.submit("#answer-form button[type=submit]")
	b.expect("#logout")

	// Message-center preferences: languages and channels. The pages
	// follow the primary language.
	b.open("/settings/messages")
	b.expect("#primary_lang", "#secondary_lang", "#prefs-channels")
	b.shot("22-preferences")
	b.do(chromedp.SetValue(chromedp.CSS("#primary_lang"), "hu"), chromedp.SetValue(chromedp.CSS("#secondary_lang"), "en"))
	b.do(chromedp.Click(chromedp.CSS(`input[name="ch.device_shipped.sms"]`)))
	b.submit("#save")
	if lang := b.attr("html", "lang"); lang != "hu" {
		t.Fatalf("pages in %q after choosing Hungarian", lang)
	}
	if b.attr(`input[name="ch.device_shipped.sms"]`, "checked") == "" && !b.has(`input[name="ch.device_shipped.sms"]:checked`) {
		t.Fatal("the SMS channel for shipped devices was not kept")
	}
	b.shot("23-preferences-hu")
	b.open("/settings/security")
	b.shot("24-security-hu")
	// The language switch, for every language.
	for _, lang := range []string{"es", "zh-Hans", "en"} {
		b.do(chromedp.SetValue(chromedp.CSS("#lang-switch"), lang))
		b.submit("header form[action='/lang'] button")
		if got := b.attr("html", "lang"); got != lang {
			t.Fatalf("switched to %s, page in %s", lang, got)
		}
	}
}

var passcodeRE = regexp.MustCompile(`: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})`)

func issuePasscode(t *testing.T, n *node, user string) string {
	t.Helper()
	out := n.mustCtl("", "temppasscode", "issue", user, "--verified", "callback to the number on file")
	code := passcodeRE.FindStringSubmatch(out)
	if code == nil {
		t.Fatalf("passcode: %s", out)
	}
	return code[1]
}

// printAndActivate requests, prints and activates an Online Security Code
// Card, reading its values from the printed page, and returns them.
func (b *browser) printAndActivate() map[string]string {
	b.t.Helper()
	b.open("/settings/onlinecard")
	if b.has("#request-card") {
		b.submit("#request-card")
	}
	b.expect("#print-link", "#activate-form")
	b.shot("31-onlinecard")
	i1, i2 := b.attr("#value1", "data-index"), b.attr("#value2", "data-index")
	b.open("/settings/onlinecard/print")
	b.expect("#card-values")
	v1, v2 := b.text(`td[data-index="`+i1+`"]`), b.text(`td[data-index="`+i2+`"]`)
	values, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]string](
		`Object.fromEntries([...document.querySelectorAll('td[data-index]')].map(td => [td.dataset.index, td.textContent.trim()]))`))
	if err != nil || len(values) == 0 {
		b.t.Fatalf("reading the printed card: %v", err)
	}
	b.shot("32-onlinecard-print")
	b.open("/settings/onlinecard")
	b.fill("#value1", v1)
	b.fill("#value2", v2)
	b.submit("#activate-form button[type=submit]")
	if st := b.attr("#card-state", "class"); !strings.Contains(st, "active") {
		b.t.Fatalf("card not active: %s", b.dump())
	}
	b.shot("33-onlinecard-active")
	return values
}

// stepUpWithCard answers the step-up page with a code card's values and
// expects to be back on the page that asked for it.
func (b *browser) stepUpWithCard(values map[string]string, back string) {
	b.t.Helper()
	b.expect("#stepup-intro", "#value1", "#value2")
	b.fill("#value1", values[b.attr("#value1", "data-index")])
	b.fill("#value2", values[b.attr("#value2", "data-index")])
	b.submit("#answer-form button[type=submit]")
	if loc := b.location(); loc != back {
		b.t.Fatalf("after the step-up: at %s, want %s: %s", loc, back, b.dump())
	}
}

func TestPortalTemporaryPasscodeAndOnlineCard(t *testing.T) {
	clk := filepath.Join(t.TempDir(), "clock")
	n := startNode(t, "", withClockFile(clk))
	setupUser(t, n, "tom", "U7101")
	code := issuePasscode(t, n, "tom")

	// Within 2 days: full access with the passcode.
	b := newBrowser(t, n.url, browserOpt{})
	b.passwordStep("tom")
	b.expect(`section[data-kind="temppasscode"]`, "#response")
	b.shot("30-temppasscode")
	b.fill("#response", code)
	b.submit("#answer-form button[type=submit]")
	b.expect("#logout")
	b.printAndActivate()
	b.logout()

	// The online card now logs in.
	b.passwordStep("tom")
	b.chooseDevice("onlinecard")
	b.expect("#value1", "#value2")
	b.submit("form[action='/login/cancel'] button")

	// Past 2 days, a new passcode shows only the online card page.
	setClock(t, clk, 49*time.Hour)
	code = issuePasscode(t, n, "tom")
	setClock(t, clk, 98*time.Hour)
	b.passwordStep("tom")
	b.chooseDevice("temppasscode")
	b.fill("#response", code)
	b.submit("#answer-form button[type=submit]")
	if loc := b.location(); !strings.HasPrefix(loc, "/settings/onlinecard") {
		t.Fatalf("past 2 days the passcode led to %s", loc)
	}
	b.expect("#card-only")
	b.shot("34-card-only")
	for _, path := range []string{"/", "/settings/security", "/settings/mobile"} {
		b.open(path)
		if loc := b.location(); !strings.HasPrefix(loc, "/settings/onlinecard") {
			t.Fatalf("%s reached with a card-only session (at %s)", path, loc)
		}
	}
	b.logout()
}

func TestPortalSMS(t *testing.T) {
	clk := filepath.Join(t.TempDir(), "clock")
	n := startNode(t, "", withClockFile(clk))
	setupUser(t, n, "sam", "U7201")
	code := issuePasscode(t, n, "sam")
	b := newBrowser(t, n.url, browserOpt{})
	b.passwordStep("sam")
	b.fill("#response", code)
	b.submit("#answer-form button[type=submit]")
	// A temporary passcode prints and activates an online card; changing
	// the number then needs that card proven (a step-up in place).
	card := b.printAndActivate()

	// Settings → Mobile Number: VERIFY, the Confirm Code, SMS Verified.
	b.open("/settings/mobile")
	b.expect("#mobile-status", "#verify-form")
	b.shot("40-mobile")
	b.submit("#verify")
	b.shot("40-stepup")
	b.stepUpWithCard(card, "/settings/mobile")
	b.submit("#verify")
	b.expect("#confirm-form", "#code")
	b.shot("41-mobile-confirm")
	msgs := n.waitSink(mobile, "phone_verify_code", 1)
	b.fill("#code", codeOf(t, msgs[0]))
	b.submit("#confirm")
	if !strings.Contains(b.text("#sms-verified"), "Verified") {
		t.Fatalf("not verified: %s", b.dump())
	}
	b.shot("42-mobile-verified")
	b.logout()

	// Log in with SMS; "Didn't receive a security code?" → Voice.
	b.passwordStep("sam")
	b.chooseDevice("sms")
	n.waitSink(mobile, "login_code_sms", 1)
	b.do(chromedp.Click(chromedp.CSS("#resend summary")))
	b.shot("43-sms")
	b.submit("#resend-voice") // too early: at most every 2 minutes
	if msg := b.text("#page-error"); !strings.Contains(msg, "seconds") {
		t.Fatalf("early resend: %q", msg)
	}
	setClock(t, clk, 2*time.Minute+time.Second)
	b.submit("#resend-voice")
	if !strings.Contains(b.text(".notice"), "call") {
		t.Fatalf("voice: %s", b.dump())
	}
	voice := n.waitSink(mobile, "login_code_voice", 1)
	b.fill("#response", codeOf(t, voice[0]))
	b.submit("#answer-form button[type=submit]")
	b.expect("#logout")
	if !strings.Contains(b.text("footer"), "SMS") {
		t.Fatalf("session not by SMS: %s", b.text("footer"))
	}
}

func TestPortalLockoutAndExpiry(t *testing.T) {
	clk := filepath.Join(t.TempDir(), "clock")
	n, card := portalNode(t, withClockFile(clk))
	b := newBrowser(t, n.url, browserOpt{})
	// A login makes this browser a known client of alice (its device
	// cookie).
	b.dscLogin("alice", card, "2468")
	b.logout()
	// The DSC+ challenge lasts 3 minutes: "if the passcode expires, start over".
	b.passwordStep("alice")
	setClock(t, clk, 4*time.Minute)
	b.fill("#response", dscRespond(t, card, "2468", b.text("#challenge")))
	b.submit("#answer-form button[type=submit]")
	if msg := b.text("#page-error"); !strings.Contains(msg, "expired") {
		t.Fatalf("expired login: %q", msg)
	}
	b.expect("#login-form")
	b.shot("07-login-expired")
	// Ten wrong answers lock the user.
	for i := 0; i < 2; i++ {
		b.passwordStep("alice")
		for j := 0; j < 5; j++ {
			b.fill("#response", "00000000")
			b.submit("#answer-form button[type=submit]")
		}
	}
	if msg := b.text("#page-error"); !strings.Contains(msg, "locked") {
		t.Fatalf("after ten failures: %q", msg)
	}
	// The known browser is told the user is locked; anyone else, with
	// the right password or a wrong one, sees only "incorrect".
	b.passwordStep("alice")
	if msg := b.text("#page-error"); !strings.Contains(msg, "locked") {
		t.Fatalf("locked user's login: %q", msg)
	}
	b.shot("08-locked")
	right := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "alice", "password": pw, "platform": "portal"})
	wrong := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "alice", "password": "not-it", "platform": "portal"})
	if right.code() != "invalid_credentials" || !right.sameAs(wrong) {
		t.Fatalf("a stranger tells the right password from a wrong one: %d %s / %d %s", right.Status, right.Raw, wrong.Status, wrong.Raw)
	}
}

// TestPortalTLS starts slsd with --tls-self-signed, fetches /healthz
// trusting only the generated certificate, and logs in with a browser:
// over HTTPS the cookies are __Host- prefixed and Secure.
func TestPortalTLS(t *testing.T) {
	// The user is made over HTTP (slsctl trusts only the system's roots);
	// then the same data directory is served over HTTPS.
	dir := t.TempDir()
	setup, card := portalNode(t, withDataDir(dir))
	setup.stop()
	n := startNode(t, "", withDataDir(dir), withArgs("--tls-self-signed"))
	base := strings.Replace(n.url, "http://", "https://", 1)
	pemBytes, err := os.ReadFile(filepath.Join(n.dataDir, "tls-self-signed.crt"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatal("the certificate file holds no certificate")
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	for _, host := range []string{base, strings.Replace(base, "127.0.0.1", "localhost", 1)} {
		resp, err := client.Get(host + "/healthz")
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.TLS == nil {
			t.Fatalf("%s/healthz: %d", host, resp.StatusCode)
		}
	}
	// Plain HTTP is not served.
	if resp, err := http.Get(n.url + "/healthz"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP answered on the TLS port")
	}
	// The same certificate after a restart: a client that trusts it keeps trusting it.
	n.restart()
	base = strings.Replace(n.url, "http://", "https://", 1)
	if resp, err := client.Get(base + "/healthz"); err != nil {
		t.Fatalf("after restart: %v", err)
	} else {
		resp.Body.Close()
	}

	b := newBrowser(t, base, browserOpt{insecure: true})
	b.dscLogin("alice", card, "2468")
	cookies, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range cookies.Cookies {
		if c.Name == "__Host-sls_session" {
			found = true
			if !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Path != "/" {
				t.Errorf("session cookie %+v", c)
			}
		}
		if !strings.HasPrefix(c.Name, "__Host-") {
			t.Errorf("cookie %s without the __Host- prefix over HTTPS", c.Name)
		}
	}
	if !found {
		t.Fatalf("no __Host-sls_session cookie: %+v", cookies.Cookies)
	}
	b.open("/settings/security")
	b.expect("#devices")
	b.logout()
}

// qrFromPage reads the QR image of the page (a data: URL), decodes it as a
// phone camera would, checks it holds the string printed under it, and
// writes the PNG for the authenticator.
func (b *browser) qrFromPage() (code, pngPath string) {
	b.t.Helper()
	src := b.attr("#ibkey-qr", "src")
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(src, "data:image/png;base64,"))
	if err != nil || !strings.HasPrefix(src, "data:image/png;base64,") {
		b.t.Fatalf("QR image %.60q: %v", src, err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatal(err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		b.t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		res, err = qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	}
	if err != nil {
		b.t.Fatalf("decoding the QR code: %v", err)
	}
	code = b.text("#activation-code")
	if want := "SLSIBKEY:" + strings.ReplaceAll(code, "-", ""); res.GetText() != want {
		b.t.Fatalf("the QR code holds %q; the string under it is %q", res.GetText(), code)
	}
	pngPath = filepath.Join(b.t.TempDir(), "qr.png")
	if err := os.WriteFile(pngPath, raw, 0o600); err != nil {
		b.t.Fatal(err)
	}
	return code, pngPath
}

// codeCardLogin logs in with a printed Security Code Card.
func (b *browser) codeCardLogin(user string, values map[string]string) {
	b.t.Helper()
	b.passwordStep(user)
	b.chooseDevice("codecard")
	b.fill("#value1", values[b.attr("#value1", "data-index")])
	b.fill("#value2", values[b.attr("#value2", "data-index")])
	b.submit("#answer-form button[type=submit]")
	b.expect("#logout")
}

func TestPortalIBKey(t *testing.T) {
	n := startNode(t, "")
	setupUser(t, n, "ivy", "U7301")
	values := parseCard(n.codeCard("ivy"))
	b := newBrowser(t, n.url, browserOpt{})

	// A user without IB Key sees the banner: the QR code and the string under it.
	b.codeCardLogin("ivy", values)
	b.expect("#ibkey-banner", "#ibkey-qr", "#activation-code")
	first, _ := b.qrFromPage()
	b.shot("50-ibkey-banner")
	b.open("/ibkey")
	b.expect("#ibkey-qr")
	if again := b.text("#activation-code"); again != first {
		t.Fatalf("the ticket changed within the session: %s %s", first, again)
	}
	b.shot("51-ibkey-page")

	// Logging out and in gives a fresh one; the app activates from the QR.
	b.logout()
	b.codeCardLogin("ivy", values)
	fresh, pngPath := b.qrFromPage()
	if fresh == first {
		t.Fatal("the same QR code after logging out and in")
	}
	state := filepath.Join(t.TempDir(), "phone.json")
	if out := ibkMust(t, state, ibkPIN+"\n", "activate", "--server", n.url, "--platform", "android", "--qr", pngPath, "--pin-stdin"); !strings.Contains(out, "SLS Key activated for ivy") {
		t.Fatalf("activate: %s", out)
	}
	b.open("/")
	if b.has("#ibkey-banner") {
		t.Fatal("the banner is still shown after activation")
	}
	b.open("/settings/security")
	b.expect(`#devices tr[data-kind="ibkey"][data-state="active"]`)
	b.logout()

	// Push: the page shows the number, waits, and moves on by itself once
	// the app approves with that number.
	nums := ibkNumbers(filepath.Join(t.TempDir(), "numbers"))
	l := ibkStartListener(t, state, "--approve-number-from", string(nums))
	b.passwordStep("ivy")
	b.chooseDevice("ibkey")
	number := b.text("#match-number")
	if len(number) != 2 {
		t.Fatalf("number to match %q", number)
	}
	b.shot("52-ibkey-push")
	ev := l.next(t, "push", 10*time.Second)
	nums.add(t, fmt.Sprint(ev["push_id"]), number)
	b.waitFor("#logout", 15*time.Second)
	if loc := b.location(); loc != "/" || !strings.Contains(b.text("footer"), "SLS Key") {
		t.Fatalf("after approval: %s %s", loc, b.text("footer"))
	}
	b.shot("53-ibkey-approved-home")
	l.cmd.Process.Kill()
	l.cmd.Wait()
	b.logout()

	// Denied on the phone: the page says so by itself.
	ld := ibkStartListener(t, state, "--deny")
	b.passwordStep("ivy")
	b.pickDevice("ibkey")
	ld.next(t, "push", 10*time.Second)
	b.waitFor("#login-form", 15*time.Second)
	if msg := b.text("#page-error"); !strings.Contains(msg, "denied") {
		t.Fatalf("after denial: %q", msg)
	}
	b.shot("54-ibkey-denied")
	ld.cmd.Process.Kill()
	ld.cmd.Wait()

	// No notification: challenge/response.
	b.passwordStep("ivy")
	b.chooseDevice("ibkey")
	b.do(chromedp.Click(chromedp.CSS("#challenge-response summary")))
	resp := strings.TrimSpace(ibkMust(t, state, ibkPIN+"\n", "respond", "--challenge", b.text("#challenge"), "--pin-stdin"))
	b.fill("#response", resp)
	b.shot("55-ibkey-challenge-response")
	b.submit("#answer-form button[type=submit]")
	b.expect("#logout")
}

// portalUser creates a user on an account (with or without the permission
// to change security settings) holding a printed Security Code Card.
func portalUser(t *testing.T, n *node, name, account string, newAccount, admin bool) map[string]string {
	t.Helper()
	if newAccount {
		n.mustCtl("", "account", "create", "--id", account, "--currency", "USD", "--equity", "2500000.00", "--jurisdiction", "US")
	}
	args := []string{"user", "create", "--username", name, "--account", account, "--mobile", mobile,
		"--dob", "1975-05-05", "--citizenship", "US", "--residence", "US", "--id-type", "passport", "--id-number", "P123"}
	if admin {
		args = append(args, "--security-admin")
	}
	n.mustCtl(pw+"\n", args...)
	return parseCard(n.codeCard(name))
}

func TestPortalWithdrawalLimit(t *testing.T) {
	n := startNode(t, "")
	values := portalUser(t, n, "wendy", "U7401", true, false)
	b := newBrowser(t, n.url, browserOpt{})
	b.codeCardLogin("wendy", values)
	b.open("/withdraw")
	b.expect(`#limit-device[data-kind="codecard"]`, "#limits", "#withdraw-form")
	if day := b.text("#window-day td"); !strings.Contains(day, "200,000.00") {
		t.Fatalf("day limit of a Security Code Card: %q", day)
	}
	b.shot("60-withdraw")
	b.fill("#amount", "150000")
	b.submit("#withdraw-form button[type=submit]")
	if !strings.Contains(b.text(".notice"), "150,000.00") || !strings.Contains(b.text("#window-day .left"), "50,000.00") {
		t.Fatalf("after a withdrawal: %s", b.dump())
	}
	b.fill("#amount", "100000")
	b.submit("#withdraw-form button[type=submit]")
	if msg := b.text("#page-error"); !strings.Contains(msg, "over the limit") {
		t.Fatalf("over the limit: %q", msg)
	}
	if left := b.text("#window-day .left"); !strings.Contains(left, "50,000.00") {
		t.Fatalf("a refused withdrawal was counted: %q", left)
	}
	b.shot("61-withdraw-refused")
}

func TestPortalParticipationIPAndSharing(t *testing.T) {
	n, card := startNode(t, ""), filepath.Join(t.TempDir(), "card.json")
	portalUser(t, n, "olga", "U7501", true, true)
	n.mustCtl("", "dscplus", "issue", "olga", "--pin", "5190", "--serial", "DSC-7501", "--out", card)
	peteCard := portalUser(t, n, "pete", "U7501", false, false)
	b := newBrowser(t, n.url, browserOpt{})
	b.dscLogin("olga", card, "5190")
	b.open("/settings/security")
	b.expect("#participation", "#optout", "#ip-form", "#sharing-form")
	b.shot("70-participation")

	// Opt out: the box must be ticked; then trading platforms take the password alone.
	b.do(chromedp.Click(chromedp.CSS("#optout summary")), chromedp.Click(chromedp.CSS("#understand")))
	b.submit("#optout-form button[type=submit]")
	if b.attr("#participation-state", "data-opted-out") != "true" {
		t.Fatalf("not opted out: %s", b.dump())
	}
	if r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "olga", "password": pw, "platform": "trading"}); r.str("state") != "completed" {
		t.Fatalf("trading login of an opted-out user: %s", r.Raw)
	}
	b.shot("71-opted-out")
	// Opt back in: "Always use my secure login device at login".
	b.do(chromedp.Click(chromedp.CSS("#always")))
	b.submit("#optin-form button[type=submit]")
	if b.attr("#participation-state", "data-opted-out") != "false" || !strings.Contains(b.text("#participation-state"), "Always use my secure login device") {
		t.Fatalf("not opted back in: %s", b.dump())
	}
	if r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "olga", "password": pw, "platform": "trading"}); r.str("state") == "completed" {
		t.Fatalf("trading login without a device after opting back in: %s", r.Raw)
	}

	// IP restrictions for trading platforms.
	b.fillArea("#ip_restrictions", "203.0.113.7")
	b.submit("#ip-form button[type=submit]")
	b.expect("#ip-list")
	b.shot("72-ip-restrictions")
	if r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "olga", "password": pw, "platform": "trading"}); r.code() != "invalid_credentials" {
		t.Fatalf("trading login from outside the restrictions (refused as a wrong password would be): %s", r.Raw)
	}
	b.fillArea("#ip_restrictions", "127.0.0.0/8")
	b.submit("#ip-form button[type=submit]")
	startLogin(t, n, "olga", "trading")

	// Sharing: pete (the same person, with a weaker device) may share the DSC+.
	b.fill("#share-users", "pete")
	b.submit("#sharing-form button[type=submit]")
	if ans := b.text("#sharing-answer"); !strings.Contains(ans, "can share") {
		t.Fatalf("sharing check: %q", ans)
	}
	b.fill("#share-users", "nobody-here")
	b.submit("#sharing-form button[type=submit]")
	if ans := b.text("#sharing-answer"); !strings.Contains(ans, "cannot share") {
		t.Fatalf("sharing check with an unknown user: %q", ans)
	}
	b.shot("73-sharing")
	b.logout()

	// A user without the permission sees who has it.
	b.codeCardLogin("pete", peteCard)
	b.open("/settings/security")
	if msg := b.text("#no-permission"); !strings.Contains(msg, "olga") {
		t.Fatalf("permission notice: %q", msg)
	}
}

var orderIDRE = regexp.MustCompile(`(?m)^(ord_\S+)`)

func TestPortalDSCPlusOrderAndReturn(t *testing.T) {
	cfg := writeConfig(t, `{"lifecycle": {"return_addresses": {"us_canada": "Token Return Department\n3 Pickwick Plaza\nGreenwich, CT 06830"}}}`)
	n := startNode(t, "", withArgs("--config", cfg))
	values := portalUser(t, n, "dora", "U7601", true, false)
	b := newBrowser(t, n.url, browserOpt{})
	b.codeCardLogin("dora", values)
	b.open("/settings/security")
	b.expect("#dscplus", "#request-device")
	b.shot("80-security-order")
	b.submit("#request-device")

	// The form: address, PIN, deposit account; then the summary with Back.
	b.expect("#order-form", "#address", "#pin", "#deposit")
	b.fillArea("#address", "Dora Example\n1 Main Street\nSpringfield, IL 62701")
	b.fill("#pin", "5190")
	b.fill("#pin_again", "5190")
	b.shot("81-order-form")
	b.submit("#order-continue")
	b.expect("#summary", "#order-back", "#order-place")
	b.shot("82-order-summary")
	b.submit("#order-back")
	if addr, _ := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS("#address"))); !strings.Contains(addr, "1 Main Street") {
		t.Fatalf("Back lost the address: %q", addr)
	}
	b.fill("#pin", "5190")
	b.fill("#pin_again", "5190")
	b.submit("#order-continue")
	b.submit("#order-place")
	if d := b.text("#expected-delivery"); d == "" {
		t.Fatalf("no delivery date: %s", b.dump())
	}
	b.shot("83-order-confirmation")
	b.submit("#order-ok")
	if st := b.text("#order-state"); !strings.Contains(st, "ordered") {
		t.Fatalf("order state: %q", st)
	}

	// Client Services ships, the carrier delivers; the client activates it with a challenge.
	id := orderIDRE.FindStringSubmatch(n.mustCtl("", "orders", "list", "--user", "dora"))
	if id == nil {
		t.Fatal("no order listed")
	}
	card := filepath.Join(t.TempDir(), "card.json")
	n.mustCtl("", "orders", "ship", id[1], "--carrier", "UPS", "--tracking", "1Z999", "--out", card)
	n.mustCtl("", "orders", "deliver", id[1])
	b.open("/settings/security")
	b.submit("#start-activation")
	b.expect("#challenge", "#activate-form")
	b.shot("84-order-activate")
	b.fill("#response", dscRespond(t, card, "5190", b.text("#challenge")))
	b.submit("#activate-form button[type=submit]")
	b.expect(`#devices tr[data-kind="dscplus"][data-state="active"]`)

	// Return it (consolidation): the form and the regional address.
	b.open("/settings/returns")
	b.expect("#return-form", "#return-address")
	b.shot("85-returns")
	b.do(chromedp.SetValue(chromedp.CSS("#reason"), "consolidation"))
	b.fill("#carrier", "UPS")
	b.fill("#tracking", "1Z555")
	b.submit("#send-return")
	if addr := b.text("#return-address-sent"); !strings.Contains(addr, "Pickwick") {
		t.Fatalf("return: %s", b.dump())
	}
	b.shot("86-return-recorded")
}
