package policy

import (
	"strings"
	"testing"
)

// FuzzParseDate: never panics; an accepted date prints back to the input
// exactly (the format is strict) and is a real day.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-12-25", "2024-02-29", "2026-02-29", "2026-13-01", "2026-1-05", "", "0000-00-00", "9999-12-31", "2026-12-2５"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if d != (Date{}) {
				t.Fatalf("date with an error for %q", s)
			}
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, d.String())
		}
		if d.AddDays(0) != d || d.AddDays(1).AddDays(-1) != d {
			t.Fatalf("%q is not a real day", s)
		}
	})
}

// FuzzParseHolidays: never panics; either every line is a date in the set
// or the error names the first bad line.
func FuzzParseHolidays(f *testing.F) {
	f.Add("2026-12-25\n2027-01-01")
	f.Add("2026-12-25\nChristmas")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		lines := strings.Split(s, "\n")
		set, err := ParseHolidays(lines)
		if err != nil {
			if set != nil || !strings.HasPrefix(err.Error(), "policy: holiday ") {
				t.Fatalf("error %v with set %v", err, set)
			}
			return
		}
		for _, l := range lines {
			d, err := ParseDate(l)
			if err != nil || !set[d] {
				t.Fatalf("line %q accepted but not in the set", l)
			}
		}
		cal := Calendar{Holidays: set}
		for d := range set {
			if cal.IsBusinessDay(d) {
				t.Fatalf("holiday %v is a business day", d)
			}
		}
	})
}
