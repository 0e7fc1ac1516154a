package portal

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/secure-login-system/sls/config/field"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/notify"
)

// Config is the "portal" section of the configuration file.
type Config struct {
	// DevInsecureCookies (default true) lets a browser on the same machine
	// use the portal over plain HTTP during development: cookies are
	// Secure and __Host- prefixed unless the request arrived over plain
	// HTTP, from a loopback address, without any proxy header (Forwarded,
	// X-Forwarded-*), and this setting is not false. Browsers refuse
	// Secure cookies on http:// pages, so without the exception nobody
	// could log in to `slsd` on http://127.0.0.1. Set it to false in
	// production, where TLS (here or at a proxy) is mandatory.
	DevInsecureCookies *bool `json:"dev_insecure_cookies,omitempty"`
	// IdleTimeout ends a portal session after this long without a request;
	// AbsoluteLifetime ends it this long after login, used or not. Both
	// default to NIST SP 800-63B §4.2.3 for AAL2 (also OWASP ASVS 4.0
	// V3.3.2 level 2): 30 minutes of inactivity, 12 hours in all. They can
	// only tighten the login service's session lifetimes (login.idle_timeout,
	// login.session_lifetime), which bound every portal session anyway.
	IdleTimeout      field.Duration `json:"idle_timeout,omitempty"`
	AbsoluteLifetime field.Duration `json:"absolute_lifetime,omitempty"`
	// DefaultLang is the language of pages when neither the client's
	// choice, its preferences nor its browser name a supported one.
	DefaultLang string `json:"default_lang,omitempty"`
	// Brand is the former name of branding.product, still read so older
	// files keep working; branding.product wins when both are set.
	Brand string `json:"brand,omitempty"`
	// Branding is what the pages call the firm and its products: the
	// shipped defaults are neutral names, never another company's marks.
	Branding Branding `json:"branding,omitzero"`
}

// Branding is the "portal.branding" object (docs/configuration.md).
type Branding struct {
	// Product is the portal's name, in the header and the texts
	// ("{product}" in the catalogs).
	Product string `json:"product,omitempty"`
	// App is the smartphone app's name ("{app}").
	App string `json:"app,omitempty"`
	// Key is the name shown for the app's login approval (device kind
	// ibkey, whose id and API names stay as they are) ("{key}").
	Key string `json:"key,omitempty"`
	// Company is the firm's name ("{company}").
	Company string `json:"company,omitempty"`
	// Logo is a PNG or SVG file the header shows; empty for none.
	Logo string `json:"logo,omitempty"`
	// PrimaryColor and AccentColor (#RRGGBB) colour the header and the
	// buttons, through the CSS variables --brand-primary and --brand-accent.
	PrimaryColor string `json:"primary_color,omitempty"`
	AccentColor  string `json:"accent_color,omitempty"`
	// Support lists a phone number and postal address per region
	// ("Europe", "Asia"…), shown in the footer.
	Support map[string]SupportContact `json:"support,omitempty"`
	// Footer is the legal text at the bottom of every page.
	Footer string `json:"footer,omitempty"`
}

// SupportContact is how clients of one region reach Client Services.
type SupportContact struct {
	Phone   string `json:"phone,omitempty"`
	Address string `json:"address,omitempty"`
}

// Neutral default names: ours, never another firm's trademarks
// (TestNoForeignTrademarks); the notices' too.
var (
	DefaultProduct = notify.DefaultBranding.Product
	DefaultApp     = notify.DefaultBranding.App
	DefaultKey     = notify.DefaultBranding.Key
	DefaultCompany = notify.DefaultBranding.Company
)

const (
	DefaultPrimaryColor = "#0b2e4f"
	DefaultAccentColor  = "#0b4f8a"
)

// Defaults: NIST SP 800-63B §4.2.3 (AAL2).
const (
	DefaultIdleTimeout      = 30 * time.Minute
	DefaultAbsoluteLifetime = 12 * time.Hour
)

// WithDefaults fills zero fields; the login rules bound the defaults (a
// deployment that shortened login sessions shortens the portal's too).
func (c Config) WithDefaults(lc login.Config) Config {
	if c.DevInsecureCookies == nil {
		t := true
		c.DevInsecureCookies = &t
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = field.Duration(DefaultIdleTimeout)
		if lc.IdleTimeout > 0 && lc.IdleTimeout < DefaultIdleTimeout {
			c.IdleTimeout = field.Duration(lc.IdleTimeout)
		}
	}
	if c.AbsoluteLifetime == 0 {
		c.AbsoluteLifetime = field.Duration(min(DefaultAbsoluteLifetime, lc.SessionLifetime))
	}
	if c.DefaultLang == "" {
		c.DefaultLang = notify.LangEnglish
	}
	b := &c.Branding
	if b.Product == "" {
		b.Product = c.Brand
	}
	for _, f := range []struct {
		v   *string
		def string
	}{{&b.Product, DefaultProduct}, {&b.App, DefaultApp}, {&b.Key, DefaultKey}, {&b.Company, DefaultCompany},
		{&b.PrimaryColor, DefaultPrimaryColor}, {&b.AccentColor, DefaultAccentColor}} {
		if *f.v == "" {
			*f.v = f.def
		}
	}
	c.Brand = b.Product
	return c
}

// Validate checks the section against the login rules it may only
// tighten, reporting every problem with its field.
func (c Config) Validate(lc login.Config) error {
	var errs field.Errors
	idle, abs := c.IdleTimeout.D(), c.AbsoluteLifetime.D()
	switch {
	case idle < time.Minute:
		errs.Addf("idle_timeout", "%s must be at least 1m", idle)
	case lc.IdleTimeout > 0 && idle > lc.IdleTimeout:
		errs.Addf("idle_timeout", "%s exceeds login.idle_timeout %s; the portal can only tighten it", idle, lc.IdleTimeout)
	case idle > abs:
		errs.Addf("idle_timeout", "%s exceeds absolute_lifetime %s", idle, abs)
	}
	switch {
	case abs < 5*time.Minute:
		errs.Addf("absolute_lifetime", "%s must be at least 5m", abs)
	case abs > lc.SessionLifetime:
		errs.Addf("absolute_lifetime", "%s exceeds login.session_lifetime %s; the portal can only tighten it", abs, lc.SessionLifetime)
	}
	if _, ok := notify.MatchLang(c.DefaultLang); !ok {
		errs.Addf("default_lang", "%q is not one of %v", c.DefaultLang, notify.Languages())
	}
	if len([]rune(c.Brand)) > 60 {
		errs.Addf("brand", "must be at most 60 characters")
	}
	b := c.Branding
	for _, f := range []struct{ name, v string }{{"product", b.Product}, {"app", b.App}, {"key", b.Key}, {"company", b.Company}} {
		if n := len([]rune(f.v)); n > 60 || strings.ContainsAny(f.v, "\r\n") {
			errs.Addf("branding."+f.name, "must be one line of at most 60 characters")
		}
	}
	for _, f := range []struct{ name, v string }{{"primary_color", b.PrimaryColor}, {"accent_color", b.AccentColor}} {
		if f.v != "" && !colorRE.MatchString(f.v) {
			errs.Addf("branding."+f.name, "%q is not a colour #RRGGBB", f.v)
		}
	}
	if b.Logo != "" {
		if _, err := logoType(b.Logo); err != nil {
			errs.Addf("branding.logo", "%v", err)
		}
	}
	for region, s := range b.Support {
		if region == "" || len(region) > 60 || len(s.Phone) > 40 || len(s.Address) > 300 {
			errs.Addf("branding.support", "%q: region at most 60 characters, phone 40, address 300", region)
		}
	}
	if len([]rune(b.Footer)) > 1000 {
		errs.Addf("branding.footer", "must be at most 1000 characters")
	}
	return errs.Err()
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// logoType is the Content-Type of the logo file, known by its name: only
// images a browser shows in <img> without running anything of theirs.
func logoType(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		return "image/png", nil
	case ".svg":
		return "image/svg+xml", nil
	}
	return "", fmt.Errorf("%s: the logo must be a .png or .svg file", path)
}

func (c Config) devInsecure() bool { return c.DevInsecureCookies == nil || *c.DevInsecureCookies }
