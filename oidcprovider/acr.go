package oidcprovider

import (
	"slices"
	"strings"

	sls "github.com/secure-login-system/sls"
)

// Authentication context class references (OIDC Core §2, "acr"). An
// application asks for the device class it needs with acr_values, for
// example "urn:sls:device:dscplus urn:sls:device:ibkey" before a
// withdrawal, and reads back in the ID token which one was proven.
const (
	// ACRDevicePrefix followed by a device kind: that kind was proven.
	ACRDevicePrefix = "urn:sls:device:"
	// ACRMFA: a security device (any kind of device assurance) was proven
	// besides the password.
	ACRMFA = "urn:sls:loa:mfa"
	// ACRPassword: the password alone (an opted-out user).
	ACRPassword = "urn:sls:loa:password"
)

// SupportedACR lists the acr values the provider understands, for
// discovery: the two levels and one per device kind.
func SupportedACR() []string {
	out := []string{ACRPassword, ACRMFA}
	for _, k := range sls.AllKinds {
		out = append(out, ACRDevicePrefix+string(k))
	}
	return out
}

// KnownACR reports whether v is one of SupportedACR.
func KnownACR(v string) bool { return slices.Contains(SupportedACR(), v) }

// satisfies reports whether a login whose strongest proof was a device of
// kind (empty: the password alone) meets one requested acr value.
func satisfies(v string, kind sls.DeviceKind) bool {
	switch {
	case v == ACRPassword:
		return true
	case v == ACRMFA:
		return kind.Assurance() >= sls.AssuranceDevice
	case strings.HasPrefix(v, ACRDevicePrefix):
		return kind != "" && sls.DeviceKind(strings.TrimPrefix(v, ACRDevicePrefix)) == kind
	}
	return false
}

// ACRFor decides the acr of a login: the first requested value the
// proven kind meets (OIDC Core §3.1.2.1: acr_values in order of
// preference), "" when none does (the request is not met), or, when
// nothing was requested, the most precise value: the device's.
func ACRFor(requested []string, kind sls.DeviceKind) string {
	for _, v := range requested {
		if satisfies(v, kind) {
			return v
		}
	}
	if len(requested) > 0 {
		return ""
	}
	if kind == "" {
		return ACRPassword
	}
	return ACRDevicePrefix + string(kind)
}

// amrOfKind maps each device kind to RFC 8176 authentication method
// references:
//   - hwk: proof of a hardware-secured key (the cards with their own
//     keypad and the hardware tokens; a passkey's authenticator);
//   - swk: proof of a software-secured key (IB Key's key in the app;
//     a TOTP app's secret);
//   - otp: a one-time password was typed (all code-showing devices);
//   - pin: the card's PIN is part of its response (DSC+);
//   - sms: a code sent by SMS or voice;
//   - user: user presence and verification, which WebAuthn requires.
//
// The printed and online code cards and the temporary passcode are
// lookup secrets, which RFC 8176 has no value for; "otp" is the nearest.
var amrOfKind = map[sls.DeviceKind][]string{
	sls.KindDSCPlus:      {"hwk", "otp", "pin"},
	sls.KindPlatinum:     {"hwk", "otp"},
	sls.KindGold:         {"hwk", "otp"},
	sls.KindDSC:          {"hwk", "otp"},
	sls.KindIBKey:        {"swk"},
	sls.KindPasskey:      {"hwk", "user"},
	sls.KindTOTP:         {"swk", "otp"},
	sls.KindCodeCard:     {"otp"},
	sls.KindOnlineCard:   {"otp"},
	sls.KindSMS:          {"sms", "otp"},
	sls.KindTempPasscode: {"otp"},
}

// AMRFor lists how a login authenticated: "pwd" when a password was
// checked, the device kind's methods, and "mfa" when more than one
// factor was used (RFC 8176 §2).
func AMRFor(kind sls.DeviceKind, password bool) []string {
	var out []string
	if password {
		out = append(out, "pwd")
	}
	out = append(out, amrOfKind[kind]...)
	// A device that verified its user (a passkey's PIN or biometrics,
	// "user") is two factors in itself, with or without the password.
	if (password && kind.Assurance() >= sls.AssuranceTemporary) || slices.Contains(amrOfKind[kind], "user") {
		out = append(out, "mfa")
	}
	return out
}
