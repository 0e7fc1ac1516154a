package passrules

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	sls "github.com/secure-login-system/sls"
)

func reason(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var e *sls.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *sls.Error", err)
	}
	if e.Code != sls.CodeInvalidArgument {
		t.Fatalf("code %q, want invalid_argument", e.Code)
	}
	r, _ := e.Detail["reason"].(string)
	return r
}

func TestCheck(t *testing.T) {
	ctx := []string{"jsmith", "john.smith"}
	tests := []struct {
		name     string
		password string
		single   bool
		want     string // reason, "" for accepted
	}{
		{"empty", "", false, ReasonTooShort},
		{"seven", "Zq9!xk2", false, ReasonTooShort},
		{"eight", "Zq9!xk2w", false, ""},
		{"eight single factor", "Zq9!xk2w", true, ReasonTooShort},
		{"fourteen single factor", "Zq9!xk2wLm4#pr", true, ReasonTooShort},
		{"fifteen single factor", "Zq9!xk2wLm4#prT", true, ""},
		{"passphrase 64", strings.Repeat("x", 0) + "correct horse battery staple, then a quiet walk by the river bend", false, ""},
		{"spaces allowed", "tea at five o'clock", false, ""},
		{"256 accepted", strings.Repeat("horse battery ", 18) + "four", false, ""},
		{"257 too long", strings.Repeat("horse battery ", 18) + "fourx", false, ReasonTooLong},
		{"emoji", "🐴🔋📎🙂 staple", false, ""},
		{"emoji only", "🐴🔋📎🙂🌵🚲🧀🎻", false, ""},
		{"unicode", "Ünïcödé Straße", false, ""},
		{"cyrillic", "пароль-надёжный", false, ""},
		// "ﬃ" (one code point) becomes "ffi" (three) under NFKC: seven
		// code points as typed, nine as counted.
		{"nfkc expands", "ﬃxq7#zb", false, ""},
		// "e" + U+0301 composes to "é": nine code points as typed, eight
		// after NFKC — accepted — and eight as typed gives seven.
		{"nfkc composes to 8", "cafe\u0301 9z!", false, ""},
		{"nfkc composes to 7", "cafe\u0301 9z", false, ReasonTooShort},
		{"password", "password", false, ReasonBlocklisted},
		{"PASSWORD", "PASSWORD", false, ReasonBlocklisted},
		{"fullwidth password", "ｐａｓｓｗｏｒｄ", false, ReasonBlocklisted},
		{"Password1", "Password1", false, ReasonBlocklisted},
		{"Password1!", "Password1!", false, ReasonBlocklisted},
		{"2024dragon", "2024dragon", false, ReasonBlocklisted},
		{"qwerty123", "qwerty123", false, ReasonBlocklisted},
		{"iloveyou", "iloveyou", false, ReasonBlocklisted},
		{"long affix left alone", "monkey!4821097365", false, ""},
		{"repeated", "aaaaaaaa", false, ReasonBlocklisted},
		{"sequential digits", "12345678", false, ReasonBlocklisted},
		{"sequential letters", "abcdefgh", false, ReasonBlocklisted},
		{"sequential down", "zyxwvuts", false, ReasonBlocklisted},
		{"two runs", "1234abcd", false, ReasonBlocklisted},
		{"upper runs", "AAAABBBB", false, ReasonBlocklisted},
		{"period 2", "abababab", false, ReasonBlocklisted},
		{"period 3", "x7!x7!x7!", false, ReasonBlocklisted},
		{"repeated word", "dragondragon", false, ReasonBlocklisted},
		{"single factor sequential", "abcdefghijklmnop", true, ReasonBlocklisted},
		{"context username", "jsmith-likes-tea", false, ReasonContext},
		{"context case", "JSmith2024!xq", false, ReasonContext},
		{"context equal", "john.smith", false, ReasonContext},
		{"context part", "smith&wesson!7", false, ReasonContext},
		{"context part inside a word", "johnny-b-goode7", false, ReasonContext},
		{"unrelated to context", "jonas-b-goode7", false, ""},
		{"emoji affix is content", "staple 🐴🔋📎", false, ""},
		{"invalid utf-8", "abc\xffdefgh", false, ReasonInvalidEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Default.Check(tt.password, tt.single, ctx...)
			if got := reason(t, err); got != tt.want {
				t.Fatalf("Check(%q, %v) = %v, want reason %q", tt.password, tt.single, err, tt.want)
			}
		})
	}
}

func TestPeriod(t *testing.T) {
	for s, want := range map[string]int{"a": 1, "aaaa": 1, "abab": 2, "ababa": 2, "abcab": 3, "abcd": 4, "aabaab": 3, "dragondragon": 6} {
		if got := period([]rune(s)); got != want {
			t.Errorf("period(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestContextShortWordsIgnored(t *testing.T) {
	if err := Default.Check("bobs-quiet-garden", false, "bob", "b.o"); err != nil {
		t.Fatalf("a three-letter username must not forbid passwords containing it: %v", err)
	}
}

func TestMessages(t *testing.T) {
	var e *sls.Error
	errors.As(Default.Check("Zq9!xk2wLm", true), &e)
	if e == nil || e.Message != "The password must have at least 15 characters when it is the only factor." ||
		e.Detail["min_length"] != 15 {
		t.Fatalf("single-factor error = %#v", e)
	}
	errors.As(Default.Check("Zq9!", false), &e)
	if e.Message != "The password must have at least 8 characters." {
		t.Fatalf("error = %q", e.Message)
	}
	secret := "Password1!"
	if err := Default.Check(secret, false); err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("error %v must refuse without echoing the password", err)
	}
}

func TestRulesFloorsAndDefaults(t *testing.T) {
	if err := Default.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Rules{}).Validate(); err != nil {
		t.Fatalf("zero Rules take the defaults: %v", err)
	}
	for _, r := range []Rules{{MinLength: 6}, {MinLengthSingleFactor: 12}, {MaxLength: 32}, {MinLength: 100, MaxLength: 64}} {
		if r.Validate() == nil {
			t.Errorf("%+v validated, want error", r)
		}
	}
	// Check never goes below the floors, whatever it is given.
	weak := Rules{MinLength: 4, MinLengthSingleFactor: 4, MaxLength: 10}
	if reason(t, weak.Check("Zq9!xk2", false)) != ReasonTooShort {
		t.Error("MinLength 4 must be raised to 8")
	}
	if reason(t, weak.Check("Zq9!xk2wLm4#pr", true)) != ReasonTooShort {
		t.Error("MinLengthSingleFactor 4 must be raised to 15")
	}
	if err := weak.Check(strings.Repeat("horse battery ", 4)+"staple!", false); err != nil {
		t.Errorf("MaxLength 10 must be raised to 64: %v", err)
	}
	strict := Rules{MinLength: 12, MaxLength: 64}
	if reason(t, strict.Check("Zq9!xk2wLm4", false)) != ReasonTooShort {
		t.Error("MinLength 12 not applied")
	}
	if reason(t, strict.Check(strings.Repeat("horse battery ", 5), false)) != ReasonTooLong {
		t.Error("MaxLength 64 not applied")
	}
}

func TestBlocklistSize(t *testing.T) {
	list := blocklist()
	if n := list.len(); n < 20000 {
		t.Fatalf("blocklist has %d entries, want at least 20,000", n)
	}
	prev := ""
	for i := range list.len() {
		w := list.at(i)
		if w <= prev && i > 0 {
			t.Fatalf("entry %d %q not after %q: list not sorted or not unique", i, w, prev)
		}
		if w != Normalize(w) || utf8.RuneCountInString(w) < MinListedLength {
			t.Fatalf("entry %d %q not normalized or too short", i, w)
		}
		prev = w
	}
	for _, w := range []string{"password", "123456", "qwerty123", "trustno1", "iloveyou"} {
		if !list.contains(w) {
			t.Errorf("%q missing from the blocklist", w)
		}
	}
	for _, w := range []string{"", "correct horse battery staple", "zzzzzzzzzzzzzzzzzzzzzzzzzzzz"} {
		if list.contains(w) {
			t.Errorf("%q found in the blocklist", w)
		}
	}
	t.Logf("blocklist: %d entries, %d bytes compressed, %d bytes of text", list.len(), len(passwordsGz), len(list.data))
}

func BenchmarkCheck(b *testing.B) {
	blocklist()
	passwords := []string{"Password1!", "correct horse battery staple", "Zq9!xk2wLm4#prT", "12345678", "jsmith-likes-tea"}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Default.Check(passwords[i%len(passwords)], false, "jsmith", "john.smith")
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "password", "Password1!", "12345678", "correct horse battery staple",
		"🐴🔋📎🙂🌵🚲🧀🎻", "ﬃxq7#zb", "cafe\u0301 9z!", "abc\xffdefgh", "ﷺﷺﷺﷺ", strings.Repeat("x", 300)} {
		f.Add(s, false, "jsmith")
		f.Add(s, true, "")
	}
	f.Fuzz(func(t *testing.T, password string, single bool, context string) {
		err := Default.Check(password, single, context)
		if err != nil {
			reason(t, err) // an *sls.Error with code invalid_argument
			return
		}
		n := utf8.RuneCountInString(norm.NFKC.String(password))
		minLen := Default.MinLength
		if single {
			minLen = Default.MinLengthSingleFactor
		}
		if !utf8.ValidString(password) || n < minLen || n > Default.MaxLength {
			t.Fatalf("accepted %q (%d code points after NFKC, single factor %v)", password, n, single)
		}
	})
}
