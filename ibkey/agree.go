package ibkey

import (
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Transcript is everything an activation agrees on. The offline key is
// derived from the X25519 shared secret with the transcript as HKDF salt
// (RFC 5869 §3.1: a salt binds the derived key to its context), so a key
// agreed for one ticket, instance, device or user is useless for another.
type Transcript struct {
	// Binding is the hash of the bearer secret that authorised the
	// activation (Code.Hash, or PendingHash for Add User by SMS).
	Binding    string
	InstanceID string
	UserID     string
	DeviceID   string
	AppDH      []byte // the app's X25519 public key for this activation
	ServerDH   []byte // the server's ephemeral X25519 public key
}

func (t Transcript) bytes() []byte {
	return canon("sls-ibkey/1 activation", t.Binding, t.InstanceID, t.UserID, t.DeviceID, string(t.AppDH), string(t.ServerDH))
}

// canon is an unambiguous encoding of a label and fields: each field is
// length-prefixed, so no two field lists encode alike.
func canon(label string, fields ...string) []byte {
	b := []byte(label)
	b = append(b, 0)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// OfflineKeySize is the size of the offline key: 32 bytes, the key size
// RFC 6287 §7.2 recommends for HMAC-SHA256 suites.
const OfflineKeySize = 32

// NewDHKey returns a fresh X25519 key from r (crypto/rand when nil).
func NewDHKey(r io.Reader) (*ecdh.PrivateKey, error) {
	if r == nil {
		return ecdh.X25519().GenerateKey(nil)
	}
	var seed [32]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("ibkey: key agreement: %w", err)
	}
	return ecdh.X25519().NewPrivateKey(seed[:])
}

// Agree computes the offline key and the key confirmation from one side's
// private key and the other side's public key. Both sides get the same
// values; the server sends the confirmation so the app knows the
// agreement succeeded before it stores anything. The shared secret itself
// never travels.
func Agree(priv *ecdh.PrivateKey, peerPub []byte, t Transcript) (key, confirm []byte, err error) {
	pub, err := ecdh.X25519().NewPublicKey(peerPub)
	if err != nil {
		return nil, nil, fmt.Errorf("ibkey: key agreement: peer key: %w", err)
	}
	shared, err := priv.ECDH(pub) // refuses low-order points (all-zero output)
	if err != nil {
		return nil, nil, fmt.Errorf("ibkey: key agreement: %w", err)
	}
	salt := sha256.Sum256(t.bytes())
	if key, err = hkdf.Key(sha256.New, shared, salt[:], "sls-ibkey/1 offline key", OfflineKeySize); err != nil {
		return nil, nil, err
	}
	ck, err := hkdf.Key(sha256.New, shared, salt[:], "sls-ibkey/1 key confirmation", 32)
	if err != nil {
		return nil, nil, err
	}
	m := hmac.New(sha256.New, ck)
	m.Write(t.bytes())
	return key, m.Sum(nil), nil
}

// ErrConfirm means the server's key confirmation did not match: the app
// must not store the key.
var ErrConfirm = errors.New("ibkey: key confirmation does not match")

// CheckConfirm compares confirmations in constant time.
func CheckConfirm(want, got []byte) error {
	if !hmac.Equal(want, got) {
		return ErrConfirm
	}
	return nil
}

// macKey derives the key that proves possession of the offline key in
// approvals, separate from the key OCRA uses (one key, one purpose).
func macKey(offline []byte) []byte {
	k, err := hkdf.Key(sha256.New, offline, nil, "sls-ibkey/1 approval mac", 32)
	if err != nil {
		panic(err) // only for lengths over 255*32 bytes
	}
	return k
}
