package ocra

import (
	"strings"
	"testing"
)

var seedSuites = []string{
	"OCRA-1:HOTP-SHA1-6:QN08",
	"OCRA-1:HOTP-SHA256-8:C-QN08-PSHA1",
	"OCRA-1:HOTP-SHA256-8:QN08-PSHA1",
	"OCRA-1:HOTP-SHA512-8:C-QN08",
	"OCRA-1:HOTP-SHA512-8:QN08-T1M",
	"OCRA-1:HOTP-SHA256-8:QA08",
	"OCRA-1:HOTP-SHA512-8:QA08-PSHA1",
	"OCRA-1:HOTP-SHA512-8:QA10-T1M",
	"OCRA-1:HOTP-SHA1-0:C-QH64-PSHA512-S512-T48H",
	"OCRA-1:HOTP-SHA1-10:QN64-S001-T0H",
	DSCPlusSuite,
	"OCRA-1:HOTP-SHA1-6:QN08-T1M-PSHA1",
	"OCRA-1:HOTP-SHA1-6:",
	"",
	":::",
}

// FuzzParseSuite: ParseSuite never panics, and what it accepts round-trips
// through String and parses to the same Suite.
func FuzzParseSuite(f *testing.F) {
	for _, s := range seedSuites {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseSuite(s)
		if err != nil {
			if st != (Suite{}) {
				t.Fatalf("error with non-zero suite for %q", s)
			}
			return
		}
		if st.String() != s {
			t.Fatalf("String() = %q, want %q", st.String(), s)
		}
		again, err := ParseSuite(st.String())
		if err != nil || again != st {
			t.Fatalf("reparse of %q: %v", s, err)
		}
		if !strings.HasPrefix(s, "OCRA-1:HOTP-SHA") {
			t.Fatalf("accepted %q", s)
		}
	})
}

// FuzzCompute: Compute and ComputeMutual never panic whatever the suite and
// inputs, and Verify agrees with Compute.
func FuzzCompute(f *testing.F) {
	for i, s := range seedSuites {
		f.Add(s, key32, "12345678", uint64(i), pinSHA1, []byte("session"), uint64(0x132d0b6), i%2 == 0)
	}
	f.Add("OCRA-1:HOTP-SHA1-6:QN08", key20, "00000000", uint64(0), []byte(nil), []byte(nil), uint64(0), false)
	f.Add("OCRA-1:HOTP-SHA256-8:QA08", key32, "CLI22220SRV11110", uint64(0), []byte(nil), []byte(nil), uint64(0), true)
	f.Fuzz(func(t *testing.T, suite string, key []byte, q string, counter uint64, pin, session []byte, ts uint64, mutual bool) {
		s, err := ParseSuite(suite)
		if err != nil {
			// Still exercise the zero Suite.
			if _, err := s.Compute(key, Input{Question: q}); err == nil {
				t.Fatal("zero Suite computed")
			}
			return
		}
		in := Input{Counter: counter, PINHash: pin, Session: session, Timestamp: ts}
		var r string
		if mutual {
			half := len(q) / 2
			r, err = s.ComputeMutual(key, q[:half], q[half:], in)
		} else {
			in.Question = q
			r, err = s.Compute(key, in)
		}
		if err != nil {
			return
		}
		if s.Digits() == 0 {
			if len(r) != 2*s.Hash().Size() {
				t.Fatalf("untruncated response %q", r)
			}
		} else if len(r) != s.Digits() || strings.Trim(r, "0123456789") != "" {
			t.Fatalf("response %q for %d digits", r, s.Digits())
		}
		var ok bool
		if mutual {
			half := len(q) / 2
			ok, err = s.VerifyMutual(key, q[:half], q[half:], in, r)
		} else {
			ok, err = s.Verify(key, in, r)
		}
		if !ok || err != nil {
			t.Fatalf("Verify of own response = %v, %v", ok, err)
		}
	})
}
