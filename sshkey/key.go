package sshkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/ssh"
)

// Format names the encoding a key was read from.
type Format string

const (
	FormatOpenSSH Format = "openssh" // one line: "ssh-rsa AAAA... comment"
	FormatRFC4716 Format = "rfc4716" // "---- BEGIN SSH2 PUBLIC KEY ----" block
	FormatPKIX    Format = "pkix"    // PEM "PUBLIC KEY" (SubjectPublicKeyInfo)
	FormatPKCS1   Format = "pkcs1"   // PEM "RSA PUBLIC KEY"
	FormatPPK     Format = "ppk"     // PuTTY private key file; only its public part is used
)

// Acceptance policy for keys registered for SFTP delivery.
const (
	// MinRSABits follows SPEC §7 (clients generate 2048-bit RSA keys) and
	// NIST SP 800-131A, which disallows RSA below 2048 bits.
	MinRSABits = 2048
	// maxRSABits is the largest modulus ssh-keygen generates and
	// golang.org/x/crypto/ssh accepts; anything larger could never log in.
	maxRSABits = 16384
	// maxRSAExponentBits: x/crypto/ssh refuses RSA exponents over 24 bits,
	// so a larger one would be stored and then never authenticate.
	maxRSAExponentBits = 24
	// maxInput bounds what the parsers look at; the largest legitimate input,
	// a .ppk file of a 16384-bit RSA key, is under 10 KiB.
	maxInput = 64 << 10
	// maxComment follows the RFC 4716 §3.3 limit on a header value.
	maxComment = 1024
)

const acceptedTypes = "accepted are RSA (at least 2048 bits), Ed25519 and ECDSA P-256/P-384/P-521"

// Key is a public key accepted for SFTP delivery.
type Key struct {
	PublicKey   ssh.PublicKey // the key itself, ready for ssh.ServerConfig callbacks
	Type        string        // SSH key type: "ssh-rsa", "ssh-ed25519", "ecdsa-sha2-nistp256", ...
	Bits        int           // modulus size for RSA, curve size for ECDSA, 256 for Ed25519
	Comment     string        // the comment that came with the key, if any
	Fingerprint string        // "SHA256:..." as ssh.FingerprintSHA256, ssh-keygen -l and puttygen -l print it
	Format      Format        // the encoding the key was read from
}

// AuthorizedKey returns the key as one OpenSSH authorized_keys line, without
// options and without a trailing newline: "type base64 [comment]". It is the
// canonical form to store; ParsePublicKey reads it back to the same Key.
func (k Key) AuthorizedKey() string {
	s := strings.TrimSuffix(string(ssh.MarshalAuthorizedKey(k.PublicKey)), "\n")
	if k.Comment != "" {
		s += " " + k.Comment
	}
	return s
}

// ParsePublicKey reads one public key in any of the supported formats,
// detected from the data: an OpenSSH line, an RFC 4716 block, a PEM PKIX or
// PKCS#1 public key, or a PuTTY .ppk file (whose public part needs no
// passphrase; Format is then FormatPPK, which a caller may want to report,
// since the client has sent its private key). Surrounding whitespace, CRLF
// line ends and a UTF-8 byte order mark are ignored; anything else around the
// key is an error.
//
// The key must be RSA of at least MinRSABits bits with a sane public
// exponent, Ed25519, or ECDSA on P-256, P-384 or P-521. DSA, certificates,
// security-key (sk-) keys and everything else are refused. Errors match
// ErrMalformed, ErrUnsupported, ErrWeakKey, ErrPrivateKey or ErrBadMAC.
func ParsePublicKey(data []byte) (Key, error) {
	if len(data) > maxInput {
		return Key{}, malformed("input is %d bytes; a public key file is at most %d", len(data), maxInput)
	}
	d := bytes.TrimSpace(bytes.TrimPrefix(data, utf8BOM))
	if len(d) == 0 {
		return Key{}, malformed("input is empty")
	}
	switch {
	case bytes.HasPrefix(d, []byte("PuTTY-User-Key-File-")):
		return publicFromPPK(d)
	case bytes.HasPrefix(d, []byte(rfc4716Begin)):
		return parseRFC4716(d)
	case bytes.HasPrefix(d, []byte("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----")):
		return Key{}, privateKeyError("an ssh.com (SSH2) private key")
	case bytes.HasPrefix(d, []byte("SSH PRIVATE KEY FILE FORMAT 1.1")):
		return Key{}, privateKeyError("an SSH-1 private key")
	case bytes.HasPrefix(d, []byte("-----BEGIN ")):
		return parsePEM(d)
	default:
		return parseOpenSSH(d)
	}
}

var utf8BOM = []byte("\xef\xbb\xbf")

func privateKeyError(what string) error {
	return newErr(ErrPrivateKey, "this is %s, not a public key: ask the client to send only the public part "+
		"(puttygen -L KEYFILE or ssh-keygen -y -f KEYFILE); a private key sent by e-mail must be replaced", what)
}

// newKey applies the acceptance policy to a parsed key.
func newKey(pub ssh.PublicKey, comment string, format Format) (Key, error) {
	bits, err := checkPolicy(pub)
	if err != nil {
		return Key{}, err
	}
	// Surrounding blanks would not survive the one-line form.
	comment = strings.Trim(comment, " \t")
	if err := checkComment(comment); err != nil {
		return Key{}, err
	}
	return Key{
		PublicKey:   pub,
		Type:        pub.Type(),
		Bits:        bits,
		Comment:     comment,
		Fingerprint: ssh.FingerprintSHA256(pub),
		Format:      format,
	}, nil
}

// checkPolicy returns the key size if the key may be registered.
func checkPolicy(pub ssh.PublicKey) (int, error) {
	if err := checkKeyType(pub.Type()); err != nil {
		return 0, err
	}
	cp, ok := pub.(ssh.CryptoPublicKey)
	if !ok {
		return 0, unsupported("key type %s is not accepted; %s", quote(pub.Type()), acceptedTypes)
	}
	switch k := cp.CryptoPublicKey().(type) {
	case *rsa.PublicKey:
		if err := checkRSA(big.NewInt(int64(k.E)), k.N); err != nil {
			return 0, err
		}
		bits := k.N.BitLen()
		if bits < MinRSABits {
			return 0, newErr(ErrWeakKey, "RSA key is %d bits; at least %d are required", bits, MinRSABits)
		}
		return bits, nil
	case ed25519.PublicKey:
		return 256, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k.Curve.Params().BitSize, nil
		}
	}
	return 0, unsupported("key type %s is not accepted; %s", quote(pub.Type()), acceptedTypes)
}

// checkKeyType refuses, with a specific reason, SSH key types that are not
// accepted.
func checkKeyType(typ string) error {
	switch {
	case typ == ssh.KeyAlgoRSA, typ == ssh.KeyAlgoED25519,
		typ == ssh.KeyAlgoECDSA256, typ == ssh.KeyAlgoECDSA384, typ == ssh.KeyAlgoECDSA521:
		return nil
	case typ == "":
		return malformed("the key type is empty")
	case typ == "ssh-dss":
		return unsupported("DSA (ssh-dss) keys are not accepted: they are limited to 1024 bits and disabled in " +
			"current OpenSSH; please generate an RSA key of at least 2048 bits (puttygen -t rsa -b 2048)")
	case strings.Contains(typ, "-cert-v0"):
		return unsupported("%s is an OpenSSH certificate; certificates are not accepted, send the plain public key", quote(typ))
	case strings.HasPrefix(typ, "sk-"):
		return unsupported("%s is a FIDO security-key key; it is not accepted for SFTP delivery (%s)", quote(typ), acceptedTypes)
	case typ == ssh.KeyAlgoRSASHA256, typ == ssh.KeyAlgoRSASHA512:
		return malformed("%s is a signature algorithm, not a key type; an RSA key must be labelled ssh-rsa", quote(typ))
	default:
		return unsupported("key type %s is not accepted; %s", quote(typ), acceptedTypes)
	}
}

// checkRSA checks the structure of an RSA public key, whatever its size.
func checkRSA(e, n *big.Int) error {
	if e.Sign() <= 0 || e.Cmp(big.NewInt(3)) < 0 {
		return newErr(ErrWeakKey, "RSA public exponent is %s; it must be an odd number of at least 3 (normally 65537)", e)
	}
	if e.Bit(0) == 0 {
		return malformed("RSA public exponent %s is even; a valid exponent is odd (normally 65537)", e)
	}
	if e.BitLen() > maxRSAExponentBits {
		return unsupported("RSA public exponent is %d bits long; SSH servers accept at most %d bits (normally 65537)",
			e.BitLen(), maxRSAExponentBits)
	}
	if n.BitLen() > maxRSABits {
		return unsupported("RSA key is %d bits; at most %d are supported", n.BitLen(), maxRSABits)
	}
	if n.Bit(0) == 0 || n.Cmp(e) <= 0 {
		return malformed("RSA modulus is not valid (even, or not larger than the exponent)")
	}
	return nil
}

// parseWireKey reads an SSH public key blob (RFC 4253 §6.6) and checks its
// structure, not yet the size policy.
func parseWireKey(blob []byte) (ssh.PublicKey, error) {
	r := wireReader{b: blob}
	typ := r.string()
	if r.err != nil {
		return nil, malformed("key data: %v", r.err)
	}
	if err := checkKeyType(typ); err != nil {
		return nil, err
	}
	if typ == ssh.KeyAlgoRSA {
		// Read the numbers here first so that a bad exponent or size gets
		// the specific message rather than x/crypto's terse one.
		e := r.mpint()
		n := r.mpint()
		if r.err != nil {
			return nil, malformed("RSA key data: %v", r.err)
		}
		if !r.empty() {
			return nil, malformed("RSA key data: %d bytes of trailing garbage", len(r.b))
		}
		if err := checkRSA(e, n); err != nil {
			return nil, err
		}
	}
	pub, err := ssh.ParsePublicKey(blob)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "ssh: ")
		if msg == "short read" {
			msg = errShort.Error()
		}
		return nil, malformed("%s key data: %s", typ, msg)
	}
	return pub, nil
}

func checkComment(c string) error {
	if len(c) > maxComment {
		return malformed("the key comment is %d bytes long; at most %d are accepted", len(c), maxComment)
	}
	if !utf8.ValidString(c) {
		return malformed("the key comment is not valid UTF-8")
	}
	for _, r := range c {
		// Control characters could break the one-line storage form;
		// direction overrides and line separators could make the comment
		// display as something else in the operator tool.
		if (unicode.IsControl(r) && r != '\t') || r == '\u2028' || r == '\u2029' ||
			(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return malformed("the key comment contains the control character %U; remove it", r)
		}
	}
	return nil
}

// quote quotes untrusted text for an error message, shortened so that a
// hostile input cannot flood logs.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}
