package policy

import (
	"strings"

	"github.com/secure-login-system/sls"
)

// DefaultMandated2FA lists the jurisdictions (ISO 3166-1 alpha-2) whose
// residents may not opt out of two-factor login: Hong Kong and India
// (SPEC §5).
var DefaultMandated2FA = []string{"HK", "IN"}

// Actor is the user asking to change participation.
type Actor struct {
	// HasSecurityPermission is the permission to change security
	// settings (sls.User.CanChangeSecurity).
	HasSecurityPermission bool
}

// Participation is what to store after an opt-out or an opt-in.
type Participation struct {
	OptedOut bool
	// Always2FA is "Always use my secure login device at login".
	Always2FA bool
}

// Platforms for LoginRequires2FA (SPEC §2.4).
const (
	PlatformPortal  = "portal"
	PlatformTrading = "trading"
)

// normCountry upper-cases an ISO 3166-1 alpha-2 code; ok is false unless
// it is two ASCII letters.
func normCountry(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) != 2 {
		return "", false
	}
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		default:
			return "", false
		}
	}
	return string(b), true
}

// CanOptOut answers whether the actor may take a user of an account
// resident in jurisdiction out of SLS (SPEC §5). mandated lists the
// jurisdictions that require 2FA; nil means DefaultMandated2FA (an empty,
// non-nil list mandates nowhere).
//
// The jurisdiction is checked first, so that a user without the permission
// is not sent to a colleague who could not do it either. Refusals:
// invalid_argument/jurisdiction_unknown when the jurisdiction is not an
// alpha-2 code (an unknown residence cannot prove it is free of a mandate:
// fail closed); not_eligible/jurisdiction_mandates_2fa;
// forbidden/security_permission (replace it with PermissionRequired(holders)
// to name who may do it).
//
// The error, when not nil, is always an *sls.Error; the function returns the
// error interface so that a nil answer is a true nil.
func CanOptOut(actor Actor, jurisdiction string, mandated []string) error {
	j, ok := normCountry(jurisdiction)
	if !ok {
		return sls.Errorf(sls.CodeInvalidArgument,
			"The account's country of residence %q is not known, so two-factor login cannot be turned off.", jurisdiction).
			WithDetail(DetailCondition, CondJurisdictionUnknown)
	}
	if mandated == nil {
		mandated = DefaultMandated2FA
	}
	for _, m := range mandated {
		if mc, ok := normCountry(m); ok && mc == j {
			return refuse(sls.CodeNotEligible, CondJurisdictionMandates2FA,
				"Two-factor login is mandatory for accounts resident in %s: the Secure Login System cannot be turned off.", j).
				WithDetail("jurisdiction", j)
		}
	}
	if !actor.HasSecurityPermission {
		return PermissionRequired(nil)
	}
	return nil
}

// CanOptIn answers whether the actor may put a user back into SLS: only a
// user with the permission to change security settings may (SPEC §5).
func CanOptIn(actor Actor) error {
	if !actor.HasSecurityPermission {
		return PermissionRequired(nil)
	}
	return nil
}

// OptOut checks CanOptOut and returns the participation to store. An
// opted-out user answers 2FA on the portal only (SPEC §5), so "always use
// my secure login device" is turned off with it.
func OptOut(actor Actor, jurisdiction string, mandated []string) (Participation, error) {
	if err := CanOptOut(actor, jurisdiction, mandated); err != nil {
		return Participation{}, err
	}
	return Participation{OptedOut: true, Always2FA: false}, nil
}

// OptIn checks CanOptIn and returns the participation to store: opting back
// in sets "Always use my secure login device at login" (SPEC §5).
func OptIn(actor Actor) (Participation, error) {
	if err := CanOptIn(actor); err != nil {
		return Participation{}, err
	}
	return Participation{OptedOut: false, Always2FA: true}, nil
}

// PermissionRequired builds the refusal shown to a user without the
// permission to change security settings, naming the users who hold it
// (SPEC §5: "others see which users have it"). The error is
// forbidden/security_permission with Detail "holders" ([]string).
func PermissionRequired(holders []string) *sls.Error {
	var msg string
	switch len(holders) {
	case 0:
		msg = "Only a user with the permission to change security settings can do this."
	case 1:
		msg = "Only a user with the permission to change security settings can do this. This user has it: " + holders[0] + "."
	default:
		msg = "Only a user with the permission to change security settings can do this. These users have it: " + strings.Join(holders, ", ") + "."
	}
	return refuse(sls.CodeForbidden, CondSecurityPermission, "%s", msg).
		WithDetail("holders", append([]string{}, holders...))
}

// LoginRequires2FA answers whether a login to platform needs the second
// factor (SPEC §5: opted-out users answer 2FA for the portal only; trading
// platforms accept the password alone). An unknown platform requires it:
// fail closed.
func LoginRequires2FA(platform string, optedOut bool) bool {
	if platform == PlatformTrading {
		return !optedOut
	}
	return true
}

// PennyStockAllowed answers whether the account may hold the penny-stock /
// Pink Sheet / OTCBB trading permission: opted-out accounts may not, unless
// IP restrictions are set (SPEC §5).
func PennyStockAllowed(optedOut bool, hasIPRestrictions bool) bool {
	return !optedOut || hasIPRestrictions
}
