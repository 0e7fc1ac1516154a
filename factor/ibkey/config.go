package ibkey

import (
	"os"
	"strings"
	"time"

	"github.com/secure-login-system/sls/config/field"
	"github.com/secure-login-system/sls/notify/webhook"
)

// Config is the "ibkey" section of the configuration file. Zero fields take
// the defaults of DefaultConfig.
type Config struct {
	// TicketTTL is how long an activation QR code / string may be used.
	// NIST SP 800-63B-4 draft §6.1.2.4 bounds binding codes for a new
	// authenticator at 10 minutes, which is also the ceiling here.
	TicketTTL field.Duration `json:"ticket_ttl,omitempty"`
	// SMSCodeTTL bounds the Add User activation code sent by SMS (same rule).
	SMSCodeTTL field.Duration `json:"sms_code_ttl,omitempty"`
	// PushTTL is how long a push may be answered; the login itself stays
	// open for challenge/response until its own deadline.
	PushTTL field.Duration `json:"push_ttl,omitempty"`
	// MatchDigits is the length of the number-matching number. Two digits
	// is what users know from the common authenticators; a blind guess
	// succeeds once in a hundred and a wrong number ends the push.
	MatchDigits int `json:"match_digits,omitempty"`
	// MaxUnanswered is how many pushes in a row may end without approval
	// (denied, unanswered, replaced, wrong number) before the server stops
	// pushing and requires challenge/response (anti-fatigue; CISA "Implementing
	// Number Matching in MFA Applications"). A successful IB Key login resets it.
	MaxUnanswered int `json:"max_unanswered_pushes,omitempty"`
	// MaxBadUnlocks is how many answers with a wrong PIN one push accepts.
	MaxBadUnlocks int `json:"max_bad_unlocks,omitempty"`
	// PollInterval is how often each node looks in the database for
	// pushes created or answered on other nodes.
	PollInterval field.Duration `json:"poll_interval,omitempty"`
	// ExtendedTrading is the trading access of a biometric IB Key login
	// that re-authenticated at least once (SPEC §2.5: "30+ hours"),
	// counted from the login.
	ExtendedTrading field.Duration `json:"extended_trading,omitempty"`
	// StreamLifetime ends an app connection after this long; the app
	// reconnects (keeps proxies and load balancers honest).
	StreamLifetime field.Duration `json:"stream_lifetime,omitempty"`
	// Heartbeat is the interval of keep-alive comments on app connections.
	Heartbeat field.Duration `json:"heartbeat,omitempty"`
	// Gateway, when set, also posts each new push to an external push
	// gateway (which wakes phones through APNs/FCM).
	Gateway *GatewayConfig `json:"gateway,omitempty"`
}

// GatewayConfig names the push gateway. The body is signed like every
// webhook (package notify/webhook) with the secret read from SecretFile.
type GatewayConfig struct {
	URL        string         `json:"url"`
	SecretFile string         `json:"secret_file"`
	Timeout    field.Duration `json:"timeout,omitempty"`

	secret []byte
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		TicketTTL:       field.Duration(10 * time.Minute),
		SMSCodeTTL:      field.Duration(10 * time.Minute),
		PushTTL:         field.Duration(2 * time.Minute),
		MatchDigits:     2,
		MaxUnanswered:   5,
		MaxBadUnlocks:   3,
		PollInterval:    field.Duration(100 * time.Millisecond),
		ExtendedTrading: field.Duration(36 * time.Hour),
		StreamLifetime:  field.Duration(10 * time.Minute),
		Heartbeat:       field.Duration(15 * time.Second),
	}
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	for _, p := range []struct{ v, def *field.Duration }{
		{&c.TicketTTL, &d.TicketTTL}, {&c.SMSCodeTTL, &d.SMSCodeTTL}, {&c.PushTTL, &d.PushTTL},
		{&c.PollInterval, &d.PollInterval}, {&c.ExtendedTrading, &d.ExtendedTrading},
		{&c.StreamLifetime, &d.StreamLifetime}, {&c.Heartbeat, &d.Heartbeat},
	} {
		if *p.v == 0 {
			*p.v = *p.def
		}
	}
	if c.MatchDigits == 0 {
		c.MatchDigits = d.MatchDigits
	}
	if c.MaxUnanswered == 0 {
		c.MaxUnanswered = d.MaxUnanswered
	}
	if c.MaxBadUnlocks == 0 {
		c.MaxBadUnlocks = d.MaxBadUnlocks
	}
	return c
}

// Validate refuses settings that would weaken the system, and loads the
// gateway secret. It reports every problem, each naming its field.
func (c *Config) Validate() error {
	var errs field.Errors
	within := func(name string, v field.Duration, lo, hi time.Duration, why string) {
		if v.D() < lo || v.D() > hi {
			errs.Addf(name, "%s must be between %s and %s%s", v.D(), lo, hi, why)
		}
	}
	between := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			errs.Addf(name, "%d must be between %d and %d", v, lo, hi)
		}
	}
	within("ticket_ttl", c.TicketTTL, 30*time.Second, 10*time.Minute, " (NIST SP 800-63B-4 draft §6.1.2.4)")
	within("sms_code_ttl", c.SMSCodeTTL, 30*time.Second, 10*time.Minute, "")
	within("push_ttl", c.PushTTL, 10*time.Second, 10*time.Minute, "")
	between("match_digits", c.MatchDigits, 2, 6)
	between("max_unanswered_pushes", c.MaxUnanswered, 1, 50)
	between("max_bad_unlocks", c.MaxBadUnlocks, 1, 10)
	within("poll_interval", c.PollInterval, 10*time.Millisecond, 2*time.Second, " (the login page must learn the result within a second)")
	within("extended_trading", c.ExtendedTrading, 30*time.Hour, 72*time.Hour, " (SPEC §2.5: 30+ hours)")
	within("stream_lifetime", c.StreamLifetime, time.Minute, 24*time.Hour, "")
	within("heartbeat", c.Heartbeat, time.Second, 5*time.Minute, "")
	if g := c.Gateway; g != nil {
		if !strings.HasPrefix(g.URL, "https://") && !strings.HasPrefix(g.URL, "http://127.0.0.1") && !strings.HasPrefix(g.URL, "http://localhost") && !strings.HasPrefix(g.URL, "http://[::1]") {
			errs.Addf("gateway.url", "must be https (or http to a loopback address)")
		}
		if b, err := os.ReadFile(g.SecretFile); err != nil {
			errs.Addf("gateway.secret_file", "%v", err)
		} else if g.secret = []byte(strings.TrimSpace(string(b))); len(g.secret) < webhook.MinSecretLen {
			errs.Addf("gateway.secret_file", "the secret must be at least %d bytes", webhook.MinSecretLen)
		}
		if g.Timeout == 0 {
			g.Timeout = field.Duration(5 * time.Second)
		}
	}
	return errs.Err()
}
