package e2e

import (
	"net/http"
	"sync"

	"github.com/secure-login-system/sls/api/apitest"
)

// The contract check: every API answer the journeys receive through call
// and callNoFatal (and the few helpers that send requests themselves) is
// validated against api/openapi.json, status, headers and (for JSON) body,
// so the document cannot drift from what slsd really sends. Answers read
// by slsctl and ibkey, separate processes, are not seen here.

// checkAnswer returns why an answer does not match the document, or nil.
func checkAnswer(method, rawURL string, status int, header http.Header, body []byte) error {
	return apitest.Check(method, rawURL, status, header, body)
}

// stray collects mismatches seen where no *testing.T is at hand
// (callNoFatal runs in other goroutines); TestMain fails the run on them.
var stray struct {
	sync.Mutex
	errs []string
}

func recordStray(err error) {
	stray.Lock()
	defer stray.Unlock()
	if len(stray.errs) < 50 {
		stray.errs = append(stray.errs, err.Error())
	}
}

// strayErrors returns the mismatches recordStray collected.
func strayErrors() []string {
	stray.Lock()
	defer stray.Unlock()
	return append([]string(nil), stray.errs...)
}
