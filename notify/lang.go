package notify

import (
	"fmt"
	"strings"
	"time"
)

// Languages with templates, as canonical tags. They are the languages of the
// articles the product is modelled on.
const (
	LangEnglish   = "en"
	LangSpanish   = "es"
	LangChinese   = "zh-Hans" // simplified Chinese
	LangHungarian = "hu"
)

// Languages returns the canonical tags of all supported languages, English
// (the fallback) first.
func Languages() []string {
	return []string{LangEnglish, LangSpanish, LangChinese, LangHungarian}
}

// MatchLang maps a BCP 47 tag as clients send it ("hu", "hu-HU", "es_ES",
// "zh-CN", "zh-Hans-SG", "EN-us") to a supported canonical tag. Chinese
// matches only in simplified script: zh-Hant, zh-TW, zh-HK and zh-MO do not
// match (reading simplified text is not what those users asked for), and
// the caller falls back to the next language. Malformed tags do not match.
func MatchLang(tag string) (string, bool) {
	tag = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	if tag == "" || len(tag) > 64 {
		return "", false
	}
	sub := strings.Split(tag, "-")
	for _, s := range sub {
		if len(s) < 1 || len(s) > 8 {
			return "", false
		}
		for i := 0; i < len(s); i++ {
			if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
				return "", false
			}
		}
	}
	switch sub[0] {
	case "en":
		return LangEnglish, true
	case "es":
		return LangSpanish, true
	case "hu":
		return LangHungarian, true
	case "zh":
		// An explicit script wins over the region: zh-Hans-HK is simplified.
		switch {
		case contains(sub[1:], "hans"):
			return LangChinese, true
		case contains(sub[1:], "hant"), contains(sub[1:], "tw"), contains(sub[1:], "hk"), contains(sub[1:], "mo"):
			return "", false
		}
		return LangChinese, true
	}
	return "", false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// matchOrEnglish returns the canonical form of lang, or English.
func matchOrEnglish(lang string) string {
	if l, ok := MatchLang(lang); ok {
		return l
	}
	return LangEnglish
}

var monthNames = map[string][12]string{
	LangEnglish:   {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	LangSpanish:   {"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"},
	LangHungarian: {"jan.", "febr.", "márc.", "ápr.", "máj.", "jún.", "júl.", "aug.", "szept.", "okt.", "nov.", "dec."},
}

// FormatDate writes the calendar date of t as people write it in lang
// ("1 Mar 2026", "1 mar 2026", "2026年3月1日", "2026. márc. 1."). Months are
// spelled out so that day and month cannot be swapped by the reader.
func FormatDate(t time.Time, lang string) string {
	l := matchOrEnglish(lang)
	y, mo, d := t.Date()
	switch l {
	case LangChinese:
		return fmt.Sprintf("%d年%d月%d日", y, int(mo), d)
	case LangHungarian:
		return fmt.Sprintf("%d. %s %d.", y, monthNames[l][mo-1], d)
	default:
		return fmt.Sprintf("%d %s %d", d, monthNames[l][mo-1], y)
	}
}

// FormatTime writes date, 24-hour time and zone of t in lang
// ("1 Mar 2026 14:05 UTC"). Convert t to the user's zone first.
func FormatTime(t time.Time, lang string) string {
	return FormatDate(t, lang) + " " + t.Format("15:04 MST")
}
