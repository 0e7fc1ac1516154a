package ibkey

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/secure-login-system/sls/ocra"
)

// Transaction is what a push or a challenge confirms when it confirms a
// withdrawal: the app shows it, and the approval's signature covers it
// (dynamic linking, PSD2 RTS Art. 5).
type Transaction struct {
	// Currency and Amount are empty when the push confirms a new banking
	// instruction: the account in Payee.
	Currency string `json:"currency,omitempty"`
	Amount   string `json:"amount,omitempty"` // decimal, e.g. "1500.00"
	Payee    string `json:"payee,omitempty"`
}

// TransactionTx is the Tx an app signs for a push that confirms t: the
// push's Tx bound to the transaction the app shows. The server computes
// it from what it bound, so an approval of anything but what the user saw
// does not verify. A push without a transaction signs its Tx as is.
func TransactionTx(tx string, t *Transaction) string {
	if t == nil {
		return tx
	}
	h := sha256.Sum256(canon("sls-ibkey/1 transaction", tx, t.Currency, t.Amount, t.Payee))
	return hex.EncodeToString(h[:])
}

// SignSuite answers a withdrawal confirmation by challenge/response: the
// question is the code, the payee's last four digits and the amount in
// whole units the login screen shows, typed into the app.
var SignSuite = ocra.MustParseSuite("OCRA-1:HOTP-SHA256-8:QN20")

// RespondSign computes the response to a signing challenge.
func RespondSign(offlineKey []byte, code, payeeDigits, amount string) (string, error) {
	q := code + payeeDigits + amount
	if len(code) != 4 || len(payeeDigits) != 4 || len(q) > 20 || !digits(q) {
		return "", fmt.Errorf("ibkey: code (4 digits), payee digits (4) and amount (whole units; none for a new banking instruction) must be digits")
	}
	if len(offlineKey) != OfflineKeySize {
		return "", fmt.Errorf("ibkey: offline key must be %d bytes", OfflineKeySize)
	}
	return SignSuite.Compute(offlineKey, ocra.Input{Question: q})
}

// CheckSignResponse reports whether response answers the signing question
// q (ocra's constant-time check); spaces in the typed response are
// ignored.
func CheckSignResponse(offlineKey []byte, q, response string) bool {
	response = strings.Join(strings.Fields(response), "")
	if len(offlineKey) != OfflineKeySize || len(response) != SignSuite.Digits() {
		return false
	}
	ok, err := SignSuite.Verify(offlineKey, ocra.Input{Question: q}, response)
	return err == nil && ok
}
