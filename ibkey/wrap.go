package ibkey

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// KDF are the argon2id parameters (RFC 9106) that turn the PIN or unlock
// secret into the pad that wraps the app's keys.
type KDF struct {
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

// DefaultKDF is OWASP's minimum for argon2id (Password Storage Cheat Sheet:
// m=19 MiB, t=2, p=1): affordable on a phone for every unlock. It is
// defence in depth only — with 4 to 6 characters the PIN's strength comes
// from the server counting guesses, not from the KDF.
var DefaultKDF = KDF{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// Validate bounds the parameters a state file may name, so a tampered file
// cannot make the app allocate without limit.
func (k KDF) Validate() error {
	if k.Time < 1 || k.Time > 10 || k.MemoryKiB < 8*1024 || k.MemoryKiB > 1<<20 || k.Threads < 1 || k.Threads > 16 {
		return fmt.Errorf("ibkey: kdf parameters out of range: %+v", k)
	}
	return nil
}

// Pad derives n bytes from the secret and salt. Wrapping is XOR with the
// pad, deliberately without an integrity check: every secret unwraps to
// some key, so a stolen state file gives an attacker nothing to test PIN
// guesses against offline. The wrapped values must be uniformly random
// (keys, seeds), and the file must hold nothing else derived from them
// (no public key, no check value).
func Pad(secret string, salt []byte, k KDF, n int) ([]byte, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	if len(salt) < 16 {
		return nil, errors.New("ibkey: salt must be at least 16 bytes")
	}
	return argon2.IDKey([]byte(secret), salt, k.Time, k.MemoryKiB, k.Threads, uint32(n)), nil
}

// XOR returns a ⊕ b; both have the same length.
func XOR(a, b []byte) []byte {
	if len(a) != len(b) {
		panic("ibkey: XOR of unequal lengths")
	}
	out := make([]byte, len(a))
	for i := range a {
		out[i] = a[i] ^ b[i]
	}
	return out
}

// ValidPIN applies the platform's rule to the secret that unlocks the app.
// Android: a PIN of 4 to 6 characters, letters, digits and special
// characters allowed (SPEC §1). iOS: the device unlock stands in (Face ID,
// fingerprint or passcode); the reference app takes a secret of at least 4
// characters in its place.
func ValidPIN(platform, pin string) error {
	n := utf8.RuneCountInString(pin)
	switch platform {
	case PlatformAndroid:
		if n < 4 || n > 6 {
			return errors.New("ibkey: the PIN must be 4 to 6 characters")
		}
		for _, r := range pin {
			if r <= ' ' || r > '~' {
				return errors.New("ibkey: the PIN may hold letters, digits and special characters only")
			}
		}
	case PlatformIOS:
		if n < 4 || len(pin) > 1024 {
			return errors.New("ibkey: the device unlock secret must be at least 4 characters")
		}
	default:
		return fmt.Errorf("ibkey: platform must be %q or %q", PlatformAndroid, PlatformIOS)
	}
	return nil
}
