package server_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/server"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// TestLoginCost counts the database work of a full login (password, then
// a DSC+ answer) through the HTTP API, as the server runs it with every
// feature's hooks: transactions, committed writes and statements per
// login. Its limits are what a login may cost on PostgreSQL, where each
// statement is a round trip and each commit a flush (issue: at most two
// transactions and twelve statements, one flushed commit per step).
// They are counts, not times, so they hold on any machine.
//
// The limits hold with the rate limits off, as in a load test
// (docs/sizing.md); each rate-limit rule that applies to a step adds
// one statement to it (and the password step one more, to read them
// before the hash), which the test reports.
func TestLoginCost(t *testing.T) {
	onBothEngines(t, func(t *testing.T, db string) {
		txs, stmts := loginCost(t, db, `"limits": {"password_per_address": {"rate": 0}, "password_per_address_user": {"rate": 0},
			"second_factor_per_user": {"rate": 0}}, "operators": `+testOperators, 0)
		if txs > 2 || stmts > 12 {
			t.Errorf("a login costs %.1f transactions and %.1f statements; at most 2 and 12", txs, stmts)
		}
		if db != "" {
			db = storetest.PostgresDSN(t) // a fresh database
		}
		loginCost(t, db, `"operators": `+testOperators, 0) // with the rate limits, reported
	})
}

// TestLoginCostHistory: a user with 5,000 past sessions and as many
// remembered responses logs in with the same statements as one with 40
// (the new-network check and the replay check are indexed lookups), and
// it logs the answer step's median for both, the figure of
// docs/sizing.md:
//
//	go test ./server -run TestLoginCostHistory -v
func TestLoginCostHistory(t *testing.T) {
	onBothEngines(t, func(t *testing.T, db string) {
		var stmts []float64
		for _, n := range []int{40, 5000} {
			if db != "" {
				db = storetest.PostgresDSN(t)
			}
			_, s := loginCost(t, db, `"limits": {"password_per_address": {"rate": 0}, "password_per_address_user": {"rate": 0},
				"second_factor_per_user": {"rate": 0}}, "operators": `+testOperators, n)
			stmts = append(stmts, s)
		}
		if stmts[0] != stmts[1] {
			t.Errorf("statements per login: %v with 40 past sessions, %v with 5,000", stmts[0], stmts[1])
		}
	})
}

func loginCost(t *testing.T, db, sections string, history int) (txs, stmts float64) {
	srv, base := openServerWith(t, sections, func(o *server.Options) { o.DB = db })
	ctx := context.Background()
	if _, err := srv.Manage.CreateAccount(ctx, "operator:test", manage.NewAccount{ID: "COST1", BaseCurrency: "USD", EquityMinor: 2e8, Jurisdiction: "US"}); err != nil {
		t.Fatal(err)
	}
	const password = "correct horse battery staple 42"
	if _, err := srv.Manage.CreateUser(ctx, "operator:test", manage.NewUser{Username: "cost", Password: password, AccountID: "COST1"}); err != nil {
		t.Fatal(err)
	}
	iss, err := srv.Manage.IssueDSCPlus(ctx, "operator:test", "cost", "", "4321", true)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := hex.DecodeString(iss.Card.Key)
	if history > 0 {
		// Past sessions from other networks, ended, and remembered
		// responses of the card, as years of use leave them.
		now := srv.Clock.Now()
		err := srv.Store.Update(ctx, func(tx sls.Tx) error {
			for i := range history {
				at := now.Add(-time.Duration(history-i) * time.Hour)
				if err := tx.CreateSession(ctx, &sls.Session{ID: fmt.Sprintf("ses_old%d", i), TokenHash: fmt.Sprintf("old%d", i), UserID: iss.Device.UserID,
					Platform: sls.PlatformPortal, Scope: sls.ScopeFull, CreatedAt: at, LastSeenAt: at, ExpiresAt: at.Add(time.Hour), EndedAt: at.Add(time.Minute),
					ClientIP: fmt.Sprintf("10.%d.%d.1", i/256, i%256)}); err != nil {
					return err
				}
				if err := tx.MarkResponseUsed(ctx, iss.Device.ID, fmt.Sprintf("old%d", i), now, now.Add(400*24*time.Hour)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	post := func(path string, body any, want int) map[string]any {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(base+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode != want {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	var clientToken string // a browser keeps the known-client token of its first login
	var answers []time.Duration
	login := func() {
		st := post("/api/v1/login", map[string]any{"username": "cost", "password": password, "platform": "portal", "client_token": clientToken}, 200)
		ch := st["prompt"].(map[string]any)["challenge"].(string)
		resp, err := dscplus.Respond(key, "4321", ch)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		done := post("/api/v1/login/answer", map[string]any{"login_id": st["login_id"], "response": resp}, 201)
		answers = append(answers, time.Since(t0))
		if tok, _ := done["session"].(map[string]any)["client_token"].(string); tok != "" {
			clientToken = tok
		}
	}
	for range 3 { // the first login notifies a new client and network
		login()
	}
	const n = 10
	answers = nil
	tx0, w0, s0 := srv.Store.Counters()
	for range n {
		login()
	}
	tx1, w1, s1 := srv.Store.Counters()
	txs, writes, stmts := float64(tx1-tx0)/n, float64(w1-w0)/n, float64(s1-s0)/n
	slices.Sort(answers)
	t.Logf("per login on %s with %d past sessions: %.1f transactions, %.1f committed writes, %.1f statements; answer step median %.2f ms (HTTP, in process)",
		srv.Store.Engine(), history, txs, writes, stmts, float64(answers[n/2].Microseconds())/1000)
	if writes > 2 {
		t.Errorf("a login commits %.1f writes; one per step", writes)
	}
	return txs, stmts
}
