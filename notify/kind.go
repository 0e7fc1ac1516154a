package notify

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind names what a message is about; it selects the template. The values
// are stored with queued messages and in preferences; never rename one.
type Kind string

// Kinds of message.
//
// The first four carry a one-time code to one address chosen by the flow
// that asked for it; they are Transactional and no preference can reroute
// or silence them. The others are notices; all of them except
// KindSecureMessageSummary are SecurityCritical (see there).
const (
	KindLoginCodeSMS        Kind = "login_code_sms"        // login code by SMS; data: Code
	KindLoginCodeVoice      Kind = "login_code_voice"      // login code read aloud, digit by digit; data: Code
	KindPhoneVerifyCode     Kind = "phone_verify_code"     // confirmation code to verify a mobile number (SPEC §3); data: Code
	KindIBKeyActivationCode Kind = "ibkey_activation_code" // SMS activation code for "Add User" in the authenticator (SPEC §3); data: Code
	KindPasswordResetCode   Kind = "password_reset_code"   // one-time code to set a new password, after Client Services verified the client; data: Code, Until

	KindTempPasscodeIssued   Kind = "temp_passcode_issued"   // Client Services issued a temporary passcode; data: Username, FullUntil, PortalUntil
	KindDeviceActivated      Kind = "device_activated"       // a new security device was activated; data: Device, Time
	KindNewLogin             Kind = "new_login"              // login from a new device or platform; data: Platform, Address, Time
	KindDeviceShipped        Kind = "device_shipped"         // physical device shipped; data: Device, Carrier, Tracking
	KindDeviceDelivered      Kind = "device_delivered"       // physical device delivered; data: Device
	KindAutoActivationComing Kind = "auto_activation_coming" // replacement will activate by itself (SPEC §6); data: Device, Date
	KindDeviceAutoActivated  Kind = "device_auto_activated"  // replacement activated by itself; data: Device
	KindPhoneNumberChanged   Kind = "phone_number_changed"   // to the old number and the email; data: NumberEnding, Until
	KindPushDenied           Kind = "push_denied"            // a push login request was denied; data: Platform, Address, Time
	KindPushFlood            Kind = "push_flood"             // many push requests not approved; data: Count, Since
	KindSecureMessageSummary Kind = "secure_message_summary" // a secure message waits in the message center; data: Summary (never the body)
	KindReturnReceived       Kind = "return_received"        // a returned device arrived (SPEC §6); data: Device
	KindDepositReleased      Kind = "deposit_released"       // the device deposit hold was released; data: Device, Amount
	KindDepositForfeited     Kind = "deposit_forfeited"      // the device deposit was kept as compensation; data: Device, Amount
	KindLoginRefusedIP       Kind = "login_refused_ip"       // the right password came from an address outside the IP restrictions; data: Platform, Address, Time
	KindPasswordGuessing     Kind = "password_guessing"      // many wrong passwords: new browsers and apps are held off; data: Count
	KindPasswordChanged      Kind = "password_changed"       // the password was changed or reset; data: Time, How
	KindTakeoverReported     Kind = "takeover_reported"      // the user reported "this wasn't me" and is locked; data: Time
	KindSecurityAlert        Kind = "security_alert"         // to the Security Team: a user reported a takeover; data: Username, Via, Network, Time
	KindBankingChanged       Kind = "banking_changed"        // banking instructions changed; data: Account (masked), Time
)

// ReportURL is the optional data field of a security notice that carries
// a "this wasn't me" link (package takeover); the rendered body ends with
// a line that offers it, in the message's language.
const ReportURL = "ReportURL"

// reportable are the notices that may carry a report link: those that tell
// of a change or a login the client may not have made.
var reportable = map[Kind]bool{KindTempPasscodeIssued: true, KindDeviceActivated: true, KindNewLogin: true, KindPhoneNumberChanged: true,
	KindPushDenied: true, KindLoginRefusedIP: true, KindPasswordChanged: true, KindDeviceAutoActivated: true,
	KindBankingChanged: true}

// Reportable reports whether notices of kind k may carry a report link.
func (k Kind) Reportable() bool { return reportable[k] }

// fieldType decides how a data value is checked and cleaned before it goes
// into a text that leaves the system.
type fieldType int

const (
	// fText is free text, partly chosen by outsiders (a User-Agent, a
	// carrier name): control characters become spaces, runs of space
	// collapse, and it is cut at maxText runes so that nobody can write a
	// letter into someone else's security notice.
	fText fieldType = iota
	// fCode is a one-time code: letters, digits and hyphens, 4–64 long,
	// never altered (a cut code is a wrong code, so it is rejected).
	fCode
	// fNumber is a short decimal number (a count, the last digits of a
	// phone number).
	fNumber
	// fDevice is a device kind such as "dscplus" (rendered with its
	// localised name) or, for anything else, free text.
	fDevice
	// fSummary is the summary of a secure message, cut at maxSummary runes.
	fSummary
)

const (
	maxText    = 80
	maxSummary = 160
	maxURL     = 300
)

func (kindSpec) reportable(k Kind) bool { return reportable[k] }

// validReportURL accepts an absolute http(s) URL of printable ASCII
// without spaces: a link that leaves the system as is.
func validReportURL(v string) bool {
	if len(v) > maxURL || !(strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://")) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] <= ' ' || v[i] > '~' || v[i] == '"' || v[i] == '<' || v[i] == '>' {
			return false
		}
	}
	return true
}

type field struct {
	name string
	typ  fieldType
}

type kindSpec struct {
	fields        []field
	transactional bool
	critical      bool
}

var kindSpecs = map[Kind]kindSpec{
	KindLoginCodeSMS:        {fields: []field{{"Code", fCode}}, transactional: true},
	KindLoginCodeVoice:      {fields: []field{{"Code", fCode}}, transactional: true},
	KindPhoneVerifyCode:     {fields: []field{{"Code", fCode}}, transactional: true},
	KindIBKeyActivationCode: {fields: []field{{"Code", fCode}}, transactional: true},
	KindPasswordResetCode:   {fields: []field{{"Code", fCode}, {"Until", fText}}, transactional: true},

	KindTempPasscodeIssued:   {fields: []field{{"Username", fText}, {"FullUntil", fText}, {"PortalUntil", fText}}, critical: true},
	KindDeviceActivated:      {fields: []field{{"Device", fDevice}, {"Time", fText}}, critical: true},
	KindNewLogin:             {fields: []field{{"Platform", fText}, {"Address", fText}, {"Time", fText}}, critical: true},
	KindDeviceShipped:        {fields: []field{{"Device", fDevice}, {"Carrier", fText}, {"Tracking", fText}}, critical: true},
	KindDeviceDelivered:      {fields: []field{{"Device", fDevice}}, critical: true},
	KindAutoActivationComing: {fields: []field{{"Device", fDevice}, {"Date", fText}}, critical: true},
	KindDeviceAutoActivated:  {fields: []field{{"Device", fDevice}}, critical: true},
	KindPhoneNumberChanged:   {fields: []field{{"NumberEnding", fNumber}, {"Until", fText}}, critical: true},
	KindPushDenied:           {fields: []field{{"Platform", fText}, {"Address", fText}, {"Time", fText}}, critical: true},
	KindPushFlood:            {fields: []field{{"Count", fNumber}, {"Since", fText}}, critical: true},
	KindSecureMessageSummary: {fields: []field{{"Summary", fSummary}}},
	KindReturnReceived:       {fields: []field{{"Device", fDevice}}, critical: true},
	KindDepositReleased:      {fields: []field{{"Device", fDevice}, {"Amount", fText}}, critical: true},
	KindDepositForfeited:     {fields: []field{{"Device", fDevice}, {"Amount", fText}}, critical: true},
	KindLoginRefusedIP:       {fields: []field{{"Platform", fText}, {"Address", fText}, {"Time", fText}}, critical: true},
	KindPasswordGuessing:     {fields: []field{{"Count", fNumber}}, critical: true},
	KindPasswordChanged:      {fields: []field{{"Time", fText}, {"How", fText}}, critical: true},
	KindTakeoverReported:     {fields: []field{{"Time", fText}}, critical: true},
	KindSecurityAlert:        {fields: []field{{"Username", fText}, {"Via", fText}, {"Network", fText}, {"Time", fText}}, critical: true},
	KindBankingChanged:       {fields: []field{{"Account", fText}, {"Time", fText}}, critical: true},
}

// AllKinds lists every kind in a stable order.
var AllKinds = []Kind{
	KindLoginCodeSMS, KindLoginCodeVoice, KindPhoneVerifyCode, KindIBKeyActivationCode, KindPasswordResetCode,
	KindTempPasscodeIssued, KindDeviceActivated, KindNewLogin, KindDeviceShipped,
	KindDeviceDelivered, KindAutoActivationComing, KindDeviceAutoActivated,
	KindPhoneNumberChanged, KindPushDenied, KindPushFlood, KindSecureMessageSummary,
	KindReturnReceived, KindDepositReleased, KindDepositForfeited, KindLoginRefusedIP, KindPasswordGuessing, KindPasswordChanged,
	KindTakeoverReported, KindSecurityAlert, KindBankingChanged,
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	_, ok := kindSpecs[k]
	return ok
}

// Fields returns the names of the data fields the kind's template needs,
// all required, in the order the template mentions them. Render rejects any
// other key.
func (k Kind) Fields() []string {
	s := kindSpecs[k]
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	return names
}

// Transactional reports whether k carries a one-time code. Such messages go
// to the one address the flow chose (the number being verified, the number
// on file) on the channel the user picked at login; preferences do not
// apply to them.
func (k Kind) Transactional() bool { return kindSpecs[k].transactional }

// SecurityCritical reports whether k warns of something an attacker would
// want hidden: a new device, a new login, a temporary passcode, a changed
// phone number, a device in transit or activating by itself, denied or
// unanswered push requests. Preferences may move such notices between
// channels but never turn every channel off: a client who silenced them
// would not learn of a takeover until the money is gone. The secure message
// summary is not critical (the message itself stays in the message center).
func (k Kind) SecurityCritical() bool { return kindSpecs[k].critical }

// cleanData checks data against the kind's fields and returns the cleaned
// values. Unknown keys are an error, not ignored: that is what makes it
// impossible to slip, say, a secure message body into a summary notice.
func cleanData(k Kind, data map[string]string) (map[string]string, error) {
	spec, ok := kindSpecs[k]
	if !ok {
		return nil, fmt.Errorf("unknown kind %q", k)
	}
	out := make(map[string]string, len(spec.fields))
	for _, f := range spec.fields {
		v, ok := data[f.name]
		if !ok {
			return nil, fmt.Errorf("missing field %s", f.name)
		}
		c, err := cleanValue(f.typ, v)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.name, err)
		}
		out[f.name] = c
	}
	if v, ok := data[ReportURL]; ok && spec.reportable(k) {
		if !validReportURL(v) {
			return nil, fmt.Errorf("field %s: not an http(s) URL of at most %d characters", ReportURL, maxURL)
		}
		out[ReportURL] = v
	}
	for key := range data {
		if _, ok := out[key]; !ok {
			return nil, fmt.Errorf("field %s is not used by %s", key, k)
		}
	}
	return out, nil
}

func cleanValue(t fieldType, v string) (string, error) {
	if !utf8.ValidString(v) {
		return "", fmt.Errorf("not valid UTF-8")
	}
	switch t {
	case fCode:
		if len(v) < 4 || len(v) > 64 {
			return "", fmt.Errorf("code must be 4-64 characters")
		}
		for i := 0; i < len(v); i++ {
			c := v[i]
			if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-') {
				return "", fmt.Errorf("code may hold only letters, digits and hyphens")
			}
		}
		return v, nil
	case fNumber:
		if len(v) < 1 || len(v) > 6 {
			return "", fmt.Errorf("must be 1-6 digits")
		}
		for i := 0; i < len(v); i++ {
			if v[i] < '0' || v[i] > '9' {
				return "", fmt.Errorf("must be 1-6 digits")
			}
		}
		return v, nil
	case fSummary:
		return cleanText(v, maxSummary)
	default:
		return cleanText(v, maxText)
	}
}

// cleanText flattens v to one line of at most limit runes.
func cleanText(v string, limit int) (string, error) {
	// Format characters (bidi overrides, zero-width joiners) go first: they
	// can make an address or platform name read differently than it is.
	v = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, v)
	v = strings.Join(strings.FieldsFunc(v, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}), " ")
	if v == "" {
		return "", fmt.Errorf("empty")
	}
	if utf8.RuneCountInString(v) > limit {
		r := []rune(v)
		v = strings.TrimSpace(string(r[:limit-3])) + "..." // not "…": it is outside GSM 7-bit and would triple the SMS cost
	}
	return v, nil
}
