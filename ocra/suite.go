// Package ocra implements OCRA, the OATH Challenge-Response Algorithm of
// RFC 6287: parsing of OCRA suite strings (§6), computation of responses for
// one-way and mutual challenge-response and for plain signatures (§5, §7),
// and constant-time verification.
//
// The package is pure: no clock, no randomness, no storage. Callers pass the
// time step number (see Suite.TimeSteps) and keep counters themselves. The
// Digital Security Card+ uses the suite in DSCPlusSuite.
package ocra

import (
	"crypto"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DSCPlusSuite is the suite of the Digital Security Card+: a 6-digit numeric
// challenge, an 8-digit response, and the card's PIN mixed in as a SHA-1
// hash.
const DSCPlusSuite = "OCRA-1:HOTP-SHA256-8:QN06-PSHA1"

// ErrSuite is wrapped by every error ParseSuite returns, so callers can tell
// a bad suite string from other failures.
var ErrSuite = errors.New("invalid OCRA suite")

// QuestionFormat is the F of the QFxx data input field (RFC 6287 §6.3).
type QuestionFormat byte

// Question formats.
const (
	Alphanumeric QuestionFormat = 'A'
	Numeric      QuestionFormat = 'N'
	Hexadecimal  QuestionFormat = 'H'
)

func (f QuestionFormat) String() string {
	switch f {
	case Alphanumeric:
		return "alphanumeric"
	case Numeric:
		return "numeric"
	case Hexadecimal:
		return "hexadecimal"
	}
	return "QuestionFormat(" + strconv.Itoa(int(f)) + ")"
}

// Limits from RFC 6287 §6.
const (
	// MinQuestionLen and MaxQuestionLen bound xx in QFxx (§6.3: "04-64").
	MinQuestionLen = 4
	MaxQuestionLen = 64
	// questionBytes is the fixed size of Q in the DataInput (§5.1: 128
	// bytes, zero-padded).
	questionBytes = 128
	// MaxSessionLen is the largest nnn of Snnn: three decimal digits.
	MaxSessionLen = 999
)

// Suite is a parsed OCRA suite. The zero Suite is not usable: obtain one with
// ParseSuite, which guarantees every field is within the RFC's ranges, so
// fields are reachable only through accessors.
type Suite struct {
	hash       crypto.Hash // HMAC hash of the CryptoFunction
	digits     int         // t of HOTP-H-t; 0 means no truncation
	counter    bool        // C present
	qFormat    QuestionFormat
	qLen       int         // xx of QFxx
	pinHash    crypto.Hash // H of PH; 0 when P is absent
	sessionLen int         // nnn of Snnn; 0 when S is absent
	timestamp  bool        // T present
	timeStep   time.Duration
	text       string // canonical suite string, fed to the HMAC as-is
}

// ParseSuite parses an OCRA suite string of the form
// "OCRA-1:HOTP-<H>-<t>:<DataInput>" (RFC 6287 §6). H is SHA1, SHA256 or
// SHA512; t is 0 (no truncation) or 4 to 10. DataInput is, in this order and
// separated by '-': an optional "C", a mandatory "Q<A|N|H><04..64>", an
// optional "P<SHA1|SHA256|SHA512>", an optional "S<nnn>" (three digits, not
// 000) and an optional "T<G>" with G one of 1-59S, 1-59M or 0-48H.
//
// Only the canonical spelling is accepted (upper case, no leading zeros in t
// or G, two digits in xx, three in nnn), because the suite string itself is
// part of the HMAC input: two spellings of one suite would give different
// responses.
func ParseSuite(s string) (Suite, error) {
	fail := func(part, format string, args ...any) (Suite, error) {
		return Suite{}, fmt.Errorf("ocra: %w: %s: %s", ErrSuite, part, fmt.Sprintf(format, args...))
	}
	if len(s) > 100 {
		return fail("suite", "%d bytes is longer than any valid suite", len(s))
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return fail("suite", "want 3 parts separated by ':', got %d", len(parts))
	}
	var st Suite

	// Algorithm: only version 1 exists (§6.1).
	if parts[0] != "OCRA-1" {
		return fail("algorithm", "%q is not OCRA-1", parts[0])
	}

	// CryptoFunction: HOTP-H-t (§6.2).
	cf := strings.Split(parts[1], "-")
	if len(cf) != 3 || cf[0] != "HOTP" {
		return fail("crypto function", "%q is not HOTP-<hash>-<digits>", parts[1])
	}
	h, ok := hashByName(cf[1])
	if !ok {
		return fail("crypto function", "hash %q is not SHA1, SHA256 or SHA512", cf[1])
	}
	st.hash = h
	d, ok := smallInt(cf[2], 0, 10)
	if !ok || (d > 0 && d < 4) {
		return fail("crypto function", "truncation %q is not 0 or 4-10", cf[2])
	}
	st.digits = d

	// DataInput (§6.3).
	fields := strings.Split(parts[2], "-")
	i := 0
	if fields[i] == "C" {
		st.counter = true
		i++
	}
	if i >= len(fields) || len(fields[i]) == 0 || fields[i][0] != 'Q' {
		return fail("data input", "question field Q<A|N|H><04..64> is required after the optional C, got %q", parts[2])
	}
	q := fields[i]
	if len(q) != 4 {
		return fail("question", "%q is not Q<A|N|H><two digits>", q)
	}
	switch f := QuestionFormat(q[1]); f {
	case Alphanumeric, Numeric, Hexadecimal:
		st.qFormat = f
	default:
		return fail("question", "format %q is not A, N or H", q[1:2])
	}
	if !isDigits(q[2:]) {
		return fail("question", "length %q is not two digits", q[2:])
	}
	st.qLen, _ = strconv.Atoi(q[2:])
	if st.qLen < MinQuestionLen || st.qLen > MaxQuestionLen {
		return fail("question", "length %d is outside 04-64", st.qLen)
	}
	i++

	// The optional fields follow in DataInput order; each at most once.
	if i < len(fields) && strings.HasPrefix(fields[i], "P") {
		h, ok := hashByName(fields[i][1:])
		if !ok {
			return fail("PIN", "%q is not PSHA1, PSHA256 or PSHA512", fields[i])
		}
		st.pinHash = h
		i++
	}
	if i < len(fields) && strings.HasPrefix(fields[i], "S") {
		v := fields[i][1:]
		if len(v) != 3 || !isDigits(v) {
			return fail("session", "%q is not S<three digits>", fields[i])
		}
		st.sessionLen, _ = strconv.Atoi(v)
		if st.sessionLen == 0 {
			return fail("session", "length 000 carries no session information")
		}
		i++
	}
	if i < len(fields) && strings.HasPrefix(fields[i], "T") {
		step, ok := parseTimeStep(fields[i][1:])
		if !ok {
			return fail("timestamp", "%q is not T followed by 1-59S, 1-59M or 0-48H", fields[i])
		}
		st.timestamp = true
		st.timeStep = step
		i++
	}
	if i < len(fields) {
		return fail("data input", "unexpected field %q (order is C, Q, P, S, T; each at most once)", fields[i])
	}
	st.text = s
	return st, nil
}

// MustParseSuite is ParseSuite for suite strings fixed at compile time; it
// panics on error.
func MustParseSuite(s string) Suite {
	st, err := ParseSuite(s)
	if err != nil {
		panic(err)
	}
	return st
}

// String returns the suite string, exactly as parsed (only canonical
// spellings are accepted, so it round-trips).
func (s Suite) String() string { return s.text }

// MarshalText implements encoding.TextMarshaler.
func (s Suite) MarshalText() ([]byte, error) {
	if s.text == "" {
		return nil, errors.New("ocra: marshal: zero Suite")
	}
	return []byte(s.text), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseSuite.
func (s *Suite) UnmarshalText(b []byte) error {
	st, err := ParseSuite(string(b))
	if err != nil {
		return err
	}
	*s = st
	return nil
}

// Hash is the HMAC hash of the CryptoFunction.
func (s Suite) Hash() crypto.Hash { return s.hash }

// Digits is the response length; 0 means no truncation (the whole HMAC is
// returned in hexadecimal).
func (s Suite) Digits() int { return s.digits }

// HasCounter reports whether the DataInput includes the counter C.
func (s Suite) HasCounter() bool { return s.counter }

// QuestionFormat is the format of the challenge.
func (s Suite) QuestionFormat() QuestionFormat { return s.qFormat }

// QuestionLen is the maximum length, in characters, of one challenge.
func (s Suite) QuestionLen() int { return s.qLen }

// PINHash is the hash applied to the PIN, or 0 when the suite has no P.
func (s Suite) PINHash() crypto.Hash { return s.pinHash }

// SessionLen is the length in bytes of the session information, or 0 when
// the suite has no S.
func (s Suite) SessionLen() int { return s.sessionLen }

// HasTimestamp reports whether the DataInput includes the timestamp T.
func (s Suite) HasTimestamp() bool { return s.timestamp }

// TimeStep is the time step of T (the RFC default being one minute, written
// T1M). It is meaningful only when HasTimestamp; it may be 0 for "T0H", which
// the RFC's grammar allows but which cannot be used with TimeSteps.
func (s Suite) TimeStep() time.Duration { return s.timeStep }

// TimeSteps returns the number of whole time steps between the Unix epoch
// and t, the value of Input.Timestamp (RFC 6287 §6.3: T is the number of
// time steps since midnight UTC of January 1, 1970).
func (s Suite) TimeSteps(t time.Time) (uint64, error) {
	if !s.timestamp {
		return 0, errors.New("ocra: time steps: suite has no timestamp")
	}
	if s.timeStep <= 0 {
		return 0, errors.New("ocra: time steps: suite time step is zero")
	}
	sec := t.Unix()
	if sec < 0 {
		return 0, errors.New("ocra: time steps: time before 1970")
	}
	return uint64(sec) / uint64(s.timeStep/time.Second), nil
}

func hashByName(name string) (crypto.Hash, bool) {
	switch name {
	case "SHA1":
		return crypto.SHA1, true
	case "SHA256":
		return crypto.SHA256, true
	case "SHA512":
		return crypto.SHA512, true
	}
	return 0, false
}

// smallInt parses a canonical decimal (no sign, no leading zero) in [lo, hi].
func smallInt(s string, lo, hi int) (int, bool) {
	if s == "" || len(s) > 2 || !isDigits(s) || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, n >= lo && n <= hi
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func parseTimeStep(g string) (time.Duration, bool) {
	if g == "" {
		return 0, false
	}
	num, unit := g[:len(g)-1], g[len(g)-1]
	switch unit {
	case 'S':
		n, ok := smallInt(num, 1, 59)
		return time.Duration(n) * time.Second, ok
	case 'M':
		n, ok := smallInt(num, 1, 59)
		return time.Duration(n) * time.Minute, ok
	case 'H':
		n, ok := smallInt(num, 0, 48)
		return time.Duration(n) * time.Hour, ok
	}
	return 0, false
}
