// Package passrules decides whether a new password may be chosen, following
// NIST SP 800-63B §5.1.1.2 (memorized secret verifiers):
//
//   - at least 8 characters, or 15 when the password is the only factor
//     (SP 800-63B-4 §3.1.1.2 raised the single-factor minimum to 15);
//   - at most a generous maximum (256 by default; at least 64 must be
//     allowed);
//   - every Unicode character allowed, spaces included, and no composition
//     rules (no "one digit, one capital" demands);
//   - refused when it is on a list of commonly used, expected or
//     compromised values: a blocklist of breached passwords, repetitive or
//     sequential characters ("aaaaaaaa", "12345678", "1234abcd") and
//     context-specific words (the username, the e-mail's local part).
//
// Length is counted in Unicode code points after NFKC normalization, as
// §5.1.1.2 asks ("each Unicode code point SHALL be counted as a single
// character"; "the verifier SHOULD apply the Normalization Process for
// Stabilized Strings using either the NFKC or NFKD normalization").
//
// The blocklist is the union of the "passwords" frequency lists of zxcvbn
// 4.4.2 (30,000 entries) and @zxcvbn-ts/language-common 4.1.3 (49,233),
// both MIT-licensed and drawn from real password leaks (see NOTICE.md):
// 49,224 distinct entries of four or more code points, stored in
// passwords.txt.gz (sorted, normalized, one per line, gzip: 142,806 bytes,
// 388 KB of text) and decompressed once, on first use, into a sorted table
// searched by bisection (about 590 KB in memory). The zxcvbn lists of
// English words, first names and surnames are deliberately left out: they
// are words, not passwords people were seen to use, and refusing every
// dictionary word or name turns away acceptable passwords that the length
// rule already makes costly to guess, while false positives push people to
// worse habits. Rebuild the list with ./internal/gen.
package passrules

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	sls "github.com/secure-login-system/sls"
)

// Defaults and floors, NIST SP 800-63B §5.1.1.2.
const (
	// DefaultMinLength: "Memorized secrets SHALL be at least 8 characters
	// in length if chosen by the subscriber."
	DefaultMinLength = 8
	// DefaultMinLengthSingleFactor: SP 800-63B-4 §3.1.1.2 requires 15 when
	// the password is used as a single-factor authenticator.
	DefaultMinLengthSingleFactor = 15
	// DefaultMaxLength is generous; §5.1.1.2: "Verifiers SHOULD permit
	// subscriber-chosen memorized secrets at least 64 characters in length."
	DefaultMaxLength = 256
	// MinMaxLength is the lowest maximum a Rules may set (same sentence).
	MinMaxLength = 64

	// MinListedLength is the shortest blocklist entry kept, and the
	// shortest context word considered: anything shorter matches too much
	// by accident inside an acceptable password.
	MinListedLength = 4
	// affixMaxLength: a password whose core (digits, spaces, ASCII
	// punctuation and symbols trimmed from both ends) is listed is refused only while the
	// whole is at most this long. "Password1!" is refused; a 17-character
	// "password" followed by nine random digits is left to the length rule.
	affixMaxLength = 16
	// maxPeriod: a password that is one unit of up to this many code points
	// repeated ("abababab", "123123123") is repetitive.
	maxPeriod = 4
)

// Reasons put in the "reason" detail of the errors Check returns.
const (
	ReasonTooShort        = "too_short"
	ReasonTooLong         = "too_long"
	ReasonBlocklisted     = "blocklisted"
	ReasonContext         = "context"
	ReasonInvalidEncoding = "invalid_encoding"
)

// Rules are the length limits of a password, in code points after NFKC.
// A zero field takes its default; a value weaker than NIST's floor is
// raised to it by Check (fail closed) and reported by Validate.
type Rules struct {
	MinLength             int // default 8
	MinLengthSingleFactor int // default 15: the password is the only factor
	MaxLength             int // default 256, at least 64
}

// Default are the rules NIST SP 800-63B §5.1.1.2 sets.
var Default = Rules{
	MinLength:             DefaultMinLength,
	MinLengthSingleFactor: DefaultMinLengthSingleFactor,
	MaxLength:             DefaultMaxLength,
}

// Validate reports limits weaker than NIST SP 800-63B §5.1.1.2 allows, or
// contradictory. Zero fields are taken as their defaults.
func (r Rules) Validate() error {
	r = r.withDefaults()
	switch {
	case r.MinLength < DefaultMinLength:
		return fmt.Errorf("passrules: minimum length %d is below NIST SP 800-63B's 8", r.MinLength)
	case r.MinLengthSingleFactor < DefaultMinLengthSingleFactor:
		return fmt.Errorf("passrules: single-factor minimum length %d is below NIST SP 800-63B's 15", r.MinLengthSingleFactor)
	case r.MaxLength < MinMaxLength:
		return fmt.Errorf("passrules: maximum length %d is below NIST SP 800-63B's 64", r.MaxLength)
	case r.MaxLength < r.MinLength || r.MaxLength < r.MinLengthSingleFactor:
		return fmt.Errorf("passrules: maximum length %d is below a minimum length", r.MaxLength)
	}
	return nil
}

func (r Rules) withDefaults() Rules {
	if r.MinLength == 0 {
		r.MinLength = DefaultMinLength
	}
	if r.MinLengthSingleFactor == 0 {
		r.MinLengthSingleFactor = DefaultMinLengthSingleFactor
	}
	if r.MaxLength == 0 {
		r.MaxLength = DefaultMaxLength
	}
	return r
}

// effective is what Check enforces: defaults for zeros, never below the
// NIST floors, and a maximum no lower than either minimum.
func (r Rules) effective() Rules {
	r = r.withDefaults()
	r.MinLength = max(r.MinLength, DefaultMinLength)
	r.MinLengthSingleFactor = max(r.MinLengthSingleFactor, DefaultMinLengthSingleFactor, r.MinLength)
	r.MaxLength = max(r.MaxLength, MinMaxLength, r.MinLengthSingleFactor)
	return r
}

// Normalize is the form passwords are compared in: NFKC, then lower case.
// It is used for the blocklist and context words, never to hash: lower
// casing would throw away the password's case.
func Normalize(s string) string {
	return strings.ToLower(norm.NFKC.String(s))
}

// Check decides whether password may be chosen. singleFactor says the
// password is the user's only authenticator (15 characters then). context
// holds words the password must not contain, such as the username and the
// local part of the e-mail address; each is also split at characters that
// are neither letters nor digits ("john.smith" gives "john" and "smith"),
// the "derivatives thereof" of §5.1.1.2, and parts shorter than four code
// points are ignored.
//
// Check returns nil, or an *sls.Error with code invalid_argument, a message
// that names the rule, and a "reason" detail: too_short, too_long,
// blocklisted (a breached or common password, or repetitive or sequential
// characters), context, or invalid_encoding (not UTF-8). It never echoes
// the password.
func (r Rules) Check(password string, singleFactor bool, context ...string) error {
	r = r.effective()
	if !utf8.ValidString(password) {
		return sls.Errorf(sls.CodeInvalidArgument, "The password must be valid UTF-8 text.").
			WithDetail("reason", ReasonInvalidEncoding)
	}
	// NFKC may compose a few code points into one, but never 16 into one:
	// a longer input is too long whatever it normalizes to, and is refused
	// before the normalizer spends time on it.
	if len(password) > 16*4*r.MaxLength {
		return tooLong(r.MaxLength)
	}
	n := utf8.RuneCountInString(norm.NFKC.String(password))
	minLen := r.MinLength
	if singleFactor {
		minLen = r.MinLengthSingleFactor
	}
	if n < minLen {
		msg := fmt.Sprintf("The password must have at least %d characters.", minLen)
		if singleFactor {
			msg = fmt.Sprintf("The password must have at least %d characters when it is the only factor.", minLen)
		}
		return sls.Errorf(sls.CodeInvalidArgument, "%s", msg).
			WithDetail("reason", ReasonTooShort).WithDetail("min_length", minLen)
	}
	if n > r.MaxLength {
		return tooLong(r.MaxLength)
	}

	p := Normalize(password)
	if repetitive(p) {
		return sls.Errorf(sls.CodeInvalidArgument,
			"The password must not be repeated or sequential characters such as \"aaaaaaaa\", \"12345678\" or \"abcdefgh\".").
			WithDetail("reason", ReasonBlocklisted)
	}
	if blocklisted(p) {
		return sls.Errorf(sls.CodeInvalidArgument,
			"This password is too common: it appears in lists of breached passwords. Please choose another.").
			WithDetail("reason", ReasonBlocklisted)
	}
	if containsContext(p, context) {
		return sls.Errorf(sls.CodeInvalidArgument,
			"The password must not contain your username or other words from your account.").
			WithDetail("reason", ReasonContext)
	}
	return nil
}

func tooLong(maxLen int) error {
	return sls.Errorf(sls.CodeInvalidArgument, "The password must have at most %d characters.", maxLen).
		WithDetail("reason", ReasonTooLong).WithDetail("max_length", maxLen)
}

// blocklisted reports whether the normalized password p is on the list, or
// is a listed or repetitive core with digits, spaces or ASCII punctuation
// and symbols around it
// ("Password1!", "2024dragon") while at most affixMaxLength code points.
func blocklisted(p string) bool {
	list := blocklist()
	if list.contains(p) {
		return true
	}
	core := strings.TrimFunc(p, isAffix)
	if core == p || utf8.RuneCountInString(p) > affixMaxLength ||
		utf8.RuneCountInString(core) < MinListedLength {
		return false
	}
	return list.contains(core) || repetitive(core)
}

// isAffix: digits, spaces and ASCII punctuation and symbols, what people
// add to a word to satisfy composition rules. Other symbols (emoji) are
// content, not padding: "🐴🔋📎 staple" is not "staple".
func isAffix(r rune) bool {
	return unicode.IsDigit(r) || unicode.IsSpace(r) ||
		r < utf8.RuneSelf && (unicode.IsPunct(r) || unicode.IsSymbol(r))
}

// repetitive reports "repetitive or sequential characters" (§5.1.1.2) in
// the normalized password p: one short unit repeated ("abababab",
// "123123123"), a repeated listed word ("dragondragon"), or a string made
// of few runs in which each code point is the previous one, or one more,
// or one less ("aaaaaaaa", "12345678", "zyxwvuts", "1234abcd", "aaaabbbb"):
// at most one such run per four code points.
func repetitive(p string) bool {
	rs := []rune(p)
	n := len(rs)
	if n == 0 {
		return false
	}
	if k := period(rs); k <= n/2 && (k <= maxPeriod || blocklist().contains(string(rs[:k]))) {
		return true
	}
	runs := 0
	for i := 0; i < n; {
		runs++
		j := i + 1
		if j < n {
			if d := rs[j] - rs[i]; d >= -1 && d <= 1 {
				for j+1 < n && rs[j+1]-rs[j] == d {
					j++
				}
				j++
			}
		}
		i = j
	}
	return 4*runs <= n
}

// period returns the smallest k such that rs is its first k code points
// repeated (the last repetition may be cut short): len(rs) minus its
// longest border, from the Knuth–Morris–Pratt prefix function, in linear
// time whatever the length.
func period(rs []rune) int {
	pi := make([]int, len(rs))
	for i := 1; i < len(rs); i++ {
		k := pi[i-1]
		for k > 0 && rs[i] != rs[k] {
			k = pi[k-1]
		}
		if rs[i] == rs[k] {
			k++
		}
		pi[i] = k
	}
	return len(rs) - pi[len(rs)-1]
}

// containsContext reports whether the normalized password p contains one
// of the context words or one of their parts, of at least
// MinListedLength code points.
func containsContext(p string, words []string) bool {
	for _, w := range words {
		w = Normalize(w)
		if hasWord(p, w) {
			return true
		}
		for _, part := range strings.FieldsFunc(w, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsNumber(r)
		}) {
			if part != w && hasWord(p, part) {
				return true
			}
		}
	}
	return false
}

func hasWord(p, w string) bool {
	return utf8.RuneCountInString(w) >= MinListedLength && strings.Contains(p, w)
}

// Check applies the Default rules (what the server does for every new
// password).
func Check(password string, singleFactor bool, context ...string) error {
	return Default.Check(password, singleFactor, context...)
}
