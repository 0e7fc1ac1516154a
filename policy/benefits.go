package policy

import (
	"github.com/secure-login-system/sls"
)

// DetailCondition is the sls.Error Detail key that names the failed
// condition of a refusal.
const DetailCondition = "condition"

// Conditions: stable values of Detail["condition"].
const (
	CondNotInSLS                = "not_in_sls"                // the benefit needs SLS participation
	CondACHInitialLimit         = "ach_initial_limit"         // ACH/EFT funding beyond the initial USD 20,000 without SLS
	CondSecurityPermission      = "security_permission"       // the user may not change security settings
	CondJurisdictionMandates2FA = "jurisdiction_mandates_2fa" // residence requires 2FA: no opt-out
	CondJurisdictionUnknown     = "jurisdiction_unknown"      // residence not a country code: no opt-out
	CondIdentityMismatch        = "identity_mismatch"         // sharing users are not the same person
	CondIdentityIncomplete      = "identity_incomplete"       // identity data missing: cannot prove sameness
	CondTemporaryDevice         = "temporary_device"          // a sharing user holds a temporary device
	CondNotHighestProtection    = "not_highest_protection"    // a sharing user holds a stronger device
	CondIBKeyUseAddUser         = "ibkey_use_add_user"        // IB Key is shared with "Add User", not here
	CondNotShareable            = "not_shareable"             // this kind of device cannot be shared
	CondDeviceNotHeld           = "device_not_held"           // none of the users holds the device to share
	CondUnknownDevice           = "unknown_device"            // a device kind this version does not know
	CondEquityBelowThreshold    = "equity_below_threshold"    // DSC+ needs more equity
	CondPINFormat               = "pin_format"                // DSC+ PIN is not exactly 4 digits
	CondPINWeak                 = "pin_weak"                  // DSC+ PIN is trivially guessable
	CondTempPasscodeTwice       = "temp_passcode_twice"       // temporary passcode never twice in a row
)

// refuse builds a client-facing refusal with its condition.
func refuse(code sls.Code, cond, format string, args ...any) *sls.Error {
	return sls.Errorf(code, format, args...).WithDetail(DetailCondition, cond)
}

// InitialACHFunding is how much a client outside SLS may fund by ACH/EFT in
// total (SPEC §4: "ACH/EFT funding beyond an initial USD 20,000" is an SLS
// benefit).
const InitialACHFunding = 20_000 * Dollar

// CanChangeBankingOrEmail answers whether the user may change banking
// instructions or the email address without the Security Team (SPEC §4: an
// SLS participation benefit). The refusal is not_eligible/not_in_sls.
func CanChangeBankingOrEmail(inSLS bool) error {
	if inSLS {
		return nil
	}
	return refuse(sls.CodeNotEligible, CondNotInSLS,
		"Changing banking instructions or the email address without the Security Team requires the Secure Login System.")
}

// ACHFundingAllowed answers whether an ACH/EFT deposit of amountUSD may be
// made when fundedSoFarUSD has already been funded that way (US cents).
// Participants in SLS have no cap; others may fund up to InitialACHFunding
// in total, an amount that reaches it exactly included (SPEC §4). The
// refusal is not_eligible/ach_initial_limit with Detail "remaining" (cents).
func ACHFundingAllowed(inSLS bool, fundedSoFarUSD, amountUSD int64) error {
	if amountUSD <= 0 || fundedSoFarUSD < 0 {
		return sls.Errorf(sls.CodeInvalidArgument, "The funding amount must be positive.")
	}
	if inSLS {
		return nil
	}
	left := remaining(InitialACHFunding, fundedSoFarUSD)
	if amountUSD <= left {
		return nil
	}
	return refuse(sls.CodeNotEligible, CondACHInitialLimit,
		"Without the Secure Login System, ACH/EFT funding is limited to an initial %s; %s is left.",
		FormatUSD(InitialACHFunding), FormatUSD(left)).WithDetail("remaining", left)
}
