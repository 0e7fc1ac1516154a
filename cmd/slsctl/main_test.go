package main

import "testing"

func TestParseMinor(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1500000": 150000000, "1,500,000.5": 150000050, "12.34": 1234} {
		if got, err := parseMinor(in); err != nil || got != want {
			t.Errorf("parseMinor(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-5", "1.234", "abc", "1e6", ".5", "9999999999999999"} {
		if _, err := parseMinor(bad); err == nil {
			t.Errorf("parseMinor(%q) accepted", bad)
		}
	}
}
