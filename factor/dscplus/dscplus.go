// Package dscplus is the Digital Security Card+ factor: the login shows a
// 6-digit challenge, the client enters the card's 4-digit PIN and the
// challenge into the card, and types back its 8-digit response.
//
// The card computes RFC 6287 OCRA with suite OCRA-1:HOTP-SHA256-8:QN06-PSHA1:
// the PIN's hash is part of the data input, so the server — which keeps
// the key and the PIN hash sealed — checks the PIN with every response. A
// card without its PIN is useless, and wrong PINs count as failed answers
// on the server, where the lockout applies.
package dscplus

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/ocra"
	"github.com/secure-login-system/sls/seal"
)

// Suite is the OCRA suite of the card.
var Suite = ocra.MustParseSuite(ocra.DSCPlusSuite)

// DefaultChallengeTTL is how long a challenge may be answered ("if the
// passcode expires, start over"); the issue's default is 3 minutes.
const DefaultChallengeTTL = 3 * time.Minute

// replayMemory is how long an accepted (challenge, response) pair is
// remembered. A 6-digit challenge repeats by chance about once in a
// million logins; remembering pairs for over a year makes a recorded
// response useless to an eavesdropper for any practical time.
const replayMemory = 400 * 24 * time.Hour

// Factor implements sls.Factor for DSC+ cards.
type Factor struct {
	Sealer       *seal.Sealer
	Rand         io.Reader     // nil: crypto/rand
	ChallengeTTL time.Duration // zero: DefaultChallengeTTL
}

var _ sls.Factor = (*Factor)(nil)

// Kind implements sls.Factor.
func (*Factor) Kind() sls.DeviceKind { return sls.KindDSCPlus }

// secret is what is sealed for a card: the OCRA key and the PIN's hash.
type secret struct {
	Key     []byte `json:"key"`
	PINHash []byte `json:"pin_hash"`
}

// CardFile is the emulator's card file (what the physical card holds). The
// PIN is NOT in it: the holder types the PIN, as on the real card.
type CardFile struct {
	Format string `json:"format"`
	Serial string `json:"serial"`
	Suite  string `json:"suite"`
	Key    string `json:"key"` // hex
}

// CardFormat identifies card files.
const CardFormat = "sls-dscplus-card/1"

// ValidPIN reports whether pin is exactly 4 decimal digits (the card's
// keypad PIN, SPEC §1).
func ValidPIN(pin string) bool {
	if len(pin) != 4 {
		return false
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Issue creates a pending DSC+ device for user with the PIN the client
// chose, and returns the device (secret sealed) and the card file. The
// caller stores the device and activates it (now, or on delivery).
func Issue(s *seal.Sealer, r io.Reader, userID, serial, pin string, now time.Time) (*sls.Device, *CardFile, error) {
	if !ValidPIN(pin) {
		return nil, nil, sls.Errorf(sls.CodeInvalidArgument, "The PIN must be exactly 4 digits.")
	}
	if r == nil {
		r = rand.Reader
	}
	key := make([]byte, 32) // RFC 6287 §7.2: SHA-256 suites use 32-byte keys
	if _, err := io.ReadFull(r, key); err != nil {
		return nil, nil, fmt.Errorf("dscplus: key: %w", err)
	}
	pinHash, err := Suite.HashPIN(pin)
	if err != nil {
		return nil, nil, err
	}
	d := &sls.Device{ID: sls.NewID("dev"), UserID: userID, Kind: sls.KindDSCPlus, State: sls.StatePending, Serial: serial, CreatedAt: now}
	plain, _ := json.Marshal(secret{Key: key, PINHash: pinHash})
	if d.Secret, err = s.Seal(factor.SecretPlace(d.ID), plain); err != nil {
		return nil, nil, err
	}
	return d, &CardFile{Format: CardFormat, Serial: serial, Suite: Suite.String(), Key: hex.EncodeToString(key)}, nil
}

// ParseCardFile reads a card file.
func ParseCardFile(b []byte) (*CardFile, []byte, error) {
	var c CardFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, nil, fmt.Errorf("dscplus: card file: %w", err)
	}
	if c.Format != CardFormat {
		return nil, nil, fmt.Errorf("dscplus: card file: format %q, want %q", c.Format, CardFormat)
	}
	if c.Suite != Suite.String() {
		return nil, nil, fmt.Errorf("dscplus: card file: suite %q is not %q", c.Suite, Suite)
	}
	key, err := hex.DecodeString(c.Key)
	if err != nil || len(key) != 32 {
		return nil, nil, errors.New("dscplus: card file: key must be 64 hex digits")
	}
	return &c, key, nil
}

// Respond computes what the card shows for pin and challenge.
func Respond(key []byte, pin, challenge string) (string, error) {
	if !ValidPIN(pin) {
		return "", errors.New("dscplus: PIN must be 4 digits")
	}
	if len(challenge) != 6 || strings.Trim(challenge, "0123456789") != "" {
		return "", errors.New("dscplus: challenge must be 6 digits")
	}
	ph, err := Suite.HashPIN(pin)
	if err != nil {
		return "", err
	}
	return Suite.Compute(key, ocra.Input{Question: challenge, PINHash: ph})
}

// Challenge implements sls.Factor: a random 6-digit challenge, or, for a
// withdrawal confirmation, a signing challenge over its amount and payee
// (SignSuite).
func (f *Factor) Challenge(ctx context.Context, tx sls.Tx, _ *sls.User, d *sls.Device, c *sls.Challenge, now time.Time) error {
	ttl := f.ChallengeTTL
	if ttl <= 0 {
		ttl = DefaultChallengeTTL
	}
	if dl := now.Add(ttl); dl.Before(c.Deadline) {
		c.Deadline = dl
	}
	if factor.Signs(c) {
		return f.signChallenge(ctx, tx, d, c, now)
	}
	ch, err := f.freshChallenge(ctx, tx, d, now)
	if err != nil {
		return err
	}
	c.Prompt = &sls.Prompt{Kind: sls.KindDSCPlus, Challenge: ch,
		Message: "Enter your PIN into the Digital Security Card+, then the challenge code, and type the 8-digit response."}
	return nil
}

// freshChallenge draws a 6-digit challenge whose response the card has
// not already given (factor.FreshChallenge).
func (f *Factor) freshChallenge(ctx context.Context, tx sls.Tx, d *sls.Device, now time.Time) (string, error) {
	sec, err := f.secret(d)
	if err != nil {
		return "", err
	}
	return factor.FreshChallenge(ctx, tx, f.Rand, 6, d.ID, now, func(ch string) (string, error) {
		return Suite.Compute(sec.Key, ocra.Input{Question: ch, PINHash: sec.PINHash})
	})
}

// secret opens the card's sealed key and PIN hash.
func (f *Factor) secret(d *sls.Device) (secret, error) {
	var sec secret
	plain, err := factor.OpenSecret(f.Sealer, d)
	if err != nil {
		return sec, err
	}
	if err := json.Unmarshal(plain, &sec); err != nil {
		return sec, sls.ErrDeviceUnavailable.Wrap(err)
	}
	return sec, nil
}

// Verify implements sls.Factor.
func (f *Factor) Verify(ctx context.Context, tx sls.Tx, _ *sls.User, d *sls.Device, c *sls.Challenge, answer string, now time.Time) (sls.Verified, error) {
	if c.Prompt == nil || c.Prompt.Challenge == "" {
		return sls.Verified{}, sls.ErrDeviceUnavailable
	}
	sec, err := f.secret(d)
	if err != nil {
		return sls.Verified{}, err
	}
	var want string
	if factor.Signs(c) {
		want, err = f.signExpected(sec, c)
	} else {
		want, err = Suite.Compute(sec.Key, ocra.Input{Question: c.Prompt.Challenge, PINHash: sec.PINHash})
	}
	if err != nil {
		return sls.Verified{}, sls.ErrDeviceUnavailable.Wrap(err)
	}
	got := strings.Join(strings.Fields(answer), "")
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return sls.Verified{}, sls.ErrBadResponse
	}
	// Refuse a response that was accepted before (replay), also across
	// restarts: the record is in the database.
	err = tx.MarkResponseUsed(ctx, d.ID, factor.ResponseDigest(c.Prompt.Challenge, want), now, now.Add(replayMemory))
	if errors.Is(err, sls.ErrConflict) {
		return sls.Verified{}, sls.ErrBadResponse
	}
	return sls.Verified{}, err
}
