package policy

import "testing"

func TestRateBand(t *testing.T) {
	b := DefaultRateBand
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	r := func(s string) Rate {
		v, err := ParseRate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		old, next string
		ok        bool
	}{
		{"", "1.0834", true},
		{"", "0.00000001", false}, // the review's EUR that let 50,000,000 pass
		{"", "0.000001", true},
		{"", "0.0000009", false},
		{"", "1000000", true},
		{"", "1000000.1", false},
		{"1.08", "1.10", true},
		{"1.08", "2.16", true},
		{"1.08", "2.17", false},
		{"1.08", "0.54", true},
		{"1.08", "0.53", false},
		{"1.08", "0.00000001", false},
	} {
		old := Rate{}
		if c.old != "" {
			old = r(c.old)
		}
		err := b.Check("EUR", old, r(c.next))
		if (err == nil) != c.ok {
			t.Errorf("%s → %s: %v, want ok=%v", c.old, c.next, err, c.ok)
		}
	}
	for _, bad := range []RateBand{{Min: "1", Max: "1", MaxFactor: 2}, {Min: "x", Max: "1", MaxFactor: 2}, {Min: "1", Max: "2", MaxFactor: 1}} {
		if bad.Validate() == nil {
			t.Errorf("band %+v accepted", bad)
		}
	}
}

// FuzzRateBand: any pair of rates is checked without panicking, and a
// rate accepted after an old one lies within the band and the factor.
func FuzzRateBand(f *testing.F) {
	f.Add("1.08", "1.10")
	f.Add("", "0.00000001")
	f.Add("0.000001", "1000000")
	f.Fuzz(func(t *testing.T, oldS, nextS string) {
		next, err := ParseRate(nextS)
		if err != nil {
			return
		}
		old, err := ParseRate(oldS)
		if err != nil {
			old = Rate{}
		}
		if DefaultRateBand.Check("EUR", old, next) != nil {
			return
		}
		n := next.rat()
		lo, _ := ParseRate(DefaultRateBand.Min)
		hi, _ := ParseRate(DefaultRateBand.Max)
		if n.Cmp(lo.rat()) < 0 || n.Cmp(hi.rat()) > 0 {
			t.Fatalf("%s accepted outside the band", nextS)
		}
	})
}
