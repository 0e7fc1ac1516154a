package notify

import (
	"strings"
	"sync/atomic"
)

// Branding is what the notices call the firm and its products. The texts
// name them only as {product}, {app}, {key} and {company} (the portal's
// placeholders too, docs/translations.md), so the shipped wording carries
// no other company's marks and each deployment its own names.
type Branding struct {
	Product, App, Key, Company string
}

// DefaultBranding holds neutral names of our own, the portal's defaults
// too (portal.branding).
var DefaultBranding = Branding{Product: "Client Portal", App: "SLS Mobile", Key: "SLS Key", Company: "Your Brokerage"}

var branding atomic.Pointer[Branding]

// SetBranding sets the names every notice is rendered with from now on
// (an empty field keeps the default). Call it once, before anything is
// sent: it changes the notices of the whole process.
func SetBranding(b Branding) {
	for _, f := range []struct {
		v   *string
		def string
	}{
		{&b.Product, DefaultBranding.Product}, {&b.App, DefaultBranding.App},
		{&b.Key, DefaultBranding.Key}, {&b.Company, DefaultBranding.Company}} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	branding.Store(&b)
}

func currentBranding() Branding {
	if b := branding.Load(); b != nil {
		return *b
	}
	return DefaultBranding
}

// brandName is the {{brand "app"}} that a {app} of a text becomes.
func brandName(name string) string {
	b := currentBranding()
	switch name {
	case "product":
		return b.Product
	case "app":
		return b.App
	case "key":
		return b.Key
	case "company":
		return b.Company
	}
	return name
}

// brandActions turns the translators' {app} into a template action read
// when the notice is rendered: the names are data, never template source.
var brandActions = strings.NewReplacer(
	"{product}", `{{brand "product"}}`, "{app}", `{{brand "app"}}`, "{key}", `{{brand "key"}}`, "{company}", `{{brand "company"}}`)

// fillBrand puts the names into a text rendered without a template (the
// device names).
func fillBrand(s string) string {
	b := currentBranding()
	return strings.NewReplacer("{product}", b.Product, "{app}", b.App, "{key}", b.Key, "{company}", b.Company).Replace(s)
}
