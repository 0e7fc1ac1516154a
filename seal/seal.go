// Package seal encrypts secrets at rest (device keys, code tables, identity
// data) with an AEAD whose additional data names the exact place the
// ciphertext belongs to (table, column and row id). A sealed value copied to
// another row or column no longer opens, so a database writer cannot move a
// card key from one user to another.
//
// Sealed values are versioned: a one-byte format version and a key id come
// first, so that keys can be rotated by adding a new key and re-sealing.
package seal

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeySize is the size of a sealing key in bytes (256 bits).
const KeySize = chacha20poly1305.KeySize

const formatV1 = 1

// ErrOpen is returned when a sealed value does not open: wrong key, wrong
// place (additional data) or tampered bytes. Callers must fail closed.
var ErrOpen = errors.New("seal: cannot open sealed value")

// Place names where a sealed value is stored; it becomes the AEAD's
// additional data.
type Place struct {
	Table, Column, Row string
}

func (p Place) bytes() []byte {
	// Length-prefixed so that ("a/b","c") and ("a","b/c") differ.
	var b []byte
	for _, s := range []string{p.Table, p.Column, p.Row} {
		b = append(b, byte(len(s)>>8), byte(len(s)))
		b = append(b, s...)
	}
	return b
}

// Sealer seals and opens secrets. It holds the current key and, for
// rotation, older keys that can still open values. The key ring may be
// replaced while it is in use (SetKeys); keyed hashes keep the key they
// were derived from at construction, so rotating data keys never
// invalidates them.
type Sealer struct {
	mu      sync.RWMutex
	current byte
	keys    map[byte]cipher.AEAD
	macKey  []byte
	rand    io.Reader
	// reload, when set, is called when a value names a key the ring does
	// not hold (another node rotated): at most once per reloadGap.
	reload     func() error
	lastReload time.Time
}

// reloadGap bounds how often an unknown key id triggers a reload, so
// that garbage naming random key ids cannot hammer the database.
const reloadGap = time.Second

// New returns a Sealer using key (KeySize bytes) as key id 1.
func New(key []byte) (*Sealer, error) {
	return NewWithKeys(1, map[byte][]byte{1: key})
}

// NewWithKeys returns a Sealer that seals with keys[current] and opens with
// any key in keys.
func NewWithKeys(current byte, keys map[byte][]byte) (*Sealer, error) {
	s := &Sealer{rand: rand.Reader}
	if err := s.SetKeys(current, keys); err != nil {
		return nil, err
	}
	ck := keys[current]
	// A separate key for keyed hashes (peppers), derived so that it never
	// equals the encryption key.
	m := hmac.New(sha256.New, ck)
	m.Write([]byte("sls seal: keyed hash key v1"))
	s.macKey = m.Sum(nil)
	return s, nil
}

// SetKeys replaces the key ring: values are sealed with keys[current]
// from now on and opened with any key in keys. The keyed-hash key is not
// changed.
func (s *Sealer) SetKeys(current byte, keys map[byte][]byte) error {
	ring := map[byte]cipher.AEAD{}
	for id, k := range keys {
		if len(k) != KeySize {
			return fmt.Errorf("seal: key %d has %d bytes, want %d", id, len(k), KeySize)
		}
		aead, err := chacha20poly1305.NewX(k)
		if err != nil {
			return fmt.Errorf("seal: key %d: %w", id, err)
		}
		ring[id] = aead
	}
	if _, ok := ring[current]; !ok {
		return fmt.Errorf("seal: current key %d not given", current)
	}
	s.mu.Lock()
	s.current, s.keys = current, ring
	s.mu.Unlock()
	return nil
}

// Current is the id of the key values are sealed with.
func (s *Sealer) Current() byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.current
}

// KeyIDs lists the ids of the keys the ring holds.
func (s *Sealer) KeyIDs() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []byte
	for id := range s.keys {
		ids = append(ids, id)
	}
	return ids
}

// SetReload sets what the Sealer calls when a value names a key it does
// not hold, before it gives up on the value.
func (s *Sealer) SetReload(fn func() error) {
	s.mu.Lock()
	s.reload = fn
	s.mu.Unlock()
}

// KeyID returns the id of the key a sealed value was sealed with.
func KeyID(sealed []byte) (byte, bool) {
	if len(sealed) < 2 || sealed[0] != formatV1 {
		return 0, false
	}
	return sealed[1], true
}

// Seal encrypts plaintext for place.
func (s *Sealer) Seal(place Place, plaintext []byte) ([]byte, error) {
	s.mu.RLock()
	current, aead := s.current, s.keys[s.current]
	s.mu.RUnlock()
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return nil, fmt.Errorf("seal: nonce: %w", err)
	}
	out := make([]byte, 0, 2+len(nonce)+len(plaintext)+aead.Overhead())
	out = append(out, formatV1, current)
	out = append(out, nonce...)
	ad := append([]byte{formatV1, current}, place.bytes()...)
	return aead.Seal(out, nonce, plaintext, ad), nil
}

// key returns the AEAD of key id, reloading the ring once (rate-limited)
// when it is unknown.
func (s *Sealer) key(id byte) (cipher.AEAD, bool) {
	s.mu.RLock()
	aead, ok := s.keys[id]
	reload, last := s.reload, s.lastReload
	s.mu.RUnlock()
	if ok || reload == nil || time.Since(last) < reloadGap {
		return aead, ok
	}
	s.mu.Lock()
	s.lastReload = time.Now()
	s.mu.Unlock()
	if err := reload(); err != nil {
		return nil, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	aead, ok = s.keys[id]
	return aead, ok
}

// Reseal opens a value and seals it again with the current key; changed
// is false when it already was.
func (s *Sealer) Reseal(place Place, sealed []byte) (out []byte, changed bool, err error) {
	if id, ok := KeyID(sealed); ok && id == s.Current() {
		return sealed, false, nil
	}
	pt, err := s.Open(place, sealed)
	if err != nil {
		return nil, false, err
	}
	out, err = s.Seal(place, pt)
	return out, err == nil, err
}

// Open decrypts a value sealed for place. Any failure is ErrOpen.
func (s *Sealer) Open(place Place, sealed []byte) ([]byte, error) {
	if len(sealed) < 2 || sealed[0] != formatV1 {
		return nil, ErrOpen
	}
	aead, ok := s.key(sealed[1])
	if !ok {
		return nil, ErrOpen
	}
	rest := sealed[2:]
	if len(rest) < aead.NonceSize()+aead.Overhead() {
		return nil, ErrOpen
	}
	nonce, ct := rest[:aead.NonceSize()], rest[aead.NonceSize():]
	ad := append([]byte{sealed[0], sealed[1]}, place.bytes()...)
	pt, err := aead.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// KeyedHash returns HMAC-SHA256 of data under a key derived from the
// sealing key, labelled with purpose. It stores high-entropy codes that only
// need checking (temporary passcodes, session tokens are plain SHA-256):
// without the sealing key a stolen database cannot test guesses offline.
func (s *Sealer) KeyedHash(purpose string, data []byte) []byte {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(data)
	return m.Sum(nil)
}

// LoadOrCreateKeyFile reads a hex-encoded key from path, creating the file
// (mode 0600) with a fresh random key when it does not exist.
func LoadOrCreateKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, KeySize)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, fmt.Errorf("seal: generate key: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			if errors.Is(err, os.ErrExist) { // another process won the race
				return LoadOrCreateKeyFile(path)
			}
			return nil, fmt.Errorf("seal: create key file: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(key) + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("seal: write key file: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("seal: sync key file: %w", err)
		}
		return key, f.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("seal: read key file: %w", err)
	}
	return ParseKey(string(b))
}

// ParseKey decodes a hex-encoded sealing key.
func ParseKey(s string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("seal: key is not hex: %w", err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key has %d bytes, want %d", len(key), KeySize)
	}
	return key, nil
}
