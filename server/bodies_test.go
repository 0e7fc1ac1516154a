package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/server"
)

// garbage are bodies no route may act on: broken JSON, a truncated
// object (the review's deposit-releasing body), not an object at all, an
// object with trailing data, and an object of unknown fields.
var garbage = []string{
	`{`,
	`{"assessment":"deliberately_damaged"`,
	`[`,
	`"x"`,
	`null`,
	`[]`,
	`{} x`,
	`{"ip_restrictions":["10.0.0.0/8"]`,
	`{"no_such_field_anywhere":1}`,
}

// TestMalformedBodiesChangeNothing sends every API route that takes a
// body, with a session whose device was proven just now or the operator
// token, each garbage body, and checks that the answer is a refusal (400,
// or 401 for app routes, which need an instance token) and that nothing changed:
// no audit entry, no queued message. A new route is covered by being in
// the table.
func TestMalformedBodiesChangeNothing(t *testing.T) {
	sw := newSweep(t)
	tried := 0
	for _, rt := range sw.srv.API.Routes() {
		switch rt.Method() {
		case "POST", "PUT", "PATCH", "DELETE":
		default:
			continue
		}
		path := pathParam.ReplaceAllString(rt.Path(), "x")
		for _, body := range garbage {
			auth := ""
			switch rt.Access.Caller {
			case sls.CallerClient:
				auth = sw.client()
			case sls.CallerOperator:
				auth = sw.operator
			}
			a0, m0 := sw.state()
			status, raw := sendBody(t, rt.Method(), sw.base+path, auth, body)
			want := http.StatusBadRequest
			switch {
			case rt.Access.Caller == sls.CallerApp:
				want = http.StatusUnauthorized // no instance token: refused before the body
			case rt.Raw:
				want = 0 // not JSON: its own checks (tested with its feature)
			}
			if body == garbage[len(garbage)-1] && want == http.StatusBadRequest && status >= 400 && status < 500 {
				// A well-formed object of unknown fields: a route that reads
				// a body refuses it (400); one that takes none may refuse it
				// for its own reason (an unknown id) — but never acts on it
				// (checked below).
				want = status
			}
			if want != 0 && status != want {
				t.Errorf("%s with %q: %d %s, want %d", rt.Pattern, body, status, raw, want)
			}
			if a1, m1 := sw.state(); a1 != a0 || m1 != m0 {
				t.Errorf("%s with %q changed state: %d audit entries, %d messages added (%d %s)", rt.Pattern, body, a1-a0, m1-m0, status, raw)
			}
			tried++
		}
	}
	if tried < 50*len(garbage) {
		t.Fatalf("only %d requests tried: did the route table shrink?", tried)
	}
}

// sweep is what the body sweeps send with: the in-process server, its
// address, a fresh client session whose DSC+ was proven just now, the
// operator token, and a count of what a request that acts leaves behind.
type sweep struct {
	srv      *server.Server
	base     string
	client   func() string // an Authorization header value
	operator string        // an Authorization header value
	state    func() (audits, messages int)
}

func newSweep(t *testing.T) sweep {
	srv, base := openServer(t)
	fresh := sessionMaker(t, srv)
	return sweep{srv: srv, base: base, operator: "Bearer " + operatorToken(t, srv),
		client: func() string { return "Bearer " + fresh(sessionKinds[8]).token }, // DSC+, proven now
		state:  auditAndOutbox(t, srv)}
}

// auditAndOutbox returns a function that counts the audit trail's entries
// and the outbox's messages: what a request that acts leaves behind.
func auditAndOutbox(t *testing.T, srv *server.Server) func() (audits, messages int) {
	ctx := context.Background()
	return func() (audits, messages int) {
		t.Helper()
		_, _ = srv.Store.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
		err := srv.Store.View(ctx, func(tx sls.Tx) error {
			es, err := tx.AuditEntries(ctx, 0, 1_000_000)
			if err != nil {
				return err
			}
			audits = len(es)
			for _, st := range []sls.OutboxState{sls.OutboxPending, sls.OutboxSent, sls.OutboxFailed} {
				ms, err := tx.OutboxMessages(ctx, st, 1_000_000)
				if err != nil {
					return err
				}
				messages += len(ms)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
}

// sendBody sends body as JSON with an Authorization header (when auth is
// set) and returns the status and the answer.
func sendBody(t *testing.T, method, url, auth, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}
