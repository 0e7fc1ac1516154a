package portal

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/notify"
)

func testView(t *testing.T, lang string, loc *time.Location, now time.Time) *view {
	t.Helper()
	br, err := newBrand(Config{}.WithDefaults(login.Config{SessionLifetime: time.Hour}).Branding)
	if err != nil {
		t.Fatal(err)
	}
	return &view{Lang: lang, brand: br, loc: loc, now: now}
}

func TestTimeInZone(t *testing.T) {
	now := time.Date(2026, 12, 5, 18, 30, 0, 0, time.UTC)
	bud, err := time.LoadLocation("Europe/Budapest")
	if err != nil {
		t.Fatal(err)
	}
	v := testView(t, notify.LangEnglish, bud, now)
	for _, c := range []struct {
		at   time.Time
		want []string
	}{
		{now.Add(2 * time.Minute), []string{`<time datetime="2026-12-05T18:32:00Z" data-tz="Europe/Budapest"`, "5 Dec 2026 19:32 CET", "(in 2 minutes)"}},
		{now.Add(-3 * time.Hour), []string{"16:30 CET", "(3 hours ago)"}},
		{now.Add(time.Minute), []string{"(in 1 minute)"}},
		{now.Add(-20 * time.Second), []string{"(just now)"}},
		{now.Add(-72 * time.Hour), []string{"2 Dec 2026 19:30 CET</time>"}},
	} {
		got := string(v.Time(c.at))
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("Time(%s) = %s, want %q", c.at, got, w)
			}
		}
	}
	if got := string(v.Time(now.Add(-72 * time.Hour))); strings.Contains(got, `class="rel"`) {
		t.Errorf("a time days away has a relative phrase: %s", got)
	}
	if got := string(v.Clock(now.Add(5 * time.Minute))); !strings.Contains(got, ">19:35 CET <span") || !strings.Contains(got, `data-format="clock"`) {
		t.Errorf("Clock = %s", got)
	}
	es := testView(t, notify.LangSpanish, nil, now)
	if got := string(es.Time(now.Add(2 * time.Minute))); !strings.Contains(got, "18:32 UTC") || !strings.Contains(got, "(dentro de 2 minutos)") {
		t.Errorf("es, no zone: %s", got)
	}
	if got := string(testView(t, notify.LangChinese, bud, now).Time(now.Add(-2 * time.Hour))); !strings.Contains(got, "2小时前") {
		t.Errorf("zh: %s", got)
	}
	if v.Time(time.Time{}) != "" || v.TimeText(time.Time{}) != "" {
		t.Error("a zero time is shown")
	}
	if got := v.TimeText(now); got != "5 Dec 2026 19:30 CET" {
		t.Errorf("TimeText = %q", got)
	}
}

func TestLoadZoneRefusesGarbage(t *testing.T) {
	for _, bad := range []string{"", "Local", "Mars/Olympus_Mons", "../../etc/passwd", "Europe/Budapest\x00", strings.Repeat("A", 65), "<script>"} {
		if l := loadZone(bad); l != nil {
			t.Errorf("loadZone(%q) = %v", bad, l)
		}
	}
	if l := loadZone("America/New_York"); l == nil || l.String() != "America/New_York" {
		t.Errorf("America/New_York: %v", l)
	}
}

// TestPagesInCookieZone: the zone the browser's script stored renders the
// next pages' times; a zone Go does not know leaves them in UTC, named.
func TestPagesInCookieZone(t *testing.T) {
	h := newHarness(t, Config{}, false)
	h.user("alice")
	b := h.loggedIn("alice", h.dscCard("alice"))
	u, _ := url.Parse(h.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieTZ, Value: "Asia/Tokyo", Path: "/"}})
	// The harness's clock says 2026-11-02 15:00 UTC: midnight in Tokyo.
	if p := b.get("/settings/sessions"); !strings.Contains(p.body, "3 Nov 2026 00:00 JST") || !strings.Contains(p.body, `data-tz="Asia/Tokyo"`) ||
		!strings.Contains(p.body, "(just now)") {
		t.Errorf("Tokyo:\n%s", p.body)
	}
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieTZ, Value: "Nowhere/Atlantis", Path: "/"}})
	if p := b.get("/settings/sessions"); !strings.Contains(p.body, "2 Nov 2026 15:00 UTC") || strings.Contains(p.body, "Atlantis") {
		t.Errorf("a bad zone:\n%s", p.body)
	}
	if p := b.get("/"); !strings.Contains(p.body, `<script src="/static/localtime.js" defer></script>`) {
		t.Errorf("no local-time script:\n%s", p.body)
	}
	if js := b.get("/static/localtime.js"); js.status != http.StatusOK || !strings.Contains(js.body, "RelativeTimeFormat") {
		t.Errorf("localtime.js: %d", js.status)
	}
}
