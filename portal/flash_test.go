package portal

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// flashCookie is the flash a redirect set, decoded ("" when none).
func flashCookie(t *testing.T, p *page) (raw, payload string) {
	t.Helper()
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if strings.HasSuffix(c.Name, cookieFlash) && c.Value != "" {
			enc, _, _ := strings.Cut(c.Value, ".")
			b, err := base64.RawURLEncoding.DecodeString(enc)
			if err != nil {
				t.Fatalf("flash cookie: %v", err)
			}
			return c.Value, string(b)
		}
	}
	return "", ""
}

// A refused form redirects; the page shows the refusal once, with the
// values typed but never the password.
func TestFlashAfterWrongPassword(t *testing.T) {
	h := newHarness(t, Config{}, false)
	h.user("alice")
	b := h.browser()
	b.get("/login")
	p := b.post("/login", url.Values{"username": {"alice"}, "password": {"not-the-password-42"}})
	if p.status != http.StatusSeeOther || p.loc != "/login" {
		t.Fatalf("wrong password: %d %s", p.status, p.loc)
	}
	raw, payload := flashCookie(t, p)
	if raw == "" || strings.Contains(payload, "not-the-password-42") || !strings.Contains(payload, "alice") {
		t.Fatalf("flash: %q", payload)
	}
	pg := b.get("/login")
	if pg.status != http.StatusUnauthorized || !strings.Contains(pg.body, `id="page-error"`) || !strings.Contains(pg.body, `value="alice"`) {
		t.Fatalf("the page after the redirect: %d\n%s", pg.status, pg.body)
	}
	if again := b.get("/login"); again.status != http.StatusOK || strings.Contains(again.body, `id="page-error"`) {
		t.Fatalf("a reload shows the refusal again: %d", again.status)
	}

	// The flash is this browser's: carried to another one, it is ignored.
	other := h.browser()
	other.get("/login")
	u, _ := url.Parse(h.srv.URL)
	other.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieFlash, Value: raw, Path: "/"}})
	if pg := other.get("/login"); strings.Contains(pg.body, `id="page-error"`) {
		t.Fatalf("another browser's flash was shown:\n%s", pg.body)
	}
	// A tampered flash is ignored.
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: cookieFlash, Value: strings.Replace(raw, ".", "x.", 1), Path: "/"}})
	if pg := b.get("/login"); strings.Contains(pg.body, `id="page-error"`) {
		t.Fatalf("a tampered flash was shown:\n%s", pg.body)
	}
	// A flash is for its own page only.
	b.post("/login", url.Values{"username": {"alice"}, "password": {"wrong"}})
	if pg := b.get("/reset"); strings.Contains(pg.body, `id="page-error"`) {
		t.Fatalf("the login's flash showed on another page:\n%s", pg.body)
	}
}

func TestSecretFieldsNeverFlash(t *testing.T) {
	for _, f := range []string{"password", "new_password", "pin", "pin_again", "response", "value1", "value2", "code", "csrf", "draft", "answer"} {
		if !secretField(f) {
			t.Errorf("%s may travel in a flash", f)
		}
	}
	for _, f := range []string{"username", "amount", "currency", "address", "device_id"} {
		if secretField(f) {
			t.Errorf("%s is refused", f)
		}
	}
}
