package notify

import (
	"fmt"
	"strings"
)

// E.164 limits (ITU-T E.164 §6.1): a number is a country calling code of one
// to three digits followed by the national number, at most 15 digits in all.
// The lower bound of 7 admits the shortest numbers in service (Niue and
// Tokelau: three-digit code + four digits) and rejects obvious garbage.
const (
	e164MaxDigits = 15
	e164MinDigits = 7
)

// callingCodes are the country calling codes of ITU-T E.164 (the list the
// ITU publishes as "List of ITU-T Recommendation E.164 assigned country
// codes"), geographic ones plus the non-geographic satellite and
// international mobile networks (870, 881, 882, 883) that carry SMS. Freephone,
// shared-cost and premium codes (800, 808, 979) are left out: no security
// code is ever sent there. Spare and withdrawn codes (e.g. 28x, 671, 684,
// 969) are absent, so a number starting with one is not valid.
//
// The codes are prefix-free by construction of the plan (no code is the start
// of another), which a test checks; CountryPrefix still does a longest-prefix
// match so that the table would stay correct if that ever changed.
const callingCodeTable = `
1
20 211 212 213 216 218 220 221 222 223 224 225 226 227 228 229
230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 246 247 248 249
250 251 252 253 254 255 256 257 258 260 261 262 263 264 265 266 267 268 269
27 290 291 297 298 299
30 31 32 33 34 350 351 352 353 354 355 356 357 358 359 36
370 371 372 373 374 375 376 377 378 379 380 381 382 383 385 386 387 389 39
40 41 420 421 423 43 44 45 46 47 48 49
500 501 502 503 504 505 506 507 508 509 51 52 53 54 55 56 57 58
590 591 592 593 594 595 596 597 598 599
60 61 62 63 64 65 66 670 672 673 674 675 676 677 678 679
680 681 682 683 685 686 687 688 689 690 691 692
7
81 82 84 850 852 853 855 856 86 870 880 881 882 883 886
90 91 92 93 94 95 960 961 962 963 964 965 966 967 968
970 971 972 973 974 975 976 977 98 992 993 994 995 996 998
`

var callingCodes = func() map[string]bool {
	m := make(map[string]bool)
	for _, c := range strings.Fields(callingCodeTable) {
		m[c] = true
	}
	return m
}()

// CountryPrefix returns the calling-code prefix of an E.164 number ("+1",
// "+36", "+852"…), or "" when s is not a valid E.164 number. Per-country SMS
// caps key on it. All of the North American Numbering Plan shares "+1", and
// Russia and Kazakhstan share "+7".
func CountryPrefix(s string) string {
	if !plausibleE164(s) {
		return ""
	}
	d := s[1:]
	for n := 3; n >= 1; n-- {
		if callingCodes[d[:n]] {
			if len(d)-n < 4 {
				return "" // a code alone is not a number
			}
			return "+" + d[:n]
		}
	}
	return ""
}

// ValidE164 reports whether s is a number in strict E.164 form: "+", then
// 7 to 15 digits, starting with an assigned country calling code, with no
// spaces or other separators.
func ValidE164(s string) bool { return CountryPrefix(s) != "" }

func plausibleE164(s string) bool {
	if len(s) < 1+e164MinDigits || len(s) > 1+e164MaxDigits || s[0] != '+' || s[1] == '0' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// NormalizeE164 turns a number as people type it into E.164: it removes the
// visual separators of ITU-T E.123 (spaces, hyphens, dots, slashes,
// parentheses) and accepts "00" for the international prefix "+". National
// forms ("06 30 …", "(212) 555-…") are rejected: guessing the country would
// send codes to the wrong person.
func NormalizeE164(s string) (string, error) {
	if len(s) > 64 {
		return "", fmt.Errorf("notify: phone number too long")
	}
	var b strings.Builder
	b.Grow(len(s))
	t := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(t, "+"):
		t = t[1:]
	case strings.HasPrefix(t, "00"):
		t = t[2:]
	default:
		return "", fmt.Errorf("notify: phone number must start with + or 00 and the country code")
	}
	b.WriteByte('+')
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
		default:
			return "", fmt.Errorf("notify: phone number contains %q", c)
		}
	}
	n := b.String()
	if !ValidE164(n) {
		return "", fmt.Errorf("notify: %q is not a valid international number", n)
	}
	return n, nil
}
