// Package login runs the login journey: username and password, choice of a
// security device, its challenge and answer, and the session that results;
// plus session checks. It enforces the protections that hold for every
// device kind: per-login deadlines and answer limits, per-user failure
// counting and lockout across logins, replay refusal and auditing.
package login

import (
	"time"

	"github.com/secure-login-system/sls/config/field"

	"github.com/secure-login-system/sls/passhash"
)

// Config holds the login rules. Zero fields take the defaults of
// DefaultConfig.
type Config struct {
	Argon passhash.Params `json:"argon2"`
	// LoginTTL is how long a login transaction lives from the accepted
	// password to the answer; a factor may shorten it (DSC+ 3 minutes).
	// The default, 10 minutes, is NIST SP 800-63B §5.1.3's bound for an
	// out-of-band code such as an SMS code.
	LoginTTL time.Duration `json:"login_ttl"`
	// MaxAnswers bounds the answers one login transaction accepts.
	MaxAnswers int `json:"max_answers"`
	// MaxFailures is how many failed second-factor answers, counted across
	// all of a user's logins, lock the user. NIST SP 800-63B §5.2.2 allows
	// at most 100 consecutive failures.
	MaxFailures int `json:"max_failures"`
	// MaxPasswordFailures is how many consecutive wrong passwords lock the
	// user: NIST SP 800-63B §5.2.2 bounds online guessing of every
	// authenticator at 100 consecutive failures. A lower number makes it
	// easier for a stranger to lock someone out by guessing.
	MaxPasswordFailures int `json:"max_password_failures"`
	// LockoutCooldown unlocks a locked user after this long (an operator
	// can unlock sooner).
	LockoutCooldown time.Duration `json:"lockout_cooldown"`
	// Session lifetimes. NIST SP 800-63B §4.2.3 (AAL2): reauthenticate at
	// least every 12 hours and after 30 minutes of inactivity.
	SessionLifetime time.Duration `json:"session_lifetime"`
	IdleTimeout     time.Duration `json:"idle_timeout"`
	// TradingLifetime: IB Key with PIN gives 12 hours of trading access
	// (SPEC §2.5); we apply the same to every device on trading platforms.
	TradingLifetime time.Duration `json:"trading_lifetime"`
	// Temporary passcode: full access for 2 days, then the portal's online
	// card page only for 10 more days (SPEC §1).
	TempPasscodeFull   time.Duration `json:"temp_passcode_full"`
	TempPasscodePortal time.Duration `json:"temp_passcode_portal"`
	// StepUpWindow is how recently a security device must have been
	// proven in a session for a sensitive change (enrolling a device,
	// addresses, opt-out, orders…): OWASP ASVS 4.0.3 V3.7.1 asks for a
	// fresh authentication before sensitive changes, and 5 minutes keeps
	// one step-up enough for one task.
	StepUpWindow time.Duration `json:"step_up_window"`
	// UntrustedBurst wrong passwords in a row from clients the user never
	// logged in with hold such clients off for UntrustedHoldOff, doubled
	// at each further burst (at most a day); MaxPasswordFailures in a row
	// hold them off until the user logs in from a known client or an
	// operator unlocks. Known clients are never held off by them (OWASP
	// "Slow Down Online Guessing Attacks with Device Cookies": 10 and 15
	// minutes are its example figures).
	UntrustedBurst   int           `json:"untrusted_burst"`
	UntrustedHoldOff time.Duration `json:"untrusted_hold_off"`
	// KnownClientMaxFailures wrong passwords given with one known-client
	// token end its standing (it becomes an unknown client).
	KnownClientMaxFailures int `json:"known_client_max_failures"`
}

// NISTMaxFailures is the ceiling of NIST SP 800-63B §5.2.2.
const NISTMaxFailures = 100

// DefaultConfig returns the defaults named in the issue and the sources.
func DefaultConfig() Config {
	return Config{
		Argon:                  passhash.Default,
		LoginTTL:               10 * time.Minute,
		MaxAnswers:             5,
		MaxFailures:            10,
		MaxPasswordFailures:    NISTMaxFailures,
		LockoutCooldown:        30 * time.Minute,
		SessionLifetime:        12 * time.Hour,
		IdleTimeout:            30 * time.Minute,
		TradingLifetime:        12 * time.Hour,
		TempPasscodeFull:       2 * 24 * time.Hour,
		TempPasscodePortal:     10 * 24 * time.Hour,
		StepUpWindow:           5 * time.Minute,
		UntrustedBurst:         10,
		UntrustedHoldOff:       15 * time.Minute,
		KnownClientMaxFailures: 10,
	}
}

// WithDefaults fills zero fields from DefaultConfig.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	if c.Argon == (passhash.Params{}) {
		c.Argon = d.Argon
	}
	set := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	set(&c.LoginTTL, d.LoginTTL)
	set(&c.LockoutCooldown, d.LockoutCooldown)
	set(&c.SessionLifetime, d.SessionLifetime)
	set(&c.IdleTimeout, d.IdleTimeout)
	set(&c.TradingLifetime, d.TradingLifetime)
	set(&c.TempPasscodeFull, d.TempPasscodeFull)
	set(&c.TempPasscodePortal, d.TempPasscodePortal)
	set(&c.StepUpWindow, d.StepUpWindow)
	set(&c.UntrustedHoldOff, d.UntrustedHoldOff)
	if c.UntrustedBurst == 0 {
		c.UntrustedBurst = d.UntrustedBurst
	}
	if c.KnownClientMaxFailures == 0 {
		c.KnownClientMaxFailures = d.KnownClientMaxFailures
	}
	if c.MaxAnswers == 0 {
		c.MaxAnswers = d.MaxAnswers
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = d.MaxFailures
	}
	if c.MaxPasswordFailures == 0 {
		c.MaxPasswordFailures = d.MaxPasswordFailures
	}
	return c
}

// Validate rejects rules that would weaken the system, reporting every
// problem with its field.
func (c Config) Validate() error {
	var errs field.Errors
	count := func(name string, v, lo, hi int, why string) {
		if v < lo || v > hi {
			errs.Addf(name, "%d must be between %d and %d%s", v, lo, hi, why)
		}
	}
	span := func(name string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			errs.Addf(name, "%s must be between %s and %s", v, lo, hi)
		}
	}
	const nist = " (NIST SP 800-63B §5.2.2)"
	count("max_failures", c.MaxFailures, 1, NISTMaxFailures, nist)
	count("max_password_failures", c.MaxPasswordFailures, 1, NISTMaxFailures, nist)
	count("max_answers", c.MaxAnswers, 1, 20, "")
	span("login_ttl", c.LoginTTL, 10*time.Second, time.Hour)
	span("session_lifetime", c.SessionLifetime, time.Nanosecond, 24*time.Hour)
	span("trading_lifetime", c.TradingLifetime, time.Nanosecond, 72*time.Hour)
	if c.IdleTimeout < 0 {
		errs.Addf("idle_timeout", "must not be negative")
	}
	span("step_up_window", c.StepUpWindow, 30*time.Second, time.Hour)
	count("untrusted_burst", c.UntrustedBurst, 1, max(1, c.MaxPasswordFailures), " (at most max_password_failures)")
	span("untrusted_hold_off", c.UntrustedHoldOff, time.Second, 24*time.Hour)
	count("known_client_max_failures", c.KnownClientMaxFailures, 1, NISTMaxFailures, nist)
	if c.LockoutCooldown <= 0 {
		errs.Addf("lockout_cooldown", "must be positive")
	}
	errs.Add("argon2", c.Argon.Validate())
	return errs.Err()
}
