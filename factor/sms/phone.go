package sms

import (
	"context"
	"errors"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/verify"
)

// Audit events of the mobile number.
const (
	EventVerifySent    = "mobile.verify_sent"
	EventVerified      = "mobile.verified"
	EventVerifyFailed  = "mobile.verify_failed"
	EventNumberChanged = "mobile.changed"
	EventSMSEnrolled   = "sms.enrolled"
	EventSMSDisabled   = "sms.disabled"
	EventCodeResent    = "login.code_resent"
)

// MaxLoginWindow bounds how long after its start a login may keep asking
// for new codes: each code lives CodeTTL, the whole login no longer.
const MaxLoginWindow = 15 * time.Minute

// Activator activates a device with the device hooks (manage.ActivateInTx).
type Activator func(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error

// Phone runs mobile-number verification ("VERIFY" → code by SMS → enter
// code → "SMS verified") and the SMS enrollment that follows it.
type Phone struct {
	Store    sls.Store
	Codes    *Codes
	Clock    sls.Clock
	Activate Activator
	// Lockout is the login lockout rule: wrong confirmation codes count
	// toward the same lock as wrong login answers.
	Lockout sls.Lockout
	// NumberChanged is called in the transaction that replaces a verified
	// number with another (nil: nothing): a security change.
	NumberChanged func(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) error
}

// VerificationStatus is what the settings page shows.
type VerificationStatus struct {
	Mobile      string    `json:"mobile"`
	Verified    bool      `json:"verified"`
	VerifiedAt  time.Time `json:"verified_at,omitzero"`
	Pending     string    `json:"pending_mobile,omitempty"`
	ResendAfter time.Time `json:"resend_after,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	SMSLogin    bool      `json:"sms_login"`
}

// Status reports the user's number and verification.
func (p *Phone) Status(ctx context.Context, userID string) (*VerificationStatus, error) {
	var st *VerificationStatus
	err := p.Store.View(ctx, func(tx sls.Tx) error {
		u, err := tx.User(ctx, userID)
		if err != nil {
			return err
		}
		st = &VerificationStatus{Mobile: u.Mobile, Verified: !u.MobileVerifiedAt.IsZero(), VerifiedAt: u.MobileVerifiedAt}
		if v, err := tx.PhoneVerification(ctx, userID); err == nil {
			st.Pending, st.ResendAfter, st.ExpiresAt = v.Mobile, v.SentAt.Add(p.Codes.Rules.ResendInterval), v.ExpiresAt
		} else if !errors.Is(err, sls.ErrNotFound) {
			return err
		}
		devs, err := tx.Devices(ctx, userID)
		for _, d := range devs {
			if d.Kind == sls.KindSMS && d.State == sls.StateActive {
				st.SMSLogin = true
			}
		}
		return err
	})
	return st, err
}

// StartVerification sends a confirmation code to mobile (the user's
// current number when empty). A different number becomes the user's only
// once confirmed.
func (p *Phone) StartVerification(ctx context.Context, userID, mobile, clientIP string) (*VerificationStatus, error) {
	now := p.Clock.Now()
	err := p.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		if mobile == "" {
			mobile = u.Mobile
		}
		if mobile == "" {
			return sls.Errorf(sls.CodeInvalidArgument, "Enter your mobile number in international form, like +36301234567.")
		}
		norm, err := CheckMobile(mobile)
		if err != nil {
			return err
		}
		var last time.Time
		if v, err := tx.PhoneVerification(ctx, userID); err == nil {
			last = v.SentAt
		} else if !errors.Is(err, sls.ErrNotFound) {
			return err
		}
		hash, err := p.Codes.Send(ctx, tx, u, clientIP, norm, notify.ChannelSMS, notify.KindPhoneVerifyCode, last, now)
		if err != nil {
			return err
		}
		if err := tx.PutPhoneVerification(ctx, &sls.PhoneVerification{UserID: u.ID, Mobile: norm, CodeHash: hash, SentAt: now,
			ExpiresAt: now.Add(p.Codes.Rules.CodeTTL)}); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventVerifySent, u.ID, "", map[string]any{"mobile": MaskNumber(norm)})
	})
	if err != nil {
		return nil, err
	}
	return p.Status(ctx, userID)
}

// ConfirmVerification checks the confirmation code. On success the number
// is the user's verified number; a change of number is audited, notified
// to the old number and the email address, and suspends SMS login for
// Rules.SuspendAfterChange. A user with no active security device (other
// than temporary ones) and no IB Key is enrolled in SMS login.
func (p *Phone) ConfirmVerification(ctx context.Context, userID, code string) (*VerificationStatus, error) {
	now := p.Clock.Now()
	var outcome error
	err := p.Store.Update(ctx, func(tx sls.Tx) error {
		outcome = nil
		u, err := tx.UserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		v, err := tx.PhoneVerification(ctx, userID)
		if errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeConflict, "No confirmation code is waiting. Request one with VERIFY first.")
		}
		if err != nil {
			return err
		}
		if !now.Before(v.ExpiresAt) {
			if err := tx.DeletePhoneVerification(ctx, userID); err != nil {
				return err
			}
			outcome = sls.Errorf(sls.CodeLoginExpired, "The confirmation code has expired. Please request a new one.")
			return nil
		}
		if !p.Codes.Matches(v.CodeHash, code) {
			v.Attempts++
			outcome = sls.ErrBadResponse
			if v.Attempts >= p.Codes.Rules.MaxAttemptsPerCode {
				if err := tx.DeletePhoneVerification(ctx, userID); err != nil {
					return err
				}
			} else if err := tx.PutPhoneVerification(ctx, v); err != nil {
				return err
			}
			// Counted by the one verifier, like any failed proof.
			outcome, err = (&verify.Verifier{Lockout: p.Lockout}).Fail(ctx, tx, u, "", sls.PurposePhone,
				map[string]any{"step": "mobile_verification", "attempt": v.Attempts}, now)
			return err
		}
		if err := tx.DeletePhoneVerification(ctx, userID); err != nil {
			return err
		}
		return p.verified(ctx, tx, u, v.Mobile, sls.ActorUser(u.ID), nil, now)
	})
	if err != nil {
		return nil, err
	}
	if outcome != nil {
		return nil, outcome
	}
	return p.Status(ctx, userID)
}

// SetByOperator changes a user's number after Client Services verified
// the client's identity (verification says how): the number counts as
// verified, and the change rules are those of a change the client makes —
// the old number and the email address are told, SMS login is suspended
// for Rules.SuspendAfterChange — and every session an SMS code opened
// ends, since the old number may be in someone else's hands.
func (p *Phone) SetByOperator(ctx context.Context, actor, userID, mobile, verification string) error {
	norm, err := CheckMobile(mobile)
	if err != nil {
		return err
	}
	verification = strings.TrimSpace(verification)
	if len(verification) < 3 || len(verification) > 500 {
		return sls.Errorf(sls.CodeInvalidArgument, "Say how the client's identity was verified (3 to 500 characters).")
	}
	now := p.Clock.Now()
	return p.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		if u.Mobile == norm && !u.MobileVerifiedAt.IsZero() {
			return sls.Errorf(sls.CodeConflict, "That is already the user's verified number.")
		}
		devices, err := tx.Devices(ctx, u.ID)
		if err != nil {
			return err
		}
		for _, d := range devices {
			if d.Kind == sls.KindSMS {
				if _, err := sls.EndSessions(ctx, tx, sls.SessionFilter{DeviceID: d.ID}, sls.EndByOperator, actor, now); err != nil {
					return err
				}
			}
		}
		return p.verified(ctx, tx, u, norm, actor, map[string]any{"identity_verification": verification}, now)
	})
}

func (p *Phone) verified(ctx context.Context, tx sls.Tx, u *sls.User, mobile, actor string, extra map[string]any, now time.Time) error {
	old, oldVerified := u.Mobile, !u.MobileVerifiedAt.IsZero()
	changed := old != "" && old != mobile
	devices, err := tx.Devices(ctx, u.ID)
	if err != nil {
		return err
	}
	if changed {
		u.MobileChangedAt = now
		if oldVerified {
			// To the old number: whoever holds it should hear of the change.
			if err := p.Codes.Notifier.Notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NotePhoneNumberChanged,
				Channel: string(notify.ChannelSMS), To: old, Data: p.changeData(mobile, now)}); err != nil {
				return err
			}
		}
		if u.Email != "" {
			if err := p.Codes.Notifier.Notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NotePhoneNumberChanged,
				Channel: string(notify.ChannelEmail), Data: p.changeData(mobile, now)}); err != nil {
				return err
			}
		}
		detail := map[string]any{"from": MaskNumber(old), "to": MaskNumber(mobile), "sms_suspended_until": now.Add(p.Codes.Rules.SuspendAfterChange)}
		for k, v := range extra {
			detail[k] = v
		}
		if err := sls.Audit(ctx, tx, now, actor, EventNumberChanged, u.ID, "", detail); err != nil {
			return err
		}
		if p.NumberChanged != nil && oldVerified {
			if err := p.NumberChanged(ctx, tx, u, now); err != nil {
				return err
			}
		}
	}
	u.Mobile, u.MobileVerifiedAt = mobile, now
	if err := tx.PutUser(ctx, u); err != nil {
		return err
	}
	if err := sls.Audit(ctx, tx, now, actor, EventVerified, u.ID, "", map[string]any{"mobile": MaskNumber(mobile)}); err != nil {
		return err
	}
	return p.enroll(ctx, tx, u, devices, now)
}

func (p *Phone) changeData(newNumber string, now time.Time) map[string]string {
	return map[string]string{"NumberEnding": newNumber[len(newNumber)-4:],
		"Until": now.Add(p.Codes.Rules.SuspendAfterChange).Format("2006-01-02 15:04 MST")}
}

// enroll makes the SMS device for a user who has no permanent device
// (SPEC §3: a user with a verified number and no active device is enrolled
// in SMS 2FA automatically), never for an IB Key user (SMS stops being
// available once IB Key is activated).
func (p *Phone) enroll(ctx context.Context, tx sls.Tx, u *sls.User, devices []*sls.Device, now time.Time) error {
	for _, d := range devices {
		if d.State != sls.StateActive && d.State != sls.StateSuspended {
			continue
		}
		if d.Kind == sls.KindSMS || d.Kind == sls.KindIBKey || !d.Kind.Temporary() {
			return nil // has SMS already, or a permanent device
		}
	}
	d := &sls.Device{ID: sls.NewID("dev"), UserID: u.ID, Kind: sls.KindSMS, State: sls.StatePending, Label: "SMS", CreatedAt: now}
	if err := tx.CreateDevice(ctx, d); err != nil {
		return err
	}
	if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventSMSEnrolled, u.ID, d.ID, nil); err != nil {
		return err
	}
	return p.Activate(ctx, tx, sls.ActorUser(u.ID), u, d, now)
}

// DisableForIBKey switches SMS login off when IB Key activates (SPEC §3);
// SMS stays for codes and notices. It is the device hook the IB Key
// feature triggers through manage.ActivateInTx.
func DisableForIBKey(ctx context.Context, tx sls.Tx, u *sls.User, activated *sls.Device, now time.Time) error {
	if activated.Kind != sls.KindIBKey {
		return nil
	}
	devices, err := tx.Devices(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, d := range devices {
		if d.Kind != sls.KindSMS || d.State == sls.StateRevoked {
			continue
		}
		d.State = sls.StateRevoked
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		if err := sls.Audit(ctx, tx, now, sls.ActorSystem, EventSMSDisabled, u.ID, d.ID, map[string]any{"reason": "ibkey_activated"}); err != nil {
			return err
		}
		if _, err := sls.EndSessions(ctx, tx, sls.SessionFilter{DeviceID: d.ID}, sls.EndDeviceReplaced, sls.ActorSystem, now); err != nil {
			return err
		}
	}
	return nil
}

// ResendLogin sends a new code for a login that is waiting for an SMS
// code ("Didn't receive a security code?").
func (f *Factor) ResendLogin(ctx context.Context, store sls.Store, loginID, channel string, now time.Time) (*sls.Prompt, error) {
	var prompt *sls.Prompt
	err := store.Update(ctx, func(tx sls.Tx) error {
		// The login, its user and its device in one read, locked in the
		// order of every login step (the user first).
		l, u, d, err := tx.LoginWithUserForUpdate(ctx, sls.TokenHash(loginID))
		if errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "Unknown login. Please start over.")
		}
		if err != nil {
			return err
		}
		switch {
		case l.State == sls.LoginCompleted:
			return sls.ErrLoginCompleted
		case l.State == sls.LoginFailed:
			return sls.ErrTooManyAttempts
		case !now.Before(l.Deadline):
			return sls.ErrLoginExpired
		case l.State != sls.LoginChallenged:
			return sls.Errorf(sls.CodeConflict, "Choose a security device first.")
		}
		if d == nil {
			return sls.ErrNotFound // as reading the device was when it is gone
		}
		if d.Kind != sls.KindSMS {
			return sls.Errorf(sls.CodeConflict, "This login is not waiting for an SMS code.")
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		if !f.Available(u, d, nil, now) || !d.Usable(now) { // SMS availability does not depend on other devices
			return sls.ErrDeviceUnavailable
		}
		if err := f.Resend(ctx, tx, u, d, &l.Challenge, channel, now); err != nil {
			return err
		}
		if err := tx.PutDevice(ctx, d); err != nil { // the device remembers the send (resend interval)
			return err
		}
		// The new code gets its full lifetime, within the login's window.
		l.Deadline = now.Add(f.Codes.Rules.CodeTTL)
		if end := l.CreatedAt.Add(MaxLoginWindow); end.Before(l.Deadline) {
			l.Deadline = end
		}
		if err := tx.PutLogin(ctx, l); err != nil {
			return err
		}
		prompt = l.Prompt
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventCodeResent, u.ID, d.ID, map[string]any{"channel": channel})
	})
	return prompt, err
}

// CheckMobile normalizes a mobile number as a client or operator typed it
// and checks that it may receive security codes by SMS: a valid
// international number of a kind that reaches a phone (notify.CheckReceiver
// says which kinds). The refusal says which rule failed, and nothing is
// stored.
func CheckMobile(input string) (string, error) {
	norm, err := notify.NormalizeE164(input)
	if err != nil {
		return "", sls.Errorf(sls.CodeInvalidArgument, "The mobile number must be a valid number in international form, like +36301234567.").
			WithDetail("field", "mobile").WithDetail("reason", "invalid_number")
	}
	if err := notify.CheckReceiver(norm, notify.ChannelSMS); err != nil {
		why := "not a mobile number"
		if te, ok := errors.AsType[*notify.PhoneTypeError](err); ok {
			why = te.Why
		}
		return "", sls.Errorf(sls.CodeInvalidArgument, "This number cannot receive security codes by text message (%s). Enter a mobile number.", why).
			WithDetail("field", "mobile").WithDetail("reason", "number_type")
	}
	return norm, nil
}
