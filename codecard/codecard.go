// Package codecard makes and checks the printed code cards: the legacy
// Security Code Card (3-character values) and the Online Security Code Card
// (3-digit values printed from the portal). A card is a numbered list of
// random values; at login the user is asked for the values beside two index
// numbers. The package generates cards, picks the index pairs to ask,
// checks answers in constant time, serialises cards for sealed storage and
// renders them for printing as text, HTML and PNG.
//
// Everything random comes from an io.Reader passed in (crypto/rand.Reader
// in production).
package codecard

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// Alphabets of the presets.
const (
	// UnambiguousAlphabet is upper-case letters and digits without the
	// look-alikes 0/O, 1/I/L, so a value read off paper is typed right.
	UnambiguousAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
	// DigitAlphabet is the decimal digits.
	DigitAlphabet = "0123456789"
)

// Card limits.
const (
	MinCount  = 2   // two indices are asked at once
	MaxCount  = 999 // three-digit index numbers on the printed card
	MaxLength = 16  // characters per value
)

// Preset describes a kind of card.
type Preset struct {
	Name     string // printed title
	Alphabet string
	Length   int // characters per value
	Count    int // number of indices
}

// The two card kinds of the product (SPEC §2). Fifty indices fit a
// wallet-sized card as a 5×10 grid; a pair of values then has 31^6 ≈ 2^29.7
// (Security Code Card) or 10^6 ≈ 2^19.9 (Online card) possibilities, the
// login's attempt limits doing the rest.
var (
	SecurityCodeCard = Preset{Name: "Security Code Card", Alphabet: UnambiguousAlphabet, Length: 3, Count: 50}
	OnlineCard       = Preset{Name: "Online Security Code Card", Alphabet: DigitAlphabet, Length: 3, Count: 50}
)

// Generate makes a card of the preset's shape.
func (p Preset) Generate(rand io.Reader) (Card, error) {
	return Generate(rand, p.Alphabet, p.Length, p.Count)
}

// Card is a code card: Values[i-1] is the value printed beside index i.
// Values hold secrets: never log a Card.
type Card struct {
	Values []string
}

// Len is the number of indices.
func (c Card) Len() int { return len(c.Values) }

// Value returns the value at index i (1-based).
func (c Card) Value(i int) (string, bool) {
	if i < 1 || i > len(c.Values) {
		return "", false
	}
	return c.Values[i-1], true
}

// Validate checks that the card has MinCount to MaxCount values, all of the
// same length (1 to MaxLength) and made of allowed characters (see
// Generate).
func (c Card) Validate() error {
	n := len(c.Values)
	if n < MinCount || n > MaxCount {
		return fmt.Errorf("codecard: card has %d values, want %d to %d", n, MinCount, MaxCount)
	}
	l := len(c.Values[0])
	if l < 1 || l > MaxLength {
		return fmt.Errorf("codecard: value length %d, want 1 to %d", l, MaxLength)
	}
	for i, v := range c.Values {
		if len(v) != l {
			return fmt.Errorf("codecard: value %d has length %d, want %d", i+1, len(v), l)
		}
		for j := 0; j < len(v); j++ {
			if !allowedChar(v[j]) {
				return fmt.Errorf("codecard: value %d: character %q not allowed", i+1, v[j])
			}
		}
	}
	return nil
}

// allowedChar: printable ASCII, but not the characters Check discards
// (separators) or folds (lower case), so that every value is typeable and
// compares as printed.
func allowedChar(c byte) bool {
	return c > ' ' && c < 0x7f && c != '-' && c != ',' && !(c >= 'a' && c <= 'z')
}

// Generate makes a card of count values (indices 1..count), each of length
// characters drawn uniformly from alphabet. The alphabet is 2 or more
// distinct printable ASCII characters, without lower-case letters, '-' or
// ',' (answers are folded to upper case and stripped of separators).
func Generate(rand io.Reader, alphabet string, length, count int) (Card, error) {
	if err := checkAlphabet(alphabet); err != nil {
		return Card{}, err
	}
	if length < 1 || length > MaxLength {
		return Card{}, fmt.Errorf("codecard: generate: length %d, want 1 to %d", length, MaxLength)
	}
	if count < MinCount || count > MaxCount {
		return Card{}, fmt.Errorf("codecard: generate: count %d, want %d to %d", count, MinCount, MaxCount)
	}
	syms, err := uniformSymbols(rand, len(alphabet), length*count)
	if err != nil {
		return Card{}, fmt.Errorf("codecard: generate: %w", err)
	}
	c := Card{Values: make([]string, count)}
	buf := make([]byte, length)
	for i := range c.Values {
		for j := range buf {
			buf[j] = alphabet[syms[i*length+j]]
		}
		c.Values[i] = string(buf)
	}
	return c, nil
}

func checkAlphabet(a string) error {
	if len(a) < 2 {
		return fmt.Errorf("codecard: alphabet has %d characters, want at least 2", len(a))
	}
	var seen [256]bool
	for i := 0; i < len(a); i++ {
		c := a[i]
		if !allowedChar(c) {
			return fmt.Errorf("codecard: alphabet: character %q not allowed", c)
		}
		if seen[c] {
			return fmt.Errorf("codecard: alphabet: %q repeated", c)
		}
		seen[c] = true
	}
	return nil
}

// uniformSymbols returns n numbers uniform in [0, size), size <= 256, by
// rejection sampling on random bytes: bytes at or above the largest multiple
// of size are dropped, so that no symbol is favoured (no modulo bias).
func uniformSymbols(rand io.Reader, size, n int) ([]byte, error) {
	limit := 256 - 256%size // accept b < limit
	out := make([]byte, 0, n)
	buf := make([]byte, n+16)
	// At worst about half the bytes are rejected (size 129); a source
	// that fails 64 times over is broken, not unlucky.
	for budget := 64 * (n + 16); len(out) < n; {
		if budget <= 0 {
			return nil, errors.New("random source keeps giving rejected bytes")
		}
		want := min(len(buf), n-len(out)+16)
		if _, err := io.ReadFull(rand, buf[:want]); err != nil {
			return nil, fmt.Errorf("read random: %w", err)
		}
		budget -= want
		for _, b := range buf[:want] {
			if int(b) < limit && len(out) < n {
				out = append(out, b%byte(size))
			}
		}
	}
	return out, nil
}

// uniformInt returns a number uniform in [0, n), 0 < n <= 2^32, by
// rejection sampling on 32-bit words.
func uniformInt(rand io.Reader, n uint64) (uint64, error) {
	const space = 1 << 32
	limit := space - space%n
	var b [4]byte
	for range 64 {
		if _, err := io.ReadFull(rand, b[:]); err != nil {
			return 0, fmt.Errorf("read random: %w", err)
		}
		v := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
		if v < limit {
			return v % n, nil
		}
	}
	return 0, errors.New("random source keeps giving rejected words")
}

// PickPair picks the two index numbers to ask, uniformly among the pairs of
// distinct indices in 1..count other than last (SPEC: the same pair is not
// asked twice in a row; {2,5} and {5,2} are the same pair). Pass [2]int{}
// when nothing was asked before; a last pair that is not a valid pair for
// this count is ignored. The pair is returned in ascending order, the order
// in which the user is asked for the values.
func PickPair(rand io.Reader, count int, last [2]int) ([2]int, error) {
	if count < MinCount || count > MaxCount {
		return [2]int{}, fmt.Errorf("codecard: pick pair: count %d, want %d to %d", count, MinCount, MaxCount)
	}
	a, b := min(last[0], last[1]), max(last[0], last[1])
	exclude := a >= 1 && b <= count && a != b
	total := count * (count - 1) / 2
	if exclude {
		total--
	}
	if total == 0 {
		return [2]int{}, errors.New("codecard: pick pair: no pair other than the last one")
	}
	k, err := uniformInt(rand, uint64(total))
	if err != nil {
		return [2]int{}, fmt.Errorf("codecard: pick pair: %w", err)
	}
	// Pairs in lexicographic order, skipping the excluded one: the excluded
	// pair's rank is where the remaining ones shift up by one.
	rank := int(k)
	if exclude && rank >= pairRank(count, a, b) {
		rank++
	}
	return pairAt(count, rank), nil
}

// pairRank is the 0-based position of (i, j), i < j, among all pairs of
// 1..count in lexicographic order.
func pairRank(count, i, j int) int {
	// Pairs starting with 1..i-1 come first: (count-1) + ... + (count-i+1).
	before := (i - 1) * (2*count - i) / 2
	return before + (j - i - 1)
}

// pairAt is the inverse of pairRank.
func pairAt(count, rank int) [2]int {
	for i := 1; i < count; i++ {
		row := count - i // pairs (i, i+1..count)
		if rank < row {
			return [2]int{i, i + 1 + rank}
		}
		rank -= row
	}
	panic("codecard: unreachable: pair rank out of range")
}

// maxAnswer bounds the work done on an answer; real answers are two values
// and a separator.
const maxAnswer = 4*MaxLength + 16

// Check reports whether answer gives the values at the two indices of pair,
// in that order. Case, white space, dashes and commas are ignored ("k7m-2p9",
// "K7M 2P9", "K7M2P9" all match K7M and 2P9). The comparison of the values
// is constant-time. An index outside the card, or the same index twice,
// never matches.
func Check(card Card, pair [2]int, answer string) bool {
	v1, ok1 := card.Value(pair[0])
	v2, ok2 := card.Value(pair[1])
	if !ok1 || !ok2 || pair[0] == pair[1] || len(answer) > maxAnswer {
		return false
	}
	want := normalize(v1 + v2)
	got := normalize(answer)
	if len(want) == 0 {
		return false
	}
	return subtle.ConstantTimeCompare(want, got) == 1
}

// normalize folds ASCII lower case to upper case and drops white space,
// dashes and commas. Non-ASCII bytes are kept, so they never match.
func normalize(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-' || c == ',':
			continue
		case c >= 'a' && c <= 'z':
			c -= 'a' - 'A'
		}
		out = append(out, c)
	}
	// Unicode white space (a no-break space pasted from a page) is kept on
	// purpose: values are ASCII, so such answers fail closed.
	return out
}
