package lifecycle

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanInputs(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"  Ada Client\r\n 10 Elm St \nSpringfield  ", "Ada Client\n10 Elm St\nSpringfield", true},
		{"short", "", false},
		{"Ada\x00Client, 10 Elm St", "", false},
		{strings.Repeat("line 1234\n", 9), "", false},
		{strings.Repeat("x", 501), "", false},
	} {
		got, err := cleanAddress(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("cleanAddress(%q) = %q, %v", c.in, got, err)
		}
	}
	for _, c := range []struct {
		in       string
		required bool
		ok       bool
	}{{"DHL", true, true}, {"", true, false}, {"", false, true}, {"a\nb", true, false}, {strings.Repeat("9", 65), true, false}} {
		if _, err := cleanText("carrier", c.in, c.required); (err == nil) != c.ok {
			t.Errorf("cleanText(%q, %v): %v", c.in, c.required, err)
		}
	}
}

// FuzzCleanAddress: any input is refused or comes out as a few lines of
// printable text within the bounds; never a panic.
func FuzzCleanAddress(f *testing.F) {
	for _, s := range []string{"Ada Client\n10 Elm St\nSpringfield", "\r\n\r\n", "a\x7fbcdefghijk", strings.Repeat("é", 300), "\xff\xfe0123456789"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := cleanAddress(s)
		if err != nil {
			return
		}
		if len(out) > maxAddressLen || strings.Count(out, "\n") >= maxAddressLines || strings.Contains(out, "\r") {
			t.Fatalf("accepted %q as %q", s, out)
		}
		for _, r := range strings.ReplaceAll(out, "\n", "") {
			if !printable(r) {
				t.Fatalf("control character in %q", out)
			}
		}
		if again, err := cleanAddress(out); err != nil || again != out {
			t.Fatalf("not stable: %q → %q %v", out, again, err)
		}
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 accepted: %q", out)
		}
	})
}

// FuzzCleanText: carrier names and tracking numbers are one printable line
// of bounded length, or refused.
func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"DHL", "1Z999AA10123456784", "a\tb", " UPS ", "\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := cleanText("tracking number", s, true)
		if err != nil {
			return
		}
		if out == "" || len(out) > maxCarrierOrTrackingLn || strings.ContainsAny(out, "\n\r\t\x00\u2028") || !utf8.ValidString(out) {
			t.Fatalf("accepted %q as %q", s, out)
		}
	})
}
