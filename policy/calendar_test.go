package policy

import (
	"strings"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Date
		err  string
	}{
		{"2026-12-25", Date{2026, time.December, 25}, ""},
		{"2024-02-29", Date{2024, time.February, 29}, ""},
		{"0001-01-01", Date{1, time.January, 1}, ""},
		{"2026-02-29", Date{}, "no such day"},
		{"2026-02-30", Date{}, "no such day"},
		{"2026-13-01", Date{}, "no such day"},
		{"2026-00-10", Date{}, "no such day"},
		{"2026-01-00", Date{}, "no such day"},
		{"2026-1-05", Date{}, "YYYY-MM-DD"},
		{"2026/12/25", Date{}, "YYYY-MM-DD"},
		{" 2026-12-25", Date{}, "YYYY-MM-DD"},
		{"2026-12-25 ", Date{}, "YYYY-MM-DD"},
		{"+026-12-25", Date{}, "YYYY-MM-DD"},
		{"2026-1a-25", Date{}, "YYYY-MM-DD"},
		{"", Date{}, "YYYY-MM-DD"},
		{"25.12.2026", Date{}, "YYYY-MM-DD"},
	} {
		got, err := ParseDate(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "policy: ") {
				t.Errorf("ParseDate(%q) error = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if got.String() != tc.in {
			t.Errorf("String() = %q, want %q", got.String(), tc.in)
		}
	}
}

func TestParseHolidays(t *testing.T) {
	h, err := ParseHolidays([]string{"2026-12-25", "2027-01-01", "2026-12-25"})
	if err != nil || len(h) != 2 || !h[Date{2026, 12, 25}] || !h[Date{2027, 1, 1}] {
		t.Fatalf("ParseHolidays = %v, %v", h, err)
	}
	_, err = ParseHolidays([]string{"2026-12-25", "Christmas"})
	if err == nil || !strings.Contains(err.Error(), "holiday 2") || !strings.Contains(err.Error(), `"Christmas"`) {
		t.Fatalf("error = %v, want it to name entry 2", err)
	}
	if _, err := NewCalendar(nil, []string{"2026-02-31"}); err == nil {
		t.Fatal("NewCalendar accepted a bad holiday")
	}
}

// cal2026 has a Friday holiday (Christmas, New Year's Day 2027, Good
// Friday) and Monday holidays (Martin Luther King Jr. Day, Labor Day).
func cal2026(t *testing.T) Calendar {
	t.Helper()
	c, err := NewCalendar(nil, []string{"2026-01-19", "2026-04-03", "2026-09-07", "2026-12-25", "2027-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIsBusinessDay(t *testing.T) {
	c := cal2026(t)
	for _, tc := range []struct {
		d    Date
		want bool
	}{
		{Date{2026, 12, 24}, true},  // Thursday
		{Date{2026, 12, 25}, false}, // Friday holiday
		{Date{2026, 12, 26}, false}, // Saturday
		{Date{2026, 12, 27}, false}, // Sunday
		{Date{2026, 12, 28}, true},  // Monday
		{Date{2026, 1, 19}, false},  // Monday holiday
		{Date{2026, 1, 20}, true},   // Tuesday
		{Date{2026, 4, 3}, false},   // Good Friday
	} {
		if got := c.IsBusinessDay(tc.d); got != tc.want {
			t.Errorf("IsBusinessDay(%v %v) = %v, want %v", tc.d, tc.d.Weekday(), got, tc.want)
		}
	}
	var zero Calendar
	if !zero.IsBusinessDay(Date{2026, 12, 25}) || zero.Loc() != DefaultLocation {
		t.Error("zero Calendar: holidays or location wrong")
	}
}

func TestBusinessDayOf(t *testing.T) {
	c := cal2026(t)
	for _, tc := range []struct {
		name string
		t    time.Time
		want Date
	}{
		{"weekday", at(2026, 12, 23, 15, 0), Date{2026, 12, 23}},
		{"Friday holiday → Monday", at(2026, 12, 25, 10, 0), Date{2026, 12, 28}},
		{"Saturday → Monday", at(2026, 12, 26, 23, 59), Date{2026, 12, 28}},
		{"Thursday before Friday holiday", at(2026, 12, 24, 23, 59), Date{2026, 12, 24}},
		{"Saturday before Monday holiday → Tuesday", at(2026, 1, 17, 9, 0), Date{2026, 1, 20}},
		{"Monday holiday → Tuesday", at(2026, 1, 19, 9, 0), Date{2026, 1, 20}},
		{"Good Friday to Monday", at(2026, 4, 3, 0, 0), Date{2026, 4, 6}},
		// 03:30 UTC on Friday 2026-12-25 is still Thursday evening in New York.
		{"zone decides the date", time.Date(2026, 12, 25, 3, 30, 0, 0, time.UTC), Date{2026, 12, 24}},
		{"New Year's Eve → Monday 4 Jan", at(2026, 12, 31, 23, 0), Date{2026, 12, 31}},
		{"New Year's Day holiday", at(2027, 1, 1, 8, 0), Date{2027, 1, 4}},
	} {
		if got := c.BusinessDayOf(tc.t); got != tc.want {
			t.Errorf("%s: BusinessDayOf(%v) = %v, want %v", tc.name, tc.t, got, tc.want)
		}
	}
	utc := Calendar{Location: time.UTC}
	if got := utc.BusinessDayOf(time.Date(2026, 12, 25, 3, 30, 0, 0, time.UTC)); got != (Date{2026, 12, 25}) {
		t.Errorf("UTC calendar: %v", got)
	}
}

func TestAddBusinessDays(t *testing.T) {
	c := cal2026(t)
	for _, tc := range []struct {
		from Date
		n    int
		want Date
	}{
		{Date{2026, 12, 21}, 0, Date{2026, 12, 21}},
		{Date{2026, 12, 23}, 1, Date{2026, 12, 24}},
		{Date{2026, 12, 24}, 1, Date{2026, 12, 28}},   // over Friday holiday and weekend
		{Date{2026, 12, 24}, 5, Date{2027, 1, 4}},     // 28 29 30 31, (1 Jan holiday), 4
		{Date{2026, 12, 28}, -1, Date{2026, 12, 24}},  // back over the Friday holiday
		{Date{2026, 12, 30}, -5, Date{2026, 12, 22}},  // 29 28 24 23 22
		{Date{2026, 1, 16}, 1, Date{2026, 1, 20}},     // over weekend and Monday holiday
		{Date{2026, 1, 20}, -1, Date{2026, 1, 16}},    // back over Monday holiday
		{Date{2026, 1, 23}, -4, Date{2026, 1, 16}},    // 22 21 20 16
		{Date{2026, 1, 17}, 0, Date{2026, 1, 20}},     // Saturday moves forward
		{Date{2026, 1, 17}, -1, Date{2026, 1, 15}},    // Saturday moves back to Friday 16 first
		{Date{2026, 9, 4}, 1, Date{2026, 9, 8}},       // Labor Day Monday
		{Date{2026, 12, 31}, 1, Date{2027, 1, 4}},     // New Year's Day Friday
		{Date{2026, 2, 27}, 1, Date{2026, 3, 2}},      // month end
		{Date{2026, 12, 31}, 250, Date{2027, 12, 17}}, // 2027 weekdays minus 1 Jan (checked with Python datetime)
	} {
		if got := c.AddBusinessDays(tc.from, tc.n); got != tc.want {
			t.Errorf("AddBusinessDays(%v %v, %d) = %v %v, want %v", tc.from, tc.from.Weekday(), tc.n, got, got.Weekday(), tc.want)
		}
	}
}

func TestWindowStart(t *testing.T) {
	c := cal2026(t)
	for _, tc := range []struct {
		name string
		now  time.Time
		want time.Time
	}{
		// Friday 23 Jan: window Fri 16, Tue 20 … Fri 23 (Mon 19 holiday).
		{"Monday holiday inside", at(2026, 1, 23, 10, 0), at(2026, 1, 16, 0, 0)},
		// Saturday 24 Jan counts toward Monday 26: Tue 20 … Mon 26; Fri 16
		// left, so the weekend after it opens the window.
		{"weekend now", at(2026, 1, 24, 10, 0), at(2026, 1, 17, 0, 0)},
		// Wed 30 Dec: 23 24 28 29 30 (Fri 25 holiday) → after Tue 22.
		{"Friday holiday inside", at(2026, 12, 30, 12, 0), at(2026, 12, 23, 0, 0)},
		// Mon 28 Dec: 21 22 23 24 28 → after Fri 18.
		{"Monday after Friday holiday", at(2026, 12, 28, 0, 0), at(2026, 12, 19, 0, 0)},
		// Fri 2027-01-01 (holiday) counts toward Mon 4: 28 29 30 31 4.
		{"on the Friday holiday", at(2027, 1, 1, 12, 0), at(2026, 12, 25, 0, 0)},
	} {
		if got := c.WindowStart(tc.now, 5); !got.Equal(tc.want) {
			t.Errorf("%s: WindowStart = %v, want %v", tc.name, got.In(ny), tc.want)
		}
	}
	// One business day: the window opens after the previous business day.
	if got := c.WindowStart(at(2026, 12, 28, 9, 0), 1); !got.Equal(at(2026, 12, 25, 0, 0)) {
		t.Errorf("1-day window = %v", got.In(ny))
	}
}

// A window boundary at midnight stays at local midnight across a daylight
// saving change (2026-03-08 in New York).
func TestWindowAcrossDST(t *testing.T) {
	c := Calendar{}
	got := c.WindowStart(at(2026, 3, 13, 12, 0), 5) // Fri 13: Mon 9 … Fri 13
	if want := at(2026, 3, 7, 0, 0); !got.Equal(want) {
		t.Fatalf("WindowStart = %v, want %v", got.In(ny), want)
	}
	end := c.windowEnd(at(2026, 3, 6, 12, 0), 5) // Fri 6 counts until Thu 12 ends
	if want := at(2026, 3, 13, 0, 0); !end.Equal(want) {
		t.Fatalf("windowEnd = %v, want %v", end.In(ny), want)
	}
}

func TestDateHelpers(t *testing.T) {
	d := Date{2026, 12, 31}
	if d.AddDays(1) != (Date{2027, 1, 1}) || d.AddDays(-365) != (Date{2025, 12, 31}) {
		t.Error("AddDays")
	}
	if d.Compare(Date{2027, 1, 1}) != -1 || d.Compare(d) != 0 || d.Compare(Date{2026, 11, 30}) != 1 {
		t.Error("Compare")
	}
	if DateOf(time.Date(2026, 7, 1, 2, 0, 0, 0, time.UTC), ny) != (Date{2026, 6, 30}) {
		t.Error("DateOf")
	}
}
