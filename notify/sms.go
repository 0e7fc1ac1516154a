package notify

import "unicode/utf16"

// gsmBasic is the GSM 03.38 (3GPP TS 23.038 §6.2.1) default alphabet, one
// septet each; gsmExtension holds the characters reached through the escape
// code, two septets each. Anything else forces the whole message into UCS-2.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "\f^{}\\[~]|€"
)

var gsmSeptets = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}()

// IsGSM7 reports whether s can be sent in the GSM 7-bit default alphabet
// (with its extension table), which allows 160 characters per SMS instead of
// 70.
func IsGSM7(s string) bool {
	for _, r := range s {
		if gsmSeptets[r] == 0 {
			return false
		}
	}
	return true
}

// SMS segment sizes (3GPP TS 23.040 §9.2.3.24.1): a single message holds 160
// septets or 70 UCS-2 units; a concatenated one loses 6 octets to the user
// data header, leaving 153 septets or 67 units per part.
const (
	gsmSingle, gsmPart   = 160, 153
	ucs2Single, ucs2Part = 70, 67
)

// SMSSegments returns how many SMS parts s needs and whether it goes as
// GSM 7-bit (true) or UCS-2 (false). Parts never split an escape sequence or
// a surrogate pair, as handsets require. Empty text is one segment.
func SMSSegments(s string) (segments int, gsm7 bool) {
	gsm7 = IsGSM7(s)
	var units []int
	total := 0
	for _, r := range s {
		u := gsmSeptets[r]
		if !gsm7 {
			u = utf16.RuneLen(r)
			if u < 1 {
				u = 1 // invalid rune: the encoder sends U+FFFD
			}
		}
		units = append(units, u)
		total += u
	}
	single, part := gsmSingle, gsmPart
	if !gsm7 {
		single, part = ucs2Single, ucs2Part
	}
	if total <= single {
		return 1, gsm7
	}
	segments, used := 1, 0
	for _, u := range units {
		if used+u > part {
			segments++
			used = 0
		}
		used += u
	}
	return segments, gsm7
}
