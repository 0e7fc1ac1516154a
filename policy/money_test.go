package policy

import (
	"math"
	"math/big"
	"strings"
	"testing"
)

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"1.0834", "1.0834", ""},
		{"1", "1", ""},
		{"1.000", "1", ""},
		{"0.0067", "0.0067", ""},
		{"000.50", "0.5", ""},
		{"123456789012345678", "123456789012345678", ""},
		{"0.000000000000000001", "0.000000000000000001", ""},
		{"0", "", "greater than zero"},
		{"0.000", "", "greater than zero"},
		{"", "", "positive decimal"},
		{".5", "", "positive decimal"},
		{"1.", "", "positive decimal"},
		{"-1.2", "", "positive decimal"},
		{"+1.2", "", "positive decimal"},
		{"1e3", "", "positive decimal"},
		{"1,08", "", "positive decimal"},
		{"1.0.1", "", "positive decimal"},
		{" 1.08", "", "positive decimal"},
		{"1_000", "", "positive decimal"},
		{"NaN", "", "positive decimal"},
		{"١.٥", "", "positive decimal"}, // Arabic-Indic digits
		{"1234567890123456789", "", "significant digits"},
		{"0.0000000000000000001", "", "decimals"},
	} {
		r, err := ParseRate(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "policy: rate ") {
				t.Errorf("ParseRate(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			if !r.IsZero() {
				t.Errorf("ParseRate(%q) returned %v with an error", tc.in, r)
			}
			continue
		}
		if err != nil || r.String() != tc.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %s", tc.in, r, err, tc.want)
		}
	}
}

func TestParseRates(t *testing.T) {
	rs, err := ParseRates(map[string]string{"eur": "1.0834", "JPY": "0.0067", "USD": "1.00"})
	if err != nil {
		t.Fatal(err)
	}
	if rs["EUR"].String() != "1.0834" || rs["JPY"].String() != "0.0067" || len(rs) != 3 {
		t.Fatalf("rates = %v", rs)
	}
	for _, tc := range []struct {
		in  map[string]string
		err string
	}{
		{map[string]string{"EUR": "abc"}, "EUR: policy: rate"},
		{map[string]string{"EURO": "1"}, "three letters"},
		{map[string]string{"E1R": "1"}, "three letters"},
		{map[string]string{"USD": "1.01"}, "must be 1"},
		{map[string]string{"XAU": "2300"}, "no minor unit"},
		{map[string]string{"eur": "1.08", "EUR": "1.08"}, "given twice"},
	} {
		if _, err := ParseRates(tc.in); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseRates(%v) error = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestMinorUnitDigits(t *testing.T) {
	for code, want := range map[string]int{"USD": 2, "EUR": 2, "jpy": 0, "KRW": 0, "KWD": 3, "BHD": 3, "CLF": 4, "HKD": 2, "CHF": 2} {
		if got, err := MinorUnitDigits(code); err != nil || got != want {
			t.Errorf("MinorUnitDigits(%s) = %d, %v; want %d", code, got, err, want)
		}
	}
	for _, code := range []string{"XAU", "XDR", "XXX", "US", "USDD", "U$D", ""} {
		if _, err := MinorUnitDigits(code); err == nil {
			t.Errorf("MinorUnitDigits(%q) accepted", code)
		}
	}
}

func TestToUSD(t *testing.T) {
	rs, err := ParseRates(map[string]string{"EUR": "1.0834", "JPY": "0.0067", "KWD": "3.25", "GBP": "1.27", "CLF": "45.5"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		m        Money
		up, down int64
		err      string
	}{
		{Money{"USD", 12345}, 12345, 12345, ""},
		{Money{"usd", 1}, 1, 1, ""},
		{Money{"EUR", 10000}, 10834, 10834, ""},                                                 // EUR 100.00 → USD 108.34 exactly
		{Money{"EUR", 1}, 2, 1, ""},                                                             // 1.0834 cents
		{Money{"EUR", 4_615_100}, 5_000_000, 4_999_999, ""},                                     // 46,151.00 × 1.0834 = 49,999.9934
		{Money{"JPY", 1000}, 670, 670, ""},                                                      // ¥1000 = USD 6.70
		{Money{"JPY", 1}, 1, 0, ""},                                                             // 0.67 cents
		{Money{"KWD", 1000}, 325, 325, ""},                                                      // 1.000 KWD
		{Money{"KWD", 1}, 1, 0, ""},                                                             // 1 fils = 0.325 cents
		{Money{"CLF", 10000}, 4550, 4550, ""},                                                   // 1.0000 CLF
		{Money{"EUR", -1}, -1, -2, ""},                                                          // ceiling and floor, not towards zero
		{Money{"EUR", 0}, 0, 0, ""},                                                             //
		{Money{"GBP", math.MaxInt64}, 0, 0, "too large"},                                        // overflow
		{Money{"EUR", math.MinInt64}, 0, 0, "too large"},                                        //
		{Money{"CHF", 100}, 0, 0, "no exchange rate configured for CHF"},                        // unknown
		{Money{"XAU", 100}, 0, 0, "no minor unit"},                                              //
		{Money{"", 100}, 0, 0, "three letters"},                                                 //
		{Money{"JPY", math.MaxInt64}, 6_179_659_264_692_699_791, 6_179_659_264_692_699_790, ""}, // (2^63-1) × 0.67, checked with Python fractions
	} {
		up, err := rs.ToUSD(tc.m)
		down, err2 := rs.ToUSDFloor(tc.m)
		if tc.err != "" {
			if err == nil || err2 == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ToUSD(%v) error = %v / %v, want %q", tc.m, err, err2, tc.err)
			}
			continue
		}
		if err != nil || err2 != nil || up != tc.up || down != tc.down {
			t.Errorf("ToUSD(%v) = %d, %v; floor %d, %v; want %d, %d", tc.m, up, err, down, err2, tc.up, tc.down)
		}
	}
	// A nil Rates still converts USD.
	if c, err := Rates(nil).ToUSD(Money{"USD", 7}); err != nil || c != 7 {
		t.Errorf("nil Rates: %d, %v", c, err)
	}
}

func TestFormatUSD(t *testing.T) {
	for in, want := range map[int64]string{
		0:             "USD 0.00",
		5:             "USD 0.05",
		100:           "USD 1.00",
		123456:        "USD 1,234.56",
		100_000_000:   "USD 1,000,000.00",
		-250:          "USD -2.50",
		math.MinInt64: "USD -92,233,720,368,547,758.08",
		math.MaxInt64: "USD 92,233,720,368,547,758.07",
	} {
		if got := FormatUSD(in); got != want {
			t.Errorf("FormatUSD(%d) = %q, want %q", in, got, want)
		}
	}
}

// ratValue is the exact value of a decimal string, for checking.
func ratValue(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil
	}
	return r
}

// FuzzParseRate: never panics; whatever is accepted is positive, has the
// exact value of its text, and round-trips through String.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{"1.0834", "1", "0.0067", "000.50", "0", "", ".5", "1.", "-1", "1e3",
		"123456789012345678", "0.000000000000000001", "1234567890123456789", "9.9.9", "0x10", "١"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			if !r.IsZero() {
				t.Fatalf("error with a rate for %q", s)
			}
			return
		}
		for _, c := range s {
			if c != '.' && (c < '0' || c > '9') {
				t.Fatalf("accepted %q", s)
			}
		}
		want := ratValue(s)
		if want == nil || want.Sign() <= 0 || want.Cmp(ratValue(r.String())) != 0 {
			t.Fatalf("ParseRate(%q) = %s, value differs", s, r)
		}
		again, err := ParseRate(r.String())
		if err != nil || again != r {
			t.Fatalf("reparse of %s: %v, %v", r, again, err)
		}
	})
}

// FuzzToUSD: the conversion equals the exact rational product rounded up
// (ToUSD) and down (ToUSDFloor), or fails only when the result does not
// fit an int64.
func FuzzToUSD(f *testing.F) {
	f.Add("EUR", "1.0834", int64(10000))
	f.Add("JPY", "0.0067", int64(1))
	f.Add("KWD", "3.25", int64(-7))
	f.Add("GBP", "999999999999999999", int64(math.MaxInt64))
	f.Add("CLF", "0.000000000000000001", int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, code, rate string, minor int64) {
		rs, err := ParseRates(map[string]string{code: rate})
		if err != nil {
			return
		}
		digits, _ := MinorUnitDigits(code)
		exact := new(big.Rat).SetFrac(big.NewInt(minor), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil))
		exact.Mul(exact, ratValue(rate))
		exact.Mul(exact, big.NewRat(100, 1))
		floor := new(big.Int).Div(exact.Num(), exact.Denom()) // Euclidean: floor for a positive denominator
		ceil := new(big.Int).Set(floor)
		if !exact.IsInt() {
			ceil.Add(ceil, big.NewInt(1))
		}
		check := func(name string, got int64, err error, want *big.Int) {
			if !want.IsInt64() {
				if err == nil {
					t.Fatalf("%s(%s %d at %s) = %d, want overflow error", name, code, minor, rate, got)
				}
				return
			}
			if err != nil || got != want.Int64() {
				t.Fatalf("%s(%s %d at %s) = %d, %v; want %s", name, code, minor, rate, got, err, want)
			}
		}
		up, err := rs.ToUSD(Money{code, minor})
		check("ToUSD", up, err, ceil)
		down, err := rs.ToUSDFloor(Money{code, minor})
		check("ToUSDFloor", down, err, floor)
	})
}
