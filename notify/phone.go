package notify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Phone numbers are read and judged with libphonenumber's metadata (the
// numbering plans of every country, kept by its maintainers and carried
// into Go by github.com/nyaruka/phonenumbers). It knows which ranges are
// assigned, and whether a range is mobile, fixed, premium-rate, toll-free
// or VoIP, which no hand-written table of calling codes can. The metadata
// changes with the plans: refresh it with
//
//	go get -u github.com/nyaruka/phonenumbers && go mod tidy
//
// and run `go test ./notify`.

// maxPhoneInput bounds what is read of a typed number before parsing.
const maxPhoneInput = 64

// ErrPhoneInvalid is returned for input that is not a valid international
// number: not starting with + (or 00) and the country code, unassigned,
// too short or too long.
var ErrPhoneInvalid = errors.New("notify: not a valid international phone number")

// ErrPhoneType is what a *PhoneTypeError is (errors.Is): a valid number of
// a kind that must not receive security codes on that channel.
var ErrPhoneType = errors.New("notify: this kind of number cannot receive security codes")

// PhoneTypeError says which kind of number was refused.
type PhoneTypeError struct {
	// Why names the kind in words: "a premium-rate number", "a fixed
	// line cannot receive text messages"…
	Why string
}

func (e *PhoneTypeError) Error() string { return ErrPhoneType.Error() + ": " + e.Why }

// Is makes errors.Is(err, ErrPhoneType) hold.
func (e *PhoneTypeError) Is(target error) bool { return target == ErrPhoneType }

// NormalizeE164 turns a number as people type it into E.164 ("+" and the
// digits). Visual separators of ITU-T E.123 (spaces, hyphens, dots,
// slashes, parentheses) are dropped and "00" is read as the international
// prefix "+". National forms ("06 30 …", "(212) 555-…") are refused:
// guessing the country would send codes to the wrong person. The number
// must be valid for its country's numbering plan (ErrPhoneInvalid).
func NormalizeE164(s string) (string, error) {
	n, err := parseInternational(s)
	if err != nil {
		return "", err
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

func parseInternational(s string) (*phonenumbers.PhoneNumber, error) {
	if len(s) > maxPhoneInput {
		return nil, fmt.Errorf("%w: too long", ErrPhoneInvalid)
	}
	t := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(t, "+"):
		t = t[1:]
	case strings.HasPrefix(t, "00"):
		t = t[2:]
	default:
		return nil, fmt.Errorf("%w: it must start with + or 00 and the country code", ErrPhoneInvalid)
	}
	var b strings.Builder
	b.WriteByte('+')
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9':
			b.WriteByte(c)
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
		default:
			return nil, fmt.Errorf("%w: it contains %q", ErrPhoneInvalid, c)
		}
	}
	n, err := phonenumbers.Parse(b.String(), "ZZ") // ZZ: no default region
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return nil, ErrPhoneInvalid
	}
	return n, nil
}

// parseE164 reads a number that must already be in strict E.164 form.
func parseE164(s string) (*phonenumbers.PhoneNumber, bool) {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return nil, false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return nil, false
		}
	}
	n, err := phonenumbers.Parse(s, "ZZ")
	if err != nil || !phonenumbers.IsValidNumber(n) || phonenumbers.Format(n, phonenumbers.E164) != s {
		return nil, false
	}
	return n, true
}

// ValidE164 reports whether s is a valid number in strict E.164 form: "+"
// and at most 15 digits (ITU-T E.164 §6.1), no separators, in an assigned
// range of its country's plan.
func ValidE164(s string) bool {
	_, ok := parseE164(s)
	return ok
}

// Region is the region of a valid E.164 number as libphonenumber names it:
// an ISO 3166-1 alpha-2 code ("US", "CA", "JM" for three countries that
// share +1; "RU", "KZ" for +7), or "001" for the non-geographic ranges
// (satellite and international networks). "" when s is not valid. SMS
// abuse caps are counted per region.
func Region(s string) string {
	n, ok := parseE164(s)
	if !ok {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(n)
}

// CountryCode is the calling code of a valid E.164 number ("+1", "+36"), or
// "" when s is not valid.
func CountryCode(s string) string {
	n, ok := parseE164(s)
	if !ok {
		return ""
	}
	return fmt.Sprintf("+%d", n.GetCountryCode())
}

// CheckReceiver says whether the valid E.164 number s may receive security
// codes on channel c (ChannelSMS or ChannelVoice); nil when it may.
//
// Accepted for SMS: mobile numbers, and the plans (the North American one)
// whose ranges do not tell mobile from fixed. Voice calls may also go to
// fixed lines. Refused for both: premium-rate and shared-cost (a code sent
// there earns money for whoever holds the number: SMS pumping), toll-free,
// UAN, pagers, voicemail, personal numbers (forwarding), and VoIP, which
// NIST SP 800-63B §5.1.3.1 tells verifiers to exclude because such numbers
// are not tied to a device; and any number whose kind is unknown (fail
// closed).
func CheckReceiver(s string, c Channel) error {
	n, ok := parseE164(s)
	if !ok {
		return ErrPhoneInvalid
	}
	switch t := phonenumbers.GetNumberType(n); t {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
		return nil
	case phonenumbers.FIXED_LINE:
		if c == ChannelVoice {
			return nil
		}
		return &PhoneTypeError{Why: "a fixed line cannot receive text messages"}
	default:
		return &PhoneTypeError{Why: numberTypeName(t)}
	}
}

func numberTypeName(t phonenumbers.PhoneNumberType) string {
	switch t {
	case phonenumbers.TOLL_FREE:
		return "a toll-free number"
	case phonenumbers.PREMIUM_RATE:
		return "a premium-rate number"
	case phonenumbers.SHARED_COST:
		return "a shared-cost number"
	case phonenumbers.VOIP:
		return "an internet (VoIP) number"
	case phonenumbers.PERSONAL_NUMBER:
		return "a personal (forwarding) number"
	case phonenumbers.PAGER:
		return "a pager"
	case phonenumbers.UAN:
		return "a universal access number"
	case phonenumbers.VOICEMAIL:
		return "a voicemail number"
	}
	return "a number whose kind is unknown"
}
