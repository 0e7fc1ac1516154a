package ocra

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"
)

// Input holds the DataInput values of one computation (RFC 6287 §5.1). Only
// the fields the suite names may be set: a value the suite does not use is an
// error rather than silently ignored, so that a caller who believes a PIN or
// a counter is checked finds out when it is not.
type Input struct {
	// Counter is C, used when the suite has C. Zero is a valid counter, so a
	// missing counter cannot be detected; a non-zero counter for a suite
	// without C is refused.
	Counter uint64
	// Question is one challenge in the suite's format: decimal digits for N,
	// letters and digits for A, hexadecimal digits (either case) for H;
	// between 4 and xx characters. For mutual challenge-response use
	// ComputeMutual, which takes the two challenges apart.
	Question string
	// PINHash is P, the hash of the PIN with the suite's PIN hash (see
	// Suite.HashPIN); required exactly when the suite has P.
	PINHash []byte
	// Session is S, exactly Suite.SessionLen bytes; required exactly when
	// the suite has S.
	Session []byte
	// Timestamp is T, the number of time steps since the epoch (see
	// Suite.TimeSteps); used when the suite has T.
	Timestamp uint64
}

// HashPIN hashes a PIN with the suite's PIN hash, giving Input.PINHash. The
// RFC's vectors hash the PIN's characters ("1234") as they are.
func (s Suite) HashPIN(pin string) ([]byte, error) {
	if s.pinHash == 0 {
		return nil, errors.New("ocra: hash PIN: suite has no PIN")
	}
	h := newHash(s.pinHash)()
	h.Write([]byte(pin))
	return h.Sum(nil), nil
}

// Compute returns the OCRA response for a one-way challenge-response or a
// plain signature (RFC 6287 §7.1, §7.3): in.Question is the single challenge
// (for a signature, the signature challenge, possibly a hash of the
// transaction). Responses have Suite.Digits decimal digits, or are the whole
// HMAC in lower-case hexadecimal when the suite's truncation is 0.
func (s Suite) Compute(key []byte, in Input) (string, error) {
	if err := s.checkQuestion(in.Question); err != nil {
		return "", fmt.Errorf("ocra: compute: %w", err)
	}
	r, err := s.compute(key, in.Question, in)
	if err != nil {
		return "", fmt.Errorf("ocra: compute: %w", err)
	}
	return r, nil
}

// ComputeMutual returns the response of mutual challenge-response (RFC 6287
// §7.2) or of a signature with server authentication (§7.3), where the
// question is the concatenation of two challenges, each 4 to xx characters:
//
//   - the server's response: first is the client's challenge, second the
//     server's (R_S = OCRA(K, [C] | QC | QS | ...));
//   - the client's response: first is the server's challenge, second the
//     client's (R_C = OCRA(K, [C] | QS | QC | ...)).
//
// in.Question must be empty.
func (s Suite) ComputeMutual(key []byte, first, second string, in Input) (string, error) {
	if in.Question != "" {
		return "", errors.New("ocra: compute mutual: Input.Question must be empty; pass both challenges")
	}
	if err := s.checkQuestion(first); err != nil {
		return "", fmt.Errorf("ocra: compute mutual: first challenge: %w", err)
	}
	if err := s.checkQuestion(second); err != nil {
		return "", fmt.Errorf("ocra: compute mutual: second challenge: %w", err)
	}
	r, err := s.compute(key, first+second, in)
	if err != nil {
		return "", fmt.Errorf("ocra: compute mutual: %w", err)
	}
	return r, nil
}

// Verify reports whether response is the response to in, comparing in
// constant time. It returns an error only when the inputs do not fit the
// suite (a programming or configuration fault); a malformed or wrong
// response is simply false.
func (s Suite) Verify(key []byte, in Input, response string) (bool, error) {
	want, err := s.Compute(key, in)
	if err != nil {
		return false, err
	}
	return s.equal(want, response), nil
}

// VerifyMutual is Verify for ComputeMutual.
func (s Suite) VerifyMutual(key []byte, first, second string, in Input, response string) (bool, error) {
	want, err := s.ComputeMutual(key, first, second, in)
	if err != nil {
		return false, err
	}
	return s.equal(want, response), nil
}

func (s Suite) equal(want, got string) bool {
	if s.digits == 0 {
		// The untruncated response is hexadecimal; accept either case.
		got = strings.ToLower(got)
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// checkQuestion checks one challenge against the suite's QFxx.
func (s Suite) checkQuestion(q string) error {
	if s.text == "" {
		return errors.New("zero Suite; use ParseSuite")
	}
	if len(q) < MinQuestionLen || len(q) > s.qLen {
		return fmt.Errorf("question has %d characters, want %d to %d", len(q), MinQuestionLen, s.qLen)
	}
	for i := 0; i < len(q); i++ {
		c := q[i]
		digit := c >= '0' && c <= '9'
		var ok bool
		switch s.qFormat {
		case Numeric:
			ok = digit
		case Alphanumeric:
			ok = digit || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		case Hexadecimal:
			ok = digit || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f')
		}
		if !ok {
			return fmt.Errorf("question character %d is not %s", i+1, s.qFormat)
		}
	}
	return nil
}

// compute builds the DataInput of RFC 6287 §5.1,
//
//	OCRASuite | 00 | C | Q | P | S | T
//
// and applies HOTP's dynamic truncation (RFC 4226 §5.3) to its HMAC.
// question has already been checked.
func (s Suite) compute(key []byte, question string, in Input) (string, error) {
	if len(key) == 0 {
		return "", errors.New("empty key")
	}
	if !s.counter && in.Counter != 0 {
		return "", errors.New("counter given but suite has no C")
	}
	if !s.timestamp && in.Timestamp != 0 {
		return "", errors.New("timestamp given but suite has no T")
	}
	if s.pinHash == 0 && in.PINHash != nil {
		return "", errors.New("PIN hash given but suite has no P")
	}
	if s.pinHash != 0 && len(in.PINHash) != s.pinHash.Size() {
		return "", fmt.Errorf("PIN hash has %d bytes, want %d (%v)", len(in.PINHash), s.pinHash.Size(), s.pinHash)
	}
	if s.sessionLen == 0 && in.Session != nil {
		return "", errors.New("session information given but suite has no S")
	}
	if s.sessionLen != 0 && len(in.Session) != s.sessionLen {
		return "", fmt.Errorf("session information has %d bytes, want %d", len(in.Session), s.sessionLen)
	}
	q, err := s.formatQuestion(question)
	if err != nil {
		return "", err
	}

	mac := hmac.New(newHash(s.hash), key)
	mac.Write([]byte(s.text))
	mac.Write([]byte{0}) // the separator byte after the suite
	var u64 [8]byte
	if s.counter {
		binary.BigEndian.PutUint64(u64[:], in.Counter)
		mac.Write(u64[:])
	}
	mac.Write(q[:])
	if s.pinHash != 0 {
		mac.Write(in.PINHash)
	}
	if s.sessionLen != 0 {
		mac.Write(in.Session)
	}
	if s.timestamp {
		binary.BigEndian.PutUint64(u64[:], in.Timestamp)
		mac.Write(u64[:])
	}
	sum := mac.Sum(nil)

	if s.digits == 0 {
		return hex.EncodeToString(sum), nil
	}
	off := int(sum[len(sum)-1] & 0x0f)
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range s.digits {
		if mod > 0x7fffffff/10 {
			// 10 digits: 10^10 exceeds every 31-bit value, nothing to cut.
			mod = 0
			break
		}
		mod *= 10
	}
	if mod != 0 {
		bin %= mod
	}
	return fmt.Sprintf("%0*d", s.digits, bin), nil
}

// formatQuestion turns the question into the 128-byte Q (RFC 6287 §5.1 and
// the reference implementation of Appendix A): numeric questions are read
// as one decimal number and written in hexadecimal, alphanumeric ones are
// their ASCII bytes, hexadecimal ones are decoded as they are; the
// hexadecimal digits fill Q from the left (an odd last digit is the high
// nibble of its byte) and the rest is zero.
func (s Suite) formatQuestion(question string) ([questionBytes]byte, error) {
	var q [questionBytes]byte
	var raw []byte
	switch s.qFormat {
	case Alphanumeric:
		raw = []byte(question)
	case Numeric, Hexadecimal:
		hx := question
		if s.qFormat == Numeric {
			n, ok := new(big.Int).SetString(question, 10)
			if !ok {
				return q, errors.New("question is not a decimal number")
			}
			hx = n.Text(16)
		}
		if len(hx)%2 == 1 {
			hx += "0"
		}
		var err error
		raw, err = hex.DecodeString(hx)
		if err != nil {
			return q, fmt.Errorf("question is not hexadecimal: %w", err)
		}
	default:
		return q, errors.New("zero Suite; use ParseSuite")
	}
	if len(raw) > questionBytes {
		return q, fmt.Errorf("question takes %d bytes, more than %d", len(raw), questionBytes)
	}
	copy(q[:], raw)
	return q, nil
}

func newHash(h crypto.Hash) func() hash.Hash {
	switch h {
	case crypto.SHA1:
		return sha1.New
	case crypto.SHA256:
		return sha256.New
	case crypto.SHA512:
		return sha512.New
	}
	panic("ocra: unreachable: hash not set by ParseSuite")
}
