package dscplus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/ocra"
	"github.com/secure-login-system/sls/policy"
)

// SignSuite is the card's transaction-signing mode (RFC 6287 §7.3,
// "signature"): a withdrawal confirmation's question is made of what the
// client reads and types into the card — a 4-digit code, the last four
// digits of the payee's account and the amount in whole units — so the
// response signs what the client saw (dynamic linking, PSD2 RTS Art. 5).
// The suite string is part of OCRA's input, so a signing response never
// answers a login and the other way round.
var SignSuite = ocra.MustParseSuite("OCRA-1:HOTP-SHA256-8:QN20-PSHA1")

// signCodeLen is the length of the fresh code that makes each signing
// question unique (a confirmation repeated for the same payee and
// amount gets another response).
const signCodeLen = 4

// SignPrompt is Prompt.Extra of a signing challenge: the three parts the
// client types, in order.
type SignPrompt struct {
	Mode        string `json:"mode"` // "sign"
	Code        string `json:"code"`
	PayeeDigits string `json:"payee_digits"`
	Amount      string `json:"amount"` // whole units of Currency
	Currency    string `json:"currency"`
}

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
	d, err := policy.MinorUnitDigits(b.Currency)
	if err != nil {
		return "", "", err
	}
	units := b.AmountMinor
	for range d {
		units /= 10
	}
	if units < 0 || units > 999_999_999_999 {
		return "", "", errors.New("dscplus: the amount does not fit the card's question")
	}
	return payeeDigits, strconv.FormatInt(units, 10), nil
}

// SignQuestion is the question the card signs.
func SignQuestion(code, payeeDigits, amount string) string { return code + payeeDigits + amount }

// RespondSign computes what the card shows in signing mode.
func RespondSign(key []byte, pin, code, payeeDigits, amount string) (string, error) {
	if !ValidPIN(pin) {
		return "", errors.New("dscplus: PIN must be 4 digits")
	}
	q := SignQuestion(code, payeeDigits, amount)
	if len(code) != signCodeLen || len(payeeDigits) != 4 || amount == "" || len(q) > 20 || strings.Trim(q, "0123456789") != "" {
		return "", errors.New("dscplus: code (4 digits), payee digits (4) and amount (whole units) must be digits")
	}
	ph, err := Suite.HashPIN(pin)
	if err != nil {
		return "", err
	}
	return SignSuite.Compute(key, ocra.Input{Question: q, PINHash: ph})
}

// signs reports whether c confirms a withdrawal: its question signs the
// amount and payee.
func signs(c *sls.Challenge) bool {
	return c.Purpose == sls.PurposeWithdrawal && c.Bound.Currency != ""
}

// signChallenge prepares a signing challenge for a withdrawal
// confirmation.
func (f *Factor) signChallenge(ctx context.Context, tx sls.Tx, d *sls.Device, c *sls.Challenge, now time.Time) error {
	sec, err := f.secret(d)
	if err != nil {
		return err
	}
	payeeDigits, amount, err := SignFields(c.Bound)
	if err != nil {
		return sls.Errorf(sls.CodeInvalidArgument, "%s", err)
	}
	code, err := factor.FreshChallenge(ctx, tx, f.Rand, signCodeLen, d.ID, now, func(code string) (string, error) {
		return SignSuite.Compute(sec.Key, ocra.Input{Question: SignQuestion(code, payeeDigits, amount), PINHash: sec.PINHash})
	})
	if err != nil {
		return err
	}
	extra, _ := json.Marshal(SignPrompt{Mode: "sign", Code: code, PayeeDigits: payeeDigits, Amount: amount, Currency: c.Bound.Currency})
	c.Prompt = &sls.Prompt{Kind: sls.KindDSCPlus, Challenge: SignQuestion(code, payeeDigits, amount), Extra: extra,
		Message: fmt.Sprintf("Press SIGN on your Digital Security Card+ and enter your PIN, then the code %s, the last four digits of the payee's account %s "+
			"and the amount %s (%s, whole units); type the 8-digit response. Check that the payee and the amount are the ones you mean to pay.",
			code, payeeDigits, amount, c.Bound.Currency)}
	return nil
}

// signExpected is the response a signing challenge wants: the question is
// rebuilt from the confirmation's binding, never taken from the prompt
// alone, so a prompt that does not match what is bound answers nothing.
func (f *Factor) signExpected(sec secret, c *sls.Challenge) (question, want string, err error) {
	var sp SignPrompt
	if err := json.Unmarshal(c.Prompt.Extra, &sp); err != nil || sp.Mode != "sign" || len(sp.Code) != signCodeLen {
		return "", "", sls.ErrDeviceUnavailable
	}
	payeeDigits, amount, err := SignFields(c.Bound)
	if err != nil {
		return "", "", sls.ErrDeviceUnavailable.Wrap(err)
	}
	question = SignQuestion(sp.Code, payeeDigits, amount)
	if question != c.Prompt.Challenge {
		return "", "", sls.ErrDeviceUnavailable
	}
	want, err = SignSuite.Compute(sec.Key, ocra.Input{Question: question, PINHash: sec.PINHash})
	return question, want, err
}

// RespondPrompt computes the card's response to a prompt of either mode,
// as a client that reads the prompt and types its parts would (tests and
// scripted clients).
func RespondPrompt(key []byte, pin string, p *sls.Prompt) (string, error) {
	if p == nil {
		return "", errors.New("dscplus: no prompt")
	}
	var sp SignPrompt
	if len(p.Extra) > 0 && json.Unmarshal(p.Extra, &sp) == nil && sp.Mode == "sign" {
		return RespondSign(key, pin, sp.Code, sp.PayeeDigits, sp.Amount)
	}
	return Respond(key, pin, p.Challenge)
}
