package dscplus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	"github.com/secure-login-system/sls/ocra"
)

// SignSuite is the card's transaction-signing mode (RFC 6287 §7.3,
// "signature"): a withdrawal confirmation's question is made of what the
// client reads and types into the card — a 4-digit code, the last four
// digits of the payee's account and the amount in whole units — so the
// response signs what the client saw (dynamic linking, PSD2 RTS Art. 5).
// The suite string is part of OCRA's input, so a signing response never
// answers a login and the other way round.
var SignSuite = ocra.MustParseSuite("OCRA-1:HOTP-SHA256-8:QN20-PSHA1")

// SignPrompt is Prompt.Extra of a signing challenge: the parts the client
// types, in order.
type SignPrompt struct {
	Mode string `json:"mode"` // "sign"
	factor.SignParts
}

// RespondSign computes what the card shows in signing mode.
func RespondSign(key []byte, pin, code, payeeDigits, amount string) (string, error) {
	if !ValidPIN(pin) {
		return "", errors.New("dscplus: PIN must be 4 digits")
	}
	q := factor.SignParts{Code: code, PayeeDigits: payeeDigits, Amount: amount}.Question()
	if len(code) != factor.SignCodeLen || len(payeeDigits) != 4 || len(q) > 20 || strings.Trim(q, "0123456789") != "" {
		return "", errors.New("dscplus: code (4 digits), payee digits (4) and amount (whole units; none for a new banking instruction) must be digits")
	}
	ph, err := Suite.HashPIN(pin)
	if err != nil {
		return "", err
	}
	return SignSuite.Compute(key, ocra.Input{Question: q, PINHash: ph})
}

// signChallenge prepares a signing challenge for a withdrawal
// confirmation.
func (f *Factor) signChallenge(ctx context.Context, tx sls.Tx, d *sls.Device, c *sls.Challenge, now time.Time) error {
	sec, err := f.secret(d)
	if err != nil {
		return err
	}
	parts, err := factor.SignFields(c.Bound)
	if err != nil {
		return sls.Errorf(sls.CodeInvalidArgument, "%s", err)
	}
	parts.Code, err = factor.FreshChallenge(ctx, tx, f.Rand, factor.SignCodeLen, d.ID, now, func(code string) (string, error) {
		q := parts
		q.Code = code
		return SignSuite.Compute(sec.Key, ocra.Input{Question: q.Question(), PINHash: sec.PINHash})
	})
	if err != nil {
		return err
	}
	extra, _ := json.Marshal(SignPrompt{Mode: "sign", SignParts: parts})
	msg := fmt.Sprintf("Press SIGN on your Digital Security Card+ and enter your PIN, then the code %s, the last four digits of the payee's account %s "+
		"and the amount %s (%s, whole units); type the 8-digit response. Check that the payee and the amount are the ones you mean to pay.",
		parts.Code, parts.PayeeDigits, parts.Amount, parts.Currency)
	if parts.Amount == "" {
		msg = fmt.Sprintf("Press SIGN on your Digital Security Card+ and enter your PIN, then the code %s and the last four digits of the new account %s; "+
			"type the 8-digit response. Check that the account is the one you mean to add.", parts.Code, parts.PayeeDigits)
	}
	c.Prompt = &sls.Prompt{Kind: sls.KindDSCPlus, Challenge: parts.Question(), Extra: extra, Message: msg}
	return nil
}

// signExpected is the response a signing challenge wants: the question is
// rebuilt from the confirmation's binding, never taken from the prompt
// alone, so a prompt that does not match what is bound answers nothing.
func (f *Factor) signExpected(sec secret, c *sls.Challenge) (string, error) {
	var sp SignPrompt
	if err := json.Unmarshal(c.Prompt.Extra, &sp); err != nil || sp.Mode != "sign" {
		return "", sls.ErrDeviceUnavailable
	}
	question, ok := factor.BoundQuestion(c, sp.Code)
	if !ok {
		return "", sls.ErrDeviceUnavailable
	}
	return SignSuite.Compute(sec.Key, ocra.Input{Question: question, PINHash: sec.PINHash})
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
