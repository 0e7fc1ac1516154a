package codecard

import (
	"strings"
	"testing"
)

// FuzzCheck: any typed answer, for any index pair, never panics, and an
// accepted answer is the two values of the pair once case, spaces,
// dashes and commas are set aside.
func FuzzCheck(f *testing.F) {
	card, _ := SecurityCodeCard.Generate(seeded(2))
	v1, _ := card.Value(3)
	v2, _ := card.Value(7)
	for _, a := range []string{v1 + v2, v1 + " " + v2, strings.ToLower(v1 + "-" + v2), "", " ", v1, v2 + v1, "ÿÿÿÿÿÿ", strings.Repeat("A", 5000)} {
		f.Add(3, 7, a)
	}
	f.Add(7, 7, v2+v2)
	f.Add(-1, 3, "x")
	f.Add(3, 1<<30, "x")
	f.Fuzz(func(t *testing.T, i, j int, answer string) {
		if !Check(card, [2]int{i, j}, answer) {
			return
		}
		a, _ := card.Value(i)
		b, _ := card.Value(j)
		if i == j || string(normalize(answer)) != string(normalize(a+b)) {
			t.Fatalf("pair (%d,%d): %q accepted for %q %q", i, j, answer, a, b)
		}
	})
}
