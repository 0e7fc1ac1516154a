// Package totp is the authenticator-app factor: RFC 6238 time-based
// one-time passwords (HMAC-SHA-1, 6 digits, 30-second steps — the
// defaults every authenticator app reads from an otpauth:// URI).
//
// Keys and codes come from github.com/pquerna/otp. What this package adds
// is the verifier's side that the library leaves to its caller: a
// tolerance of one step either way for clock drift and typing time
// (RFC 6238 §5.2 recommends at most one), and each code accepted once —
// the last accepted step is kept with the device, and a code of that step
// or an earlier one is refused (RFC 6238 §5.2: "the verifier MUST NOT
// accept the second attempt of the same OTP"). The device row is written
// in the transaction that holds the user's row lock, so two nodes cannot
// both accept one code.
package totp

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/seal"
)

// The parameters of every TOTP device (RFC 6238 §4, §5.2; RFC 4226 §4
// asks for a 160-bit shared secret).
const (
	Period     = 30 * time.Second
	Digits     = 6
	SecretSize = 20 // bytes
	// Skew is the number of steps accepted before and after the current one.
	Skew = 1
)

// opts are the validation options matching the parameters above.
var opts = totp.ValidateOpts{Period: uint(Period / time.Second), Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Factor implements sls.Factor for authenticator apps.
type Factor struct {
	Sealer *seal.Sealer
}

var _ sls.Factor = (*Factor)(nil)

// Kind implements sls.Factor.
func (*Factor) Kind() sls.DeviceKind { return sls.KindTOTP }

// state is what the device keeps between logins: the last step accepted.
type state struct {
	LastStep int64 `json:"last_step"`
}

// Key is a new device's secret as the user's app receives it.
type Key struct {
	// Secret is the base32 secret (RFC 4648, unpadded), for typing.
	Secret string
	// URI is the otpauth:// URI the QR code holds.
	URI string
}

// Enroll makes a pending TOTP device for user with a fresh secret,
// sealed to the device row. issuer and account name the entry in the
// user's app.
func Enroll(s *seal.Sealer, r io.Reader, userID, issuer, account, label string, now time.Time) (*sls.Device, *Key, error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: uint(Period / time.Second),
		SecretSize: SecretSize, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Rand: r})
	if err != nil {
		return nil, nil, fmt.Errorf("totp: key: %w", err)
	}
	raw, err := decodeSecret(key.Secret())
	if err != nil {
		return nil, nil, err
	}
	d := &sls.Device{ID: sls.NewID("dev"), UserID: userID, Kind: sls.KindTOTP, State: sls.StatePending, Label: label, CreatedAt: now}
	if d.Secret, err = s.Seal(factor.SecretPlace(d.ID), raw); err != nil {
		return nil, nil, err
	}
	return d, &Key{Secret: key.Secret(), URI: key.URL()}, nil
}

func decodeSecret(b32 string) ([]byte, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(b32, "=")))
	if err != nil {
		return nil, fmt.Errorf("totp: secret: %w", err)
	}
	return raw, nil
}

// Code is the code for secret (base32) at t: what the user's app shows.
func Code(secretB32 string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secretB32, t, opts)
}

// Challenge implements sls.Factor: nothing to show but the instruction.
func (f *Factor) Challenge(_ context.Context, _ sls.Tx, _ *sls.User, _ *sls.Device, c *sls.Challenge, _ time.Time) error {
	c.Prompt = &sls.Prompt{Kind: sls.KindTOTP, Message: "Enter the 6-digit code your authenticator app shows."}
	return nil
}

// Verify implements sls.Factor: the answer must be the code of the
// current step or of the one before or after, of a step after the last
// one accepted. Every candidate is compared, in constant time, so the
// time taken says nothing about which step matched.
func (f *Factor) Verify(_ context.Context, _ sls.Tx, _ *sls.User, d *sls.Device, _ *sls.Challenge, answer string, now time.Time) (sls.Verified, error) {
	answer = strings.ReplaceAll(strings.TrimSpace(answer), " ", "")
	if !sixDigits(answer) {
		return sls.Verified{}, sls.ErrBadResponse
	}
	raw, err := factor.OpenSecret(f.Sealer, d)
	if err != nil {
		return sls.Verified{}, err
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	var st state
	if len(d.FactorState) > 0 {
		if err := json.Unmarshal(d.FactorState, &st); err != nil {
			return sls.Verified{}, sls.ErrDeviceUnavailable.Wrap(fmt.Errorf("totp: device %s state: %w", d.ID, err))
		}
	}
	current := now.Unix() / int64(Period/time.Second)
	matched := int64(-1)
	for step := current - Skew; step <= current+Skew; step++ {
		code, err := Code(secret, time.Unix(step*int64(Period/time.Second), 0))
		if err != nil {
			return sls.Verified{}, sls.ErrDeviceUnavailable.Wrap(err)
		}
		if subtle.ConstantTimeCompare([]byte(code), []byte(answer)) == 1 && step > st.LastStep {
			matched = step
		}
	}
	if matched < 0 {
		return sls.Verified{}, sls.ErrBadResponse
	}
	d.FactorState, _ = json.Marshal(state{LastStep: matched})
	return sls.Verified{}, nil
}

func sixDigits(s string) bool {
	if len(s) != Digits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
