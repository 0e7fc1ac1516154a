package sshkey

import (
	"errors"
	"fmt"
)

// Every error returned by this package reads "sshkey: ..." followed by a
// message meant for an operator, and matches (errors.Is) exactly one of the
// kinds below, so that callers can react without parsing text.
var (
	// ErrMalformed: the data is not a well-formed key in the detected format
	// (bad base64, truncated, wrong line counts, trailing garbage, ...).
	ErrMalformed = errors.New("sshkey: malformed key data")
	// ErrUnsupported: the data is well formed but uses an algorithm, format
	// version, cipher or key derivation this package does not accept.
	ErrUnsupported = errors.New("sshkey: unsupported key")
	// ErrWeakKey: the key is of an accepted type but too weak (RSA modulus
	// below 2048 bits, degenerate public exponent).
	ErrWeakKey = errors.New("sshkey: key too weak")
	// ErrPrivateKey: a private key in a format other than PuTTY's was given
	// where a public key was expected.
	ErrPrivateKey = errors.New("sshkey: private key given instead of public key")
	// ErrWrongPassphrase: the MAC of an encrypted .ppk file did not verify
	// with the passphrase given.
	ErrWrongPassphrase = errors.New("sshkey: wrong passphrase or corrupted file")
	// ErrPassphraseRequired: the private part of a .ppk file is encrypted and
	// no passphrase was given.
	ErrPassphraseRequired = errors.New("sshkey: the private key is encrypted and a passphrase is required")
	// ErrBadMAC: the MAC of an unencrypted .ppk file did not verify: the file
	// was edited or damaged.
	ErrBadMAC = errors.New("sshkey: ppk: MAC check failed: the file is corrupted or was edited")
)

// kindError carries a specific message and the kind it belongs to.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return "sshkey: " + e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func newErr(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func malformed(format string, args ...any) error { return newErr(ErrMalformed, format, args...) }
func unsupported(format string, args ...any) error {
	return newErr(ErrUnsupported, format, args...)
}

// withPrefix names the format in a malformed-data error from shared code;
// policy refusals read the same whatever the format.
func withPrefix(prefix string, err error) error {
	if ke, ok := err.(*kindError); ok && ke.kind == ErrMalformed {
		return &kindError{kind: ke.kind, msg: prefix + ": " + ke.msg}
	}
	return err
}
