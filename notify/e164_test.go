package notify

import (
	"strings"
	"testing"
)

func TestCountryPrefix(t *testing.T) {
	cases := map[string]string{
		"+12125550123":     "+1",
		"+14165550123":     "+1",
		"+36201234567":     "+36",
		"+85291234567":     "+852",
		"+8613812345678":   "+86",
		"+79161234567":     "+7",
		"+77011234567":     "+7",
		"+447700900123":    "+44",
		"+380501234567":    "+380",
		"+971501234567":    "+971",
		"+919812345678":    "+91",
		"+34612345678":     "+34",
		"+5215512345678":   "+52",
		"+6837123":         "+683", // Niue, 7 digits in all
		"+886912345678":    "+886",
		"+882123456789012": "+882", // 15 digits
		"+8816123456789":   "+881",
		"+2693212345":      "+269",
	}
	for in, want := range cases {
		if got := CountryPrefix(in); got != want {
			t.Errorf("CountryPrefix(%q) = %q, want %q", in, got, want)
		}
		if !ValidE164(in) {
			t.Errorf("ValidE164(%q) = false", in)
		}
	}
}

func TestValidE164Rejects(t *testing.T) {
	for _, s := range []string{
		"", "+", "+1", "+123456", // too short
		"+1234567890123456", // 16 digits
		"36201234567",       // no plus
		"+0123456789",       // no country code starts with 0
		"+2801234567",       // spare code 28x
		"+6711234567",       // withdrawn (Guam moved to +1)
		"+8001234567",       // freephone, not a subscriber
		"+36 20 123 4567",   // separators belong to NormalizeE164
		"+36-20-1234567", "+3620123456a", "+３６201234567", "++36201234567",
		"+852123", // code plus three digits
	} {
		if ValidE164(s) {
			t.Errorf("ValidE164(%q) = true", s)
		}
		if CountryPrefix(s) != "" {
			t.Errorf("CountryPrefix(%q) != \"\"", s)
		}
	}
}

func TestCallingCodesPrefixFree(t *testing.T) {
	for a := range callingCodes {
		if a[0] == '0' {
			t.Errorf("code %s starts with 0", a)
		}
		for b := range callingCodes {
			if a != b && strings.HasPrefix(b, a) {
				t.Errorf("code %s is a prefix of %s", a, b)
			}
		}
	}
	if len(callingCodes) < 200 {
		t.Errorf("only %d calling codes", len(callingCodes))
	}
}

func TestNormalizeE164(t *testing.T) {
	ok := map[string]string{
		"+36 20 123 4567":    "+36201234567",
		"0036 (20) 123-4567": "+36201234567",
		" +1 (212) 555-0123": "+12125550123",
		"+852 9123.4567":     "+85291234567",
		"+86/138/1234/5678":  "+8613812345678",
		"+36201234567":       "+36201234567",
	}
	for in, want := range ok {
		got, err := NormalizeE164(in)
		if err != nil || got != want {
			t.Errorf("NormalizeE164(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{
		"06 20 123 4567", "(212) 555-0123", "+36 20 ABC", "+36\n201234567", "+36_201234567",
		"011 36 20 123 4567", "+", "00", strings.Repeat("1", 100), "+0036201234567",
	} {
		if got, err := NormalizeE164(in); err == nil {
			t.Errorf("NormalizeE164(%q) = %q, want error", in, got)
		}
	}
}

func FuzzNormalizeE164(f *testing.F) {
	for _, s := range []string{"+36 20 123 4567", "0036201234567", "+1 (212) 555-0123", "+8529123", "", "+", "00",
		"+999999999999999", "+7", "+882123456789012", "\x00", "+36\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeE164(s)
		valid := ValidE164(s)
		if p := CountryPrefix(s); valid != (p != "") || valid && !strings.HasPrefix(s, p) {
			t.Fatalf("ValidE164/CountryPrefix disagree on %q: %v %q", s, valid, p)
		}
		if valid && (err != nil || n != s) {
			t.Fatalf("valid %q normalised to %q, %v", s, n, err)
		}
		if err != nil {
			return
		}
		if !ValidE164(n) {
			t.Fatalf("NormalizeE164(%q) = %q, not valid", s, n)
		}
		if n2, err := NormalizeE164(n); err != nil || n2 != n {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, n, n2, err)
		}
	})
}
