package passkey

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/webauthn"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

const (
	rpID   = "broker.example"
	origin = "https://login.broker.example"
)

// authenticator is a software WebAuthn authenticator for this package's
// unit tests (the end-to-end tests use Chromium's virtual authenticator).
type authenticator struct {
	key     *ecdsa.PrivateKey
	credID  []byte
	counter uint32
	uv      bool
	handle  []byte // the user handle a resident key returns (nil: none)
}

func newAuthenticator(t testing.TB) *authenticator {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	rand.Read(id)
	return &authenticator{key: k, credID: id, uv: true}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func (a *authenticator) authData(rp string, attested bool) []byte {
	h := sha256.Sum256([]byte(rp))
	flags := byte(0x01) // user present
	if a.uv {
		flags |= 0x04
	}
	if attested {
		flags |= 0x40
	}
	out := append(h[:], flags)
	out = binary.BigEndian.AppendUint32(out, a.counter)
	if attested {
		out = append(out, make([]byte, 16)...) // AAGUID
		out = binary.BigEndian.AppendUint16(out, uint16(len(a.credID)))
		out = append(out, a.credID...)
		raw, _ := a.key.PublicKey.Bytes() // 0x04 | X | Y
		x, y := raw[1:33], raw[33:]
		cose, _ := webauthncbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
		out = append(out, cose...)
	}
	return out
}

func clientData(typ, challenge, org string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": org})
	return b
}

// create answers a registration's options as navigator.credentials.create would.
func (a *authenticator) create(t testing.TB, options json.RawMessage, org, rp string) string {
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	att, _ := webauthncbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": a.authData(rp, true)})
	b, _ := json.Marshal(map[string]any{"id": b64(a.credID), "rawId": b64(a.credID), "type": "public-key",
		"response": map[string]any{"clientDataJSON": b64(clientData("webauthn.create", o.PublicKey.Challenge, org)), "attestationObject": b64(att)}})
	return string(b)
}

// get answers an assertion's options as navigator.credentials.get would.
func (a *authenticator) get(t testing.TB, options json.RawMessage, org, rp string) string {
	var o struct {
		Challenge string `json:"challenge"`
	}
	if err := json.Unmarshal(options, &o); err != nil {
		t.Fatal(err)
	}
	a.counter++
	ad := a.authData(rp, false)
	cd := clientData("webauthn.get", o.Challenge, org)
	h := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	resp := map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(ad), "signature": b64(sig)}
	if a.handle != nil {
		resp["userHandle"] = b64(a.handle)
	}
	b, _ := json.Marshal(map[string]any{"id": b64(a.credID), "rawId": b64(a.credID), "type": "public-key", "response": resp})
	return string(b)
}

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

func setup(t *testing.T) (*Service, *Factor, sls.Store, *sls.User) {
	t.Helper()
	store := storetest.MustOpenSQLite(t)
	sealer, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	rp, err := webauthn.New(&webauthn.Config{RPID: rpID, RPDisplayName: "Broker", RPOrigins: []string{origin}})
	if err != nil {
		t.Fatal(err)
	}
	get := func() (*webauthn.WebAuthn, error) { return rp, nil }
	u := storetest.Fixture(t, store, "pk")
	svc := &Service{Store: store, Sealer: sealer, Clock: fixedClock{time.Now()}, RP: get,
		Activate: func(ctx context.Context, tx sls.Tx, _ string, _ *sls.User, d *sls.Device, now time.Time) error {
			d.State, d.ActivatedAt = sls.StateActive, now
			return tx.PutDevice(ctx, d)
		}}
	return svc, &Factor{Sealer: sealer, RP: get}, store, u
}

func (s *Service) device(t *testing.T, id string) *sls.Device {
	t.Helper()
	var d *sls.Device
	if err := s.Store.View(context.Background(), func(tx sls.Tx) error {
		var err error
		d, err = tx.Device(context.Background(), id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRegisterAndLogIn: a registration answered for this site activates
// the passkey; one answered for another origin, without user
// verification, or replayed, changes nothing; an assertion verifies
// once, and not for another origin, another challenge, without user
// verification, or with a counter that went back.
func TestRegisterAndLogIn(t *testing.T) {
	svc, f, store, u := setup(t)
	ctx := context.Background()
	a := newAuthenticator(t)

	begin := func() *Begun {
		b, err := svc.Begin(ctx, "user", u.ID, "laptop")
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := begin()
	if _, err := svc.Finish(ctx, "user", u.ID, b.DeviceID, a.create(t, b.Options, "https://evil.example", rpID)); sls.ErrorCode(err) != sls.CodeInvalidArgument {
		t.Fatalf("registration for another origin: %v", err)
	}
	a.uv = false
	if _, err := svc.Finish(ctx, "user", u.ID, b.DeviceID, a.create(t, b.Options, origin, rpID)); sls.ErrorCode(err) != sls.CodeInvalidArgument {
		t.Fatalf("registration without user verification: %v", err)
	}
	a.uv = true
	for _, garbage := range []string{"", "{", `{"id": 5}`, strings.Repeat("x", 70000), `{"type":"public-key","response":{"attestationObject":"AAAA"}}`} {
		if _, err := svc.Finish(ctx, "user", u.ID, b.DeviceID, garbage); err == nil {
			t.Fatalf("registration %q accepted", garbage)
		}
	}
	if d := svc.device(t, b.DeviceID); d.State != sls.StatePending {
		t.Fatalf("refused registrations changed the device: %+v", d)
	}
	answer := a.create(t, b.Options, origin, rpID)
	d, err := svc.Finish(ctx, "user", u.ID, b.DeviceID, answer)
	if err != nil || d.State != sls.StateActive || d.Serial != CredentialSerial(a.credID) {
		t.Fatalf("registration: %+v %v", d, err)
	}
	if _, err := svc.Finish(ctx, "user", u.ID, b.DeviceID, answer); sls.ErrorCode(err) != sls.CodeConflict {
		t.Fatalf("registration replayed: %v", err)
	}
	// The same authenticator again is excluded by the options and refused.
	b2 := begin()
	if !strings.Contains(string(b2.Options), b64(a.credID)) {
		t.Fatalf("the registered passkey is not excluded: %s", b2.Options)
	}
	if _, err := svc.Finish(ctx, "user", u.ID, b2.DeviceID, a.create(t, b2.Options, origin, rpID)); sls.ErrorCode(err) != sls.CodeConflict {
		t.Fatalf("one credential registered twice: %v", err)
	}

	login := func(answerFor func(opts json.RawMessage) string) error {
		dev := svc.device(t, b.DeviceID)
		c := &sls.Challenge{Purpose: sls.PurposeLogin, UserID: u.ID, DeviceID: dev.ID, Deadline: time.Now().Add(time.Minute)}
		if err := f.Challenge(ctx, nil, u, dev, c, time.Now()); err != nil {
			t.Fatal(err)
		}
		return store.Update(ctx, func(tx sls.Tx) error {
			_, err := f.Verify(ctx, tx, u, dev, c, answerFor(c.Prompt.Extra), time.Now())
			if err == nil {
				err = tx.PutDevice(ctx, dev)
			}
			return err
		})
	}
	if err := login(func(o json.RawMessage) string { return a.get(t, o, origin, rpID) }); err != nil {
		t.Fatalf("login: %v", err)
	}
	for name, fn := range map[string]func(json.RawMessage) string{
		"another origin": func(o json.RawMessage) string { return a.get(t, o, "https://evil.example", rpID) },
		"another RP id":  func(o json.RawMessage) string { return a.get(t, o, origin, "evil.example") },
		"another challenge": func(json.RawMessage) string {
			return a.get(t, json.RawMessage(`{"challenge":"`+b64([]byte("0123456789abcdef0123456789abcdef"))+`"}`), origin, rpID)
		},
		"garbage":     func(json.RawMessage) string { return `{"id":"x","response":{}}` },
		"another key": func(o json.RawMessage) string { return newAuthenticator(t).get(t, o, origin, rpID) },
	} {
		if err := login(fn); !errors.Is(err, sls.ErrBadResponse) {
			t.Errorf("%s: %v", name, err)
		}
	}
	a.uv = false
	if err := login(func(o json.RawMessage) string { return a.get(t, o, origin, rpID) }); !errors.Is(err, sls.ErrBadResponse) {
		t.Fatalf("without user verification: %v", err)
	}
	a.uv = true
	// A counter that goes back: a copy of the key is in use.
	a.counter = 0
	if err := login(func(o json.RawMessage) string { return a.get(t, o, origin, rpID) }); !errors.Is(err, sls.ErrBadResponse) {
		t.Fatalf("counter went back: %v", err)
	}
}

// FuzzParse: any answer to a ceremony is read or refused without
// panicking (the library's parsers are guarded by a recover as well).
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "{}", `{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, answer string) {
		if p, err := parseAssertion([]byte(answer)); err == nil && p == nil {
			t.Fatal("nil parse without error")
		}
		if p, err := parseAttestation([]byte(answer)); err == nil && p == nil {
			t.Fatal("nil parse without error")
		}
	})
}

// TestFirstStep: a passkey logs in alone only once its user allowed it;
// each ceremony answers once; a state from elsewhere is refused.
func TestFirstStep(t *testing.T) {
	svc, _, store, u := setup(t)
	ctx := context.Background()
	a := newAuthenticator(t)
	b, err := svc.Begin(ctx, "user", u.ID, "phone")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Finish(ctx, "user", u.ID, b.DeviceID, a.create(t, b.Options, origin, rpID)); err != nil {
		t.Fatal(err)
	}
	a.handle = Handle(svc.Sealer, u.ID)
	fs := svc.FirstStep()
	try := func(state, answer string) error {
		return store.Update(ctx, func(tx sls.Tx) error {
			uid, did, err := fs.Identify(ctx, tx, state, answer, time.Now())
			if err != nil {
				return err
			}
			d, err := tx.Device(ctx, did)
			if err != nil || uid != u.ID {
				t.Fatalf("identified %s %v", uid, err)
			}
			if _, err := fs.Verify(ctx, tx, u, d, state, answer, time.Now()); err != nil {
				return err
			}
			return tx.PutDevice(ctx, d)
		})
	}
	opts, state, err := svc.BeginFirstStep()
	if err != nil {
		t.Fatal(err)
	}
	answer := a.get(t, opts, origin, rpID)
	if err := try(state, answer); err == nil {
		t.Fatal("a passkey not allowed to log in alone did")
	}
	if _, err := svc.SetFirstStep(ctx, "user", u.ID, b.DeviceID, true); err != nil {
		t.Fatal(err)
	}
	if err := try(state, answer); err != nil {
		t.Fatalf("first step: %v", err)
	}
	a.counter = 100 // even with a counter that moves on, the ceremony is spent
	if err := try(state, a.get(t, opts, origin, rpID)); !errors.Is(err, sls.ErrBadResponse) {
		t.Fatalf("the same ceremony twice: %v", err)
	}
	for _, bad := range []string{"", "AAAA", state[:len(state)-2] + "AA"} {
		if err := try(bad, a.get(t, opts, origin, rpID)); err == nil {
			t.Fatalf("state %q accepted", bad)
		}
	}
}
