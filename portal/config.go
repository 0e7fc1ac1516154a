package portal

import (
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
	// Brand is the name shown in the header ("Client Portal").
	Brand string `json:"brand,omitempty"`
}

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
	if c.Brand == "" {
		c.Brand = "Client Portal"
	}
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
	return errs.Err()
}

func (c Config) devInsecure() bool { return c.DevInsecureCookies == nil || *c.DevInsecureCookies }
