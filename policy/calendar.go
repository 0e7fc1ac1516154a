package policy

import (
	"fmt"
	"time"

	// The business calendar defaults to New York time; embedding the zone
	// database means a host without /usr/share/zoneinfo cannot silently
	// move the day boundaries of withdrawal limits.
	_ "time/tzdata"
)

// DefaultLocation is the time zone of the default business calendar: US
// Eastern, where the brokerage's business day is kept.
var DefaultLocation = mustLoadLocation("America/New_York")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("policy: load %s: %v", name, err)) // embedded by time/tzdata; cannot fail
	}
	return loc
}

// Date is a calendar date without a time of day or zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in loc.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return Date{y, m, d}
}

// ParseDate parses an ISO 8601 calendar date, exactly "YYYY-MM-DD"
// ("2026-12-25"); anything else, or a date that does not exist
// ("2026-02-30"), is an error.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("policy: date %q: want YYYY-MM-DD", s)
	}
	num := func(part string) (int, bool) {
		n := 0
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, false
			}
			n = n*10 + int(part[i]-'0')
		}
		return n, true
	}
	y, ok1 := num(s[0:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, fmt.Errorf("policy: date %q: want YYYY-MM-DD", s)
	}
	date := Date{y, time.Month(m), d}
	if m < 1 || m > 12 || d < 1 || date.AddDays(0) != date {
		return Date{}, fmt.Errorf("policy: date %q: no such day", s)
	}
	return date, nil
}

// String returns the date as "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// Midnight returns the first instant of the date in loc.
func (d Date) Midnight(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// AddDays returns the date n calendar days later (earlier when n < 0).
func (d Date) AddDays(n int) Date {
	y, m, dd := time.Date(d.Year, d.Month, d.Day+n, 12, 0, 0, 0, time.UTC).Date()
	return Date{y, m, dd}
}

// Weekday returns the day of the week of the date.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, time.UTC).Weekday()
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ParseHolidays parses dates in "YYYY-MM-DD" form into a holiday set. A date
// given twice is harmless and kept once; any malformed entry is an error
// that names it.
func ParseHolidays(dates []string) (map[Date]bool, error) {
	set := make(map[Date]bool, len(dates))
	for i, s := range dates {
		d, err := ParseDate(s)
		if err != nil {
			return nil, fmt.Errorf("policy: holiday %d: %w", i+1, err)
		}
		set[d] = true
	}
	return set, nil
}

// Calendar decides which days are business days: Monday to Friday in
// Location, except Holidays. The zero Calendar is New York time without
// holidays.
type Calendar struct {
	// Location is where days begin and end; nil means DefaultLocation.
	Location *time.Location
	// Holidays are dates that are not business days even on a weekday.
	Holidays map[Date]bool
}

// NewCalendar returns a calendar in loc (nil: DefaultLocation) with the
// given holidays in "YYYY-MM-DD" form.
func NewCalendar(loc *time.Location, holidays []string) (Calendar, error) {
	h, err := ParseHolidays(holidays)
	if err != nil {
		return Calendar{}, err
	}
	return Calendar{Location: loc, Holidays: h}, nil
}

// Loc returns the calendar's location.
func (c Calendar) Loc() *time.Location {
	if c.Location == nil {
		return DefaultLocation
	}
	return c.Location
}

// IsBusinessDay reports whether d is a weekday that is not a holiday.
func (c Calendar) IsBusinessDay(d Date) bool {
	switch d.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !c.Holidays[d]
}

// BusinessDayOf returns the business day that an event at t counts toward:
// t's own date in the calendar's location when that is a business day,
// otherwise the next business day (a Saturday withdrawal counts toward
// Monday, or Tuesday when Monday is a holiday).
func (c Calendar) BusinessDayOf(t time.Time) Date {
	d := DateOf(t, c.Loc())
	for !c.IsBusinessDay(d) {
		d = d.AddDays(1)
	}
	return d
}

// AddBusinessDays returns the business day n business days after d (before
// it when n < 0). When d itself is not a business day it first moves to the
// next business day for n ≥ 0, or the previous one for n < 0, and that step
// counts as nothing.
func (c Calendar) AddBusinessDays(d Date, n int) Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for !c.IsBusinessDay(d) {
		d = d.AddDays(step)
	}
	for ; n > 0; n-- {
		d = d.AddDays(step)
		for !c.IsBusinessDay(d) {
			d = d.AddDays(step)
		}
	}
	return d
}

// WindowStart returns the first instant that belongs to the rolling window
// of n business days (n ≥ 1) ending with the business day of now: events at
// or after it count toward BusinessDayOf(now) or one of the n-1 business
// days before it. Because weekend and holiday time counts toward the next
// business day, the window opens at midnight after the business day that
// just left it.
func (c Calendar) WindowStart(now time.Time, n int) time.Time {
	if n < 1 {
		n = 1
	}
	left := c.AddBusinessDays(c.BusinessDayOf(now), -n)
	return left.AddDays(1).Midnight(c.Loc())
}

// windowEnd returns the first instant at which an event at t no longer
// belongs to the window of n business days: midnight after the (n-1)th
// business day following BusinessDayOf(t).
func (c Calendar) windowEnd(t time.Time, n int) time.Time {
	if n < 1 {
		n = 1
	}
	last := c.AddBusinessDays(c.BusinessDayOf(t), n-1)
	return last.AddDays(1).Midnight(c.Loc())
}
