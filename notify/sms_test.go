package notify

import (
	"strings"
	"testing"
)

func TestSMSSegments(t *testing.T) {
	cases := []struct {
		s        string
		segments int
		gsm      bool
	}{
		{"", 1, true},
		{strings.Repeat("a", 160), 1, true},
		{strings.Repeat("a", 161), 2, true},
		{strings.Repeat("a", 306), 2, true},
		{strings.Repeat("a", 307), 3, true},
		{strings.Repeat("€", 80), 1, true},                                   // 160 septets
		{strings.Repeat("€", 81), 2, true},                                   // 162 septets
		{strings.Repeat("a", 152) + "€", 1, true},                            // 154 septets
		{strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), 3, true}, // 306 septets, but the escape pair is not split
		{"Ön", 1, false},                                                     // Ö is GSM, n is GSM… but:
		{strings.Repeat("ő", 70), 1, false},                                  // ő is not GSM
		{strings.Repeat("ő", 71), 2, false},                                  // 67 + 4
		{strings.Repeat("中", 134), 2, false},                                 // 67 * 2
		{strings.Repeat("中", 135), 3, false},                                 //
		{strings.Repeat("😀", 35), 1, false},                                  // 70 units
		{strings.Repeat("a", 66) + "😀" + strings.Repeat("a", 66), 3, false},  // 134 units, but the surrogate pair is not split
	}
	cases[9].gsm = true // "Ön" is entirely GSM 7-bit
	for _, c := range cases {
		n, gsm := SMSSegments(c.s)
		if n != c.segments || gsm != c.gsm {
			t.Errorf("SMSSegments(%.20q…) = %d,%v; want %d,%v", c.s, n, gsm, c.segments, c.gsm)
		}
	}
	if !IsGSM7("Hello @ £ ¿ ñ [x]") || IsGSM7("á") || IsGSM7("中") {
		t.Error("IsGSM7")
	}
}
