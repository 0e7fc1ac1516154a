package passkey

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/seal"
)

// A login with a passkey alone (a "first step"): the browser asks for any
// passkey of this site (a discoverable credential), the answer names it,
// and the passkey logs in when its user let it (State.FirstStep). The
// ceremony is sealed into an opaque state the client carries, so no row
// is written before the answer; the answer's challenge is then recorded
// as used with the device, so a captured answer is refused a second time
// (many passkeys keep no counter).

// statePlace is where a first-step ceremony is sealed.
var statePlace = seal.Place{Table: "passkey_first_step", Column: "session", Row: "-"}

type firstStepState struct {
	Session webauthn.SessionData `json:"s"`
	Expires time.Time            `json:"e"`
}

// FirstStep is the login.FirstStepFactor of passkeys.
type FirstStep struct{ F *Factor }

var _ login.FirstStepFactor = FirstStep{}

// Begin starts a first-step login: the options for
// navigator.credentials.get (any passkey of this site, user verification
// required) and the sealed state to send back with the answer.
func (fs FirstStep) Begin(now time.Time) (json.RawMessage, string, error) {
	rp, err := fs.F.RP()
	if err != nil {
		return nil, "", sls.Errorf(sls.CodeUnavailable, "Passkeys are not configured on this server.").Wrap(err)
	}
	assertion, session, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", err
	}
	opts, err := json.Marshal(assertion.Response)
	if err != nil {
		return nil, "", err
	}
	plain, err := json.Marshal(firstStepState{Session: *session, Expires: now.Add(CeremonyTimeout)})
	if err != nil {
		return nil, "", err
	}
	sealed, err := fs.F.Sealer.Seal(statePlace, plain)
	if err != nil {
		return nil, "", err
	}
	return opts, base64.RawURLEncoding.EncodeToString(sealed), nil
}

func (fs FirstStep) open(state string, now time.Time) (*webauthn.SessionData, error) {
	sealed, err := base64.RawURLEncoding.DecodeString(state)
	if err != nil {
		return nil, err
	}
	plain, err := fs.F.Sealer.Open(statePlace, sealed)
	if err != nil {
		return nil, err
	}
	var st firstStepState
	if err := json.Unmarshal(plain, &st); err != nil {
		return nil, err
	}
	if !now.Before(st.Expires) {
		return nil, errors.New("passkey: first step expired")
	}
	return &st.Session, nil
}

// Identify implements login.FirstStepFactor: the active passkey the
// answer names, when its user let it log in alone.
func (fs FirstStep) Identify(ctx context.Context, tx sls.Tx, state, answer string, now time.Time) (string, string, error) {
	if _, err := fs.open(state, now); err != nil {
		return "", "", err
	}
	parsed, err := parseAssertion([]byte(answer))
	if err != nil {
		return "", "", err
	}
	d, err := tx.DeviceBySerial(ctx, sls.KindPasskey, CredentialSerial(parsed.RawID))
	if err != nil {
		return "", "", err
	}
	st, err := ReadState(d)
	if err != nil || d.State != sls.StateActive || !st.FirstStep || st.CloneWarning {
		return "", "", errors.New("passkey: not a first-step passkey")
	}
	return d.UserID, d.ID, nil
}

// Verify implements login.FirstStepFactor.
func (fs FirstStep) Verify(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, state, answer string, now time.Time) (sls.Verified, error) {
	session, err := fs.open(state, now)
	if err != nil {
		return sls.Verified{}, err
	}
	rp, err := fs.F.RP()
	if err != nil {
		return sls.Verified{}, err
	}
	cred, st, err := fs.F.Credential(d)
	if err != nil {
		return sls.Verified{}, err
	}
	parsed, err := parseAssertion([]byte(answer))
	if err != nil {
		return sls.Verified{}, sls.ErrBadResponse
	}
	handle := Handle(fs.F.Sealer, u.ID)
	user := &User{Handle: handle, Name: u.Username, Credentials: []webauthn.Credential{*cred}}
	_, got, err := rp.ValidatePasskeyLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
		if !bytes.Equal(rawID, cred.ID) || !bytes.Equal(userHandle, handle) {
			return nil, fmt.Errorf("passkey: another credential or user")
		}
		return user, nil
	}, *session, parsed)
	if err != nil {
		return sls.Verified{}, sls.ErrBadResponse
	}
	// One answer per ceremony, on every node: the challenge is recorded
	// as used with the device until the ceremony could no longer be
	// answered anyway.
	err = tx.MarkResponseUsed(ctx, d.ID, factor.ResponseDigest("passkey first step", session.Challenge), now, now.Add(CeremonyTimeout))
	if errors.Is(err, sls.ErrConflict) {
		return sls.Verified{}, sls.ErrBadResponse
	}
	if err != nil {
		return sls.Verified{}, err
	}
	return sls.Verified{}, fs.F.settle(ctx, tx, u, d, cred, st, got, now)
}
