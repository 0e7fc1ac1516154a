package statement

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// MaxKeySize bounds the key a client sends. An exported public key with a
// few user IDs and subkeys is a few KiB; photo IDs reach tens of KiB.
const MaxKeySize = 1 << 20

// Errors of ParseRecipient, to be matched with errors.Is. The messages are
// written for the operator to pass on to the client.
var (
	ErrKeyGarbage      = errors.New("statement: not an OpenPGP public key")
	ErrKeyPrivate      = errors.New("statement: this is a private key; send only the public key (gpg --armor --export)")
	ErrKeyCount        = errors.New("statement: expected exactly one public key")
	ErrKeyRevoked      = errors.New("statement: the key is revoked")
	ErrKeyExpired      = errors.New("statement: the key has expired")
	ErrKeyNotYetValid  = errors.New("statement: the key was created in the future; check the clocks")
	ErrKeyNoEncryption = errors.New("statement: the key has no usable encryption subkey")
)

// ParseRecipient reads the client's OpenPGP public key, as exported by
// `gpg --armor --export` (binary export is accepted too), and checks that
// statements can be encrypted to it now. See ParseRecipientAt.
func ParseRecipient(armored []byte) (*openpgp.Entity, error) {
	return ParseRecipientAt(armored, time.Now())
}

// ParseRecipientAt is ParseRecipient with the time of the check given. It
// refuses garbage, private keys (the client must keep those), more than one
// key, and keys that are revoked, expired or have no valid encryption key
// at now (or not valid yet), each with its own error.
func ParseRecipientAt(data []byte, now time.Time) (e *openpgp.Entity, err error) {
	defer func() {
		// go-crypto's parsers return errors on bad input, but a client's
		// upload must never be able to take the server down.
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("%w: malformed key data", ErrKeyGarbage)
		}
	}()
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrKeyGarbage)
	}
	if len(data) > MaxKeySize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrKeyGarbage, MaxKeySize)
	}
	var list openpgp.EntityList
	trimmed := bytes.TrimSpace(data)
	if bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		if bytes.HasPrefix(trimmed, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
			return nil, ErrKeyPrivate
		}
		list, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(trimmed))
	} else {
		list, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrKeyGarbage, cleanMsg(err))
	}
	if len(list) != 1 {
		return nil, fmt.Errorf("%w: found %d", ErrKeyCount, len(list))
	}
	e = list[0]
	if e.PrivateKey != nil {
		return nil, ErrKeyPrivate
	}
	for _, sk := range e.Subkeys {
		if sk.PrivateKey != nil {
			return nil, ErrKeyPrivate
		}
	}
	if err := checkRecipient(e, now); err != nil {
		return nil, err
	}
	return e, nil
}

// checkRecipient says why e cannot receive a message encrypted at now, in
// the order a person would look: revocation, expiry, then usable subkeys.
func checkRecipient(e *openpgp.Entity, now time.Time) error {
	if e == nil || e.PrimaryKey == nil {
		return fmt.Errorf("%w: no primary key", ErrKeyGarbage)
	}
	id := fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
	if e.Revoked(now) {
		return fmt.Errorf("%w (%s)", ErrKeyRevoked, id)
	}
	sig, ident := e.PrimarySelfSignature()
	if sig == nil {
		return fmt.Errorf("%w: no valid self-signature (%s)", ErrKeyGarbage, id)
	}
	if ident != nil && ident.Revoked(now) {
		return fmt.Errorf("%w: its user ID is revoked (%s)", ErrKeyRevoked, id)
	}
	if e.PrimaryKey.CreationTime.After(now) || sig.CreationTime.After(now) {
		// go-crypto counts this as expired; the fix is different.
		return fmt.Errorf("%w (%s)", ErrKeyNotYetValid, id)
	}
	if e.PrimaryKey.KeyExpired(sig, now) || sig.SigExpired(now) {
		return fmt.Errorf("%w%s (%s)", ErrKeyExpired, expiredOn(e.PrimaryKey, sig), id)
	}
	if _, ok := e.EncryptionKey(now); ok {
		return nil
	}
	// Explain the commonest case: there are encryption subkeys, but all of
	// them are expired or revoked.
	var expired, revoked bool
	for _, sk := range e.Subkeys {
		if sk.Sig == nil || !sk.Sig.FlagsValid || !sk.Sig.FlagEncryptCommunications {
			continue
		}
		switch {
		case sk.Revoked(now):
			revoked = true
		case sk.PublicKey.KeyExpired(sk.Sig, now) || sk.Sig.SigExpired(now):
			expired = true
		}
	}
	switch {
	case expired:
		return fmt.Errorf("%w: its encryption subkey has expired (%s)", ErrKeyExpired, id)
	case revoked:
		return fmt.Errorf("%w: its encryption subkey is revoked (%s)", ErrKeyRevoked, id)
	}
	return fmt.Errorf("%w (%s)", ErrKeyNoEncryption, id)
}

func expiredOn(pk *packet.PublicKey, sig *packet.Signature) string {
	if sig.KeyLifetimeSecs != nil && *sig.KeyLifetimeSecs != 0 {
		t := pk.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
		return " on " + t.UTC().Format(time.DateOnly)
	}
	return ""
}

// cleanMsg drops go-crypto's package prefix so the message reads well
// after ours.
func cleanMsg(err error) string {
	m := err.Error()
	m = strings.TrimPrefix(m, "openpgp: ")
	return m
}
