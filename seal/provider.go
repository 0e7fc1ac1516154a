package seal

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
)

// KeyProvider wraps and unwraps data keys with a key-encryption key (KEK)
// that it never reveals. Data keys live in the database, wrapped; the
// sealing key file (or a KMS or HSM) holds only the KEK, so a new data
// key reaches every node through the database and rotating it needs no
// file to be copied anywhere.
//
// FileKEK is the implementation shipped. A KMS or HSM provider has the
// same two calls: Wrap is KMS Encrypt (AWS KMS, Google Cloud KMS, Azure
// Key Vault wrapKey) or PKCS#11 C_WrapKey with the data key's id in the
// encryption context / additional data, and Unwrap is Decrypt / C_UnwrapKey
// with the same context; the KEK stays in the KMS or HSM. Unwrap runs when
// a node loads the key ring (at start, when another node rotated, every
// few seconds), never per value.
type KeyProvider interface {
	Wrap(dataKey []byte, id byte) ([]byte, error)
	Unwrap(wrapped []byte, id byte) ([]byte, error)
}

// FileKEK is a KeyProvider whose KEK is derived from the sealing key file.
type FileKEK struct{ aead cipher.AEAD }

// NewFileKEK derives the KEK from the sealing key (HMAC-SHA256 with a
// label, so that it never equals the key itself, which is also data key 1
// of deployments made before rotation existed).
func NewFileKEK(sealingKey []byte) (*FileKEK, error) {
	if len(sealingKey) != KeySize {
		return nil, fmt.Errorf("seal: sealing key has %d bytes, want %d", len(sealingKey), KeySize)
	}
	m := hmac.New(sha256.New, sealingKey)
	m.Write([]byte("sls seal: key-encryption key v1"))
	aead, err := chacha20poly1305.NewX(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return &FileKEK{aead: aead}, nil
}

func wrapAD(id byte) []byte { return []byte{'s', 'l', 's', 'd', 'k', 1, id} }

// Wrap seals a data key for key id.
func (f *FileKEK) Wrap(dataKey []byte, id byte) ([]byte, error) {
	nonce := make([]byte, f.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, err
	}
	return f.aead.Seal(nonce, nonce, dataKey, wrapAD(id)), nil
}

// Unwrap opens a wrapped data key of key id.
func (f *FileKEK) Unwrap(wrapped []byte, id byte) ([]byte, error) {
	n := f.aead.NonceSize()
	if len(wrapped) < n+f.aead.Overhead() {
		return nil, ErrOpen
	}
	k, err := f.aead.Open(nil, wrapped[:n], wrapped[n:], wrapAD(id))
	if err != nil || len(k) != KeySize {
		return nil, ErrOpen
	}
	return k, nil
}

// NewDataKey returns a random data key.
func NewDataKey() ([]byte, error) {
	k := make([]byte, KeySize)
	_, err := io.ReadFull(rand.Reader, k)
	return k, err
}
