package ocra

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
)

func unixMinute(m int64) time.Time { return time.Unix(m*60, 0) }

func TestParseSuiteValid(t *testing.T) {
	tests := []struct {
		s       string
		hash    crypto.Hash
		digits  int
		counter bool
		qf      QuestionFormat
		qlen    int
		pin     crypto.Hash
		session int
		step    time.Duration // -1: no T
	}{
		{"OCRA-1:HOTP-SHA1-6:QN08", crypto.SHA1, 6, false, Numeric, 8, 0, 0, -1},
		{"OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1", crypto.SHA256, 8, true, Numeric, 8, crypto.SHA1, 0, -1},
		{"OCRA-1:HOTP-SHA512-8:QN08-T1M", crypto.SHA512, 8, false, Numeric, 8, 0, 0, time.Minute},
		{"OCRA-1:HOTP-SHA512-8:QA10-T1M", crypto.SHA512, 8, false, Alphanumeric, 10, 0, 0, time.Minute},
		{"OCRA-1:HOTP-SHA1-0:QH04", crypto.SHA1, 0, false, Hexadecimal, 4, 0, 0, -1},
		{"OCRA-1:HOTP-SHA1-4:QH64", crypto.SHA1, 4, false, Hexadecimal, 64, 0, 0, -1},
		{"OCRA-1:HOTP-SHA1-10:QA64", crypto.SHA1, 10, false, Alphanumeric, 64, 0, 0, -1},
		{"OCRA-1:HOTP-SHA256-6:C-QN06-PSHA512-S064-T59S", crypto.SHA256, 6, true, Numeric, 6, crypto.SHA512, 64, 59 * time.Second},
		{"OCRA-1:HOTP-SHA1-6:QN08-S128", crypto.SHA1, 6, false, Numeric, 8, 0, 128, -1},
		{"OCRA-1:HOTP-SHA1-6:QN08-S256-T48H", crypto.SHA1, 6, false, Numeric, 8, 0, 256, 48 * time.Hour},
		{"OCRA-1:HOTP-SHA1-6:QN08-S512", crypto.SHA1, 6, false, Numeric, 8, 0, 512, -1},
		{"OCRA-1:HOTP-SHA1-6:QN08-S001", crypto.SHA1, 6, false, Numeric, 8, 0, 1, -1},
		{"OCRA-1:HOTP-SHA1-6:QN08-PSHA256-T0H", crypto.SHA1, 6, false, Numeric, 8, crypto.SHA256, 0, 0},
		{"OCRA-1:HOTP-SHA1-6:QN08-T59M", crypto.SHA1, 6, false, Numeric, 8, 0, 0, 59 * time.Minute},
		{DSCPlusSuite, crypto.SHA256, 8, false, Numeric, 6, crypto.SHA1, 0, -1},
	}
	for _, tt := range tests {
		s, err := ParseSuite(tt.s)
		if err != nil {
			t.Errorf("ParseSuite(%q): %v", tt.s, err)
			continue
		}
		if s.String() != tt.s {
			t.Errorf("String() = %q, want %q", s.String(), tt.s)
		}
		hasT := tt.step >= 0
		if s.Hash() != tt.hash || s.Digits() != tt.digits || s.HasCounter() != tt.counter ||
			s.QuestionFormat() != tt.qf || s.QuestionLen() != tt.qlen || s.PINHash() != tt.pin ||
			s.SessionLen() != tt.session || s.HasTimestamp() != hasT || (hasT && s.TimeStep() != tt.step) {
			t.Errorf("ParseSuite(%q) = %+v", tt.s, s)
		}
		var back Suite
		txt, err := s.MarshalText()
		if err != nil || back.UnmarshalText(txt) != nil || back != s {
			t.Errorf("text round trip of %q: %v", tt.s, err)
		}
	}
}

func TestParseSuiteInvalid(t *testing.T) {
	tests := []struct{ s, part string }{
		{"", "suite"},
		{"OCRA-1:HOTP-SHA1-6", "suite"},
		{"OCRA-1:HOTP-SHA1-6:QN08:X", "suite"},
		{"OCRA-2:HOTP-SHA1-6:QN08", "algorithm"},
		{"ocra-1:HOTP-SHA1-6:QN08", "algorithm"},
		{"OCRA-1:TOTP-SHA1-6:QN08", "crypto function"},
		{"OCRA-1:HOTP-MD5-6:QN08", "crypto function"},
		{"OCRA-1:HOTP-sha1-6:QN08", "crypto function"},
		{"OCRA-1:HOTP-SHA1-3:QN08", "crypto function"},
		{"OCRA-1:HOTP-SHA1-11:QN08", "crypto function"},
		{"OCRA-1:HOTP-SHA1-06:QN08", "crypto function"},
		{"OCRA-1:HOTP-SHA1:QN08", "crypto function"},
		{"OCRA-1:HOTP-SHA1-6-1:QN08", "crypto function"},
		{"OCRA-1:HOTP-SHA1-6:", "data input"},
		{"OCRA-1:HOTP-SHA1-6:C", "data input"},
		{"OCRA-1:HOTP-SHA1-6:PSHA1", "data input"},
		{"OCRA-1:HOTP-SHA1-6:C-C-QN08", "data input"},
		{"OCRA-1:HOTP-SHA1-6:QX08", "question"},
		{"OCRA-1:HOTP-SHA1-6:QN8", "question"},
		{"OCRA-1:HOTP-SHA1-6:QN03", "question"},
		{"OCRA-1:HOTP-SHA1-6:QN65", "question"},
		{"OCRA-1:HOTP-SHA1-6:QNa8", "question"},
		{"OCRA-1:HOTP-SHA1-6:QN008", "question"},
		{"OCRA-1:HOTP-SHA1-6:qn08", "data input"},
		{"OCRA-1:HOTP-SHA1-6:QN08-P", "PIN"},
		{"OCRA-1:HOTP-SHA1-6:QN08-PMD5", "PIN"},
		{"OCRA-1:HOTP-SHA1-6:QN08-S64", "session"},
		{"OCRA-1:HOTP-SHA1-6:QN08-S000", "session"},
		{"OCRA-1:HOTP-SHA1-6:QN08-S1024", "session"},
		{"OCRA-1:HOTP-SHA1-6:QN08-T", "timestamp"},
		{"OCRA-1:HOTP-SHA1-6:QN08-T60S", "timestamp"},
		{"OCRA-1:HOTP-SHA1-6:QN08-T0S", "timestamp"},
		{"OCRA-1:HOTP-SHA1-6:QN08-T60M", "timestamp"},
		{"OCRA-1:HOTP-SHA1-6:QN08-T49H", "timestamp"},
		{"OCRA-1:HOTP-SHA1-6:QN08-T01M", "timestamp"},
		{"OCRA-1:HOTP-SHA1-6:QN08-T1D", "timestamp"},
		{"OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1", "data input"},
		{"OCRA-1:HOTP-SHA1-6:QN08-S064-PSHA1", "data input"},
		{"OCRA-1:HOTP-SHA1-6:QN08-C", "data input"},
		{"OCRA-1:HOTP-SHA1-6:QN08-", "data input"},
		{"OCRA-1:HOTP-SHA1-6:QN08-PSHA1-PSHA1", "data input"},
		{"OCRA-1:HOTP-SHA1-6:QN08 ", "question"},
		{strings.Repeat("A", 200), "suite"},
	}
	for _, tt := range tests {
		_, err := ParseSuite(tt.s)
		if err == nil {
			t.Errorf("ParseSuite(%q): no error", tt.s)
			continue
		}
		if !errors.Is(err, ErrSuite) {
			t.Errorf("ParseSuite(%q): %v does not wrap ErrSuite", tt.s, err)
		}
		if !strings.Contains(err.Error(), ": "+tt.part+": ") {
			t.Errorf("ParseSuite(%q): %v does not name part %q", tt.s, err, tt.part)
		}
	}
}

func TestComputeRejectsMisfits(t *testing.T) {
	qn := MustParseSuite("OCRA-1:HOTP-SHA1-6:QN08")
	full := MustParseSuite("OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1-S064-T1M")
	session := bytes.Repeat([]byte{7}, 64)
	good := Input{Question: "12345678", PINHash: pinSHA1, Session: session, Counter: 3, Timestamp: 9}
	if _, err := full.Compute(key32, good); err != nil {
		t.Fatalf("full suite: %v", err)
	}
	with := func(f func(*Input)) Input { in := good; f(&in); return in }
	tests := []struct {
		name string
		s    Suite
		key  []byte
		in   Input
		want string
	}{
		{"zero suite", Suite{}, key20, Input{Question: "1234"}, "zero Suite"},
		{"empty key", qn, nil, Input{Question: "12345678"}, "empty key"},
		{"short question", qn, key20, Input{Question: "123"}, "3 characters"},
		{"long question", qn, key20, Input{Question: "123456789"}, "9 characters"},
		{"letter in numeric", qn, key20, Input{Question: "1234567A"}, "not numeric"},
		{"sign in numeric", qn, key20, Input{Question: "+1234567"}, "not numeric"},
		{"counter without C", qn, key20, Input{Question: "12345678", Counter: 1}, "no C"},
		{"timestamp without T", qn, key20, Input{Question: "12345678", Timestamp: 1}, "no T"},
		{"PIN without P", qn, key20, Input{Question: "12345678", PINHash: pinSHA1}, "no P"},
		{"session without S", qn, key20, Input{Question: "12345678", Session: []byte{}}, "no S"},
		{"missing PIN", full, key32, with(func(in *Input) { in.PINHash = nil }), "PIN hash has 0 bytes"},
		{"PIN not hashed", full, key32, with(func(in *Input) { in.PINHash = []byte("1234") }), "PIN hash has 4 bytes"},
		{"short session", full, key32, with(func(in *Input) { in.Session = session[:63] }), "63 bytes"},
		{"missing session", full, key32, with(func(in *Input) { in.Session = nil }), "0 bytes"},
	}
	for _, tt := range tests {
		_, err := tt.s.Compute(tt.key, tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
		if ok, err := tt.s.Verify(tt.key, tt.in, "123456"); ok || err == nil {
			t.Errorf("%s: Verify = %v, %v", tt.name, ok, err)
		}
	}

	qa := MustParseSuite("OCRA-1:HOTP-SHA1-6:QA08")
	for _, q := range []string{"abc-1234", "ABC 1234", "ÄBC1234"} {
		if _, err := qa.Compute(key20, Input{Question: q}); err == nil {
			t.Errorf("QA08 accepted %q", q)
		}
	}
	qh := MustParseSuite("OCRA-1:HOTP-SHA1-6:QH08")
	if _, err := qh.Compute(key20, Input{Question: "0123456G"}); err == nil {
		t.Error("QH08 accepted G")
	}
	if _, err := qa.ComputeMutual(key20, "CLI22220", "SRV11110", Input{Question: "X"}); err == nil {
		t.Error("ComputeMutual accepted Input.Question")
	}
	if _, err := qa.ComputeMutual(key20, "CLI222201", "SRV11110", Input{}); err == nil {
		t.Error("ComputeMutual accepted a 9-character first challenge")
	}
	if _, err := qa.ComputeMutual(key20, "CLI22220", "SRV", Input{}); err == nil {
		t.Error("ComputeMutual accepted a 3-character second challenge")
	}
	if _, err := qn.HashPIN("1234"); err == nil {
		t.Error("HashPIN on a suite without P: no error")
	}
}

// Question formatting (RFC 6287 §5.1 and Appendix A): check the bytes the
// HMAC sees for each question format.
func TestFormatQuestion(t *testing.T) {
	tests := []struct {
		suite, q string
		want     []byte // prefix; the rest of the 128 bytes is zero
	}{
		{"OCRA-1:HOTP-SHA1-6:QN08", "00000000", nil},
		{"OCRA-1:HOTP-SHA1-6:QN08", "11111111", []byte{0xa9, 0x8a, 0xc7}},
		// 22222222 = 0x153158E: seven hex digits, the odd one is a high nibble.
		{"OCRA-1:HOTP-SHA1-6:QN08", "22222222", []byte{0x15, 0x31, 0x58, 0xe0}},
		{"OCRA-1:HOTP-SHA1-6:QA08", "SIG10000", []byte("SIG10000")},
		{"OCRA-1:HOTP-SHA1-6:QH08", "abcDEF1", []byte{0xab, 0xcd, 0xef, 0x10}},
		{"OCRA-1:HOTP-SHA1-6:QN64", strings.Repeat("9", 64), nil}, // checked for size only
	}
	for _, tt := range tests {
		s := MustParseSuite(tt.suite)
		q, err := s.formatQuestion(tt.q)
		if err != nil {
			t.Errorf("%s %q: %v", tt.suite, tt.q, err)
			continue
		}
		if tt.want == nil && tt.q != "00000000" {
			continue
		}
		want := make([]byte, questionBytes)
		copy(want, tt.want)
		if !bytes.Equal(q[:], want) {
			t.Errorf("%s %q = %x, want %x", tt.suite, tt.q, q[:8], want[:8])
		}
	}
}

func TestTruncationZeroAndTen(t *testing.T) {
	s0 := MustParseSuite("OCRA-1:HOTP-SHA1-0:QN08")
	full, err := s0.Compute(key20, Input{Question: "12345678"})
	if err != nil || len(full) != 40 {
		t.Fatalf("t=0: %q, %v", full, err)
	}
	if ok, _ := s0.Verify(key20, Input{Question: "12345678"}, strings.ToUpper(full)); !ok {
		t.Error("t=0: upper-case hex response refused")
	}
	s10 := MustParseSuite("OCRA-1:HOTP-SHA1-10:QN08")
	r10, err := s10.Compute(key20, Input{Question: "12345678"})
	if err != nil || len(r10) != 10 {
		t.Fatalf("t=10: %q, %v", r10, err)
	}
	s8 := MustParseSuite("OCRA-1:HOTP-SHA1-8:QN08")
	r8, _ := s8.Compute(key20, Input{Question: "12345678"})
	// Same DataInput apart from the suite string, so only the suite text
	// links them; just check the shapes and that digits are digits.
	for _, r := range []string{r8, r10} {
		if strings.Trim(r, "0123456789") != "" {
			t.Errorf("response %q is not decimal", r)
		}
	}
}

func TestVerifyWrongResponses(t *testing.T) {
	s := MustParseSuite("OCRA-1:HOTP-SHA1-6:QN08")
	in := Input{Question: "00000000"}
	for _, r := range []string{"", "237654", "23765", "2376530", " 237653", "237653\n", "２３７６５３"} {
		ok, err := s.Verify(key20, in, r)
		if ok || err != nil {
			t.Errorf("Verify(%q) = %v, %v", r, ok, err)
		}
	}
}

// The Digital Security Card+ suite end to end: the card hashes its 4-digit
// PIN with SHA-1, takes the 6-digit challenge and shows 8 digits. The
// expected value is derived here by building the DataInput by hand, as an
// independent reading of RFC 6287 §5.1.
func TestDSCPlusSuite(t *testing.T) {
	s, err := ParseSuite(DSCPlusSuite)
	if err != nil {
		t.Fatal(err)
	}
	key := bytes.Repeat([]byte{0x5a}, 32)
	const challenge = "482915"
	pin, err := s.HashPIN("2580")
	if err != nil {
		t.Fatal(err)
	}
	pinSum := sha1.Sum([]byte("2580"))
	if !bytes.Equal(pin, pinSum[:]) {
		t.Fatal("HashPIN is not SHA-1 of the PIN")
	}

	// 482915 = 0x75E63: five hex digits, so the bytes are 75 E6 30.
	msg := append([]byte(DSCPlusSuite), 0)
	q := make([]byte, 128)
	copy(q, []byte{0x75, 0xe6, 0x30})
	msg = append(msg, q...)
	msg = append(msg, pinSum[:]...)
	mac := hmac.New(sha256.New, key)
	mac.Write(msg)
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	code := (binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff) % 100_000_000
	want := strings.Repeat("0", 8-len(itoa(code))) + itoa(code)

	got, err := s.Compute(key, Input{Question: challenge, PINHash: pin})
	if err != nil {
		t.Fatal(err)
	}
	if got != want || len(got) != 8 {
		t.Fatalf("DSC+ response = %s, want %s", got, want)
	}
	if ok, err := s.Verify(key, Input{Question: challenge, PINHash: pin}, got); !ok || err != nil {
		t.Fatalf("Verify = %v, %v", ok, err)
	}

	other, _ := s.HashPIN("2581")
	got2, err := s.Compute(key, Input{Question: challenge, PINHash: other})
	if err != nil {
		t.Fatal(err)
	}
	if got2 == got {
		t.Fatal("a different PIN gives the same response")
	}
	if ok, _ := s.Verify(key, Input{Question: challenge, PINHash: other}, got); ok {
		t.Fatal("response for PIN 2580 verified with PIN 2581")
	}
	if _, err := s.Compute(key, Input{Question: "4829150", PINHash: pin}); err == nil {
		t.Fatal("7-digit challenge accepted by QN06")
	}
	if _, err := s.Compute(key, Input{Question: challenge}); err == nil {
		t.Fatal("DSC+ computed without a PIN")
	}
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
