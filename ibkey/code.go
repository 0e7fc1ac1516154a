package ibkey

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"

	sls "github.com/secure-login-system/sls"
)

// The activation string is 20 characters of Crockford's base32 alphabet
// (no I, L, O, U, so nothing reads as another character): one version
// character, 16 characters of secret (80 random bits) and 3 characters of
// checksum (15 bits). It is shown grouped by four, "1K7Q-M3ZP-…", under the
// QR code, which carries the same characters.
//
// 80 bits are far beyond what can be guessed online in the ticket's 10
// minutes (NIST SP 800-63B-4 draft §6.1.2.4 caps the ticket's life at 10
// minutes; a single-use, 10-minute bearer secret needs no more than 64
// bits, OWASP ASVS V3.2.2). The checksum catches a mistyped string in the
// app before anything is sent (see checksum).
const (
	codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	versionChar  = '1'
	secretChars  = 16
	checkChars   = 3
	codeLen      = 1 + secretChars + checkChars
	// maxCodeInput bounds what the parser looks at: a grouped string with
	// generous spacing is well under it.
	maxCodeInput = 128
	// QRPrefix starts the QR payload. Upper case letters, digits and ':'
	// keep the whole payload in the QR code's compact alphanumeric mode.
	QRPrefix = "SLSIBKEY:"
)

// Errors of ParseCode and ParseQR; each wraps ErrMalformed.
var (
	ErrMalformed = errors.New("ibkey: malformed activation string")
	ErrChecksum  = fmt.Errorf("%w: checksum does not match (mistyped?)", ErrMalformed)
	ErrVersion   = fmt.Errorf("%w: unknown version", ErrMalformed)
)

// Code is a parsed activation string. The zero Code is not valid.
type Code struct{ s string }

// NewCode returns a fresh activation string with 80 random bits from r
// (crypto/rand when nil).
func NewCode(r io.Reader) (Code, error) {
	if r == nil {
		r = rand.Reader
	}
	var b [10]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return Code{}, fmt.Errorf("ibkey: activation string: %w", err)
	}
	body := string(versionChar) + encode5(b[:])
	return Code{s: body + checksum(body)}, nil
}

// encode5 writes bytes as base32 characters, most significant bits first.
func encode5(b []byte) string {
	var sb strings.Builder
	var acc uint32
	bits := 0
	for _, c := range b {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 5 {
			bits -= 5
			sb.WriteByte(codeAlphabet[(acc>>bits)&31])
		}
	}
	if bits > 0 {
		sb.WriteByte(codeAlphabet[(acc<<(5-bits))&31])
	}
	return sb.String()
}

// The checksum is a Reed-Solomon code over GF(32), one field element per
// character: the three check characters make the 20-character string a
// codeword of minimum distance 4, so ANY error in up to three characters —
// every single mistyped character and every swap of two characters — is
// detected for certain, and a random string passes with probability 2^-15.
// GF(32) is built on the primitive polynomial x^5 + x^2 + 1; the generator
// is (x - α)(x - α²)(x - α³).
var gfExp, gfLog = gfTables()

var rsGen = rsGenerator()

func gfTables() (exp [62]byte, log [32]byte) {
	x := 1
	for i := 0; i < 31; i++ {
		exp[i], exp[i+31] = byte(x), byte(x)
		log[x] = byte(i)
		x <<= 1
		if x&32 != 0 {
			x ^= 0b100101
		}
	}
	return exp, log
}

// rsGenerator multiplies out (x + α)(x + α²)(x + α³) (in characteristic 2,
// minus is plus); coefficients highest degree first, gen[0] = 1.
func rsGenerator() [4]byte {
	gen := [4]byte{1}
	for r := 1; r <= 3; r++ {
		var prod [4]byte
		for i := 0; i < r; i++ {
			prod[i] ^= gen[i]
			prod[i+1] ^= gfMul(gen[i], gfExp[r])
		}
		gen = prod
	}
	return gen
}

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// checksum returns the three check characters of body (17 characters).
func checksum(body string) string {
	var rem [3]byte
	for i := 0; i < len(body); i++ {
		fb := byte(strings.IndexByte(codeAlphabet, body[i])) ^ rem[0]
		rem[0] = rem[1] ^ gfMul(fb, rsGen[1])
		rem[1] = rem[2] ^ gfMul(fb, rsGen[2])
		rem[2] = gfMul(fb, rsGen[3])
	}
	return string([]byte{codeAlphabet[rem[0]], codeAlphabet[rem[1]], codeAlphabet[rem[2]]})
}

// ParseCode reads an activation string as a person may type it: any case,
// with or without spaces and hyphens, O for 0 and I or L for 1.
func ParseCode(s string) (Code, error) {
	if len(s) > maxCodeInput {
		return Code{}, fmt.Errorf("%w: too long", ErrMalformed)
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		}
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 127 || strings.IndexByte(codeAlphabet, byte(r)) < 0 {
			return Code{}, fmt.Errorf("%w: character %q is not allowed", ErrMalformed, r)
		}
		b.WriteRune(r)
	}
	c := b.String()
	if len(c) != codeLen {
		return Code{}, fmt.Errorf("%w: %d characters, want %d", ErrMalformed, len(c), codeLen)
	}
	if c[0] != versionChar {
		return Code{}, fmt.Errorf("%w %q", ErrVersion, c[0])
	}
	if checksum(c[:codeLen-checkChars]) != c[codeLen-checkChars:] {
		return Code{}, ErrChecksum
	}
	return Code{s: c}, nil
}

// ParseQR reads the payload of a scanned QR code.
func ParseQR(payload string) (Code, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(payload), QRPrefix)
	if !ok {
		return Code{}, fmt.Errorf("%w: not an SLS Key QR code", ErrMalformed)
	}
	return ParseCode(rest)
}

// IsZero reports whether c is the zero Code.
func (c Code) IsZero() bool { return c.s == "" }

// String is the canonical compact form (the bearer secret; its hash is the
// ticket's key on the server).
func (c Code) String() string { return c.s }

// Grouped is the readable form printed under the QR code.
func (c Code) Grouped() string {
	var parts []string
	for i := 0; i < len(c.s); i += 4 {
		parts = append(parts, c.s[i:min(i+4, len(c.s))])
	}
	return strings.Join(parts, "-")
}

// QRPayload is what the QR code encodes.
func (c Code) QRPayload() string { return QRPrefix + c.s }

// Hash is the ticket key the server stores (the bearer secret is never
// stored in clear) and the binding that signed Add User requests name.
func (c Code) Hash() string { return sls.TokenHash(c.s) }
