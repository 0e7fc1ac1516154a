// Package sms is the SMS and voice factor and the mobile-number
// verification that enrolls it (SPEC §1 SMS row, §3 SMS enrollment).
//
// A login with the SMS device sends a 6-digit code to the verified number;
// "Didn't receive a security code?" sends a new code by SMS again or reads
// it out in an automated call. Codes come from a cryptographic source, are
// stored as keyed hashes, are single-use and live 10 minutes (NIST SP
// 800-63B §5.1.3.2), and each new code replaces the previous one. Sends are
// capped per user, per number and per country calling code against SMS
// pumping and harassment; a capped request sends nothing.
package sms

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/secure-login-system/sls/config/field"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/seal"
)

// Rules are the SMS rules; zero fields take DefaultRules' values.
type Rules struct {
	// CodeTTL: NIST SP 800-63B §5.1.3.2 — an out-of-band secret is valid
	// for at most 10 minutes.
	CodeTTL time.Duration `json:"code_ttl"`
	// ResendInterval: SPEC §1 — a new code may be requested at most every
	// 2 minutes.
	ResendInterval time.Duration `json:"resend_interval"`
	// MaxAttemptsPerCode bounds guesses of one code (the issue: 5).
	MaxAttemptsPerCode int `json:"max_attempts_per_code"`
	// Caps against SMS pumping (OWASP "SMS pumping" guidance): per user per
	// day, per destination number per day, per region per hour (notify.Region: +1 is the US, Canada, Jamaica… each with its own cap).
	MaxPerUserDay    int `json:"max_per_user_day"`
	MaxPerNumberDay  int `json:"max_per_number_day"`
	MaxPerRegionHour int `json:"max_per_region_hour"`
	// SuspendAfterChange: after a number change SMS login is suspended
	// for this long (NIST SP 800-63B §5.1.3.3 treats the number as the
	// authenticator; a SIM swap or hijacked account changes it first).
	SuspendAfterChange time.Duration `json:"suspend_after_change"`
}

// DefaultRules are the defaults with their sources above.
func DefaultRules() Rules {
	return Rules{CodeTTL: 10 * time.Minute, ResendInterval: 2 * time.Minute, MaxAttemptsPerCode: 5,
		MaxPerUserDay: 10, MaxPerNumberDay: 10, MaxPerRegionHour: 500, SuspendAfterChange: 72 * time.Hour}
}

// WithDefaults fills zero fields.
func (r Rules) WithDefaults() Rules {
	d := DefaultRules()
	if r.CodeTTL == 0 {
		r.CodeTTL = d.CodeTTL
	}
	if r.ResendInterval == 0 {
		r.ResendInterval = d.ResendInterval
	}
	if r.MaxAttemptsPerCode == 0 {
		r.MaxAttemptsPerCode = d.MaxAttemptsPerCode
	}
	if r.MaxPerUserDay == 0 {
		r.MaxPerUserDay = d.MaxPerUserDay
	}
	if r.MaxPerNumberDay == 0 {
		r.MaxPerNumberDay = d.MaxPerNumberDay
	}
	if r.MaxPerRegionHour == 0 {
		r.MaxPerRegionHour = d.MaxPerRegionHour
	}
	if r.SuspendAfterChange == 0 {
		r.SuspendAfterChange = d.SuspendAfterChange
	}
	return r
}

// Validate refuses rules weaker than the sources allow.
func (r Rules) Validate() error {
	var errs field.Errors
	if r.CodeTTL <= 0 || r.CodeTTL > 10*time.Minute {
		errs.Addf("code_ttl", "%s must be positive and at most 10m (NIST SP 800-63B §5.1.3.2)", r.CodeTTL)
	}
	if r.ResendInterval < 0 {
		errs.Addf("resend_interval", "must not be negative")
	}
	if r.MaxAttemptsPerCode < 1 || r.MaxAttemptsPerCode > 10 {
		errs.Addf("max_attempts_per_code", "%d must be between 1 and 10", r.MaxAttemptsPerCode)
	}
	for name, v := range map[string]int{"max_per_user_day": r.MaxPerUserDay, "max_per_number_day": r.MaxPerNumberDay, "max_per_region_hour": r.MaxPerRegionHour} {
		if v < 1 {
			errs.Addf(name, "%d must be at least 1", v)
		}
	}
	if r.SuspendAfterChange < 0 {
		errs.Addf("suspend_after_change", "must not be negative")
	}
	return errs.Err()
}

// Codes sends and checks codes; the factor and the number verification
// share it.
type Codes struct {
	Sealer   *seal.Sealer
	Notifier sls.Notifier
	Rules    Rules
	Rand     io.Reader // nil: crypto/rand
	// Limiter bounds sends per client address, however a code is asked
	// for (nil: no limit).
	Limiter *ratelimit.Limiter
}

const codePurpose = "sms code v1"

func (c *Codes) hash(code string) []byte { return c.Sealer.KeyedHash(codePurpose, []byte(code)) }

// Matches compares code with a stored hash in constant time.
func (c *Codes) Matches(stored []byte, code string) bool {
	code = strings.TrimSpace(code)
	return len(code) == 6 && subtle.ConstantTimeCompare(c.hash(code), stored) == 1
}

// Send checks the caps, makes a fresh code and queues it to `to` by
// channel (sms or voice) as a message of kind. It returns the code's hash.
// lastSent is when this flow last sent a code (zero: never) for the
// resend interval. clientIP is the address that asked for the code: sends
// are rate-limited per address (ratelimit.SMSAddress) against SMS
// pumping. Nothing is sent when a cap or limit is hit.
func (c *Codes) Send(ctx context.Context, tx sls.Tx, u *sls.User, clientIP, to string, channel notify.Channel, kind notify.Kind,
	lastSent, now time.Time) ([]byte, error) {
	r := c.Rules
	if !lastSent.IsZero() && now.Sub(lastSent) < r.ResendInterval {
		wait := r.ResendInterval - now.Sub(lastSent)
		return nil, sls.Errorf(sls.CodeRateLimited, "A new code can be requested in %d seconds.", int(wait.Seconds())+1).
			WithDetail("retry_after_seconds", int(wait.Seconds())+1)
	}
	region := notify.Region(to)
	if region == "" {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The mobile number is not a valid international number.")
	}
	if err := notify.CheckReceiver(to, channel); err != nil {
		// Checked when the number was set; checked again here because
		// numbering plans change (fail closed).
		return nil, sls.Errorf(sls.CodeInvalidArgument, "This number cannot receive security codes.").WithDetail("reason", "number_type")
	}
	if err := c.Limiter.TakeIn(ctx, tx, ratelimit.SMSAddress, ratelimit.AddressKey(clientIP)); err != nil {
		return nil, err
	}
	caps := []struct {
		count sls.SMSCount
		max   int
		what  string
	}{
		{sls.SMSCount{UserID: u.ID, Since: now.Add(-24 * time.Hour)}, r.MaxPerUserDay, "per user per day"},
		{sls.SMSCount{To: to, Since: now.Add(-24 * time.Hour)}, r.MaxPerNumberDay, "per number per day"},
		{sls.SMSCount{Region: region, Since: now.Add(-time.Hour)}, r.MaxPerRegionHour, "per region per hour"},
	}
	for _, cp := range caps {
		n, err := tx.CountSMSSends(ctx, cp.count)
		if err != nil {
			return nil, err
		}
		if n >= cp.max {
			return nil, sls.Errorf(sls.CodeRateLimited, "Too many security codes were requested. Please try again later or use another security device.").
				WithDetail("cap", cp.what)
		}
	}
	code, err := factor.Digits(c.Rand, 6)
	if err != nil {
		return nil, err
	}
	if err := tx.RecordSMSSend(ctx, sls.SMSSend{UserID: u.ID, To: to, Region: region, Channel: string(channel), At: now}); err != nil {
		return nil, err
	}
	if c.Notifier == nil {
		return nil, sls.Errorf(sls.CodeUnavailable, "Codes cannot be sent: no notification channel is configured.")
	}
	if err := c.Notifier.Notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: string(kind), Channel: string(channel), To: to,
		Data: map[string]string{"Code": code}}); err != nil {
		return nil, err
	}
	return c.hash(code), nil
}

// Factor implements sls.Factor for the SMS device.
type Factor struct {
	Codes *Codes
}

var (
	_ sls.Factor       = (*Factor)(nil)
	_ sls.Availability = (*Factor)(nil)
)

// Kind implements sls.Factor.
func (*Factor) Kind() sls.DeviceKind { return sls.KindSMS }

// challengeState is the login's private state.
type challengeState struct {
	Hash     []byte    `json:"hash"`
	SentAt   time.Time `json:"sent_at"`
	Expires  time.Time `json:"expires"`
	Attempts int       `json:"attempts"`
	Channel  string    `json:"channel"`
}

// Available implements sls.Availability: SMS is not a login method while
// the number is unverified or within the suspension after a change.
func (f *Factor) Available(u *sls.User, _ *sls.Device, _ []*sls.Device, now time.Time) bool {
	if u.Mobile == "" || u.MobileVerifiedAt.IsZero() {
		return false
	}
	return u.MobileChangedAt.IsZero() || !now.Before(u.MobileChangedAt.Add(f.Codes.Rules.SuspendAfterChange))
}

// deviceState is what the SMS device remembers across challenges: the
// last code sent to it (its hash, when, until when, how it was sent and
// how often it was answered). The resend interval is measured from it,
// so it holds however a code is asked for: a new login, choosing the
// device again, a step-up, or "Didn't receive a security code?".
type deviceState = challengeState

func readDeviceState(d *sls.Device) deviceState {
	var st deviceState
	if d != nil && len(d.FactorState) > 0 {
		_ = json.Unmarshal(d.FactorState, &st) // unreadable: as if nothing was sent
	}
	return st
}

// Challenge implements sls.Factor: it sends a code by SMS, unless one was
// sent to the device within the resend interval and can still be
// answered: then that code stands (nothing is sent; the prompt says when
// a new one may be asked for). Choosing the device again must not be a
// way around the resend rule (NIST SP 800-63B §5.2.2 rate limiting).
func (f *Factor) Challenge(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, c *sls.Challenge, now time.Time) error {
	prev := readDeviceState(d)
	if !prev.SentAt.IsZero() && now.Sub(prev.SentAt) < f.Codes.Rules.ResendInterval && len(prev.Hash) > 0 && now.Before(prev.Expires) {
		c.FactorState, _ = json.Marshal(prev)
		f.prompt(u, c, notify.Channel(prev.Channel), prev)
		return nil
	}
	return f.send(ctx, tx, u, d, c, notify.ChannelSMS, prev.SentAt, now)
}

func (f *Factor) send(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, c *sls.Challenge, ch notify.Channel, lastSent, now time.Time) error {
	kind := notify.KindLoginCodeSMS
	if ch == notify.ChannelVoice {
		kind = notify.KindLoginCodeVoice
	}
	hash, err := f.Codes.Send(ctx, tx, u, c.ClientIP, u.Mobile, ch, kind, lastSent, now)
	if err != nil {
		return err
	}
	st := challengeState{Hash: hash, SentAt: now, Expires: now.Add(f.Codes.Rules.CodeTTL), Channel: string(ch)}
	c.FactorState, _ = json.Marshal(st)
	if d != nil {
		d.FactorState = c.FactorState
	}
	f.prompt(u, c, ch, st)
	return nil
}

// prompt shows the code's screen and caps the challenge at the code's life.
func (f *Factor) prompt(u *sls.User, c *sls.Challenge, ch notify.Channel, st challengeState) {
	if c.Deadline.IsZero() || st.Expires.Before(c.Deadline) {
		c.Deadline = st.Expires
	}
	msg := fmt.Sprintf("A security code was sent by text message to %s.", MaskNumber(u.Mobile))
	if ch == notify.ChannelVoice {
		msg = fmt.Sprintf("You will receive an automated call at %s within a minute; it reads out your security code.", MaskNumber(u.Mobile))
	}
	c.Prompt = &sls.Prompt{Kind: sls.KindSMS, Message: msg, ResendAfter: st.SentAt.Add(f.Codes.Rules.ResendInterval)}
}

// Resend replaces the login's code with a new one sent by channel ("sms"
// or "voice"): "Didn't receive a security code?". The interval counts
// from the last code sent to the device d, whatever asked for it.
func (f *Factor) Resend(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, c *sls.Challenge, channel string, now time.Time) error {
	ch := notify.Channel(channel)
	if ch != notify.ChannelSMS && ch != notify.ChannelVoice {
		return sls.Errorf(sls.CodeInvalidArgument, "A code can be sent again by \"sms\" or \"voice\".")
	}
	var prev challengeState
	_ = json.Unmarshal(c.FactorState, &prev)
	last := prev.SentAt
	if ds := readDeviceState(d); ds.SentAt.After(last) {
		last = ds.SentAt
	}
	return f.send(ctx, tx, u, d, c, ch, last, now)
}

// Verify implements sls.Factor.
func (f *Factor) Verify(_ context.Context, _ sls.Tx, _ *sls.User, d *sls.Device, c *sls.Challenge, answer string, now time.Time) (sls.Verified, error) {
	var st challengeState
	if err := json.Unmarshal(c.FactorState, &st); err != nil || len(st.Hash) == 0 {
		return sls.Verified{}, sls.Errorf(sls.CodeConflict, "No security code is waiting; request a new one.")
	}
	if !now.Before(st.Expires) {
		return sls.Verified{}, sls.Errorf(sls.CodeLoginExpired, "This security code has expired. Please request a new code.")
	}
	// The device holds the one code that may be answered. Several
	// challenges (a second login, a step-up) can share it within the
	// resend interval; once it was used, used up or replaced by a resend
	// through any of them, the others hold a dead code. Refused without
	// counting (nothing was checked), so a code is single use across
	// challenges (NIST SP 800-63B §5.1.3.2) and a stale challenge never
	// overwrites the device's newer code.
	if d != nil {
		ds := readDeviceState(d)
		if len(ds.Hash) == 0 || subtle.ConstantTimeCompare(ds.Hash, st.Hash) != 1 {
			return sls.Verified{}, sls.Errorf(sls.CodeConflict, "This security code was used or replaced; request a new one.")
		}
		// The device's count of the same code counts too, so that choosing
		// the device again never resets its attempts.
		st.Attempts = max(st.Attempts, ds.Attempts)
	}
	st.Attempts++
	ok := st.Attempts <= f.Codes.Rules.MaxAttemptsPerCode && f.Codes.Matches(st.Hash, answer)
	if !ok {
		if st.Attempts >= f.Codes.Rules.MaxAttemptsPerCode {
			st.Hash = nil // used up: only a new code can be answered
		}
		c.FactorState, _ = json.Marshal(st)
		f.keep(d, st)
		return sls.Verified{}, sls.ErrBadResponse
	}
	c.FactorState = nil                                               // single use
	f.keep(d, challengeState{SentAt: st.SentAt, Channel: st.Channel}) // the interval still counts; the code is spent
	return sls.Verified{}, nil
}

// keep writes st into the device's state (the caller stores d).
func (f *Factor) keep(d *sls.Device, st challengeState) {
	if d != nil {
		d.FactorState, _ = json.Marshal(st)
	}
}

// MaskNumber shows only the last digits of a number: "+36•••••4567".
func MaskNumber(n string) string {
	if len(n) <= 6 {
		return n
	}
	keep := n[len(n)-4:]
	prefix := notify.CountryCode(n)
	if prefix == "" {
		prefix = "+"
	}
	return prefix + strings.Repeat("•", max(len(n)-len(prefix)-4, 1)) + keep
}
