package notify

import (
	"errors"
	"strings"
	"testing"
)

// TestRegion: numbers that share a calling code are told apart by region,
// which is what the SMS caps count by.
func TestRegion(t *testing.T) {
	for in, want := range map[string]string{
		"+12015550123":   "US",
		"+14165550123":   "CA", // Toronto: +1 like the US
		"+18762101234":   "JM", // Jamaica: +1 too
		"+36201234567":   "HU",
		"+85291234567":   "HK",
		"+8613812345678": "CN",
		"+79161234567":   "RU",
		"+77011234567":   "KZ", // Kazakhstan shares +7 with Russia
		"+380501234567":  "UA",
		"+971501234567":  "AE",
		"+8816123456789": "001", // Iridium: non-geographic
	} {
		if got := Region(in); got != want {
			t.Errorf("Region(%q) = %q, want %q", in, got, want)
		}
	}
	if CountryCode("+14165550123") != "+1" || CountryCode("+85291234567") != "+852" {
		t.Errorf("CountryCode: %q %q", CountryCode("+14165550123"), CountryCode("+85291234567"))
	}
}

// TestValidE164Rejects: only strict E.164 in an assigned range is valid.
func TestValidE164Rejects(t *testing.T) {
	for _, s := range []string{
		"", "+", "+1", "+123456", // too short
		"+1234567890123456", // 16 digits
		"36201234567",       // no plus
		"+0123456789",       // no country code starts with 0
		"+2801234567",       // spare code 28x
		"+6711234567",       // withdrawn (Guam moved to +1)
		"+15555550123",      // 555 is no area code in service
		"+36 20 123 4567",   // separators belong to NormalizeE164
		"+36-20-1234567", "+3620123456a", "+３６201234567", "++36201234567",
		"+852123", // code plus three digits
	} {
		if ValidE164(s) || Region(s) != "" || CountryCode(s) != "" {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestNormalizeE164(t *testing.T) {
	for in, want := range map[string]string{
		"+36 20 123 4567":    "+36201234567",
		"0036 (20) 123-4567": "+36201234567",
		"+1 (201) 555-0123":  "+12015550123",
		" +852 9123 4567 ":   "+85291234567",
		"+44 20 7946 0123":   "+442079460123",
	} {
		got, err := NormalizeE164(in)
		if err != nil || got != want {
			t.Errorf("NormalizeE164(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "06 30 123 4567", "(212) 555-0123", "+36 20 123 456a", "+1 555 555 0123", strings.Repeat("1", 100), "+36 20 123 4567 890"} {
		if got, err := NormalizeE164(in); !errors.Is(err, ErrPhoneInvalid) {
			t.Errorf("NormalizeE164(%q) = %q, %v; want ErrPhoneInvalid", in, got, err)
		}
	}
}

// TestCheckReceiver: which kinds of number may get codes, per channel.
func TestCheckReceiver(t *testing.T) {
	for _, tc := range []struct {
		number     string
		sms, voice bool
		why        string
	}{
		{"+36201234567", true, true, "Hungarian mobile"},
		{"+85291234567", true, true, "Hong Kong mobile"},
		{"+12015550123", true, true, "North American: mobile or fixed"},
		{"+442079460123", false, true, "London fixed line: voice only"},
		{"+449098790123", false, false, "UK premium rate"},
		{"+18002345678", false, false, "North American toll-free"},
		{"+15005550006", false, false, "North American personal (500) number"},
		{"+8816123456789", true, true, "Iridium satellite mobile"},
		{"+15555550123", false, false, "not a valid number"},
	} {
		if err := CheckReceiver(tc.number, ChannelSMS); (err == nil) != tc.sms {
			t.Errorf("%s %s by SMS: %v", tc.why, tc.number, err)
		}
		if err := CheckReceiver(tc.number, ChannelVoice); (err == nil) != tc.voice {
			t.Errorf("%s %s by voice: %v", tc.why, tc.number, err)
		}
	}
	if err := CheckReceiver("+449098790123", ChannelSMS); !errors.Is(err, ErrPhoneType) || !strings.Contains(err.Error(), "premium-rate") {
		t.Errorf("premium-rate refusal does not say why: %v", err)
	}
}

// FuzzNormalizePhone: any input is refused or gives a valid E.164 number
// that normalizes to itself; nothing panics.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+36 20 123 4567", "0036201234567", "+1 (201) 555-0123", "+", "00", "+8816123456789", "+0", "+999999999999999", "+１２"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := NormalizeE164(s)
		if err != nil {
			return
		}
		if !ValidE164(n) || Region(n) == "" {
			t.Fatalf("%q gave %q, which is not valid", s, n)
		}
		if again, err := NormalizeE164(n); err != nil || again != n {
			t.Fatalf("%q gave %q, which normalizes to %q, %v", s, n, again, err)
		}
		_ = CheckReceiver(n, ChannelSMS)
	})
}
