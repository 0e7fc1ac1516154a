package notify

import (
	"strings"
	"testing"
)

// TestBrandingFillsNotices: the configured names reach subjects, bodies and
// device names; a name is data, never template source.
func TestBrandingFillsNotices(t *testing.T) {
	t.Cleanup(func() { SetBranding(Branding{}) })
	subject, body, err := Render(KindIBKeyActivationCode, LangEnglish, map[string]string{"Code": "123456"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(subject, DefaultBranding.Key) || !strings.Contains(body, DefaultBranding.Key) {
		t.Errorf("defaults: %q / %q", subject, body)
	}
	SetBranding(Branding{Key: `Acme {{.Code}} Key`, Product: "Acme Portal"})
	for _, lang := range Languages() {
		subject, body, err := Render(KindIBKeyActivationCode, lang, map[string]string{"Code": "123456"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(subject+body, "Acme {{.Code}} Key") || strings.Contains(subject+body, "{key}") {
			t.Errorf("%s: %q / %q", lang, subject, body)
		}
		if n := deviceName("ibkey", lang); n != "Acme {{.Code}} Key" {
			t.Errorf("%s: device name %q", lang, n)
		}
	}
}
