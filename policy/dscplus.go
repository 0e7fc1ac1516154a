package policy

import (
	"github.com/secure-login-system/sls"
)

// DefaultDSCPlusThreshold is the account equity from which a client may
// order a Digital Security Card+: USD 1,000,000 (SPEC §1; an older article
// says 500,000, hence the threshold is a parameter).
const DefaultDSCPlusThreshold = 1_000_000 * Dollar

// DSCPlusEligible reports whether an account with equityUSD (US cents; use
// Rates.ToUSDFloor so rounding never lifts it over the line) may order a
// DSC+: equity ≥ threshold (SPEC §1). A threshold ≤ 0 means
// DefaultDSCPlusThreshold, so a missing setting never opens the card to
// everyone.
func DSCPlusEligible(equityUSD, thresholdUSD int64) bool {
	if thresholdUSD <= 0 {
		thresholdUSD = DefaultDSCPlusThreshold
	}
	return equityUSD >= thresholdUSD
}

// CheckDSCPlusEligible is DSCPlusEligible as a refusal:
// not_eligible/equity_below_threshold with Detail "threshold" (cents).
func CheckDSCPlusEligible(equityUSD, thresholdUSD int64) error {
	if DSCPlusEligible(equityUSD, thresholdUSD) {
		return nil
	}
	if thresholdUSD <= 0 {
		thresholdUSD = DefaultDSCPlusThreshold
	}
	return refuse(sls.CodeNotEligible, CondEquityBelowThreshold,
		"The Digital Security Card+ is available to accounts with equity of at least %s.", FormatUSD(thresholdUSD)).
		WithDetail("threshold", thresholdUSD)
}

// CheckPIN checks the PIN a client chooses when ordering a DSC+ (SPEC §1,
// §6: a 4-digit PIN). It must be exactly four ASCII digits
// (invalid_argument/pin_format). Of the 10,000 PINs, the 24 that anyone
// tries first are refused (invalid_argument/pin_weak): one digit repeated
// (0000 … 9999) and straight runs up or down (0123 … 6789, 9876 … 3210).
// The PIN guards a card someone may have stolen, so the very first guesses
// must not open it; refusing more (dates, 1212) would push clients to write
// the PIN down, for a small gain.
func CheckPIN(pin string) error {
	if len(pin) != 4 {
		return refuse(sls.CodeInvalidArgument, CondPINFormat, "The PIN must be exactly 4 digits.")
	}
	for i := 0; i < 4; i++ {
		if pin[i] < '0' || pin[i] > '9' {
			return refuse(sls.CodeInvalidArgument, CondPINFormat, "The PIN must be exactly 4 digits.")
		}
	}
	same, up, down := true, true, true
	for i := 1; i < 4; i++ {
		d := int(pin[i]) - int(pin[i-1])
		same = same && d == 0
		up = up && d == 1
		down = down && d == -1
	}
	if same || up || down {
		return refuse(sls.CodeInvalidArgument, CondPINWeak,
			"This PIN is too easy to guess: do not use one digit four times or a run such as 1234 or 4321.")
	}
	return nil
}
