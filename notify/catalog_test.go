package notify

import (
	"slices"
	"testing"

	"github.com/secure-login-system/sls/catalog"
)

// TestTranslationsKeepPlaceholders: every translation of a kind's subject
// and body uses exactly the placeholders English uses (a lost {{.Code}}
// is a code never sent; an extra one fails at send time), and English
// has every kind.
func TestTranslationsKeepPlaceholders(t *testing.T) {
	en := catalogs[LangEnglish]
	for _, k := range AllKinds {
		if _, ok := en[k]; !ok {
			t.Errorf("English has no text for %s", k)
		}
	}
	for _, lang := range Languages() {
		tr, ok := catalogs[lang]
		if !ok {
			t.Errorf("no catalog for %s", lang)
			continue
		}
		for d := range deviceNames[LangEnglish] {
			if deviceNames[lang][d] == "" {
				t.Errorf("%s has no name for the device kind %s", lang, d)
			}
		}
		for k, x := range tr {
			e := en[k]
			if got, want := Placeholders(x.subject), Placeholders(e.subject); !slices.Equal(got, want) {
				t.Errorf("%s %s.subject: placeholders %v, English %v", lang, k, got, want)
			}
			if got, want := Placeholders(x.body), Placeholders(e.body); !slices.Equal(got, want) {
				t.Errorf("%s %s.body: placeholders %v, English %v", lang, k, got, want)
			}
		}
	}
}

// TestKindTextsRefuses: a catalog message that names no kind, or a kind
// with half its text, is refused with the language and the id.
func TestKindTextsRefuses(t *testing.T) {
	good := map[string]string{"login_code_sms.subject": "s", "login_code_sms.body": "b"}
	for name, c := range map[string]catalog.Catalog{
		"unknown kind": {"en": {"login_code_sms.subject": "s", "login_code_sms.body": "b", "no_such_kind.body": "x"}},
		"bad part":     {"en": {"login_code_sms.subject": "s", "login_code_sms.body": "b", "login_code_sms.title": "x"}},
		"half":         {"en": {"login_code_sms.subject": "s"}},
		"bad device":   {"en": {"login_code_sms.subject": "s", "login_code_sms.body": "b", "device.toaster": "x"}},
	} {
		if _, _, err := kindTexts(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, err := kindTexts(catalog.Catalog{"en": good}); err != nil {
		t.Errorf("good catalog: %v", err)
	}
}
