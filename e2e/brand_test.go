package e2e

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestPortalBrandingAndLocalTime: a deployment's names, colours, logo and
// footer come from the configuration file alone; and a browser in another
// time zone reads the times of the pages in its own, named.
func TestPortalBrandingAndLocalTime(t *testing.T) {
	dir := t.TempDir()
	logo := filepath.Join(dir, "logo.svg")
	if err := os.WriteFile(logo, []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>`), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"portal": map[string]any{"branding": map[string]any{
		"product": "Acme Portal", "app": "Acme Mobile", "key": "Acme Key", "company": "Acme Securities",
		"logo": logo, "primary_color": "#3a0b4f", "accent_color": "#7a1fa2",
		"support": map[string]any{"Europe": map[string]string{"phone": "+36 1 555 0100", "address": "1 Example tér, Budapest"}},
		"footer":  "Acme Securities is regulated by the Example Authority.",
	}}})
	cfgFile := filepath.Join(dir, "slsd.json")
	if err := os.WriteFile(cfgFile, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	n, card := portalNode(t, withArgs("--config", cfgFile))

	get := func(path string) (string, string) {
		t.Helper()
		resp, err := http.Get(n.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return html.UnescapeString(string(b)), resp.Header.Get("Content-Type")
	}
	page, _ := get("/login")
	for _, want := range []string{"<title>Log In – Acme Portal</title>", `src="/static/brand-logo"`, "+36 1 555 0100",
		"Acme Securities is regulated by the Example Authority."} {
		if !strings.Contains(page, want) {
			t.Errorf("/login lacks %q:\n%s", want, page)
		}
	}
	if css, _ := get("/static/brand.css"); !strings.Contains(css, "--brand-primary: #3a0b4f") {
		t.Errorf("brand.css: %s", css)
	}
	if _, ct := get("/static/brand-logo"); ct != "image/svg+xml" {
		t.Errorf("logo served as %q", ct)
	}

	b := newBrowser(t, n.url, browserOpt{})
	zone := func(tz string) {
		b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: tz})
			return err
		}))
	}
	zone("Asia/Tokyo")
	b.dscLogin("alice", card, "2468")
	if got := b.text("header .brand"); got != "Acme Portal" {
		t.Errorf("header: %q", got)
	}
	// The login page's script told the server the zone: it renders the
	// sessions page in Tokyo time itself.
	b.open("/settings/sessions")
	first := "#sessions tbody tr:first-child time"
	if tz, txt := b.attr(first, "data-tz"), b.text(first); tz != "Asia/Tokyo" || !strings.Contains(txt, "JST") {
		t.Errorf("session start in Tokyo: %s %q", tz, txt)
	}
	b.shot("brand-01-sessions-tokyo")
	// The browser moves to New York: the page rendered for Tokyo is
	// redrawn by the script in the browser's zone.
	zone("America/New_York")
	b.open("/settings/sessions")
	b.waitFor(first+`[data-tz="America/New_York"]`, 10*time.Second)
	if txt := b.text(first); !strings.Contains(txt, "EST") && !strings.Contains(txt, "EDT") {
		t.Errorf("session start in New York: %q", txt)
	}

	// Without JavaScript nobody tells the server the zone: UTC, named.
	ns := newBrowser(t, n.url, browserOpt{noScript: true})
	ns.dscLogin("alice", card, "2468")
	ns.open("/settings/sessions")
	if tz, txt := ns.attr(first, "data-tz"), ns.text(first); tz != "UTC" || !strings.Contains(txt, "UTC") {
		t.Errorf("without JavaScript: %s %q", tz, txt)
	}
}
