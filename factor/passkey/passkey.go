// Package passkey is the passkey factor: a WebAuthn credential (a
// platform passkey, a synced passkey or a security key) that signs the
// server's challenge for this site only — phishing-resistant (NIST SP
// 800-63B §5.2.5) — after the user unlocked it with a PIN or biometrics.
//
// The ceremonies are github.com/go-webauthn/webauthn's. What this package
// decides: user verification is required on every ceremony (W3C
// WebAuthn Level 3 §5.4.6: "required" — a passkey is then two factors in
// one); the credential (its public key and id) is sealed to the device
// row, so a row copied or edited in the database does not verify; the
// signature counter is kept with the device, and a counter that goes back
// (§6.1.1: a sign of a cloned authenticator) refuses the login and is
// audited. Registration state lives in the pending device row, so any
// node finishes what another began.
package passkey

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/seal"
)

// EventCloneWarning is audited when a passkey's signature counter did
// not increase: two copies of its key may be in use.
const EventCloneWarning = "passkey.clone_warning"

// CeremonyTimeout is how long a browser has to answer a ceremony
// (WebAuthn §5.4: the timeout is a hint; the server's deadline is this).
const CeremonyTimeout = 3 * time.Minute

// RelyingParty returns the WebAuthn relying party (its id and origins
// are known once the server knows its public URL); an error when it is
// not configured.
type RelyingParty func() (*webauthn.WebAuthn, error)

// Factor implements sls.Factor for passkeys.
type Factor struct {
	Sealer *seal.Sealer
	RP     RelyingParty
}

var _ sls.Factor = (*Factor)(nil)

// Kind implements sls.Factor.
func (*Factor) Kind() sls.DeviceKind { return sls.KindPasskey }

// State is what a passkey device keeps between ceremonies (not secret).
type State struct {
	// Registration is the registration ceremony of a pending device.
	Registration *webauthn.SessionData `json:"registration,omitempty"`
	// SignCount is the authenticator's last signature counter.
	SignCount uint32 `json:"sign_count,omitempty"`
	// CloneWarning: the counter went back once; the passkey answers no
	// more until an operator replaces it.
	CloneWarning bool `json:"clone_warning,omitempty"`
	// FirstStep: the user let this passkey log in without the password.
	FirstStep bool `json:"first_step,omitempty"`
}

// ReadState reads a device's state; an empty one is the zero state.
func ReadState(d *sls.Device) (State, error) {
	var st State
	if len(d.FactorState) == 0 {
		return st, nil
	}
	if err := json.Unmarshal(d.FactorState, &st); err != nil {
		return st, fmt.Errorf("passkey: device %s state: %w", d.ID, err)
	}
	return st, nil
}

// WriteState stores st in d.
func WriteState(d *sls.Device, st State) {
	d.FactorState, _ = json.Marshal(st)
}

// CredentialSerial is how a credential id is kept in the device's serial
// (base64url), where DeviceBySerial finds it.
func CredentialSerial(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

// Credential opens d's sealed credential, with its current counter.
func (f *Factor) Credential(d *sls.Device) (*webauthn.Credential, State, error) {
	st, err := ReadState(d)
	if err != nil {
		return nil, st, sls.ErrDeviceUnavailable.Wrap(err)
	}
	raw, err := factor.OpenSecret(f.Sealer, d)
	if err != nil {
		return nil, st, err
	}
	var c webauthn.Credential
	if err := json.Unmarshal(raw, &c); err != nil || len(c.ID) == 0 || CredentialSerial(c.ID) != d.Serial {
		return nil, st, sls.ErrDeviceUnavailable.Wrap(fmt.Errorf("passkey: device %s credential does not match", d.ID))
	}
	c.Authenticator.SignCount = st.SignCount
	return &c, st, nil
}

// User is the WebAuthn user of an SLS user: a handle that names no one
// (WebAuthn §14.6.1: no personal data in the user handle), the username,
// and the credentials.
type User struct {
	Handle      []byte
	Name        string
	Credentials []webauthn.Credential
}

func (u *User) WebAuthnID() []byte                         { return u.Handle }
func (u *User) WebAuthnName() string                       { return u.Name }
func (u *User) WebAuthnDisplayName() string                { return u.Name }
func (u *User) WebAuthnCredentials() []webauthn.Credential { return u.Credentials }

// Handle is user u's WebAuthn user handle: a keyed hash of the id, the
// same on every node, meaningless without the sealing key.
func Handle(s *seal.Sealer, userID string) []byte {
	return s.KeyedHash("webauthn user handle", []byte(userID))
}

// Challenge implements sls.Factor: an assertion request for this one
// credential, user verification required. The browser gets the options
// in the prompt's Extra (the JSON navigator.credentials.get takes).
func (f *Factor) Challenge(_ context.Context, _ sls.Tx, u *sls.User, d *sls.Device, c *sls.Challenge, now time.Time) error {
	rp, err := f.RP()
	if err != nil {
		return sls.ErrDeviceUnavailable.Wrap(err)
	}
	cred, st, err := f.Credential(d)
	if err != nil {
		return err
	}
	if st.CloneWarning {
		return sls.ErrDeviceUnavailable
	}
	assertion, session, err := rp.BeginLogin(&User{Handle: Handle(f.Sealer, u.ID), Name: u.Username, Credentials: []webauthn.Credential{*cred}},
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return sls.ErrDeviceUnavailable.Wrap(fmt.Errorf("passkey: begin login: %w", err))
	}
	opts, err := json.Marshal(assertion.Response)
	if err != nil {
		return err
	}
	state, err := json.Marshal(session)
	if err != nil {
		return err
	}
	c.Prompt = &sls.Prompt{Kind: sls.KindPasskey, Message: "Use your passkey: unlock it with your PIN, fingerprint or face.", Extra: opts}
	c.FactorState = state
	if dl := now.Add(CeremonyTimeout); c.Deadline.IsZero() || dl.Before(c.Deadline) {
		c.Deadline = dl
	}
	return nil
}

// Verify implements sls.Factor: answer is the JSON of the
// PublicKeyCredential navigator.credentials.get returned. Anything that
// does not verify — garbage, another origin, another challenge, no user
// verification, another credential — is a wrong answer, counted.
func (f *Factor) Verify(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, c *sls.Challenge, answer string, now time.Time) (sls.Verified, error) {
	if len(answer) == 0 || len(answer) > sls.MaxAnswer {
		return sls.Verified{}, sls.ErrBadResponse
	}
	rp, err := f.RP()
	if err != nil {
		return sls.Verified{}, sls.ErrDeviceUnavailable.Wrap(err)
	}
	cred, st, err := f.Credential(d)
	if err != nil {
		return sls.Verified{}, err
	}
	if st.CloneWarning {
		return sls.Verified{}, sls.ErrDeviceUnavailable
	}
	var session webauthn.SessionData
	if err := json.Unmarshal(c.FactorState, &session); err != nil || session.Challenge == "" {
		return sls.Verified{}, sls.ErrBadResponse
	}
	parsed, err := parseAssertion([]byte(answer))
	if err != nil || !bytes.Equal(parsed.RawID, cred.ID) {
		return sls.Verified{}, sls.ErrBadResponse
	}
	got, err := rp.ValidateLogin(&User{Handle: Handle(f.Sealer, u.ID), Name: u.Username, Credentials: []webauthn.Credential{*cred}}, session, parsed)
	if err != nil {
		return sls.Verified{}, sls.ErrBadResponse
	}
	return sls.Verified{}, f.settle(ctx, tx, u, d, cred, st, got, now)
}

// settle applies a verified assertion's counter: one that did not
// increase blocks the passkey (audited) and refuses the answer; otherwise
// the new counter is kept. The caller stores d.
func (f *Factor) settle(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, cred *webauthn.Credential, st State, got *webauthn.Credential, now time.Time) error {
	if got.Authenticator.CloneWarning {
		st.CloneWarning = true
		WriteState(d, st)
		if err := sls.Audit(ctx, tx, now, sls.ActorSystem, EventCloneWarning, u.ID, d.ID,
			map[string]any{"stored_count": cred.Authenticator.SignCount}); err != nil {
			return err
		}
		return sls.ErrBadResponse
	}
	st.SignCount = got.Authenticator.SignCount
	WriteState(d, st)
	return nil
}

// parseAssertion parses an assertion without panicking on any input.
func parseAssertion(b []byte) (p *protocol.ParsedCredentialAssertionData, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("passkey: unreadable assertion")
		}
	}()
	return protocol.ParseCredentialRequestResponseBytes(b)
}

// parseAttestation parses a registration answer without panicking.
func parseAttestation(b []byte) (p *protocol.ParsedCredentialCreationData, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("passkey: unreadable registration")
		}
	}()
	return protocol.ParseCredentialCreationResponseBytes(b)
}
