// Package passrules decides whether a new password is acceptable, per
// NIST SP 800-63B §5.1.1.2 (memorized secret verifiers):
//
//   - at least 8 characters, or 15 when the password is the only factor
//     (SP 800-63B-4 §3.1.1.2 raises the single-factor minimum to 15);
//   - at most 256, so that 64 and more are always allowed;
//   - every Unicode character (spaces too), counted after NFKC
//     normalization, as the standard asks;
//   - no composition rules (no "one digit and one symbol");
//   - refused when it is on a list of common and breached passwords,
//     repetitive or sequential ("aaaaaaaa", "12345678"), or contains
//     context words (the username, the email address's local part).
//
// The blocklist is the "passwords" frequency list of zxcvbn 4.4.2 (MIT,
// Dropbox; see NOTICE): the 30,000 most common passwords of leaked
// password sets, lower-cased and sorted, gzip-compressed (93 KB) and
// embedded; it is decompressed once, on first use. scripts/passrules-list
// rebuilds it. The words lists zxcvbn also carries (English words, names)
// are left out on purpose: a passphrase of ordinary words is what NIST
// recommends, and refusing words would refuse it.
package passrules

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	sls "github.com/secure-login-system/sls"
)

// Rules are the length rules; Default is what the server applies.
type Rules struct {
	MinLength             int // with another factor
	MinLengthSingleFactor int // when the password is the only factor
	MaxLength             int
}

// Default: 8, 15 and 256 characters (NIST SP 800-63B §5.1.1.2; the
// maximum must be at least 64).
var Default = Rules{MinLength: 8, MinLengthSingleFactor: 15, MaxLength: 256}

// Reasons a password is refused (Error detail "reason"); stable.
const (
	ReasonTooShort    = "too_short"
	ReasonTooLong     = "too_long"
	ReasonBlocklisted = "blocklisted"
	ReasonContext     = "context"
)

func refuse(reason, msg string) error {
	return sls.Errorf(sls.CodeInvalidArgument, "%s", msg).WithDetail("reason", reason)
}

// Check returns nil for an acceptable password, else an invalid_argument
// error whose detail "reason" names the rule and whose message says it.
// singleFactor is set when the password is the user's only factor;
// context are words the password must not contain (case-insensitive; only
// words of 4 characters or more count).
func (r Rules) Check(password string, singleFactor bool, context ...string) error {
	pw := norm.NFKC.String(password)
	n := utf8.RuneCountInString(pw)
	min := r.MinLength
	if singleFactor {
		min = r.MinLengthSingleFactor
	}
	switch {
	case !utf8.ValidString(password):
		return refuse(ReasonTooShort, "The password is not valid text.")
	case n < min && singleFactor:
		return refuse(ReasonTooShort, "The password must have at least "+itoa(min)+" characters when it is the only factor.")
	case n < min:
		return refuse(ReasonTooShort, "The password must have at least "+itoa(min)+" characters.")
	case n > r.MaxLength:
		return refuse(ReasonTooLong, "The password must have at most "+itoa(r.MaxLength)+" characters.")
	}
	lower := strings.ToLower(pw)
	for _, c := range context {
		c = strings.ToLower(norm.NFKC.String(strings.TrimSpace(c)))
		if utf8.RuneCountInString(c) >= 4 && strings.Contains(lower, c) {
			return refuse(ReasonContext, "The password must not contain your username or email address.")
		}
	}
	if Blocklisted(pw) {
		return refuse(ReasonBlocklisted, "This password is too common or was found in a data breach; choose another.")
	}
	return nil
}

// Check applies the Default rules.
func Check(password string, singleFactor bool, context ...string) error {
	return Default.Check(password, singleFactor, context...)
}

// Blocklisted reports whether a password is common or breached (on the
// list, or the list's entry with up to 4 digits or symbols appended, as
// in "Password1!"), or repetitive or sequential throughout.
func Blocklisted(password string) bool {
	pw := strings.ToLower(norm.NFKC.String(password))
	if onList(pw) || repetitive(pw) || sequential(pw) {
		return true
	}
	base := strings.TrimRightFunc(pw, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) })
	return len(pw)-len(base) <= 4 && utf8.RuneCountInString(base) >= 4 && (onList(base) || repetitive(base) || sequential(base))
}

func repetitive(s string) bool {
	rs := []rune(s)
	if len(rs) < 2 {
		return false
	}
	for _, r := range rs[1:] {
		if r != rs[0] {
			return false
		}
	}
	return true
}

func sequential(s string) bool {
	rs := []rune(s)
	if len(rs) < 4 {
		return false
	}
	step := rs[1] - rs[0]
	if step != 1 && step != -1 {
		return false
	}
	for i := 2; i < len(rs); i++ {
		if rs[i]-rs[i-1] != step {
			return false
		}
	}
	return true
}

//go:embed passwords.txt.gz
var listGz []byte

var (
	listOnce sync.Once
	list     []string
)

func onList(s string) bool {
	listOnce.Do(func() {
		zr, err := gzip.NewReader(bytes.NewReader(listGz))
		if err != nil {
			panic("passrules: the embedded list is damaged: " + err.Error())
		}
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			list = append(list, sc.Text())
		}
		if err := sc.Err(); err != nil {
			panic("passrules: the embedded list is damaged: " + err.Error())
		}
		sort.Strings(list) // already sorted; cheap insurance for binary search
	})
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

// ListSize is the number of entries on the blocklist.
func ListSize() int {
	onList("")
	return len(list)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}
