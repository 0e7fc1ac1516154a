package audit

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Checkpoint is a signed statement of the chain's head: the entry with
// sequence Seq has hash Hash. It is signed with an Ed25519 key kept
// outside the database, so a writer of the database can neither forge
// one nor make the trail agree with one it has rewritten.
type Checkpoint struct {
	Seq   int64     `json:"seq"`
	Hash  string    `json:"hash"`
	At    time.Time `json:"at"`
	KeyID string    `json:"key_id"`
	Sig   []byte    `json:"sig"`
}

// KeyID names a public key: the first 16 hex digits of its SHA-256.
func KeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:8])
}

// message is what a checkpoint's signature covers: a domain separator and
// the fixed-size fields, so that no two checkpoints sign the same bytes.
func (c Checkpoint) message() []byte {
	b := []byte("sls audit checkpoint v1\x00")
	b = binary.BigEndian.AppendUint64(b, uint64(c.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(c.At.UTC().UnixMicro()))
	b = append(b, c.KeyID...)
	b = append(b, 0)
	return append(b, c.Hash...)
}

// SignCheckpoint signs the head (seq, hash) at the time at.
func SignCheckpoint(priv ed25519.PrivateKey, seq int64, hash string, at time.Time) Checkpoint {
	c := Checkpoint{Seq: seq, Hash: hash, At: at.UTC().Truncate(time.Microsecond), KeyID: KeyID(priv.Public().(ed25519.PublicKey))}
	c.Sig = ed25519.Sign(priv, c.message())
	return c
}

// Keys are the trusted public keys by key id.
type Keys map[string]ed25519.PublicKey

// Verify checks c's signature against the trusted keys.
func (c Checkpoint) Verify(keys Keys) error {
	pub, ok := keys[c.KeyID]
	switch {
	case !ok:
		return fmt.Errorf("checkpoint at entry %d is signed by key %q, which is not trusted (forged?)", c.Seq, c.KeyID)
	case len(c.Sig) != ed25519.SignatureSize || !ed25519.Verify(pub, c.message(), c.Sig):
		return fmt.Errorf("checkpoint at entry %d has a bad signature (forged or edited)", c.Seq)
	}
	return nil
}

var hexKey = regexp.MustCompile(`^[0-9a-f]+$`)

// ParseKeys reads trusted public keys, one per line: "KEYID HEXKEY";
// blank lines and lines starting with # are skipped. A key whose id does
// not match it is refused.
func ParseKeys(r io.Reader) (Keys, error) {
	keys := Keys{}
	sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || !hexKey.MatchString(f[1]) || len(f[1]) != 2*ed25519.PublicKeySize {
			return nil, fmt.Errorf("audit keys: line %d: want \"KEYID HEXKEY\"", n)
		}
		pub, _ := hex.DecodeString(f[1])
		if KeyID(pub) != f[0] {
			return nil, fmt.Errorf("audit keys: line %d: key id %q does not match its key", n, f[0])
		}
		keys[f[0]] = pub
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit keys: %w", err)
	}
	return keys, nil
}

// FormatKey is one line of a keys file.
func FormatKey(pub ed25519.PublicKey) string {
	return KeyID(pub) + " " + hex.EncodeToString(pub) + "\n"
}

// ParseCheckpoint reads one checkpoint in its JSON form (the file kept
// outside the database, an export line), checking its shape.
func ParseCheckpoint(b []byte) (Checkpoint, error) {
	var c Checkpoint
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("audit checkpoint: %w", err)
	}
	if c.Seq < 0 || len(c.Hash) != 64 || !hexKey.MatchString(c.Hash) || c.KeyID == "" || len(c.Sig) != ed25519.SignatureSize {
		return c, errors.New("audit checkpoint: malformed")
	}
	return c, nil
}
