package passkey

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/seal"
)

// Registration rules.
const (
	// MaxPerUser bounds a user's passkeys (WebAuthn leaves it to the RP;
	// a few per person: phone, laptop, a security key or two).
	MaxPerUser = 10
	maxName    = 40
)

// Service registers, names and removes passkeys. Registering needs a
// device proven in the session just now (the caller's route declares
// it); the new passkey is active at once, because the ceremony itself
// proves the authenticator holds its key with the user verified.
type Service struct {
	Store  sls.Store
	Sealer *seal.Sealer
	Clock  sls.Clock
	RP     RelyingParty
	// Activate is the manage service's activation (audit, notice,
	// temporary passcodes ended); Revoke its revocation (sessions the
	// device authenticated end).
	Activate func(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error
	Revoke   func(ctx context.Context, actor, deviceID, reason string) (*sls.Device, error)
	// Login is the login service, for logins with a passkey alone.
	Login func() *login.Service
}

// FirstStep is the first-step factor of the service's passkeys.
func (s *Service) FirstStep() FirstStep { return FirstStep{F: s.factor()} }

// BeginFirstStep starts a login with a passkey alone (FirstStep.Begin).
func (s *Service) BeginFirstStep() (json.RawMessage, string, error) {
	return s.FirstStep().Begin(s.Clock.Now())
}

// Begun is a registration ceremony begun: the pending device and the
// options for navigator.credentials.create (JSON of
// PublicKeyCredentialCreationOptions, under "publicKey").
type Begun struct {
	DeviceID string          `json:"device_id"`
	Options  json.RawMessage `json:"options"`
}

// CheckName refuses a name that is too long or holds control characters.
func CheckName(name string) error {
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxName || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return sls.Errorf(sls.CodeInvalidArgument, "The name must be at most %d characters, without control characters.", maxName)
	}
	return nil
}

func (s *Service) factor() *Factor { return &Factor{Sealer: s.Sealer, RP: s.RP} }

// Begin starts registering a passkey for userID: a pending device, whose
// state holds the ceremony, and the browser's options. The user's other
// passkeys are excluded (WebAuthn §5.4: excludeCredentials), so one
// authenticator is not registered twice; a resident (discoverable) key
// is asked for, so the passkey can also log in without the password.
func (s *Service) Begin(ctx context.Context, actor, userID, name string) (*Begun, error) {
	name = strings.TrimSpace(name)
	if err := CheckName(name); err != nil {
		return nil, err
	}
	rp, err := s.RP()
	if err != nil {
		return nil, sls.Errorf(sls.CodeUnavailable, "Passkeys are not configured on this server.").Wrap(err)
	}
	now := s.Clock.Now()
	var out *Begun
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		u, devices, err := factor.EnrollingUser(ctx, tx, userID)
		if err != nil {
			return err
		}
		var creds []webauthn.Credential
		n := 0
		for _, d := range devices {
			if d.Kind != sls.KindPasskey {
				continue
			}
			if d.State == sls.StateActive || d.State == sls.StateSuspended {
				n++
				if c, _, err := s.factor().Credential(d); err == nil {
					creds = append(creds, *c)
				}
			} else if d.State == sls.StatePending && now.Before(d.ExpiresAt) {
				n++
			}
		}
		if n >= MaxPerUser {
			return sls.Errorf(sls.CodeConflict, "You already have %d passkeys; remove one first.", MaxPerUser)
		}
		wu := &User{Handle: Handle(s.Sealer, u.ID), Name: u.Username, Credentials: creds}
		creation, session, err := rp.BeginRegistration(wu,
			webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
				ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationRequired}),
			webauthn.WithExclusions(webauthn.Credentials(creds).CredentialDescriptors()),
			webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
		if err != nil {
			return err
		}
		opts, err := json.Marshal(creation)
		if err != nil {
			return err
		}
		d := &sls.Device{ID: sls.NewID("dev"), UserID: u.ID, Kind: sls.KindPasskey, State: sls.StatePending, Label: name,
			CreatedAt: now, ExpiresAt: now.Add(CeremonyTimeout)}
		WriteState(d, State{Registration: session})
		if err := tx.CreateDevice(ctx, d); err != nil {
			return err
		}
		out = &Begun{DeviceID: d.ID, Options: opts}
		return sls.Audit(ctx, tx, now, actor, sls.EventDeviceIssued, u.ID, d.ID, map[string]any{"kind": d.Kind, "name": name})
	})
	return out, err
}

// Finish completes the registration begun for deviceID with the
// browser's answer (the JSON of the PublicKeyCredential
// navigator.credentials.create returned) and activates the passkey. An
// answer that does not verify (another origin, another challenge, no user
// verification, a credential registered already) changes nothing.
func (s *Service) Finish(ctx context.Context, actor, userID, deviceID, answer string) (*sls.Device, error) {
	if len(answer) == 0 || len(answer) > 64<<10 {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The passkey's answer is missing or too large.")
	}
	parsed, err := parseAttestation([]byte(answer))
	if err != nil {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The passkey's answer could not be read.")
	}
	rp, err := s.RP()
	if err != nil {
		return nil, sls.Errorf(sls.CodeUnavailable, "Passkeys are not configured on this server.").Wrap(err)
	}
	now := s.Clock.Now()
	var out *sls.Device
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, userID)
		if err != nil {
			return err
		}
		d, err := tx.Device(ctx, deviceID)
		if errors.Is(err, sls.ErrNotFound) || (err == nil && (d.UserID != u.ID || d.Kind != sls.KindPasskey)) {
			return sls.Errorf(sls.CodeNotFound, "No such passkey.")
		}
		if err != nil {
			return err
		}
		st, err := ReadState(d)
		if err != nil {
			return err
		}
		if d.State != sls.StatePending || st.Registration == nil {
			return sls.Errorf(sls.CodeConflict, "This passkey is %s, not being registered.", d.State)
		}
		if !now.Before(d.ExpiresAt) {
			return sls.Errorf(sls.CodeLoginExpired, "The registration of this passkey expired. Please start again.")
		}
		cred, err := rp.CreateCredential(&User{Handle: Handle(s.Sealer, u.ID), Name: u.Username}, *st.Registration, parsed)
		if err != nil {
			return sls.Errorf(sls.CodeInvalidArgument, "The passkey could not be registered: it did not answer for this site, or was not unlocked.").Wrap(err)
		}
		if !cred.Flags.UserVerified {
			return sls.Errorf(sls.CodeInvalidArgument, "The passkey must be unlocked with a PIN or biometrics.")
		}
		serial := CredentialSerial(cred.ID)
		if _, err := tx.DeviceBySerial(ctx, sls.KindPasskey, serial); err == nil {
			return sls.Errorf(sls.CodeConflict, "This passkey is registered already.")
		} else if !errors.Is(err, sls.ErrNotFound) {
			return err
		}
		raw, err := json.Marshal(cred)
		if err != nil {
			return err
		}
		d.Serial = serial
		if d.Secret, err = s.Sealer.Seal(factor.SecretPlace(d.ID), raw); err != nil {
			return err
		}
		WriteState(d, State{SignCount: cred.Authenticator.SignCount})
		d.ExpiresAt = time.Time{}
		if err := s.Activate(ctx, tx, actor, u, d, now); err != nil {
			return err
		}
		out = d
		return nil
	})
	return out, err
}

// own finds userID's passkey deviceID, or not_found.
func (s *Service) own(ctx context.Context, tx sls.Tx, userID, deviceID string) (*sls.Device, error) {
	d, err := tx.Device(ctx, deviceID)
	if errors.Is(err, sls.ErrNotFound) || (err == nil && (d.UserID != userID || d.Kind != sls.KindPasskey || d.State == sls.StateRevoked)) {
		return nil, sls.Errorf(sls.CodeNotFound, "No such passkey.")
	}
	return d, err
}

// Rename names the user's passkey.
func (s *Service) Rename(ctx context.Context, actor, userID, deviceID, name string) (*sls.Device, error) {
	name = strings.TrimSpace(name)
	if err := CheckName(name); err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	var out *sls.Device
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		d, err := s.own(ctx, tx, userID, deviceID)
		if err != nil {
			return err
		}
		d.Label = name
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		out = d
		return sls.Audit(ctx, tx, now, actor, "device.renamed", userID, d.ID, map[string]any{"kind": d.Kind, "name": name})
	})
	return out, err
}

// SetFirstStep lets the user's passkey log in without the password (or
// stops it).
func (s *Service) SetFirstStep(ctx context.Context, actor, userID, deviceID string, on bool) (*sls.Device, error) {
	now := s.Clock.Now()
	var out *sls.Device
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		d, err := s.own(ctx, tx, userID, deviceID)
		if err != nil {
			return err
		}
		if d.State != sls.StateActive {
			return sls.Errorf(sls.CodeConflict, "This passkey is %s.", d.State)
		}
		st, err := ReadState(d)
		if err != nil {
			return err
		}
		st.FirstStep = on
		WriteState(d, st)
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
		out = d
		return sls.Audit(ctx, tx, now, actor, "passkey.first_step", userID, d.ID, map[string]any{"enabled": on})
	})
	return out, err
}

// Remove revokes the user's passkey: it answers no more, and the
// sessions it authenticated end.
func (s *Service) Remove(ctx context.Context, actor, userID, deviceID string) (*sls.Device, error) {
	if err := s.Store.View(ctx, func(tx sls.Tx) error { _, err := s.own(ctx, tx, userID, deviceID); return err }); err != nil {
		return nil, err
	}
	return s.Revoke(ctx, actor, deviceID, "removed by the user")
}
