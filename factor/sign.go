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

// SignParts are a signing question's parts, as the prompt shows them
// and the client types them: a fresh code, the last four digits of the
// payee's account ("0000" when it has fewer digits), and the amount in
// whole units of Currency ("" for a new banking instruction).
type SignParts struct {
	Code        string `json:"code"`
	PayeeDigits string `json:"payee_digits"`
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
}

// Question is the question a device signs.
func (p SignParts) Question() string { return p.Code + p.PayeeDigits + p.Amount }

// SignFields are the parts of b's question, without the code.
func SignFields(b sls.Binding) (SignParts, error) {
	var digits []byte
	for i := len(b.Payee) - 1; i >= 0 && len(digits) < 4; i-- {
		if c := b.Payee[i]; c >= '0' && c <= '9' {
			digits = append([]byte{c}, digits...)
		}
	}
	p := SignParts{PayeeDigits: strings.Repeat("0", 4-len(digits)) + string(digits), Currency: b.Currency}
	if b.Currency == "" { // a new banking instruction: the account alone
		return p, nil
	}
	d, err := policy.MinorUnitDigits(b.Currency)
	if err != nil {
		return SignParts{}, err
	}
	units := b.AmountMinor
	for range d {
		units /= 10
	}
	if units < 0 || units > 999_999_999_999 {
		return SignParts{}, errors.New("factor: the amount does not fit a signing question")
	}
	p.Amount = strconv.FormatInt(units, 10)
	return p, nil
}

// BoundQuestion rebuilds the question of code from what c binds, never
// from the prompt alone; ok is false when it is not the question c's
// prompt showed.
func BoundQuestion(c *sls.Challenge, code string) (question string, ok bool) {
	p, err := SignFields(c.Bound)
	if err != nil || len(code) != SignCodeLen || c.Prompt == nil {
		return "", false
	}
	p.Code = code
	q := p.Question()
	return q, q == c.Prompt.Challenge
}
