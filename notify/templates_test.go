package notify

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// sampleData returns data for every field of k, each value distinct so that
// a test can see which ones reached the text.
func sampleData(k Kind) map[string]string {
	d := make(map[string]string)
	for _, f := range kindSpecs[k].fields {
		switch f.typ {
		case fCode:
			d[f.name] = "481516"
		case fNumber:
			d[f.name] = "42"
		case fDevice:
			d[f.name] = "dscplus"
		default:
			// As long as a formatted date and time ("2026. márc. 1. 14:05 UTC").
			d[f.name] = (f.name + "-xxxxxxxxxxxxxxxxxxxxxxxx")[:24]
		}
	}
	return d
}

func TestRenderEveryKindEveryLanguage(t *testing.T) {
	for _, lang := range Languages() {
		for _, k := range AllKinds {
			if !HasTemplate(k, lang) {
				t.Errorf("%s has no text for %s", lang, k)
				continue
			}
			data := sampleData(k)
			subject, body, err := Render(k, lang, data)
			if err != nil {
				t.Errorf("%s/%s: %v", lang, k, err)
				continue
			}
			all := subject + "\n" + body
			if strings.Contains(all, "<no value>") || strings.Contains(all, "{{") || subject == "" || body == "" {
				t.Errorf("%s/%s: bad output %q", lang, k, all)
			}
			if strings.ContainsAny(subject, "\r\n") {
				t.Errorf("%s/%s: multi-line subject", lang, k)
			}
			for name, v := range data {
				want := v
				switch {
				case name == "Code" && k == KindLoginCodeVoice:
					want = "4, 8, 1, 5, 1, 6"
				case name == "Device":
					want = deviceNames[lang]["dscplus"]
				}
				if !strings.Contains(body, want) {
					t.Errorf("%s/%s: body lacks %s=%q: %q", lang, k, name, want, body)
				}
			}
			for _, brand := range []string{"IBKR", "Interactive Brokers"} {
				if strings.Contains(all, brand) {
					t.Errorf("%s/%s mentions %q", lang, k, brand)
				}
			}
			if !strings.Contains(all, "SLS") && !strings.Contains(all, "IB Key") && k.Transactional() {
				t.Errorf("%s/%s: code message does not say who sends it", lang, k)
			}
			// Every SMS-capable text must stay affordable; codes in at most
			// two parts, notices in at most four.
			limit := 4
			if k.Transactional() {
				limit = 2
			}
			if n, _ := SMSSegments(body); n > limit {
				t.Errorf("%s/%s: %d SMS segments (%d chars)", lang, k, n, utf8.RuneCountInString(body))
			}
		}
	}
}

func TestEnglishCodeSMSFitsOneSegment(t *testing.T) {
	for _, k := range []Kind{KindLoginCodeSMS, KindPhoneVerifyCode, KindIBKeyActivationCode} {
		_, body, err := Render(k, "en", map[string]string{"Code": "12345678"})
		if err != nil {
			t.Fatal(err)
		}
		n, gsm := SMSSegments(body)
		if n != 1 || !gsm || len(body) > 160 {
			t.Errorf("%s: %d segments, gsm=%v, %d chars: %q", k, n, gsm, len(body), body)
		}
	}
	_, body, _ := Render(KindLoginCodeSMS, "en", map[string]string{"Code": "123456"})
	if !strings.Contains(strings.ToLower(body), "never share") {
		t.Errorf("login code SMS must say never to share it: %q", body)
	}
}

func TestRenderLanguageChoice(t *testing.T) {
	data := map[string]string{"Code": "123456"}
	for lang, want := range map[string]string{
		"hu-HU": "kódja", "es-ES": "código", "zh-CN": "安全码", "zh": "安全码", "en-GB": "security code",
		"de-DE": "security code", "": "security code", "zh-TW": "security code",
	} {
		_, body, err := Render(KindLoginCodeSMS, lang, data)
		if err != nil || !strings.Contains(body, want) {
			t.Errorf("Render(%q) = %q, %v; want it to contain %q", lang, body, err, want)
		}
	}
}

func TestRenderFallsBackForMissingText(t *testing.T) {
	saved := parsed[LangHungarian][KindPushFlood]
	delete(parsed[LangHungarian], KindPushFlood)
	defer func() { parsed[LangHungarian][KindPushFlood] = saved }()

	if HasTemplate(KindPushFlood, "hu") || TemplateLang(KindPushFlood, "hu-HU") != LangEnglish {
		t.Fatal("missing Hungarian text not detected")
	}
	_, body, err := Render(KindPushFlood, "hu", sampleData(KindPushFlood))
	if err != nil || !strings.Contains(body, "login requests") {
		t.Fatalf("fallback: %q, %v", body, err)
	}
	p := Preferences{PrimaryLang: "hu", SecondaryLang: "es"}
	if p.Lang(KindPushFlood) != LangSpanish || p.Lang(KindNewLogin) != LangHungarian {
		t.Fatalf("Preferences.Lang: %s %s", p.Lang(KindPushFlood), p.Lang(KindNewLogin))
	}
}

func TestRenderRejectsBadData(t *testing.T) {
	cases := []struct {
		kind Kind
		data map[string]string
	}{
		{"no_such_kind", map[string]string{}},
		{KindLoginCodeSMS, map[string]string{}},
		{KindLoginCodeSMS, map[string]string{"code": "123456"}},
		{KindLoginCodeSMS, map[string]string{"Code": "123456", "Extra": "x"}},
		{KindLoginCodeSMS, map[string]string{"Code": "12 34 56"}},
		{KindLoginCodeSMS, map[string]string{"Code": "123"}},
		{KindLoginCodeSMS, map[string]string{"Code": "12345\n6"}},
		{KindNewLogin, map[string]string{"Platform": "", "Address": "a", "Time": "t"}},
		{KindNewLogin, map[string]string{"Platform": "\t\n", "Address": "a", "Time": "t"}},
		{KindPushFlood, map[string]string{"Count": "many", "Since": "x"}},
		{KindPushFlood, map[string]string{"Count": "5", "Since": "\xff"}},
	}
	for _, c := range cases {
		if s, b, err := Render(c.kind, "en", c.data); err == nil {
			t.Errorf("Render(%s, %v) = %q %q, want error", c.kind, c.data, s, b)
		}
	}
}

func TestRenderCleansOutsideText(t *testing.T) {
	ua := "Evil\r\nBrowser\u202e" + strings.Repeat("x", 200)
	_, body, err := Render(KindNewLogin, "en", map[string]string{
		"Platform": ua, "Address": "203.0.113.7", "Time": "1 Mar 2026 14:05 UTC",
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(body, "\r\n\u202e") || !strings.Contains(body, "Evil Browser") || !strings.Contains(body, "...") {
		t.Errorf("platform not cleaned: %q", body)
	}
	if strings.Contains(body, strings.Repeat("x", maxText)) {
		t.Errorf("platform not shortened: %q", body)
	}
	// Unknown device kinds are shown as given.
	_, body, _ = Render(KindDeviceDelivered, "es", map[string]string{"Device": "YubiKey 5"})
	if !strings.Contains(body, "(YubiKey 5)") {
		t.Errorf("free-text device: %q", body)
	}
}

func TestNewMessage(t *testing.T) {
	m, err := NewMessage("otp-1", ChannelSMS, "+36201234567", KindLoginCodeSMS, "hu-HU", map[string]string{"Code": "424242"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Lang != LangHungarian || m.Kind != KindLoginCodeSMS || !strings.Contains(m.Body, "424242") {
		t.Fatalf("%+v", m)
	}
	if _, err := NewMessage("otp-2", ChannelSMS, "06201234567", KindLoginCodeSMS, "hu", map[string]string{"Code": "424242"}); err == nil {
		t.Fatal("invalid recipient accepted")
	}
	m, _ = NewMessage("n", ChannelEmail, "a@example.com", KindNewLogin, "pt-BR", sampleData(KindNewLogin))
	if m.Lang != LangEnglish {
		t.Fatalf("lang = %q", m.Lang)
	}
}

// ExampleRender shows a login code SMS in Hungarian.
func ExampleRender() {
	_, body, _ := Render(KindLoginCodeSMS, "hu-HU", map[string]string{"Code": "481516"})
	fmt.Println(body)
	// Output: SLS: az Ön biztonsági kódja 481516. Soha ne adja meg senkinek; az SLS munkatársai soha nem kérik el.
}

func FuzzRender(f *testing.F) {
	f.Add("en", "Chrome on Windows", "203.0.113.7", "1 Mar 2026 14:05 UTC")
	f.Add("hu-HU", "Evil\r\nBrowser\u202e", "::1", "")
	f.Add("zh_CN", strings.Repeat("长", 300), "\x00", "\xff")
	f.Fuzz(func(t *testing.T, lang, platform, address, when string) {
		subject, body, err := Render(KindNewLogin, lang, map[string]string{"Platform": platform, "Address": address, "Time": when})
		if err != nil {
			return
		}
		for _, s := range []string{subject, body} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00\u202e") || strings.Contains(s, "<no value>") {
				t.Fatalf("bad output %q", s)
			}
		}
		if utf8.RuneCountInString(body) > 600 {
			t.Fatalf("body of %d runes", utf8.RuneCountInString(body))
		}
	})
}
