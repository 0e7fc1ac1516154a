package passrules

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	sls "github.com/secure-login-system/sls"
)

func reason(err error) string {
	var e *sls.Error
	if errors.As(err, &e) {
		r, _ := e.Detail["reason"].(string)
		return r
	}
	return ""
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		pw     string
		single bool
		ctx    []string
		want   string
	}{
		{"short", false, nil, ReasonTooShort},
		{"tangerine river", false, nil, ""},
		{"tangerine river", true, nil, ""}, // 15 characters
		{"tangerine rive", true, nil, ReasonTooShort},
		{strings.Repeat("long passphrase ", 4), false, nil, ""}, // 64 characters
		{strings.Repeat("x1", 129), false, nil, ReasonTooLong},
		{"password", false, nil, ReasonBlocklisted},
		{"Password1!", false, nil, ReasonBlocklisted},
		{"PASSWORD", false, nil, ReasonBlocklisted},
		{"qwerty123", false, nil, ReasonBlocklisted},
		{"iloveyou", false, nil, ReasonBlocklisted},
		{"aaaaaaaa", false, nil, ReasonBlocklisted},
		{"12345678", false, nil, ReasonBlocklisted},
		{"abcdefgh", false, nil, ReasonBlocklisted},
		{"87654321", false, nil, ReasonBlocklisted},
		{"correct horse battery staple, 2026", false, nil, ""},
		{"paula-is-here-1", false, []string{"paula", "paula"}, ReasonContext},
		{"my name is Bob!!", false, []string{"bob"}, ""}, // context words under 4 characters do not count
		{"密码是长城和黄河", false, nil, ""},                     // 8 characters, all CJK
		{"🔐🔑🗝️🔒🔓🛡️⚔️🏰", false, nil, ""},
		{"ｐａｓｓｗｏｒｄ", false, nil, ReasonBlocklisted}, // full-width: NFKC makes it "password"
	} {
		if got := reason(Check(c.pw, c.single, c.ctx...)); got != c.want {
			t.Errorf("%q (single %v): %q, want %q", c.pw, c.single, got, c.want)
		}
	}
}

func TestMessagesNameTheRule(t *testing.T) {
	err := Check("tangerine", true)
	if !strings.Contains(err.Error(), "15") || !strings.Contains(err.Error(), "only factor") {
		t.Fatalf("%v", err)
	}
}

func TestListSize(t *testing.T) {
	if n := ListSize(); n < 20000 {
		t.Fatalf("the blocklist has %d entries", n)
	}
}

func BenchmarkCheck(b *testing.B) {
	Check("warm up the list", false)
	for b.Loop() {
		Check("correct horse battery staple, 2026", false, "someuser")
	}
}

// FuzzCheck: never panics; what it accepts meets the length rules.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"password", "correct horse battery staple", "ｐａｓｓ", "\xff\xfe", "aaaaaaaaaaaaaaaaa"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, pw string, single bool) {
		if err := Check(pw, single, "user"); err == nil {
			if n := utf8.RuneCountInString(pw); n > 4*Default.MaxLength {
				t.Fatalf("accepted %d characters", n)
			}
			if !utf8.ValidString(pw) {
				t.Fatalf("accepted invalid UTF-8 %q", pw)
			}
		}
	})
}
