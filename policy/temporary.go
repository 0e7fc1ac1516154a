package policy

import (
	"time"

	"github.com/secure-login-system/sls"
)

// Access is what a session authenticated by a temporary passcode may do.
type Access int

// Access levels, least first.
const (
	AccessNone                 Access = iota // expired: no login
	AccessPortalOnlineCardOnly               // Client Portal, and only the page that prints an Online Security Code Card
	AccessFull                               // portal and trading platforms
)

func (a Access) String() string {
	switch a {
	case AccessFull:
		return "full"
	case AccessPortalOnlineCardOnly:
		return "portal_online_card_only"
	}
	return "none"
}

// Temporary passcode lifetimes (SPEC §1: "full access (portal and trading)
// for 2 days, then portal only for 10 more days and only to print an Online
// Security Code Card"). They are elapsed time, not calendar days, so they
// do not stretch with time zones or daylight saving.
const (
	TempPasscodeFullAccess = 2 * 24 * time.Hour
	TempPasscodeLifetime   = TempPasscodeFullAccess + 10*24*time.Hour
)

// TempPasscodeAccess returns what a temporary passcode issued at issuedAt
// allows at now: AccessFull during [issuedAt, issuedAt+2 days),
// AccessPortalOnlineCardOnly during [+2 days, +12 days), AccessNone from
// then on. A now before issuedAt (clocks of two nodes disagreeing, or a
// forged issue time) gets AccessNone: fail closed.
func TempPasscodeAccess(issuedAt, now time.Time) Access {
	age := now.Sub(issuedAt)
	switch {
	case now.Before(issuedAt):
		return AccessNone
	case age < TempPasscodeFullAccess:
		return AccessFull
	case age < TempPasscodeLifetime:
		return AccessPortalOnlineCardOnly
	}
	return AccessNone
}

// TempPasscodeExpiry returns the first instant at which a temporary
// passcode issued at issuedAt no longer gives any access (sls.Device
// ExpiresAt).
func TempPasscodeExpiry(issuedAt time.Time) time.Time { return issuedAt.Add(TempPasscodeLifetime) }

// CanIssueTempPasscode answers whether Client Services may issue a
// temporary passcode to an account whose most recent access was itself a
// temporary passcode (sls.Account.TempPasscodeLast): never twice in a row
// (SPEC §1). The refusal is not_eligible/temp_passcode_twice.
func CanIssueTempPasscode(lastWasTempPasscode bool) error {
	if !lastWasTempPasscode {
		return nil
	}
	return refuse(sls.CodeNotEligible, CondTempPasscodeTwice,
		"A temporary passcode was the last access issued to this account; the client must activate another device first.")
}

// OnlineCardValidity is how long an Online Security Code Card works after
// activation (SPEC §1, §3: valid 21 days).
const OnlineCardValidity = 21 * 24 * time.Hour

// OnlineCardExpiry returns the first instant at which an Online Security
// Code Card activated at activatedAt no longer works (sls.Device
// ExpiresAt).
func OnlineCardExpiry(activatedAt time.Time) time.Time { return activatedAt.Add(OnlineCardValidity) }

// OnlineCardValid reports whether an Online Security Code Card activated at
// activatedAt works at now: [activatedAt, activatedAt+21 days).
func OnlineCardValid(activatedAt, now time.Time) bool {
	return !now.Before(activatedAt) && now.Before(OnlineCardExpiry(activatedAt))
}
