// Package config reads the server's optional configuration file: the
// rules (lifetimes, limits, thresholds) that a deployment tunes. The file
// is JSON with durations written as Go durations ("3m", "12h").
//
// The package owns every section: File declares them all, Parse reads and
// checks the whole file at once, and reports every problem it holds (an
// unknown section or field, a wrong type, a value outside safe bounds),
// each with its path ("login.max_failures", "audit.streams[0].url"),
// rather than stopping at the first. The server takes each section
// resolved, defaults filled in, from File's accessors (LoginConfig,
// SFTPConfig, …). Example returns a file holding every key with its
// default (docs/slsd.example.json).
//
// Command-line flags (cmd/slsd) cover where and how the server runs; this
// file covers what it enforces.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"github.com/secure-login-system/sls/config/field"
	"github.com/secure-login-system/sls/factor/ibkey"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/portal"
)

// Duration is a time.Duration written as "90s", "3m", "12h".
type Duration = field.Duration

// File is the configuration file: every section. Every field is optional;
// zero means the built-in default.
type File struct {
	Login     LoginRules     `json:"login"`
	Limits    LimitsSection  `json:"limits"`
	Devices   DevicesSection `json:"devices"`
	SMS       SMS            `json:"sms"`
	Notify    Notify         `json:"notify"`
	IBKey     ibkey.Config   `json:"ibkey"`
	Policy    Policy         `json:"policy"`
	Lifecycle Lifecycle      `json:"lifecycle"`
	SFTP      SFTP           `json:"sftp"`
	FTP       FTP            `json:"ftp"`
	Portal    portal.Config  `json:"portal"`
	Operators Operators      `json:"operators"`
	Audit     Audit          `json:"audit"`
	Seal      Seal           `json:"seal"`
	OIDC      OIDC           `json:"oidc"`
	Passkey   Passkey        `json:"passkey"`
	Takeover  Takeover       `json:"takeover"`
	// Diagnostics: uploaded diagnostics bundles (package diagnostics).
	Diagnostics Diagnostics `json:"diagnostics"`
	Crypto      Crypto      `json:"crypto"`
}

// LoginRules mirror login.Config.
type LoginRules struct {
	Argon2              *passhash.Params `json:"argon2,omitempty"`
	LoginTTL            Duration         `json:"login_ttl,omitempty"`
	DSCPlusChallenge    Duration         `json:"dscplus_challenge_ttl,omitempty"`
	MaxAnswers          int              `json:"max_answers,omitempty"`
	MaxFailures         int              `json:"max_failures,omitempty"`
	MaxPasswordFailures int              `json:"max_password_failures,omitempty"`
	LockoutCooldown     Duration         `json:"lockout_cooldown,omitempty"`
	SessionLifetime     Duration         `json:"session_lifetime,omitempty"`
	IdleTimeout         Duration         `json:"idle_timeout,omitempty"`
	TradingLifetime     Duration         `json:"trading_lifetime,omitempty"`
	TempPasscodeFull    Duration         `json:"temp_passcode_full,omitempty"`
	TempPasscodePortal  Duration         `json:"temp_passcode_portal,omitempty"`
	StepUpWindow        Duration         `json:"step_up_window,omitempty"`
	UntrustedBurst      int              `json:"untrusted_burst,omitempty"`
	UntrustedHoldOff    Duration         `json:"untrusted_hold_off,omitempty"`
	KnownClientFailures int              `json:"known_client_max_failures,omitempty"`
}

// LoginConfig returns the login rules with defaults filled in and checked.
func (f *File) LoginConfig() (login.Config, error) {
	r := f.Login
	c := login.Config{
		LoginTTL: r.LoginTTL.D(), MaxAnswers: r.MaxAnswers, MaxFailures: r.MaxFailures, MaxPasswordFailures: r.MaxPasswordFailures,
		LockoutCooldown: r.LockoutCooldown.D(), SessionLifetime: r.SessionLifetime.D(), IdleTimeout: r.IdleTimeout.D(),
		TradingLifetime: r.TradingLifetime.D(), TempPasscodeFull: r.TempPasscodeFull.D(), TempPasscodePortal: r.TempPasscodePortal.D(),
		StepUpWindow: r.StepUpWindow.D(), UntrustedBurst: r.UntrustedBurst, UntrustedHoldOff: r.UntrustedHoldOff.D(),
		KnownClientMaxFailures: r.KnownClientFailures,
	}
	if r.Argon2 != nil {
		c.Argon = *r.Argon2
	}
	c = c.WithDefaults()
	return c, field.Within("login", c.Validate())
}

// Errors are every problem found in a file, each with its path.
type Errors []*field.Error

func (e Errors) Error() string {
	if len(e) == 1 {
		return "config: " + e[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: %d problems:", len(e))
	for _, fe := range e {
		b.WriteString("\n  " + fe.Error())
	}
	return b.String()
}

// Parse reads a configuration file's bytes and checks all of it; the
// error, if any, is Errors.
func Parse(b []byte) (*File, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&top); err != nil || top == nil {
		return nil, Errors{field.Errorf("", "not a JSON object: %v", err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, Errors{field.Errorf("", "trailing data after the JSON object")}
	}
	f := &File{}
	var errs field.Errors
	v := reflect.ValueOf(f).Elem()
	sections := jsonFields(v.Type())
	for _, name := range sortedKeys(top) {
		i, ok := sections[name]
		if !ok {
			errs.Addf(name, "unknown section (sections: %s)", strings.Join(sortedKeys(sections), ", "))
			continue
		}
		decodeValue(name, top[name], v.Field(i), &errs)
	}
	// The checks run even when some values could not be read (those keep
	// their defaults), so that one run reports every problem; a path with
	// a reading problem is not reported twice.
	found := field.Flatten(errs.Err())
	unreadable := map[string]bool{}
	for _, e := range found {
		unreadable[e.Path] = true
	}
	for _, e := range field.Flatten(f.check().Err()) {
		if !unreadable[e.Path] {
			found = append(found, e)
		}
	}
	if len(found) > 0 {
		return nil, Errors(found)
	}
	return f, nil
}

// check resolves every section, collecting every problem.
func (f *File) check() field.Errors {
	var errs field.Errors
	add := func(_ any, err error) { errs.Add("", err) }
	add(f.LoginConfig())
	add(f.LimitsConfig())
	add(f.DevicesConfig())
	add(f.SMSRules())
	add(f.NotifyConfig())
	add(f.IBKeyConfig())
	add(f.ProtectConfig())
	add(f.LifecycleConfig())
	add(f.SFTPConfig())
	add(f.FTPConfig())
	add(f.PortalConfig())
	add(f.OperatorsConfig())
	add(f.AuditConfig())
	add(f.SealConfig())
	add(f.OIDCConfig())
	add(f.PasskeyConfig())
	add(f.TakeoverConfig())
	add(f.DiagnosticsConfig())
	add(f.CryptoConfig())
	return errs
}

// IBKeyConfig returns the "ibkey" section with defaults filled in and
// checked (the push gateway's secret is read).
func (f *File) IBKeyConfig() (ibkey.Config, error) {
	c := f.IBKey.WithDefaults()
	return c, field.Within("ibkey", c.Validate())
}

// PortalConfig returns the "portal" section with defaults filled in and
// checked against the login rules it may only tighten.
func (f *File) PortalConfig() (portal.Config, error) {
	lc, _ := f.LoginConfig() // its own problems are reported under "login"
	c := f.Portal.WithDefaults(lc)
	return c, field.Within("portal", c.Validate(lc))
}

// Load reads a configuration file; an empty path is the defaults.
func Load(path string) (*File, error) {
	if path == "" {
		return &File{}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(b)
}
