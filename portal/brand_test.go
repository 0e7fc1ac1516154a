package portal

import (
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/notify"
)

// foreignMarks are other companies' trademarks that once named the seeds'
// products; the shipped texts name products only through portal.branding.
var foreignMarks = regexp.MustCompile(`(?i)\bIBKR\b|Interactive\s+Brokers|\bIB\s+Key\b|Trader\s+Workstation|\bIBot\b`)

// TestNoForeignTrademarks reads everything a client is shown by default:
// the portal's and the notices' texts in every language, the templates,
// and the default branding.
func TestNoForeignTrademarks(t *testing.T) {
	check := func(where, text string) {
		t.Helper()
		for _, m := range foreignMarks.FindAllString(text, -1) {
			t.Errorf("%s shows %q", where, m)
		}
	}
	for lang, msgs := range texts {
		for k, s := range msgs {
			check("portal "+lang+" "+k, s)
		}
	}
	notifyFiles, err := filepath.Glob("../notify/locales/active.*.toml")
	if err != nil || len(notifyFiles) == 0 {
		t.Fatal("no notify catalogs", err)
	}
	for _, f := range notifyFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(strings.TrimSpace(line), "#") { // comments are not shown
				check(f+":"+strconv.Itoa(i+1), line)
			}
		}
	}
	files, _ := fs.Glob(templateFS, "templates/*.html")
	for _, f := range files {
		b, _ := fs.ReadFile(templateFS, f)
		check(f, string(b))
	}
	cfg := Config{}.WithDefaults(login.Config{SessionLifetime: 12 * time.Hour})
	b := cfg.Branding
	for _, s := range []string{cfg.Brand, b.Product, b.App, b.Key, b.Company, b.Footer} {
		check("default branding", s)
	}
}

// TestBrandingByConfiguration changes every brand setting by
// configuration alone and finds it on the pages.
func TestBrandingByConfiguration(t *testing.T) {
	logo := filepath.Join(t.TempDir(), "acme.svg")
	svg := `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#123456"/></svg>`
	if err := os.WriteFile(logo, []byte(svg), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Branding: Branding{
		Product: "Acme Portal", App: "Acme Mobile", Key: "Acme Key 100%", Company: "Acme Securities",
		Logo: logo, PrimaryColor: "#123456", AccentColor: "#ABCDEF",
		Support: map[string]SupportContact{"Europe": {Phone: "+36 1 555 0100", Address: "1 Example tér, Budapest"}},
		Footer:  "Acme Securities is regulated by the Example Authority.",
	}}
	f := &featureHarness{ibkey: &fakeIBKey{}, prot: &fakeProtect{}, life: &fakeLifecycle{}}
	f.harness = newHarnessWith(t, cfg, false, func(d *Deps) { d.IBKey, d.Protect, d.Lifecycle = f.ibkey, f.prot, f.life })
	f.user("alice")

	anon := f.browser()
	lp := anon.get("/login")
	for _, want := range []string{"– Acme Portal</title>", `<img class="brand-logo" src="/static/brand-logo"`, ">Acme Portal</a>",
		`href="/static/brand.css"`, "+36 1 555 0100", "1 Example tér, Budapest", "Acme Securities is regulated by the Example Authority."} {
		if !strings.Contains(lp.body, want) {
			t.Errorf("/login lacks %q:\n%s", want, lp.body)
		}
	}
	css := anon.get("/static/brand.css")
	if css.status != http.StatusOK || !strings.Contains(css.body, "--brand-primary: #123456") || !strings.Contains(css.body, "--brand-accent: #ABCDEF") ||
		!strings.HasPrefix(css.header.Get("Content-Type"), "text/css") {
		t.Errorf("brand.css: %d %q %s", css.status, css.header.Get("Content-Type"), css.body)
	}
	if lg := anon.get("/static/brand-logo"); lg.status != http.StatusOK || lg.header.Get("Content-Type") != "image/svg+xml" || lg.body != svg {
		t.Errorf("logo: %d %q", lg.status, lg.header.Get("Content-Type"))
	}

	b := f.loggedIn("alice", f.dscCard("alice"))
	for _, lang := range notify.Languages() {
		b.post("/lang", url.Values{"lang": {lang}, "back": {"/"}})
		home := b.get("/")
		// The banner names the app and its key, with a % kept as is.
		if !strings.Contains(home.body, "Acme Mobile") || !strings.Contains(home.body, "Acme Key 100%") {
			t.Errorf("%s: home does not name the configured app and key:\n%s", lang, home.body)
		}
		if m := regexp.MustCompile(`\{(product|app|key|company)\}|SLS Mobile|SLS Key|%!`).FindString(home.body); m != "" {
			t.Errorf("%s: home shows %q", lang, m)
		}
	}
}

func TestBrandingValidation(t *testing.T) {
	lc := login.Config{SessionLifetime: 12 * time.Hour}
	old := Config{Brand: "Old Name"}.WithDefaults(lc)
	if old.Branding.Product != "Old Name" || old.Brand != "Old Name" {
		t.Errorf("portal.brand no longer names the product: %+v", old.Branding)
	}
	both := Config{Brand: "Old Name", Branding: Branding{Product: "New Name"}}.WithDefaults(lc)
	if both.Branding.Product != "New Name" || both.Brand != "New Name" {
		t.Errorf("branding.product does not win over brand: %+v", both.Branding)
	}
	for _, b := range []Branding{
		{PrimaryColor: "red"},
		{AccentColor: "#12345"},
		{PrimaryColor: "#1234567"},
		{Logo: "/etc/logo.gif"},
		{App: "two\nlines"},
		{Product: strings.Repeat("x", 61)},
		{Footer: strings.Repeat("x", 1001)},
		{Support: map[string]SupportContact{"": {Phone: "1"}}},
	} {
		if err := (Config{Branding: b}).WithDefaults(lc).Validate(lc); err == nil {
			t.Errorf("%+v accepted", b)
		}
	}
	if _, err := newBrand(Branding{Logo: "/nonexistent/logo.svg"}); err == nil {
		t.Error("a missing logo file accepted")
	}
}

// TestBrandPlaceholders: every language names the same brand placeholders
// as English, so no language drops the configured name or adds one.
func TestBrandPlaceholders(t *testing.T) {
	ph := regexp.MustCompile(`\{(product|app|key|company)\}`)
	set := func(s string) string {
		m := ph.FindAllString(s, -1)
		seen := map[string]bool{}
		var out []string
		for _, x := range m {
			if !seen[x] {
				seen[x] = true
				out = append(out, x)
			}
		}
		slices.Sort(out)
		return strings.Join(out, " ")
	}
	for lang, msgs := range texts {
		for k, s := range msgs {
			if a, b := set(textsEN[k]), set(s); a != b {
				t.Errorf("%s %s names %q, English %q", lang, k, b, a)
			}
		}
	}
}

func TestTranslateHTMLEscapes(t *testing.T) {
	br, err := newBrand(Config{}.WithDefaults(login.Config{SessionLifetime: time.Hour}).Branding)
	if err != nil {
		t.Fatal(err)
	}
	got := br.translateHTML(notify.LangEnglish, "layout.logged_in_as", "<b>")
	if strings.Contains(string(got), "<b>") {
		t.Errorf("a plain argument is not escaped: %s", got)
	}
	got = br.translateHTML(notify.LangEnglish, "layout.logged_in_as", template.HTML("<time>x</time>"))
	if !strings.Contains(string(got), "<time>x</time>") {
		t.Errorf("markup of ours is escaped: %s", got)
	}
}
