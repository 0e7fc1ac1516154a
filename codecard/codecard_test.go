package codecard

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// seeded is a deterministic random source for tests.
func seeded(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// cycle yields 0, 1, ..., 255, 0, 1, ... for ever.
type cycle struct{ next byte }

func (c *cycle) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = c.next
		c.next++
	}
	return len(p), nil
}

type constant byte

func (c constant) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(c)
	}
	return len(p), nil
}

func TestPresets(t *testing.T) {
	for _, c := range "0O1IL" {
		if strings.ContainsRune(SecurityCodeCard.Alphabet, c) {
			t.Errorf("SecurityCodeCard alphabet holds ambiguous %q", c)
		}
	}
	scc, err := SecurityCodeCard.Generate(seeded(1))
	if err != nil {
		t.Fatal(err)
	}
	if scc.Len() != 50 {
		t.Fatalf("SCC has %d values", scc.Len())
	}
	for _, v := range scc.Values {
		if len(v) != 3 || strings.Trim(v, UnambiguousAlphabet) != "" {
			t.Fatalf("SCC value %q", v)
		}
	}
	online, err := OnlineCard.Generate(seeded(2))
	if err != nil {
		t.Fatal(err)
	}
	if online.Len() != 50 {
		t.Fatalf("online card has %d values", online.Len())
	}
	for _, v := range online.Values {
		if len(v) != 3 || strings.Trim(v, "0123456789") != "" {
			t.Fatalf("online value %q", v)
		}
	}
	if v, ok := online.Value(50); !ok || v != online.Values[49] {
		t.Fatal("Value(50)")
	}
	for _, i := range []int{0, 51, -1} {
		if _, ok := online.Value(i); ok {
			t.Fatalf("Value(%d) ok", i)
		}
	}
	again, _ := OnlineCard.Generate(seeded(2))
	other, _ := OnlineCard.Generate(seeded(3))
	if !equalCards(online, again) || equalCards(online, other) {
		t.Fatal("generation is not a function of the random source")
	}
}

func equalCards(a, b Card) bool {
	return strings.Join(a.Values, ",") == strings.Join(b.Values, ",")
}

// Every byte value once: with 31 symbols the 248 bytes below 8×31 are kept
// and must give each symbol exactly 8 times; bytes 248..255 must be dropped
// rather than folded onto the first symbols (modulo bias).
func TestGenerateNoModuloBias(t *testing.T) {
	for _, alphabet := range []string{UnambiguousAlphabet, DigitAlphabet, "AB", "ABCDEFG"} {
		n := len(alphabet)
		kept := 256 - 256%n
		// One symbol per byte below kept: length 1, count kept, split into
		// a card of kept values.
		c, err := Generate(&cycle{}, alphabet, 1, min(kept, MaxCount))
		if err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		for _, v := range c.Values {
			counts[v]++
		}
		for i := range n {
			if got := counts[alphabet[i:i+1]]; got != kept/n {
				t.Errorf("alphabet %q: symbol %q drawn %d times, want %d", alphabet, alphabet[i], got, kept/n)
			}
		}
	}
}

func TestGenerateErrors(t *testing.T) {
	tests := []struct {
		name     string
		rand     io.Reader
		alphabet string
		length   int
		count    int
	}{
		{"short alphabet", seeded(1), "A", 3, 50},
		{"repeated symbol", seeded(1), "ABCA", 3, 50},
		{"lower case", seeded(1), "ABc", 3, 50},
		{"dash", seeded(1), "AB-", 3, 50},
		{"comma", seeded(1), "AB,", 3, 50},
		{"space", seeded(1), "AB ", 3, 50},
		{"non-ASCII", seeded(1), "ABÄ", 3, 50},
		{"length 0", seeded(1), "AB", 0, 50},
		{"length 17", seeded(1), "AB", 17, 50},
		{"count 1", seeded(1), "AB", 3, 1},
		{"count 1000", seeded(1), "AB", 3, 1000},
		{"short read", bytes.NewReader(make([]byte, 10)), "AB", 3, 50},
		{"always rejected", constant(0xff), DigitAlphabet, 3, 50},
	}
	for _, tt := range tests {
		if _, err := Generate(tt.rand, tt.alphabet, tt.length, tt.count); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestPairRank(t *testing.T) {
	for count := 2; count <= 30; count++ {
		rank := 0
		for i := 1; i <= count; i++ {
			for j := i + 1; j <= count; j++ {
				if got := pairRank(count, i, j); got != rank {
					t.Fatalf("pairRank(%d, %d, %d) = %d, want %d", count, i, j, got, rank)
				}
				if got := pairAt(count, rank); got != [2]int{i, j} {
					t.Fatalf("pairAt(%d, %d) = %v", count, rank, got)
				}
				rank++
			}
		}
	}
}

func TestPickPair(t *testing.T) {
	r := seeded(7)
	const count = 6
	seen := map[[2]int]int{}
	last := [2]int{}
	for range 3000 {
		p, err := PickPair(r, count, last)
		if err != nil {
			t.Fatal(err)
		}
		if p[0] < 1 || p[1] > count || p[0] >= p[1] {
			t.Fatalf("pair %v", p)
		}
		if p == last {
			t.Fatalf("pair %v asked twice in a row", p)
		}
		seen[p]++
		last = [2]int{p[1], p[0]} // the reversed pair is the same pair
	}
	if len(seen) != count*(count-1)/2 {
		t.Fatalf("%d distinct pairs, want %d", len(seen), count*(count-1)/2)
	}
	for p, n := range seen {
		// 3000/15 = 200 expected; a fair source stays well inside this.
		if n < 120 || n > 290 {
			t.Errorf("pair %v picked %d times", p, n)
		}
	}

	// The only other pair of three indices.
	for range 20 {
		p, err := PickPair(r, 3, [2]int{3, 1})
		if err != nil || p == [2]int{1, 3} {
			t.Fatalf("PickPair(3, {3,1}) = %v, %v", p, err)
		}
	}
	if p, err := PickPair(r, 2, [2]int{}); err != nil || p != [2]int{1, 2} {
		t.Fatalf("PickPair(2, none) = %v, %v", p, err)
	}
	if _, err := PickPair(r, 2, [2]int{2, 1}); err == nil {
		t.Fatal("PickPair(2, {2,1}): no error")
	}
	// An invalid last pair is ignored.
	if p, err := PickPair(r, 2, [2]int{1, 1}); err != nil || p != [2]int{1, 2} {
		t.Fatalf("PickPair(2, {1,1}) = %v, %v", p, err)
	}
	for _, c := range []int{-1, 0, 1, 1000} {
		if _, err := PickPair(r, c, [2]int{}); err == nil {
			t.Errorf("PickPair(count %d): no error", c)
		}
	}
	if _, err := PickPair(constant(0xff), 50, [2]int{}); err == nil {
		t.Error("PickPair with a source that is always rejected: no error")
	}
	if _, err := PickPair(bytes.NewReader(nil), 50, [2]int{}); !errors.Is(err, io.EOF) {
		t.Errorf("PickPair with an empty source: %v", err)
	}
}

func TestCheck(t *testing.T) {
	card := Card{Values: []string{"K7M", "2P9", "ABC", "XYZ"}}
	pair := [2]int{1, 2}
	good := []string{"K7M2P9", "k7m2p9", "K7M 2P9", "k7m-2p9", "K7M, 2P9", " K7M\t2P9 ", "K-7-M-2-P-9"}
	for _, a := range good {
		if !Check(card, pair, a) {
			t.Errorf("Check(%q) = false", a)
		}
	}
	bad := []string{"", "K7M", "2P9K7M", "K7M2P8", "K7M2P9X", "K7M\u00a02P9", "Ｋ7M2P9", "K7M;2P9",
		strings.Repeat(" ", 200) + "K7M2P9"}
	for _, a := range bad {
		if Check(card, pair, a) {
			t.Errorf("Check(%q) = true", a)
		}
	}
	if !Check(card, [2]int{2, 1}, "2P9K7M") {
		t.Error("reversed pair, reversed answer refused")
	}
	for _, p := range [][2]int{{0, 1}, {1, 5}, {1, 1}, {-1, 2}} {
		if Check(card, p, "K7M2P9") || Check(card, p, "K7MK7M") {
			t.Errorf("Check with pair %v = true", p)
		}
	}
	if Check(Card{}, pair, "") {
		t.Error("empty card matched")
	}
}

func TestMarshal(t *testing.T) {
	for i, p := range []Preset{SecurityCodeCard, OnlineCard} {
		c, _ := p.Generate(seeded(byte(i)))
		b, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 4+3*50 {
			t.Fatalf("%d bytes", len(b))
		}
		back, err := Unmarshal(b)
		if err != nil || !equalCards(c, back) {
			t.Fatalf("round trip: %v", err)
		}
	}
	if _, err := Marshal(Card{Values: []string{"AB", "ABC"}}); err == nil {
		t.Error("ragged card marshalled")
	}
	if _, err := Marshal(Card{Values: []string{"ab", "cd"}}); err == nil {
		t.Error("lower-case card marshalled")
	}
	if _, err := Marshal(Card{}); err == nil {
		t.Error("empty card marshalled")
	}

	good, _ := Marshal(Card{Values: []string{"AB", "CD"}})
	mutate := func(f func([]byte) []byte) []byte { return f(bytes.Clone(good)) }
	bad := map[string][]byte{
		"empty":      nil,
		"header":     good[:3],
		"version":    mutate(func(b []byte) []byte { b[0] = 2; return b }),
		"length 0":   mutate(func(b []byte) []byte { b[1] = 0; return b }),
		"length 17":  mutate(func(b []byte) []byte { b[1] = 17; return b }),
		"count 1":    mutate(func(b []byte) []byte { b[3] = 1; return b[:6] }),
		"count 1000": {1, 3, 0x03, 0xe8},
		"truncated":  good[:len(good)-1],
		"trailing":   append(bytes.Clone(good), 'E'),
		"lower":      mutate(func(b []byte) []byte { b[4] = 'a'; return b }),
		"dash":       mutate(func(b []byte) []byte { b[5] = '-'; return b }),
		"control":    mutate(func(b []byte) []byte { b[6] = '\n'; return b }),
		"high byte":  mutate(func(b []byte) []byte { b[7] = 0xc3; return b }),
	}
	for name, b := range bad {
		if _, err := Unmarshal(b); err == nil {
			t.Errorf("%s: Unmarshal accepted %x", name, b)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	scc, _ := SecurityCodeCard.Generate(seeded(1))
	b, _ := Marshal(scc)
	f.Add(b)
	f.Add([]byte{1, 1, 0, 2, 'A', 'B'})
	f.Add([]byte{1, 16, 0, 2})
	f.Add([]byte{})
	f.Add([]byte{2, 3, 0, 50})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Unmarshal(b)
		if err != nil {
			return
		}
		again, err := Marshal(c)
		if err != nil {
			t.Fatalf("Marshal of an unmarshalled card: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("re-encoding differs: %x vs %x", again, b)
		}
		p, err := PickPair(seeded(1), c.Len(), [2]int{})
		if err != nil {
			t.Fatal(err)
		}
		v1, _ := c.Value(p[0])
		v2, _ := c.Value(p[1])
		if !Check(c, p, v1+" "+v2) {
			t.Fatal("card refuses its own values")
		}
	})
}
