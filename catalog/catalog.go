// Package catalog reads the message catalogs translators edit: TOML files
// in go-i18n's format (github.com/nicksnyder/go-i18n/v2), one per
// language, named active.<language tag>.toml. The portal's words and the
// notification texts are kept in such files (portal/locales,
// notify/locales; docs/translations.md) and embedded in the binary.
//
// go-i18n reads the files (plain "key" = "text" entries, or tables with
// other and description) and knows the language from the name. The texts
// are then used as the packages always used them: fmt verbs in the
// portal, text/template placeholders in the notices. go-i18n's own
// templating and plural forms are not used: no text needs plurals, and
// the notices' templates carry functions (digits, device) of their own.
package catalog

import (
	"fmt"
	"io/fs"
	"path"
	"sort"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// Catalog holds the texts of one domain: language tag → message id → text.
type Catalog map[string]map[string]string

// Load reads every dir/active.*.toml of fsys. A file that does not parse,
// holds a message without text, or names no language fails the whole
// load, with the file's name and, for TOML syntax, the line.
func Load(fsys fs.FS, dir string) (Catalog, error) {
	files, err := fs.Glob(fsys, path.Join(dir, "active.*.toml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("catalog: no active.*.toml in %s", dir)
	}
	sort.Strings(files)
	out := Catalog{}
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, fmt.Errorf("catalog: %w", err)
		}
		lang, msgs, err := Parse(f, raw)
		if err != nil {
			return nil, err
		}
		if _, dup := out[lang]; dup {
			return nil, fmt.Errorf("catalog: %s: a second file for %s", f, lang)
		}
		out[lang] = msgs
	}
	return out, nil
}

// Parse reads one catalog file; name gives its language
// (active.hu.toml → "hu").
func Parse(name string, raw []byte) (lang string, msgs map[string]string, err error) {
	b := i18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	mf, err := b.ParseMessageFileBytes(raw, name)
	if err != nil {
		return "", nil, fmt.Errorf("catalog: %s: %w", name, err)
	}
	if mf.Tag == language.Und {
		return "", nil, fmt.Errorf("catalog: %s: the name must be active.<language>.toml", name)
	}
	msgs = make(map[string]string, len(mf.Messages))
	for _, m := range mf.Messages {
		if m.Other == "" {
			return "", nil, fmt.Errorf("catalog: %s: %q has no text (other)", name, m.ID)
		}
		msgs[m.ID] = m.Other
	}
	return mf.Tag.String(), msgs, nil
}
