package cryptotrade

import (
	"math/big"
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" = refused
	}{
		{"0", "0"}, {"1.5", "3/2"}, {"100000", "100000"}, {"0.00000001", "1/100000000"},
		{"", ""}, {"-1", ""}, {"+1", ""}, {"1e3", ""}, {"1/3", ""}, {".5", ""}, {"5.", ""}, {"1,000", ""},
		{" 1", ""}, {"0.000000001", ""}, {"1.2.3", ""}, {strings.Repeat("9", 40), ""}, {"１", ""},
	} {
		got, err := ParseDecimal("quantity", tc.in, maxFraction)
		if (err == nil) != (tc.want != "") || err == nil && got.RatString() != tc.want {
			t.Errorf("ParseDecimal(%q) = %v, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for in, want := range map[string]int64{"10": 10_00, "2.25": 2_25, "0.1": 10, "1000000000000.00": 1_000_000_000_000_00} {
		if got, err := ParseCents("value_usd", in); err != nil || got != want {
			t.Errorf("ParseCents(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"0.001", "1000000000000.01", "-5"} {
		if _, err := ParseCents("value_usd", in); err == nil {
			t.Errorf("ParseCents(%q) accepted", in)
		}
	}
}

// FuzzParseDecimal: any text either is refused or reads back as itself
// (up to trailing zeros), and never panics.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "1.5", "0.00000001", "1e3", "-1", "1/3", "99999999999999999999", "", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseDecimal("x", s, maxFraction)
		if err != nil {
			return
		}
		if r.Sign() < 0 {
			t.Fatalf("%q read as negative %v", s, r)
		}
		back := r.FloatString(maxFraction)
		trim := func(x string) string {
			if strings.Contains(x, ".") {
				x = strings.TrimRight(strings.TrimRight(x, "0"), ".")
			}
			x = strings.TrimLeft(x, "0")
			return x
		}
		if trim(back) != trim(s) {
			t.Fatalf("%q read back as %q", s, back)
		}
		if c, err := ParseCents("x", s); err == nil && FormatCents(c) != new(big.Rat).SetFrac64(c, 100).FloatString(2) {
			t.Fatalf("cents %q", s)
		}
	})
}
