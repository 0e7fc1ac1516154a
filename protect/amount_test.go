package protect

import (
	"testing"
)

func TestParseAmount(t *testing.T) {
	cases := []struct {
		cur, in string
		minor   int64
		ok      bool
	}{
		{"USD", "1500", 150000, true},
		{"usd", "1500.5", 150050, true},
		{"USD", "0.01", 1, true},
		{"USD", "007.10", 710, true},
		{"JPY", "1000", 1000, true},
		{"KWD", "1.234", 1234, true},
		{"USD", "92233720368547758.07", 9223372036854775807, true},
		{"USD", "92233720368547758.08", 0, false},
		{"USD", "1.234", 0, false},
		{"JPY", "1.5", 0, false},
		{"USD", "", 0, false},
		{"USD", ".5", 0, false},
		{"USD", "5.", 0, false},
		{"USD", "+5", 0, false},
		{"USD", "-5", 0, false},
		{"USD", "1,000", 0, false},
		{"USD", "1e3", 0, false},
		{"USD", "0", 0, false},
		{"USD", "0.00", 0, false},
		{"USD", " 5", 0, false},
		{"US", "5", 0, false},
		{"XAU", "5", 0, false},
		{"USD", "１", 0, false}, // fullwidth digit
	}
	for _, c := range cases {
		m, err := ParseAmount(c.cur, c.in)
		if (err == nil) != c.ok || (c.ok && m.Minor != c.minor) {
			t.Errorf("ParseAmount(%q, %q) = %+v, %v", c.cur, c.in, m, err)
		}
		if err != nil && codeOf(err) != "invalid_argument" {
			t.Errorf("ParseAmount(%q, %q): code %s", c.cur, c.in, codeOf(err))
		}
	}
	for _, c := range []struct {
		cur   string
		minor int64
		want  string
	}{{"USD", 1, "0.01"}, {"USD", 150050, "1500.50"}, {"JPY", 1000, "1000"}, {"KWD", 5, "0.005"}, {"USD", -250, "-2.50"}, {"USD", 0, "0.00"}} {
		if got := FormatAmount(c.cur, c.minor); got != c.want {
			t.Errorf("FormatAmount(%s, %d) = %q, want %q", c.cur, c.minor, got, c.want)
		}
	}
}

// FuzzParseAmount: garbage is refused with an error, never a panic, and
// whatever is accepted prints back to an amount that parses to the same
// value.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1500", "1500.25", "0.01", "1e3", "-1", "99999999999999999999", "1.", ".1", "١٢٣"} {
		f.Add("USD", s)
		f.Add("JPY", s)
		f.Add("KWD", s)
	}
	f.Fuzz(func(t *testing.T, cur, s string) {
		m, err := ParseAmount(cur, s)
		if err != nil {
			return
		}
		if m.Minor <= 0 {
			t.Fatalf("accepted non-positive %q → %d", s, m.Minor)
		}
		back, err := ParseAmount(m.Currency, FormatAmount(m.Currency, m.Minor))
		if err != nil || back != m {
			t.Fatalf("round trip of %q: %+v → %q → %+v %v", s, m, FormatAmount(m.Currency, m.Minor), back, err)
		}
	})
}
