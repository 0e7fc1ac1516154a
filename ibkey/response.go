package ibkey

import (
	"fmt"
	"strings"

	"github.com/secure-login-system/sls/ocra"
)

// ResponseSuite is the OCRA suite (RFC 6287) of challenge/response: a
// 6-digit numeric challenge shown on the login screen, an 8-digit response,
// HMAC-SHA256 keyed with the user's offline key. The suite names no PIN
// (P): the offline key is itself wrapped under the PIN in the app without
// any check value, so a wrong PIN yields a different key and a wrong
// response, which the server counts — the PIN is verified online with
// every response, and no PIN-derived value ever reaches the server.
var ResponseSuite = ocra.MustParseSuite("OCRA-1:HOTP-SHA256-8:QN06")

// ChallengeDigits is the length of the challenge code.
const ChallengeDigits = 6

// ValidChallenge reports whether s is a challenge code the app accepts.
func ValidChallenge(s string) bool { return len(s) == ChallengeDigits && digits(s) }

// Respond computes the response string for a challenge.
func Respond(offlineKey []byte, challenge string) (string, error) {
	challenge = strings.Join(strings.Fields(challenge), "")
	if !ValidChallenge(challenge) {
		return "", fmt.Errorf("ibkey: the challenge code must be %d digits", ChallengeDigits)
	}
	if len(offlineKey) != OfflineKeySize {
		return "", fmt.Errorf("ibkey: offline key must be %d bytes", OfflineKeySize)
	}
	return ResponseSuite.Compute(offlineKey, ocra.Input{Question: challenge})
}

// CheckResponse reports whether response answers challenge, in constant
// time; spaces in the typed response are ignored.
func CheckResponse(offlineKey []byte, challenge, response string) bool {
	response = strings.Join(strings.Fields(response), "")
	if !ValidChallenge(challenge) || len(offlineKey) != OfflineKeySize || len(response) != ResponseSuite.Digits() {
		return false
	}
	ok, err := ResponseSuite.Verify(offlineKey, ocra.Input{Question: challenge}, response)
	return err == nil && ok
}

// FormatResponse groups a response for reading: "1234 5678".
func FormatResponse(r string) string {
	if len(r) == 8 {
		return r[:4] + " " + r[4:]
	}
	return r
}
