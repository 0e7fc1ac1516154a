// Package config reads the server's optional configuration file: the
// rules (lifetimes, limits, thresholds) that a deployment tunes. The file
// is JSON with durations written as Go durations ("3m", "12h"); unknown
// fields, wrong types and values outside safe bounds are errors that name
// the field. Command-line flags (cmd/slsd) cover where and how the server
// runs; this file covers what it enforces.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/passhash"
)

// Duration is a time.Duration written as "90s", "3m", "12h".
type Duration time.Duration

// UnmarshalJSON accepts a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`a duration must be a string such as "3m" or "12h"`)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (use e.g. \"3m\", \"12h\")", s)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// File is the configuration file. Every field is optional; zero means the
// built-in default.
type File struct {
	Login LoginRules `json:"login"`
	// Extra sections of features are kept raw and decoded by the feature
	// (each feature's section is strict too).
	Sections map[string]json.RawMessage `json:"-"`
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
	return c, c.Validate()
}

// knownSections are the feature sections a file may hold besides "login".
var knownSections = map[string]bool{"sms": true, "notify": true, "ibkey": true, "policy": true, "lifecycle": true, "sftp": true, "portal": true, "limits": true, "operators": true, "audit": true, "seal": true, "devices": true, "oidc": true, "passkey": true}

// Parse reads a configuration file's bytes.
func Parse(b []byte) (*File, error) {
	var top map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&top); err != nil {
		return nil, fmt.Errorf("config: not a JSON object: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("config: trailing data after the JSON object")
	}
	f := &File{Sections: map[string]json.RawMessage{}}
	for k, v := range top {
		switch {
		case k == "login":
			if err := Strict(v, &f.Login); err != nil {
				return nil, fmt.Errorf("config: login: %w", err)
			}
		case knownSections[k]:
			f.Sections[k] = v
		default:
			return nil, fmt.Errorf("config: unknown section %q", k)
		}
	}
	if _, err := f.LoginConfig(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if _, err := f.LimitsConfig(); err != nil {
		return nil, err
	}
	return f, nil
}

// Load reads a configuration file; an empty path is the defaults.
func Load(path string) (*File, error) {
	if path == "" {
		return &File{Sections: map[string]json.RawMessage{}}, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(b)
}

// Section decodes the feature section name into v strictly; a missing
// section leaves v as it is.
func (f *File) Section(name string, v any) error {
	raw, ok := f.Sections[name]
	if !ok {
		return nil
	}
	if err := Strict(raw, v); err != nil {
		return fmt.Errorf("config: %s: %w", name, err)
	}
	return nil
}

// Strict decodes one JSON value into v, refusing unknown fields.
func Strict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return cleanJSONError(err)
	}
	return nil
}

func cleanJSONError(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("field %q must be %s", typ.Field, typ.Type.Kind())
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}
