package portal

import (
	"embed"
	"fmt"
	"maps"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/catalog"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/protect"
)

// texts holds the pages' words by language and key, read from the
// catalogs translators edit (locales/active.<lang>.toml, see
// docs/translations.md). English is complete; TestTranslationsComplete
// checks the others have every key with the same placeholders. The files
// are embedded, so a file that does not load is a bug of this build,
// caught by the tests: hence the panic.
var texts = func() catalog.Catalog {
	c, err := catalog.Load(localeFS, "locales")
	if err != nil {
		panic(err)
	}
	for _, l := range notify.Languages() {
		if _, ok := c[l]; !ok {
			panic(fmt.Sprintf("portal: no catalog for %s", l))
		}
	}
	return c
}()

//go:embed locales/active.*.toml
var localeFS embed.FS

// textsEN is the English catalog, the fallback for a missing key.
var textsEN = texts[notify.LangEnglish]

// Override replaces wording with the catalogs in dir (active.<lang>.toml,
// in the format of locales/): an operator's wording without a rebuild.
// Every language must be one the portal has, every key one English has,
// with English's formatting verbs. Nothing changes unless all of dir is
// right. It changes the pages of the whole process: call it once, before
// serving.
func Override(dir string) error {
	c, err := catalog.Load(os.DirFS(dir), ".")
	if err != nil {
		return fmt.Errorf("portal: translations in %s: %w", dir, err)
	}
	for lang, msgs := range c {
		if _, ok := texts[lang]; !ok {
			return fmt.Errorf("portal: translations in %s: %s is not a supported language", dir, lang)
		}
		for k, s := range msgs {
			en, ok := textsEN[k]
			if !ok {
				return fmt.Errorf("portal: translations in %s: %s: %q is not a key of the pages", dir, lang, k)
			}
			if Verbs(s) != Verbs(en) {
				return fmt.Errorf("portal: translations in %s: %s: %q must use the formatting verbs %q", dir, lang, k, Verbs(en))
			}
		}
	}
	for lang, msgs := range c {
		maps.Copy(texts[lang], msgs)
	}
	return nil
}

var verbRE = regexp.MustCompile(`%(?:\[\d+\])?[-+# 0]*[0-9.]*[a-zA-Z%]`)

// Verbs lists the formatting verbs of s without argument indexes, sorted:
// a translation may reorder the arguments with %[2]s, but must fill the
// same ones.
func Verbs(s string) string {
	vs := verbRE.FindAllString(s, -1)
	for i, v := range vs {
		if j := strings.Index(v, "]"); j > 0 {
			vs[i] = "%" + v[j+1:]
		}
	}
	sort.Strings(vs)
	return strings.Join(vs, " ")
}

// langNames are the names of the languages in themselves (for the switch).
var langNames = map[string]string{
	notify.LangEnglish:   "English",
	notify.LangSpanish:   "Español",
	notify.LangChinese:   "简体中文",
	notify.LangHungarian: "Magyar",
}

// chooseLang picks the page language: the language switch's choice in this
// browser, else the logged-in client's message-center language, else the
// browser's Accept-Language, else the configured default.
func (p *Portal) chooseLang(q *req) string {
	if l, ok := notify.MatchLang(q.cookie(cookieLang)); ok {
		return l
	}
	if q.u != nil {
		if p.d.Prefs != nil {
			if pr, err := p.d.Prefs.Get(q.r.Context(), q.u); err == nil {
				if l, ok := notify.MatchLang(pr.PrimaryLang); ok {
					return l
				}
			}
		} else if l, ok := notify.MatchLang(q.u.Lang); ok {
			return l
		}
	}
	if l, ok := acceptLanguage(q.r.Header.Get("Accept-Language")); ok {
		return l
	}
	l, _ := notify.MatchLang(p.cfg.DefaultLang)
	return l
}

// acceptLanguage returns the supported language the browser prefers most
// (RFC 9110 §12.5.4: comma-separated tags with optional q weights; q=0
// means "not acceptable"). Garbage is skipped, never an error.
func acceptLanguage(h string) (string, bool) {
	if len(h) > 1024 {
		h = h[:1024]
	}
	type cand struct {
		lang string
		q    float64
		pos  int
	}
	var cs []cand
	for i, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		weight := 1.0
		for _, prm := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(prm), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				weight = f
			}
		}
		if weight <= 0 {
			continue
		}
		if l, ok := notify.MatchLang(strings.TrimSpace(tag)); ok {
			cs = append(cs, cand{l, weight, i})
		}
	}
	if len(cs) == 0 {
		return "", false
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].q > cs[j].q })
	return cs[0].lang, true
}

// t translates key in the request's language.
func (q *req) t(key string, args ...any) string { return q.p.brand.translate(q.lang, key, args...) }

// translate is the catalog's text without the brand's names: for telling
// whether a key exists. Pages use q.t and v.T.
func translate(lang, key string, args ...any) string {
	s, ok := texts[lang][key]
	if !ok {
		if s, ok = textsEN[key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// setLang is the language switch: POST /lang with lang=hu.
func (p *Portal) setLang(q *req) {
	if l, ok := notify.MatchLang(q.r.PostFormValue("lang")); ok {
		q.setCookie(cookieLang, l, 365*24*3600)
	}
	back := q.r.PostFormValue("back")
	if !safeLocalPath(back) {
		back = "/"
	}
	q.redirect(back)
}

// safeLocalPath accepts only a path on this site ("/x"), never "//host" or
// "/\host" which browsers treat as another site (open redirect).
func safeLocalPath(s string) bool {
	return strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") && !strings.HasPrefix(s, "/\\") &&
		len(s) < 200 && !strings.ContainsAny(s, "\r\n\t")
}

// Formatting helpers, available to templates as methods of the view.

func (v *view) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return notify.FormatDate(t.UTC(), v.Lang)
}

// Device is the localised name of a device kind.
func (v *view) Device(k sls.DeviceKind) string { return v.T("device." + string(k)) }

// State is the localised name of a device state.
func (v *view) State(s sls.DeviceState) string { return v.T("state." + string(s)) }

// Money writes minor units of currency as people of the page's language
// write amounts ("USD 1,000,000.00", "1.000.000,00 USD").
func (v *view) Money(currency string, minor int64) string {
	return formatMoney(v.Lang, currency, minor)
}

// USD writes US cents.
func (v *view) USD(cents int64) string { return formatMoney(v.Lang, "USD", cents) }

// Limit writes a limit in US cents, or "Unlimited" for none.
func (v *view) Limit(cents *int64) string {
	if cents == nil {
		return v.T("withdraw.unlimited")
	}
	return formatMoney(v.Lang, "USD", *cents)
}

// Day writes a "YYYY-MM-DD" date in the page's language.
func (v *view) Day(s string) string {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return s
	}
	return notify.FormatDate(t, v.Lang)
}

func formatMoney(lang, currency string, minor int64) string {
	if currency != "USD" {
		// Currencies have their own number of decimals (ISO 4217).
		return protect.FormatAmount(currency, minor) + "\u00a0" + currency
	}
	neg := minor < 0
	if neg {
		minor = -minor
	}
	whole, frac := minor/100, minor%100
	group, dec := ",", "."
	switch lang {
	case notify.LangSpanish:
		group, dec = ".", ","
	case notify.LangHungarian:
		group, dec = "\u00a0", ","
	}
	digits := strconv.FormatInt(whole, 10)
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	num := fmt.Sprintf("%s%s%02d", b.String(), dec, frac)
	if neg {
		num = "-" + num
	}
	switch lang {
	case notify.LangSpanish, notify.LangHungarian:
		return num + "\u00a0" + currency
	}
	return currency + "\u00a0" + num
}

// langOptions lists the languages for the switch and the preferences.
func langOptions(current string) []langOption {
	var out []langOption
	for _, l := range notify.Languages() {
		out = append(out, langOption{Tag: l, Name: langNames[l], Selected: l == current})
	}
	return out
}

type langOption struct {
	Tag, Name string
	Selected  bool
}
