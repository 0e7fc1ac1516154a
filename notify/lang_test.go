package notify

import (
	"testing"
	"time"
)

func TestMatchLang(t *testing.T) {
	cases := map[string]string{
		"en": LangEnglish, "EN-us": LangEnglish, "en_GB": LangEnglish,
		"es": LangSpanish, "es-ES": LangSpanish, "es-419": LangSpanish,
		"hu": LangHungarian, "hu-HU": LangHungarian, " hu_hu ": LangHungarian,
		"zh": LangChinese, "zh-CN": LangChinese, "zh-Hans": LangChinese, "zh-Hans-HK": LangChinese, "zh-SG": LangChinese,
		"zh-TW": "", "zh-Hant": "", "zh-HK": "", "zh-Hant-TW": "",
		"de": "", "": "", "english": "", "en--US": "", "en-US-": "", "hu-HU\n": LangHungarian, "en;q=0.9": "", "e\xffn": "",
	}
	for in, want := range cases {
		got, ok := MatchLang(in)
		if got != want || ok != (want != "") {
			t.Errorf("MatchLang(%q) = %q,%v; want %q", in, got, ok, want)
		}
	}
}

func FuzzMatchLang(f *testing.F) {
	for _, s := range []string{"en", "hu-HU", "zh-Hant-TW", "zh_cn", "", "-", "x-private", "es-419"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := MatchLang(s)
		if ok != (l != "") {
			t.Fatalf("MatchLang(%q) = %q,%v", s, l, ok)
		}
		if ok {
			if l2, ok2 := MatchLang(l); !ok2 || l2 != l {
				t.Fatalf("canonical %q does not match itself", l)
			}
		}
	})
}

func TestFormatTime(t *testing.T) {
	at := time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC)
	cases := map[string]string{
		"en":    "1 Mar 2026 14:05 UTC",
		"es-ES": "1 mar 2026 14:05 UTC",
		"zh-CN": "2026年3月1日 14:05 UTC",
		"hu":    "2026. márc. 1. 14:05 UTC",
		"xx":    "1 Mar 2026 14:05 UTC",
	}
	for lang, want := range cases {
		if got := FormatTime(at, lang); got != want {
			t.Errorf("FormatTime(%s) = %q, want %q", lang, got, want)
		}
	}
}
