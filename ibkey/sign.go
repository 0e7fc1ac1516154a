package ibkey

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// Errors of the Verify functions. Both mean "the answer was not made with
// the right keys", which for a well-formed message means a wrong PIN (or a
// copied state file): the server counts it as a failed answer.
var (
	ErrBadSignature = errors.New("ibkey: signature does not verify")
	ErrBadProof     = errors.New("ibkey: PIN proof does not verify")
	ErrInvalid      = errors.New("ibkey: invalid message")
)

// TxBinding names the login transaction a push belongs to, as the app sees
// it: a hash of the login's id hash and the push id. The app signs it, so
// an approval cannot be moved to another login.
func TxBinding(loginHash, pushID string) string {
	h := sha256.Sum256(canon("sls-ibkey/1 tx", loginHash, pushID))
	return hex.EncodeToString(h[:])
}

// Approval is the app's answer to a push: approve (with the number shown
// on the login screen) or deny. It carries two proofs, both of which need
// the PIN: an Ed25519 signature by the instance's key and an HMAC with the
// user's offline key.
type Approval struct {
	Version  int    `json:"v" required:"true"`
	PushID   string `json:"push_id" required:"true"`
	Tx       string `json:"tx" required:"true"`
	DeviceID string `json:"device_id" required:"true"`
	Decision string `json:"decision" required:"true"`
	Number   string `json:"number,omitempty"`
	// NotMe marks a denial "this wasn't me": the user did not start the
	// login, so the server locks the user until Client Services unlocks
	// them (package takeover). Signed with the rest.
	NotMe  bool   `json:"not_me,omitempty"`
	Unlock string `json:"unlock" required:"true"`
	// Time is the app's clock (Unix seconds), recorded for the audit
	// trail; freshness comes from the push itself, which is single-use and
	// expires on the server.
	Time      int64  `json:"time"`
	Signature []byte `json:"sig" required:"true"`
	MAC       []byte `json:"mac" required:"true"`
}

// Check validates the fields' forms (not the proofs).
func (a *Approval) Check() error {
	switch {
	case a.Version != Version:
		return fmt.Errorf("%w: version %d", ErrInvalid, a.Version)
	case a.PushID == "" || len(a.PushID) > 64 || a.DeviceID == "" || len(a.DeviceID) > 64:
		return fmt.Errorf("%w: push and device ids are required", ErrInvalid)
	case len(a.Tx) != 64:
		return fmt.Errorf("%w: tx must be 64 hex digits", ErrInvalid)
	case a.Decision != DecisionApprove && a.Decision != DecisionDeny:
		return fmt.Errorf("%w: decision must be %q or %q", ErrInvalid, DecisionApprove, DecisionDeny)
	case a.Decision == DecisionApprove && (a.Number == "" || len(a.Number) > 8 || !digits(a.Number)):
		return fmt.Errorf("%w: an approval needs the number shown on the login screen", ErrInvalid)
	case a.Decision == DecisionDeny && a.Number != "":
		return fmt.Errorf("%w: a denial carries no number", ErrInvalid)
	case a.NotMe && a.Decision != DecisionDeny:
		return fmt.Errorf("%w: only a denial can say \"this wasn't me\"", ErrInvalid)
	case a.Unlock != UnlockPIN && a.Unlock != UnlockBiometric:
		return fmt.Errorf("%w: unlock must be %q or %q", ErrInvalid, UnlockPIN, UnlockBiometric)
	}
	return nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (a *Approval) message() []byte {
	fields := []string{strconv.Itoa(a.Version), a.PushID, a.Tx, a.DeviceID, a.Decision, a.Number, a.Unlock, strconv.FormatInt(a.Time, 10)}
	if a.NotMe { // only then, so that answers signed before the field existed still verify
		fields = append(fields, "not-me")
	}
	return canon("sls-ibkey/1 approval", fields...)
}

// Sign fills Signature and MAC.
func (a *Approval) Sign(signKey ed25519.PrivateKey, offlineKey []byte) {
	msg := a.message()
	a.Signature = ed25519.Sign(signKey, msg)
	m := hmac.New(sha256.New, macKey(offlineKey))
	m.Write(msg)
	a.MAC = m.Sum(nil)
}

// Verify checks the form and both proofs.
func (a *Approval) Verify(signPub ed25519.PublicKey, offlineKey []byte) error {
	if err := a.Check(); err != nil {
		return err
	}
	if len(signPub) != ed25519.PublicKeySize || len(offlineKey) != OfflineKeySize {
		return fmt.Errorf("%w: server keys", ErrInvalid)
	}
	msg := a.message()
	if len(a.Signature) != ed25519.SignatureSize || !ed25519.Verify(signPub, msg, a.Signature) {
		return ErrBadSignature
	}
	m := hmac.New(sha256.New, macKey(offlineKey))
	m.Write(msg)
	if !hmac.Equal(m.Sum(nil), a.MAC) {
		return ErrBadProof
	}
	return nil
}

// ActivationMessage is what an existing instance signs to add a user
// ("confirmed with the instance's PIN", SPEC §3): it binds the instance,
// the ticket (or SMS request) and the app's key-agreement key.
func ActivationMessage(instanceID, binding string, appDH []byte) []byte {
	return canon("sls-ibkey/1 add user", instanceID, binding, string(appDH))
}

// VerifyActivation checks an Add User signature.
func VerifyActivation(signPub ed25519.PublicKey, instanceID, binding string, appDH, sig []byte) error {
	if len(signPub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize ||
		!ed25519.Verify(signPub, ActivationMessage(instanceID, binding, appDH), sig) {
		return ErrBadSignature
	}
	return nil
}

// ReauthMessage is what the app signs to re-authenticate a user's trading
// sessions (SPEC §2.5 extended access): the instance, the device, how it
// was unlocked and the server's nonce.
func ReauthMessage(instanceID, deviceID, unlock, nonce string) []byte {
	return canon("sls-ibkey/1 reauth", instanceID, deviceID, unlock, nonce)
}

// VerifyReauth checks a re-authentication signature and its PIN proof.
func VerifyReauth(signPub ed25519.PublicKey, offlineKey []byte, instanceID, deviceID, unlock, nonce string, sig, mac []byte) error {
	if len(signPub) != ed25519.PublicKeySize || len(offlineKey) != OfflineKeySize {
		return fmt.Errorf("%w: server keys", ErrInvalid)
	}
	msg := ReauthMessage(instanceID, deviceID, unlock, nonce)
	if len(sig) != ed25519.SignatureSize || !ed25519.Verify(signPub, msg, sig) {
		return ErrBadSignature
	}
	m := hmac.New(sha256.New, macKey(offlineKey))
	m.Write(msg)
	if !hmac.Equal(m.Sum(nil), mac) {
		return ErrBadProof
	}
	return nil
}

// SignReauth returns the signature and PIN proof of a re-authentication.
func SignReauth(signKey ed25519.PrivateKey, offlineKey []byte, instanceID, deviceID, unlock, nonce string) (sig, mac []byte) {
	msg := ReauthMessage(instanceID, deviceID, unlock, nonce)
	m := hmac.New(sha256.New, macKey(offlineKey))
	m.Write(msg)
	return ed25519.Sign(signKey, msg), m.Sum(nil)
}
