package factor

import (
	"errors"
	"strconv"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
)

// Signing questions (dynamic linking, PSD2 RTS Art. 5): a withdrawal
// confirmation's challenge is built from what the client reads and types
// into the device — a fresh code, the last four digits of the payee's
// account and the amount in whole units — so the response signs what the
// client saw. The DSC+ (factor/dscplus) and IB Key challenge/response
// (factor/ibkey) use it.

// Signs reports whether c confirms a withdrawal (its challenge signs the
// amount and payee) or a change of banking instructions (it signs the new
// account).
func Signs(c *sls.Challenge) bool {
	return (c.Purpose == sls.PurposeWithdrawal && c.Bound.Currency != "") || (c.Purpose == sls.PurposeBankingChange && c.Bound.Payee != "")
}

// SignCodeLen is the length of the fresh code that makes each signing
// question unique.
const SignCodeLen = 4

// SignQuestion is the question a device signs.
func SignQuestion(code, payeeDigits, amount string) string { return code + payeeDigits + amount }

// SignFields are the payee and amount parts of a confirmation's question:
// the last four digits of the payee's account ("0000" when it has fewer
// digits or none is named) and the amount in whole units of its currency.
func SignFields(b sls.Binding) (payeeDigits, amount string, err error) {
	var digits []byte
	for i := len(b.Payee) - 1; i >= 0 && len(digits) < 4; i-- {
		if c := b.Payee[i]; c >= '0' && c <= '9' {
			digits = append([]byte{c}, digits...)
		}
	}
	payeeDigits = strings.Repeat("0", 4-len(digits)) + string(digits)
	if b.Currency == "" { // a new banking instruction: the account alone
		return payeeDigits, "", nil
	}
	d, err := policy.MinorUnitDigits(b.Currency)
	if err != nil {
		return "", "", err
	}
	units := b.AmountMinor
	for range d {
		units /= 10
	}
	if units < 0 || units > 999_999_999_999 {
		return "", "", errors.New("factor: the amount does not fit a signing question")
	}
	return payeeDigits, strconv.FormatInt(units, 10), nil
}
