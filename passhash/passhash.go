// Package passhash hashes and checks passwords with Argon2id, stored in the
// PHC string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash) so that the
// parameters travel with each hash and can be raised without a migration.
// The hash itself is computed by passhash/argon2id, which reuses its
// memory from one login to the next.
package passhash

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/secure-login-system/sls/passhash/argon2id"
)

// Params are Argon2id cost parameters.
type Params struct {
	MemoryKiB   uint32 `json:"memory_kib"`
	Iterations  uint32 `json:"iterations"`
	Parallelism uint8  `json:"parallelism"`
}

// Default is OWASP's Password Storage Cheat Sheet minimum for Argon2id:
// m=19 MiB, t=2, p=1.
var Default = Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}

const (
	saltLen = 16 // RFC 9106 §3.1 recommends 128-bit salts
	keyLen  = 32
)

var measureFloor func(Params) error // set only by the slsbench_cheaphash build, for load measurement

// Validate rejects parameters below OWASP's floor or absurdly high.
func (p Params) Validate() error {
	if measureFloor != nil { // only in the slsbench_cheaphash build: measure_cheaphash.go
		return measureFloor(p)
	}
	switch {
	case p.MemoryKiB < 19*1024:
		return fmt.Errorf("passhash: memory %d KiB is below OWASP's minimum of 19456 KiB", p.MemoryKiB)
	case p.MemoryKiB > 4*1024*1024:
		return fmt.Errorf("passhash: memory %d KiB is above 4 GiB", p.MemoryKiB)
	case p.Iterations < 1 || p.Iterations > 100:
		return fmt.Errorf("passhash: iterations %d out of range 1..100", p.Iterations)
	case p.Parallelism < 1:
		return errors.New("passhash: parallelism must be at least 1")
	}
	if p.Iterations < 2 && p.MemoryKiB < 46*1024 {
		// OWASP: t=1 needs m >= 46 MiB to be as costly as m=19 MiB, t=2.
		return fmt.Errorf("passhash: one iteration needs at least 47104 KiB of memory")
	}
	return nil
}

// ErrMalformed is returned for a stored hash that cannot be parsed.
var ErrMalformed = errors.New("passhash: malformed hash")

// Hash returns the PHC string of password under p with a fresh salt.
func Hash(password []byte, p Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := io.ReadFull(rand.Reader, salt); err != nil {
		return "", fmt.Errorf("passhash: salt: %w", err)
	}
	key := argon2id.Key(password, salt, p.Iterations, p.MemoryKiB, p.Parallelism, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.MemoryKiB, p.Iterations, p.Parallelism, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Check reports whether password matches the stored hash, comparing in
// constant time. needsRehash is true when the hash uses weaker parameters
// than want.
func Check(password []byte, stored string, want Params) (ok, needsRehash bool, err error) {
	p, salt, key, err := parse(stored)
	if err != nil {
		return false, false, err
	}
	got := argon2id.Key(password, salt, p.Iterations, p.MemoryKiB, p.Parallelism, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	needsRehash = p.MemoryKiB < want.MemoryKiB || p.Iterations < want.Iterations || p.Parallelism < want.Parallelism
	return ok, needsRehash, nil
}

// Dummy returns a valid hash of a random password under p. Checking an
// unknown user's password against it costs the same as a real check, so a
// caller cannot tell unknown users from wrong passwords by timing.
func Dummy(p Params) string {
	pw := make([]byte, 16)
	_, _ = io.ReadFull(rand.Reader, pw)
	h, err := Hash(pw, p)
	if err != nil {
		panic(err) // only fails when the system's randomness fails
	}
	return h
}

func parse(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" {
		return p, nil, nil, ErrMalformed
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, ErrMalformed
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, ErrMalformed
		}
		switch k {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Iterations = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, ErrMalformed
			}
			p.Parallelism = uint8(n)
		default:
			return p, nil, nil, ErrMalformed
		}
	}
	if p.MemoryKiB < 8 || p.MemoryKiB > 4*1024*1024 || p.Iterations < 1 || p.Iterations > 100 || p.Parallelism < 1 {
		return p, nil, nil, ErrMalformed
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformed
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrMalformed
	}
	return p, salt, key, nil
}
