// Package temppass is the temporary passcode factor: a static code that
// Client Services issues after verifying the client's identity by phone,
// typed in place of a device's code. It gives full access for 2 days, then
// for 10 more days only the portal page that prints an Online Security
// Code Card (SPEC §1; the login service applies the access rule).
package temppass

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/seal"
)

// Alphabet avoids look-alike characters: the code is read out by phone
// and typed by hand.
const Alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// Length of a code: 12 symbols of a 31-letter alphabet are 59 bits, far
// above NIST SP 800-63B §5.1.1.2's floor for a secret an operator chooses
// at random (and the login's attempt limits apply on top).
const Length = 12

// Validity is the full lifetime: 2 days of full access plus 10 days of
// portal-only access (SPEC §1).
const Validity = 12 * 24 * time.Hour

// hashPurpose separates these hashes from other keyed hashes.
const hashPurpose = "temppass v1"

// Factor implements sls.Factor for temporary passcodes.
type Factor struct {
	Sealer *seal.Sealer
}

var _ sls.Factor = (*Factor)(nil)

// Kind implements sls.Factor.
func (*Factor) Kind() sls.DeviceKind { return sls.KindTempPasscode }

// Generate returns a new code, grouped in fours for reading aloud
// ("ABCD-EFGH-JKMN").
func Generate(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	out := make([]byte, 0, Length+2)
	buf := make([]byte, 1)
	for n := 0; n < Length; {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("temppass: %w", err)
		}
		// Rejection sampling: 248 = 8*31 keeps the choice uniform.
		if buf[0] >= 248 {
			continue
		}
		if n > 0 && n%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, Alphabet[int(buf[0])%len(Alphabet)])
		n++
	}
	return string(out), nil
}

// Normalize removes separators and folds case, so "abcd efgh-jkmn" matches.
func Normalize(code string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(code) {
		if c == '-' || c == ' ' || c == '\t' {
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Hash is the stored form of code: a keyed hash, so the database alone
// cannot check guesses.
func Hash(s *seal.Sealer, code string) []byte {
	return s.KeyedHash(hashPurpose, []byte(Normalize(code)))
}

// NewDevice returns an active temporary passcode device for code, valid
// from now for Validity.
func NewDevice(s *seal.Sealer, userID, code string, now time.Time) *sls.Device {
	return &sls.Device{ID: sls.NewID("dev"), UserID: userID, Kind: sls.KindTempPasscode, State: sls.StateActive,
		CreatedAt: now, ActivatedAt: now, ExpiresAt: now.Add(Validity), Secret: Hash(s, code)}
}

// Challenge implements sls.Factor: the screen only asks for the code.
func (*Factor) Challenge(_ context.Context, _ sls.Tx, _ *sls.User, _ *sls.Device, c *sls.Challenge, _ time.Time) error {
	c.Prompt = &sls.Prompt{Kind: sls.KindTempPasscode, Message: "Enter the temporary passcode you received from Client Services."}
	return nil
}

// Verify implements sls.Factor.
func (f *Factor) Verify(_ context.Context, _ sls.Tx, _ *sls.User, d *sls.Device, _ *sls.Challenge, answer string, _ time.Time) (sls.Verified, error) {
	if subtle.ConstantTimeCompare(Hash(f.Sealer, answer), d.Secret) != 1 {
		return sls.Verified{}, sls.ErrBadResponse
	}
	return sls.Verified{}, nil
}

var _ sls.Availability = (*Factor)(nil)

// Available implements sls.Availability: a temporary passcode is a bridge
// to a permanent device (SPEC §1), so once a permanent device of the user
// became active at or after the passcode was issued, the passcode is not
// offered and does not answer. Activation already expires the passcode
// (manage.Service.ActivateInTx); this holds even if that step was missed.
// A permanent device active from before the passcode does not count: the
// passcode is what Client Services issues when that device is lost and
// not yet replaced (SPEC §6, ordering a replacement).
func (*Factor) Available(_ *sls.User, d *sls.Device, devices []*sls.Device, now time.Time) bool {
	for _, o := range devices {
		if !o.Kind.Temporary() && o.Usable(now) && !o.ActivatedAt.Before(d.CreatedAt) {
			return false
		}
	}
	return true
}
