package portal

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/config/field"
	"github.com/secure-login-system/sls/factor/cards"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/factor/temppass"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

const password = "correct horse battery"

// harness is the portal on a real store and real login and manage
// services, behind an httptest server.
type harness struct {
	t      *testing.T
	clock  *clock.Fake
	login  *login.Service
	manage *manage.Service
	portal *Portal
	srv    *httptest.Server
}

func newHarness(t *testing.T, cfg Config, tls bool) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, tls, nil)
}

// newHarnessWith lets a test add the optional features to the deps.
func newHarnessWith(t *testing.T, cfg Config, tls bool, features func(*Deps)) *harness {
	t.Helper()
	store := storetest.MustOpenSQLite(t)
	sealer, err := seal.New(bytes.Repeat([]byte{9}, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(time.Date(2026, 11, 2, 15, 0, 0, 0, time.UTC))
	factors, err := sls.NewFactors(&dscplus.Factor{Sealer: sealer},
		&cards.Factor{CardKind: sls.KindCodeCard, Sealer: sealer},
		&cards.Factor{CardKind: sls.KindOnlineCard, Sealer: sealer},
		&temppass.Factor{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	lsvc, err := login.New(login.Deps{Store: store, Factors: factors, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	msvc := &manage.Service{Store: store, Sealer: sealer, Clock: clk, Argon: passhash.Default}
	deps := Deps{Login: lsvc, Manage: msvc, Store: store, Sealer: sealer, Clock: clk, Config: cfg}
	if features != nil {
		features(&deps)
	}
	p, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, clock: clk, login: lsvc, manage: msvc, portal: p}
	if tls {
		h.srv = httptest.NewTLSServer(p.Handler())
	} else {
		h.srv = httptest.NewServer(p.Handler())
	}
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) user(name string) {
	h.t.Helper()
	ctx := context.Background()
	acct := strings.ToUpper(name) + "1"
	if _, err := h.manage.CreateAccount(ctx, "operator:test", manage.NewAccount{ID: acct, BaseCurrency: "USD", EquityMinor: 2e8, Jurisdiction: "US"}); err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.manage.CreateUser(ctx, "operator:test", manage.NewUser{Username: name, Password: password, AccountID: acct}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) dscCard(username string) []byte {
	h.t.Helper()
	iss, err := h.manage.IssueDSCPlus(context.Background(), "operator:test", username, "", "4321", true)
	if err != nil {
		h.t.Fatal(err)
	}
	key, _ := hex.DecodeString(iss.Card.Key)
	return key
}

// browser is a cookie-keeping client that does not follow redirects, so
// the tests see each step.
type browser struct {
	t    *testing.T
	h    *harness
	c    *http.Client
	last *page
}

type page struct {
	status int
	header http.Header
	body   string
	loc    string
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	c := *h.srv.Client() // a copy: each browser has its own jar
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: h.t, h: h, c: &c}
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := &page{status: resp.StatusCode, header: resp.Header, body: html.UnescapeString(string(raw)), loc: resp.Header.Get("Location")}
	if p.status < 300 || p.status >= 400 {
		b.last = p
	}
	return p
}

func (b *browser) get(path string) *page {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.h.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form like the browser would (same origin), with the CSRF
// token of the last page unless the form names one.
func (b *browser) post(path string, form url.Values, hdr ...string) *page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok && b.last != nil {
		form.Set("csrf", b.last.csrf())
	}
	req, _ := http.NewRequest("POST", b.h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.h.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	return b.do(req)
}

// follow gets the page a redirect points to.
func (b *browser) follow(p *page) *page {
	b.t.Helper()
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("want a redirect, got %d:\n%s", p.status, p.body)
	}
	return b.get(p.loc)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (p *page) csrf() string {
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (p *page) textOf(id string) string {
	re := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`)
	m := re.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

func (b *browser) loginPassword(username string) *page {
	b.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"username": {username}, "password": {password}})
}

func TestDSCPlusLoginAndLogout(t *testing.T) {
	h := newHarness(t, Config{}, false)
	h.user("alice")
	key := h.dscCard("alice")
	b := h.browser()

	pg := b.follow(b.loginPassword("alice"))
	challenge := pg.textOf("challenge")
	if pg.status != 200 || len(challenge) != 6 || !strings.Contains(pg.body, `data-kind="dscplus"`) {
		t.Fatalf("DSC+ screen: %d %q\n%s", pg.status, challenge, pg.body)
	}
	// A wrong answer stays on the screen and says how many attempts remain.
	// The refusal redirects (post/redirect/get): the screen comes back by
	// GET with the error, so a reload never answers again.
	bad := b.follow(b.post("/login/answer", url.Values{"response": {"00000000"}}))
	if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, "Attempts left for this login: 4") {
		t.Fatalf("wrong answer: %d\n%s", bad.status, bad.body)
	}
	again := b.get("/login")
	if again.status != http.StatusOK || strings.Contains(again.body, `id="page-error"`) || !strings.Contains(again.body, `data-left="4"`) {
		t.Fatalf("reload after a wrong answer: %d\n%s", again.status, again.body)
	}
	resp, err := dscplus.Respond(key, "4321", challenge)
	if err != nil {
		t.Fatal(err)
	}
	done := b.post("/login/answer", url.Values{"response": {resp}})
	if done.status != http.StatusSeeOther || done.loc != "/" {
		t.Fatalf("answer: %d %s\n%s", done.status, done.loc, done.body)
	}
	home := b.follow(done)
	if !strings.Contains(home.body, "Welcome, alice") || !strings.Contains(home.body, "Digital Security Card+") {
		t.Fatalf("home:\n%s", home.body)
	}
	// The login page sends a logged-in browser home.
	if p := b.get("/login"); p.status != http.StatusSeeOther || p.loc != "/" {
		t.Fatalf("login page while logged in: %d %s", p.status, p.loc)
	}
	out := b.post("/logout", nil)
	if out.status != http.StatusSeeOther || !strings.HasPrefix(out.loc, "/login") {
		t.Fatalf("logout: %d %s", out.status, out.loc)
	}
	if p := b.follow(out); !strings.Contains(p.body, "You have logged out.") {
		t.Fatalf("after logout:\n%s", p.body)
	}
	if p := b.get("/settings/security"); p.status != http.StatusSeeOther || p.loc != "/login" {
		t.Fatalf("settings after logout: %d %s", p.status, p.loc)
	}
}

func TestSecurityHeadersAndAccessibility(t *testing.T) {
	h := newHarness(t, Config{}, false)
	b := h.browser()
	p := b.get("/login")
	if got := p.header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'none'") || !strings.Contains(got, "frame-ancestors 'none'") ||
		strings.Contains(got, "unsafe-inline") {
		t.Errorf("CSP %q", got)
	}
	if p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", p.header.Get("Cache-Control"))
	}
	if !strings.Contains(p.body, `<html lang="en">`) {
		t.Error("no lang attribute")
	}
	checkLabels(t, p.body)
	if strings.Contains(p.body, "style=") || strings.Contains(p.body, "<script>") {
		t.Error("inline style or script would be refused by the CSP")
	}
	css := b.get("/static/portal.css")
	if css.status != 200 || !strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("css: %d %s", css.status, css.header.Get("Content-Type"))
	}
	if d := b.get("/static/"); d.status != http.StatusNotFound {
		t.Errorf("directory listing: %d", d.status)
	}
	if nf := b.get("/nowhere"); nf.status != http.StatusNotFound || !strings.Contains(nf.body, "Page not found") {
		t.Errorf("404: %d", nf.status)
	}
}

var (
	inputRE = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	idRE    = regexp.MustCompile(`\bid="([^"]+)"`)
	typeRE  = regexp.MustCompile(`\btype="([^"]+)"`)
)

// checkLabels checks that every visible form control has a <label for>.
func checkLabels(t *testing.T, body string) {
	t.Helper()
	for _, m := range inputRE.FindAllString(body, -1) {
		if ty := typeRE.FindStringSubmatch(m); ty != nil && (ty[1] == "hidden" || ty[1] == "submit") {
			continue
		}
		id := idRE.FindStringSubmatch(m)
		if id == nil {
			t.Errorf("control without id (so without label): %s", m)
			continue
		}
		if !strings.Contains(body, `for="`+id[1]+`"`) {
			t.Errorf("control %q has no label", id[1])
		}
	}
}

func TestCSRF(t *testing.T) {
	h := newHarness(t, Config{}, false)
	h.user("bob")
	b := h.browser()
	b.get("/login")
	form := func() url.Values { return url.Values{"username": {"bob"}, "password": {password}} }
	cases := []struct {
		name string
		form url.Values
		hdr  []string
	}{
		{"no token", url.Values{"username": {"bob"}, "password": {password}, "csrf": {""}}, nil},
		{"wrong token", url.Values{"username": {"bob"}, "password": {password}, "csrf": {"forged"}}, nil},
		{"cross-site fetch", form(), []string{"Sec-Fetch-Site", "cross-site"}},
		{"other origin", form(), []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}},
	}
	for _, c := range cases {
		if p := b.post("/login", c.form, c.hdr...); p.status != http.StatusForbidden {
			t.Errorf("%s: status %d", c.name, p.status)
		}
	}
	// Another browser's token does not fit this browser's cookie.
	other := h.browser()
	other.get("/login")
	if p := b.post("/login", url.Values{"username": {"bob"}, "password": {password}, "csrf": {other.last.csrf()}}); p.status != http.StatusForbidden {
		t.Errorf("token of another browser: %d", p.status)
	}
	// The same form with this browser's token goes through.
	b.get("/login")
	if p := b.post("/login", form()); p.status == http.StatusForbidden {
		t.Errorf("genuine form refused: %d", p.status)
	}
}

func TestSessionTokenRequiredOncelLoggedIn(t *testing.T) {
	h := newHarness(t, Config{}, false)
	h.user("carol")
	key := h.dscCard("carol")
	b := h.browser()
	pre := b.get("/login").csrf()
	pg := b.follow(b.loginPassword("carol"))
	resp, _ := dscplus.Respond(key, "4321", pg.textOf("challenge"))
	b.follow(b.post("/login/answer", url.Values{"response": {resp}}))
	// The pre-session token is not enough for a page that needs a session.
	if p := b.post("/logout", url.Values{"csrf": {pre}}); p.status != http.StatusForbidden {
		t.Errorf("logout with the pre-session token: %d", p.status)
	}
}

func TestCookieAttributes(t *testing.T) {
	cookies := func(h *harness, hdr ...string) []*http.Cookie {
		req, _ := http.NewRequest("GET", h.srv.URL+"/login", nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := h.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Cookies()
	}
	check := func(name string, cs []*http.Cookie, secure bool) {
		t.Helper()
		if len(cs) == 0 {
			t.Fatalf("%s: no cookie", name)
		}
		for _, c := range cs {
			if c.Secure != secure || strings.HasPrefix(c.Name, "__Host-") != secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
				t.Errorf("%s: cookie %+v", name, c)
			}
		}
	}
	check("plain HTTP loopback", cookies(newHarness(t, Config{}, false)), false)
	check("behind a proxy", cookies(newHarness(t, Config{}, false), "X-Forwarded-Proto", "https"), true)
	check("TLS", cookies(newHarness(t, Config{}, true)), true)
	no := false
	check("dev exception off", cookies(newHarness(t, Config{DevInsecureCookies: &no}, false)), true)
}

func TestLanguage(t *testing.T) {
	h := newHarness(t, Config{}, false)
	b := h.browser()
	req, _ := http.NewRequest("GET", h.srv.URL+"/login", nil)
	req.Header.Set("Accept-Language", "de-DE, hu-HU;q=0.9, en;q=0.5")
	p := b.do(req)
	if !strings.Contains(p.body, `<html lang="hu">`) {
		t.Fatalf("Accept-Language hu not followed:\n%.300s", p.body)
	}
	// The switch wins over the browser, and keeps to this site.
	sw := b.post("/lang", url.Values{"lang": {"es"}, "back": {"//evil.example/x"}})
	if sw.status != http.StatusSeeOther || sw.loc != "/" {
		t.Fatalf("switch: %d %q", sw.status, sw.loc)
	}
	req, _ = http.NewRequest("GET", h.srv.URL+"/login", nil)
	req.Header.Set("Accept-Language", "hu")
	if p := b.do(req); !strings.Contains(p.body, `<html lang="es">`) {
		t.Fatalf("switch not followed:\n%.300s", p.body)
	}
}

func TestAcceptLanguage(t *testing.T) {
	cases := map[string]string{
		"":                            "",
		"hu":                          "hu",
		"en-US,en;q=0.9":              "en",
		"fr, zh-CN;q=0.8, es;q=0.7":   "zh-Hans",
		"zh-TW, es;q=0.5":             "es",
		"es;q=0, hu;q=0.1":            "hu",
		"*":                           "",
		"hu;q=abc, es":                "es",
		"de;q=1, es;q=0.2, en;q=0.21": "en",
	}
	for in, want := range cases {
		got, ok := acceptLanguage(in)
		if got != want || ok != (want != "") {
			t.Errorf("acceptLanguage(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
}

func TestTempPasscodeAfterTwoDaysSeesOnlyTheOnlineCard(t *testing.T) {
	h := newHarness(t, Config{}, false)
	h.user("dave")
	code, _, err := h.manage.IssueTempPasscode(context.Background(), "operator:test", "dave", "called back on the number on file")
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(49 * time.Hour)
	b := h.browser()
	pg := b.follow(b.loginPassword("dave"))
	if !strings.Contains(pg.body, `data-kind="temppasscode"`) {
		t.Fatalf("temporary passcode screen:\n%s", pg.body)
	}
	done := b.post("/login/answer", url.Values{"response": {code}})
	if done.status != http.StatusSeeOther || !strings.HasPrefix(done.loc, "/settings/onlinecard") {
		t.Fatalf("answer: %d %s", done.status, done.loc)
	}
	card := b.follow(done)
	if !strings.Contains(card.body, `id="card-only"`) {
		t.Fatalf("card page:\n%s", card.body)
	}
	for _, path := range []string{"/", "/settings/security", "/settings/sessions"} {
		if p := b.get(path); p.status != http.StatusSeeOther || !strings.HasPrefix(p.loc, "/settings/onlinecard") {
			t.Errorf("%s: %d %s", path, p.status, p.loc)
		}
	}
	// Request, print and activate the card.
	req := b.post("/settings/onlinecard", nil)
	pg = b.follow(req)
	if !strings.Contains(pg.body, `id="activate-form"`) {
		t.Fatalf("after request:\n%s", pg.body)
	}
	ix1, ix2 := attr(pg.body, "value1", "data-index"), attr(pg.body, "value2", "data-index")
	printed := b.get("/settings/onlinecard/print")
	v1, v2 := cellValue(printed.body, ix1), cellValue(printed.body, ix2)
	if len(v1) != 3 || len(v2) != 3 {
		t.Fatalf("values at %s, %s: %q %q\n%s", ix1, ix2, v1, v2, printed.body)
	}
	b.last = pg
	wrong := b.follow(b.post("/settings/onlinecard/activate", url.Values{"device_id": {attr(pg.body, "device_id", "value")}, "value1": {"000"}, "value2": {"000"}}))
	if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, "do not match the card") {
		t.Fatalf("wrong values: %d\n%s", wrong.status, wrong.body)
	}
	b.last = pg
	ok := b.post("/settings/onlinecard/activate", url.Values{"device_id": {attr(pg.body, "device_id", "value")}, "value1": {v1}, "value2": {v2}})
	if after := b.follow(ok); !strings.Contains(after.body, "active for 21 days") {
		t.Fatalf("after activation:\n%s", after.body)
	}
}

func attr(body, id, name string) string {
	re := regexp.MustCompile(`<input[^>]*(?:id|name)="` + regexp.QuoteMeta(id) + `"[^>]*>`)
	tag := re.FindString(body)
	m := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return m[1]
}

func cellValue(body, index string) string {
	m := regexp.MustCompile(`data-index="` + index + `">([^<]+)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestIdleTimeout(t *testing.T) {
	h := newHarness(t, Config{IdleTimeout: field.Duration(10 * time.Minute)}, false)
	h.user("erin")
	key := h.dscCard("erin")
	b := h.browser()
	pg := b.follow(b.loginPassword("erin"))
	resp, _ := dscplus.Respond(key, "4321", pg.textOf("challenge"))
	b.follow(b.post("/login/answer", url.Values{"response": {resp}}))
	h.clock.Advance(9 * time.Minute)
	if p := b.get("/"); p.status != 200 {
		t.Fatalf("within the idle limit: %d", p.status)
	}
	h.clock.Advance(11 * time.Minute)
	if p := b.get("/"); p.status != http.StatusSeeOther || p.loc != "/login" {
		t.Fatalf("after the idle limit: %d %s", p.status, p.loc)
	}
}

func TestConfigValidate(t *testing.T) {
	lc := login.DefaultConfig()
	bad := []Config{
		{IdleTimeout: field.Duration(time.Hour)},
		{AbsoluteLifetime: field.Duration(13 * time.Hour)},
		{IdleTimeout: field.Duration(time.Second)},
		{DefaultLang: "de"},
	}
	for _, c := range bad {
		if err := c.WithDefaults(lc).Validate(lc); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (Config{}).WithDefaults(lc).Validate(lc); err != nil {
		t.Errorf("defaults: %v", err)
	}
	d := (Config{}).WithDefaults(lc)
	if d.IdleTimeout.D() != 30*time.Minute || d.AbsoluteLifetime.D() != 12*time.Hour {
		t.Errorf("defaults %v %v", d.IdleTimeout.D(), d.AbsoluteLifetime.D())
	}
}

func TestLoginCookieRoundTrip(t *testing.T) {
	c := loginCookie{ID: sls.NewToken("login"), Choices: []choice{{ID: "dev_1", Kind: sls.KindDSCPlus, Serial: "DSC-1"}, {ID: "dev_2", Kind: sls.KindSMS}}}
	got, err := parseLoginCookie(c.encode())
	if err != nil || got.ID != c.ID || len(got.Choices) != 2 || got.Choices[0] != c.Choices[0] {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []string{"", "login_x.W10", c.ID, c.ID + ".!!", c.ID + ".eyJ9", c.ID + "." + "W3siaSI6IngiLCJrIjoibm9wZSJ9XQ"} {
		if _, err := parseLoginCookie(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestMoney(t *testing.T) {
	cases := []struct {
		lang string
		v    int64
		want string
	}{
		{"en", 100000000, "USD\u00a01,000,000.00"},
		{"es", 2000000, "20.000,00\u00a0USD"},
		{"hu", 123456789, "1\u00a0234\u00a0567,89\u00a0USD"},
		{"zh-Hans", 5, "USD\u00a00.05"},
		{"en", -150, "USD\u00a0-1.50"},
	}
	for _, c := range cases {
		if got := formatMoney(c.lang, "USD", c.v); got != c.want {
			t.Errorf("%s %d: %q, want %q", c.lang, c.v, got, c.want)
		}
	}
}

func FuzzParseLoginCookie(f *testing.F) {
	f.Add(loginCookie{ID: "login_" + strings.Repeat("A", 43), Choices: []choice{{ID: "d", Kind: sls.KindSMS}}}.encode())
	f.Add("login_x.")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := parseLoginCookie(s)
		if err != nil {
			return
		}
		again, err := parseLoginCookie(c.encode())
		if err != nil || again.ID != c.ID || len(again.Choices) != len(c.Choices) {
			t.Fatalf("re-encoding %q: %v", s, err)
		}
	})
}

func FuzzAcceptLanguage(f *testing.F) {
	for _, s := range []string{"hu-HU,hu;q=0.9", "zh-Hant;q=1, es;q=0.1", ";;;q=", "en;q=NaN", "es;q=1e400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := acceptLanguage(s)
		if ok {
			if _, known := texts[l]; !known {
				t.Fatalf("%q gave unsupported %q", s, l)
			}
		}
	})
}

// FuzzParseStepUpCookie: a step-up cookie never panics the parser, never
// sends the browser anywhere but a declared page, and what is accepted
// reads back the same.
func FuzzParseStepUpCookie(f *testing.F) {
	enc := func(c stepUpCookie) string {
		b, _ := json.Marshal(c)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	f.Add(enc(stepUpCookie{ID: "stepup_" + strings.Repeat("A", 43), Next: "/settings/security", Choices: []choice{{ID: "dev_1", Kind: sls.KindSMS}}}))
	f.Add(enc(stepUpCookie{Next: "//evil.example/"}))
	f.Add("")
	f.Add("e30")
	isPage := func(p string) bool { return p == "/" || p == "/settings/security" }
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := parseStepUpCookie(s, isPage)
		if !ok {
			return
		}
		if !isPage(c.Next) {
			t.Fatalf("%q: return page %q is not a declared page", s, c.Next)
		}
		again, ok := parseStepUpCookie(enc(c), isPage)
		if !ok || again.ID != c.ID || again.Next != c.Next || len(again.Choices) != len(c.Choices) {
			t.Fatalf("re-encoding %q failed", s)
		}
	})
}
