package totp

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/verify"
)

// Enrolment rules.
const (
	// PendingFor is how long a new device waits for its first code: long
	// enough to install an app and scan, short enough that a secret shown
	// on a screen and never confirmed stops being a way in.
	PendingFor = 10 * time.Minute
	// MaxPerUser bounds a user's authenticator apps (active or waiting).
	MaxPerUser = 5
	maxLabel   = 40
)

// Service enrols authenticator apps: a pending device with a fresh
// secret, activated by its first code through the one verifier, so that
// wrong codes count toward the user's lock-out like any wrong answer.
type Service struct {
	Store  sls.Store
	Sealer *seal.Sealer
	Clock  sls.Clock
	Rand   io.Reader // nil: crypto/rand
	// Issuer names the entry in the user's app ("Broker – alice").
	Issuer string
	// Verifier and Activate are the login service's verifier and the
	// manage service's activation (audit, notice, temporary passcodes
	// ended); functions because they exist only once the server is built.
	Verifier func() *verify.Verifier
	Activate func(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error
}

// Enrolled is a new device and its secret, shown once.
type Enrolled struct {
	Device *sls.Device `json:"device"`
	// Secret (base32) and URI are what the app needs: typed, or scanned
	// from the QR code of the URI.
	Secret string `json:"secret"`
	URI    string `json:"otpauth_uri"`
}

// CheckLabel refuses a label that is too long or holds control characters.
func CheckLabel(label string) error {
	if !utf8.ValidString(label) || utf8.RuneCountInString(label) > maxLabel || strings.IndexFunc(label, unicode.IsControl) >= 0 {
		return sls.Errorf(sls.CodeInvalidArgument, "The name must be at most %d characters, without control characters.", maxLabel)
	}
	return nil
}

// Enrol makes a pending authenticator-app device for userID. actor is
// the user (from the portal or the API, after a step-up) or an operator
// (slsctl totp issue, under dual control).
func (s *Service) Enrol(ctx context.Context, actor, userID, label string) (*Enrolled, error) {
	label = strings.TrimSpace(label)
	if err := CheckLabel(label); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	var out *Enrolled
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		u, devices, err := factor.EnrollingUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		n := 0
		for _, d := range devices {
			if d.Kind == sls.KindTOTP && (d.State == sls.StateActive || (d.State == sls.StatePending && now.Before(d.ExpiresAt))) {
				n++
			}
		}
		if n >= MaxPerUser {
			return sls.Errorf(sls.CodeConflict, "You already have %d authenticator apps; remove one first.", MaxPerUser)
		}
		d, key, err := Enroll(s.Sealer, s.Rand, u.ID, s.Issuer, u.Username, label, now)
		if err != nil {
			return err
		}
		d.ExpiresAt = now.Add(PendingFor)
		if err := tx.CreateDevice(ctx, d); err != nil {
			return err
		}
		out = &Enrolled{Device: d, Secret: key.Secret, URI: key.URI}
		return sls.Audit(ctx, tx, now, actor, sls.EventDeviceIssued, u.ID, d.ID, map[string]any{"kind": d.Kind, "label": label})
	})
	return out, err
}

// Confirm activates the user's pending device when code is its current
// code. A wrong code counts as a failed answer (purpose activation); a
// device past PendingFor must be enrolled again.
func (s *Service) Confirm(ctx context.Context, actor, userID, deviceID, code string) (*sls.Device, error) {
	now := s.Clock.Now()
	var out *sls.Device
	var refusal error
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		refusal = nil
		u, err := tx.UserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		d, err := tx.Device(ctx, deviceID)
		if errors.Is(err, sls.ErrNotFound) || (err == nil && (d.UserID != u.ID || d.Kind != sls.KindTOTP)) {
			return sls.Errorf(sls.CodeNotFound, "No such authenticator app.")
		}
		if err != nil {
			return err
		}
		if d.State != sls.StatePending {
			return sls.Errorf(sls.CodeConflict, "This authenticator app is %s, not waiting for its first code.", d.State)
		}
		if !now.Before(d.ExpiresAt) {
			return sls.Errorf(sls.CodeLoginExpired, "The setup of this authenticator app expired. Please start again.")
		}
		c := &sls.Challenge{Purpose: sls.PurposeActivation, UserID: u.ID, DeviceID: d.ID, CreatedAt: now, Deadline: now.Add(time.Minute)}
		res, err := s.Verifier().Answer(ctx, tx, u, d, c, code, now)
		if err != nil {
			return err
		}
		if !res.OK() {
			refusal = res.Refusal
			return nil
		}
		d.ExpiresAt = time.Time{}
		if err := s.Activate(ctx, tx, actor, u, d, now); err != nil {
			return err
		}
		out = d
		return nil
	})
	if err == nil && refusal != nil {
		return nil, refusal
	}
	return out, err
}
