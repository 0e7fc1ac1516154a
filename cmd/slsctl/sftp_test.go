package main

import "testing"

func TestParseQuota(t *testing.T) {
	for in, want := range map[string]int64{
		"default": 0, "1073741824": 1 << 30, "1GiB": 1 << 30, "1 GiB": 1 << 30, "500MiB": 500 << 20, "2GB": 2e9,
	} {
		if got, err := parseQuota(in); err != nil || got != want {
			t.Errorf("parseQuota(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "lots", "1XB", "99999999999EiB"} {
		if got, err := parseQuota(in); err == nil {
			t.Errorf("parseQuota(%q) = %d, want an error", in, got)
		}
	}
}

func FuzzParseQuota(f *testing.F) {
	for _, s := range []string{"default", "1GiB", "12345", "1.5 TB", "-3", "9EiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseQuota(s)
		if err == nil && n < 0 {
			t.Fatalf("parseQuota(%q) = %d", s, n)
		}
		if err == nil && n == 0 && s != "default" {
			t.Fatalf("parseQuota(%q) = 0 (the default) without saying default", s)
		}
	})
}
