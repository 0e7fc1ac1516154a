package temppass

import "testing"

// FuzzNormalize: any typed passcode normalizes without panicking, to a
// form that normalizes to itself (so the stored hash and the typed code
// always meet in one form) and holds no separators.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"ABCD-EFGH-JKMN", "abcd efgh\tjkmn", "", "----", "ß", "ǅ", "\xff\xfe", "ﬀ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if again := Normalize(n); again != n {
			t.Fatalf("Normalize(%q) = %q, then %q", s, n, again)
		}
	})
}
