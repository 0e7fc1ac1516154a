package ibkey

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/notify/webhook"
)

// Config is the "ibkey" section of the configuration file. Zero fields take
// the defaults of DefaultConfig.
type Config struct {
	// TicketTTL is how long an activation QR code / string may be used.
	// NIST SP 800-63B-4 draft §6.1.2.4 bounds binding codes for a new
	// authenticator at 10 minutes, which is also the ceiling here.
	TicketTTL config.Duration `json:"ticket_ttl,omitempty"`
	// SMSCodeTTL bounds the Add User activation code sent by SMS (same rule).
	SMSCodeTTL config.Duration `json:"sms_code_ttl,omitempty"`
	// PushTTL is how long a push may be answered; the login itself stays
	// open for challenge/response until its own deadline.
	PushTTL config.Duration `json:"push_ttl,omitempty"`
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
	PollInterval config.Duration `json:"poll_interval,omitempty"`
	// ExtendedTrading is the trading access of a biometric IB Key login
	// that re-authenticated at least once (SPEC §2.5: "30+ hours"),
	// counted from the login.
	ExtendedTrading config.Duration `json:"extended_trading,omitempty"`
	// StreamLifetime ends an app connection after this long; the app
	// reconnects (keeps proxies and load balancers honest).
	StreamLifetime config.Duration `json:"stream_lifetime,omitempty"`
	// Heartbeat is the interval of keep-alive comments on app connections.
	Heartbeat config.Duration `json:"heartbeat,omitempty"`
	// Gateway, when set, also posts each new push to an external push
	// gateway (which wakes phones through APNs/FCM).
	Gateway *GatewayConfig `json:"gateway,omitempty"`
}

// GatewayConfig names the push gateway. The body is signed like every
// webhook (package notify/webhook) with the secret read from SecretFile.
type GatewayConfig struct {
	URL        string          `json:"url"`
	SecretFile string          `json:"secret_file"`
	Timeout    config.Duration `json:"timeout,omitempty"`

	secret []byte
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		TicketTTL:       config.Duration(10 * time.Minute),
		SMSCodeTTL:      config.Duration(10 * time.Minute),
		PushTTL:         config.Duration(2 * time.Minute),
		MatchDigits:     2,
		MaxUnanswered:   5,
		MaxBadUnlocks:   3,
		PollInterval:    config.Duration(100 * time.Millisecond),
		ExtendedTrading: config.Duration(36 * time.Hour),
		StreamLifetime:  config.Duration(10 * time.Minute),
		Heartbeat:       config.Duration(15 * time.Second),
	}
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	d := DefaultConfig()
	for _, p := range []struct{ v, def *config.Duration }{
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
// gateway secret.
func (c *Config) Validate() error {
	switch {
	case c.TicketTTL.D() < 30*time.Second || c.TicketTTL.D() > 10*time.Minute:
		return fmt.Errorf("ibkey: ticket_ttl %s must be between 30s and 10m (NIST SP 800-63B-4 draft §6.1.2.4)", c.TicketTTL.D())
	case c.SMSCodeTTL.D() < 30*time.Second || c.SMSCodeTTL.D() > 10*time.Minute:
		return fmt.Errorf("ibkey: sms_code_ttl %s must be between 30s and 10m", c.SMSCodeTTL.D())
	case c.PushTTL.D() < 10*time.Second || c.PushTTL.D() > 10*time.Minute:
		return fmt.Errorf("ibkey: push_ttl %s must be between 10s and 10m", c.PushTTL.D())
	case c.MatchDigits < 2 || c.MatchDigits > 6:
		return fmt.Errorf("ibkey: match_digits %d must be between 2 and 6", c.MatchDigits)
	case c.MaxUnanswered < 1 || c.MaxUnanswered > 50:
		return fmt.Errorf("ibkey: max_unanswered_pushes %d must be between 1 and 50", c.MaxUnanswered)
	case c.MaxBadUnlocks < 1 || c.MaxBadUnlocks > 10:
		return fmt.Errorf("ibkey: max_bad_unlocks %d must be between 1 and 10", c.MaxBadUnlocks)
	case c.PollInterval.D() < 10*time.Millisecond || c.PollInterval.D() > 2*time.Second:
		return fmt.Errorf("ibkey: poll_interval %s must be between 10ms and 2s (the login page must learn the result within a second)", c.PollInterval.D())
	case c.ExtendedTrading.D() < 30*time.Hour || c.ExtendedTrading.D() > 72*time.Hour:
		return fmt.Errorf("ibkey: extended_trading %s must be between 30h and 72h (SPEC §2.5: 30+ hours)", c.ExtendedTrading.D())
	case c.StreamLifetime.D() < time.Minute || c.StreamLifetime.D() > 24*time.Hour:
		return fmt.Errorf("ibkey: stream_lifetime %s must be between 1m and 24h", c.StreamLifetime.D())
	case c.Heartbeat.D() < time.Second || c.Heartbeat.D() > 5*time.Minute:
		return fmt.Errorf("ibkey: heartbeat %s must be between 1s and 5m", c.Heartbeat.D())
	}
	if g := c.Gateway; g != nil {
		if !strings.HasPrefix(g.URL, "https://") && !strings.HasPrefix(g.URL, "http://127.0.0.1") && !strings.HasPrefix(g.URL, "http://localhost") && !strings.HasPrefix(g.URL, "http://[::1]") {
			return fmt.Errorf("ibkey: gateway url must be https (or http to a loopback address)")
		}
		b, err := os.ReadFile(g.SecretFile)
		if err != nil {
			return fmt.Errorf("ibkey: gateway secret: %w", err)
		}
		g.secret = []byte(strings.TrimSpace(string(b)))
		if len(g.secret) < webhook.MinSecretLen {
			return fmt.Errorf("ibkey: gateway secret must be at least %d bytes", webhook.MinSecretLen)
		}
		if g.Timeout == 0 {
			g.Timeout = config.Duration(5 * time.Second)
		}
	}
	return nil
}
