package notify

import (
	"embed"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/template"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/catalog"
)

// text is one message in one language before rendering.
type text struct {
	subject string
	body    string
}

// catalogs holds the texts of every language, keyed by canonical tag,
// read from the catalogs translators edit (locales/active.<lang>.toml,
// message ids "<kind>.subject" and "<kind>.body"; docs/translations.md).
// A language may lack a kind: it is then sent in English.
//
// deviceNames are the names of the device kinds in each language (ids
// "device.<kind>"), as {{device .Device}} writes them.
var catalogs, deviceNames = func() (map[string]map[Kind]text, map[string]map[sls.DeviceKind]string) {
	c, err := catalog.Load(localeFS, "locales")
	if err != nil {
		panic(err) // embedded: a bug of this build, caught by the tests
	}
	texts, devices, err := kindTexts(c)
	if err == nil && texts[LangEnglish] == nil {
		err = fmt.Errorf("notify: no English catalog")
	}
	if err != nil {
		panic(err)
	}
	return texts, devices
}()

//go:embed locales/active.*.toml
var localeFS embed.FS

// kindTexts groups a catalog's messages by kind, and the device names by
// device kind. Every other message must be the subject or body of a known
// kind, and a kind must have both.
func kindTexts(c catalog.Catalog) (map[string]map[Kind]text, map[string]map[sls.DeviceKind]string, error) {
	out := make(map[string]map[Kind]text, len(c))
	devices := make(map[string]map[sls.DeviceKind]string, len(c))
	for lang, msgs := range c {
		texts := make(map[Kind]text)
		devices[lang] = make(map[sls.DeviceKind]string)
		for id, s := range msgs {
			kind, part, _ := strings.Cut(id, ".")
			if kind == "device" {
				if !sls.DeviceKind(part).Valid() {
					return nil, nil, fmt.Errorf("notify: catalog %s: %q is not a device kind", lang, id)
				}
				devices[lang][sls.DeviceKind(part)] = s
				continue
			}
			if !Kind(kind).Valid() {
				return nil, nil, fmt.Errorf("notify: catalog %s: %q is not a kind of message", lang, id)
			}
			t := texts[Kind(kind)]
			switch part {
			case "subject":
				t.subject = s
			case "body":
				t.body = s
			default:
				return nil, nil, fmt.Errorf("notify: catalog %s: %q must end in .subject or .body", lang, id)
			}
			texts[Kind(kind)] = t
		}
		for k, t := range texts {
			if t.subject == "" || t.body == "" {
				return nil, nil, fmt.Errorf("notify: catalog %s: %s needs both a subject and a body", lang, k)
			}
		}
		out[lang] = texts
	}
	return out, devices, nil
}

type compiled struct {
	subject *template.Template
	body    *template.Template
}

// parsed holds the compiled templates of catalogs. A template that does
// not parse is a bug in this package, caught by the tests, hence the
// panic; Override compiles before it replaces anything.
var parsed = func() map[string]map[Kind]compiled {
	out, err := compile(catalogs)
	if err != nil {
		panic(err)
	}
	return out
}()

func compile(c map[string]map[Kind]text) (map[string]map[Kind]compiled, error) {
	out := make(map[string]map[Kind]compiled, len(c))
	for lang, texts := range c {
		funcs := template.FuncMap{
			"digits": spellDigits,
			"device": func(d string) string { return deviceName(d, lang) },
			"brand":  brandName,
		}
		out[lang] = make(map[Kind]compiled, len(texts))
		for k, t := range texts {
			name := lang + "/" + string(k)
			subject, err := template.New(name + "/subject").Option("missingkey=error").Funcs(funcs).Parse(brandActions.Replace(t.subject))
			if err != nil {
				return nil, fmt.Errorf("notify: %w", err)
			}
			body, err := template.New(name + "/body").Option("missingkey=error").Funcs(funcs).Parse(brandActions.Replace(t.body))
			if err != nil {
				return nil, fmt.Errorf("notify: %w", err)
			}
			out[lang][k] = compiled{subject: subject, body: body}
		}
	}
	return out, nil
}

// Override replaces texts with those of the catalogs in dir
// (active.<lang>.toml, in the format of locales/): an operator's wording
// without a rebuild. Every language must be one of Languages, every
// message a kind's subject or body (or a device name), with exactly the
// placeholders of the English text it replaces. Nothing changes unless
// all of dir is right. It changes the texts of the whole process: call it
// once, before anything is sent.
func Override(dir string) error {
	c, err := catalog.Load(os.DirFS(dir), ".")
	if err != nil {
		return fmt.Errorf("notify: translations in %s: %w", dir, err)
	}
	texts, devices, err := kindTexts(c)
	if err != nil {
		return fmt.Errorf("notify: translations in %s: %w", dir, err)
	}
	merged := make(map[string]map[Kind]text, len(catalogs))
	for lang, ts := range catalogs {
		merged[lang] = maps.Clone(ts)
	}
	for lang, ts := range texts {
		if !slices.Contains(Languages(), lang) {
			return fmt.Errorf("notify: translations in %s: %s is not a supported language", dir, lang)
		}
		for k, t := range ts {
			en := catalogs[LangEnglish][k]
			if !slices.Equal(Placeholders(t.subject), Placeholders(en.subject)) || !slices.Equal(Placeholders(t.body), Placeholders(en.body)) {
				return fmt.Errorf("notify: translations in %s: %s of %s must use exactly the placeholders %v and %v", dir, lang, k,
					Placeholders(en.subject), Placeholders(en.body))
			}
			merged[lang][k] = t
		}
	}
	compiled, err := compile(merged)
	if err != nil {
		return fmt.Errorf("notify: translations in %s: %w", dir, err)
	}
	for lang, names := range devices {
		for d, n := range names {
			deviceNames[lang][d] = n
		}
	}
	catalogs, parsed = merged, compiled
	return nil
}

var placeholderRE = regexp.MustCompile(`\{\{[^}]*\}\}`)

// Placeholders lists the {{…}} actions of a text, spaces normalised,
// sorted and without repeats: a translation must keep exactly those of
// the English text.
func Placeholders(s string) []string {
	a := placeholderRE.FindAllString(s, -1)
	for i := range a {
		a[i] = strings.Join(strings.Fields(a[i]), " ")
	}
	slices.Sort(a)
	return slices.Compact(a)
}

// HasTemplate reports whether lang (any form MatchLang accepts) has its own
// text for kind, without falling back to English.
func HasTemplate(kind Kind, lang string) bool {
	l, ok := MatchLang(lang)
	if !ok {
		return false
	}
	_, ok = parsed[l][kind]
	return ok
}

// TemplateLang returns the canonical language Render uses for kind and lang:
// lang itself when it has the text, English otherwise.
func TemplateLang(kind Kind, lang string) string {
	if l, ok := MatchLang(lang); ok {
		if _, ok := parsed[l][kind]; ok {
			return l
		}
	}
	return LangEnglish
}

// Render writes the subject and body of kind in lang, falling back to
// English when lang is unknown or has no text for kind. data must hold
// exactly the kind's Fields (all required, none extra); values are cleaned
// (one line, length-capped) before they are placed. The subject is for
// email and push; SMS and voice send the body only.
func Render(kind Kind, lang string, data map[string]string) (subject, body string, err error) {
	clean, err := cleanData(kind, data)
	if err != nil {
		return "", "", fmt.Errorf("notify: render %s: %w", kind, err)
	}
	l := TemplateLang(kind, lang)
	c, ok := parsed[l][kind]
	if !ok {
		return "", "", fmt.Errorf("notify: render %s: no template", kind)
	}
	var sb, bb strings.Builder
	if err := c.subject.Execute(&sb, clean); err != nil {
		return "", "", fmt.Errorf("notify: render %s subject: %w", kind, err)
	}
	if err := c.body.Execute(&bb, clean); err != nil {
		return "", "", fmt.Errorf("notify: render %s body: %w", kind, err)
	}
	subject, body = strings.TrimSpace(sb.String()), strings.TrimSpace(bb.String())
	if link, ok := clean[ReportURL]; ok {
		body += "\n\n" + reportLine(l) + " " + link
	}
	if strings.Contains(subject+body, "<no value>") {
		return "", "", fmt.Errorf("notify: render %s: unfilled placeholder", kind)
	}
	return subject, body, nil
}

// NewMessage renders kind for lang and returns a message ready to queue,
// with Lang set to the language actually used.
func NewMessage(id string, ch Channel, to string, kind Kind, lang string, data map[string]string) (Message, error) {
	subject, body, err := Render(kind, lang, data)
	if err != nil {
		return Message{}, err
	}
	m := Message{ID: id, Channel: ch, To: to, Subject: subject, Body: body, Lang: TemplateLang(kind, lang), Kind: kind}
	if err := m.Validate(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// spellDigits separates the characters of a code with ", " so that a speech
// engine reads "4, 8, 1" rather than "four hundred eighty-one", and pauses
// between them.
func spellDigits(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteRune(r)
	}
	return b.String()
}

func deviceName(d, lang string) string {
	if n, ok := deviceNames[lang][sls.DeviceKind(d)]; ok {
		return fillBrand(n)
	}
	if n, ok := deviceNames[LangEnglish][sls.DeviceKind(d)]; ok {
		return fillBrand(n)
	}
	return d
}
