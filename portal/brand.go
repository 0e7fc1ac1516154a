package portal

import (
	"fmt"
	"html/template"
	"net/http"
	"os"
	"sort"
	"strings"
)

// brand is the configured branding ready for the pages: the catalogs name
// products only as placeholders ({product}, {app}, {key}, {company}),
// filled here after the lookup, so the same wording serves any firm and
// no shipped text carries another company's marks.
type brand struct {
	cfg Branding
	// rep fills the placeholders of a text used as is; fmtRep those of a
	// format string, with any % of a name doubled so Sprintf keeps it.
	rep, fmtRep *strings.Replacer
	css         []byte // /static/brand.css: the colours as CSS variables
	logo        []byte // the logo file, read once at start (nil: none)
	logoType    string
	support     []supportLine // the footer's contacts, by region
}

type supportLine struct{ Region, Phone, Address string }

// Paths of the generated assets: under /static/ so they are public and
// pass the CSP's 'self' like the embedded ones.
const (
	brandCSSPath  = "/static/brand.css"
	brandLogoPath = "/static/brand-logo"
)

func newBrand(b Branding) (*brand, error) {
	pairs := func(esc func(string) string) []string {
		return []string{"{product}", esc(b.Product), "{app}", esc(b.App), "{key}", esc(b.Key), "{company}", esc(b.Company)}
	}
	br := &brand{
		cfg:    b,
		rep:    strings.NewReplacer(pairs(func(s string) string { return s })...),
		fmtRep: strings.NewReplacer(pairs(func(s string) string { return strings.ReplaceAll(s, "%", "%%") })...),
		// Validate checked both colours are #RRGGBB: nothing else can
		// reach the stylesheet.
		css: fmt.Appendf(nil, ":root { --brand-primary: %s; --brand-accent: %s; }\n", b.PrimaryColor, b.AccentColor),
	}
	if b.Logo != "" {
		ct, err := logoType(b.Logo)
		if err != nil {
			return nil, fmt.Errorf("portal: branding.logo: %w", err)
		}
		data, err := os.ReadFile(b.Logo)
		if err != nil {
			return nil, fmt.Errorf("portal: branding.logo: %w", err)
		}
		br.logo, br.logoType = data, ct
	}
	for region, c := range b.Support {
		br.support = append(br.support, supportLine{Region: region, Phone: c.Phone, Address: c.Address})
	}
	sort.Slice(br.support, func(i, j int) bool { return br.support[i].Region < br.support[j].Region })
	return br, nil
}

// translate is the text of key in lang with the brand's names filled in
// (and args formatted into it when given).
func (b *brand) translate(lang, key string, args ...any) string {
	s, ok := texts[lang][key]
	if !ok {
		if s, ok = textsEN[key]; !ok {
			return key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(b.fmtRep.Replace(s), args...)
	}
	return b.rep.Replace(s)
}

// translateHTML is translate for a text that holds markup of ours (a
// <time> element): the text and the plain arguments are escaped, the
// template.HTML arguments kept.
func (b *brand) translateHTML(lang, key string, args ...any) template.HTML {
	s, ok := texts[lang][key]
	if !ok {
		if s, ok = textsEN[key]; !ok {
			s = key
		}
	}
	esc := make([]any, len(args))
	for i, a := range args {
		switch a := a.(type) {
		case template.HTML:
			esc[i] = string(a)
		case string:
			esc[i] = template.HTMLEscapeString(a)
		default:
			esc[i] = a
		}
	}
	return template.HTML(fmt.Sprintf(b.fmtRep.Replace(template.HTMLEscapeString(s)), esc...))
}

// serveAsset serves the generated stylesheet and logo; false when path is
// neither.
func (b *brand) serveAsset(w http.ResponseWriter, r *http.Request) bool {
	var body []byte
	switch r.URL.Path {
	case brandCSSPath:
		body = b.css
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case brandLogoPath:
		if b.logo == nil {
			return false
		}
		body = b.logo
		w.Header().Set("Content-Type", b.logoType)
	default:
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return true
	}
	// They change with the configuration, so browsers check back soon.
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodGet {
		w.Write(body)
	}
	return true
}
