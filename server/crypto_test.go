package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/server"
)

// cryptoServer opens a server offering cryptocurrency trading, its clock
// set to a Wednesday afternoon in New York (the trading window is open),
// with a Hong Kong client "hkc" and a session maker.
func cryptoServer(t *testing.T, enabled bool) (*server.Server, string, *sls.User, func(kind sls.DeviceKind) string) {
	t.Helper()
	clockFile := filepath.Join(t.TempDir(), "clock")
	wednesday := time.Date(2026, 12, 2, 19, 0, 0, 0, time.UTC) // 2:00 PM EST
	if err := os.WriteFile(clockFile, []byte(time.Until(wednesday).String()), 0o600); err != nil {
		t.Fatal(err)
	}
	section := `"operators": ` + testOperators
	if enabled {
		section += `, "crypto": {"enabled": true}`
	}
	srv, base := openServerWith(t, section, func(o *server.Options) { o.TestClockFile = clockFile })
	ctx := context.Background()
	if _, err := srv.Manage.CreateAccount(ctx, sls.ActorSystem, manage.NewAccount{ID: "HK1", BaseCurrency: "USD", Jurisdiction: "HK"}); err != nil {
		t.Fatal(err)
	}
	u, err := srv.Manage.CreateUser(ctx, sls.ActorSystem, manage.NewUser{Username: "hkc", Password: firstPW, AccountID: "HK1"})
	if err != nil {
		t.Fatal(err)
	}
	mk := sessionFor(t, srv)
	return srv, base, u, func(kind sls.DeviceKind) string { return mk(u.ID, sls.ScopeFull, kind) }
}

const cryptoOrder = `{"symbol":"BTC","side":"buy","kind":"market","time_in_force":"ioc","value_usd":"10000",
	"market_price":"100000","equity_usd":"2000000","cash_usd":"500000"}`

// TestCryptoPermissionAndOrders: the permission needs a fresh device
// proof and a professional investor; a refusal names the rule and by how
// much; orders are checked only once it is granted, and answer with the
// quantity and commission, or the rule they break.
func TestCryptoPermissionAndOrders(t *testing.T) {
	srv, base, u, session := cryptoServer(t, true)
	proven, password := session(sls.KindCodeCard), session("")

	if a := send(t, "GET", base+"/api/v1/crypto/permission", password, ""); a.status != 200 || a.body["status"] != "none" {
		t.Fatalf("status before: %d %s", a.status, a.raw)
	}
	if a := send(t, "POST", base+"/api/v1/crypto/orders/check", proven, cryptoOrder); a.status != 403 || a.detail("rule") != "crypto_permission" {
		t.Fatalf("order without permission: %d %s", a.status, a.raw)
	}
	grant := `{"investor_type":"individual","investable_assets_hkd":"8000000.01","hong_kong_resident":true}`
	if a := send(t, "POST", base+"/api/v1/crypto/permission", password, grant); a.status != 401 || a.code() != "step_up_required" {
		t.Fatalf("password-only session asked for the permission: %d %s", a.status, a.raw)
	}
	for _, bad := range []string{
		`{"investor_type":"individual","investable_assets_hkd":"8000000.01"}`,
		`{"investor_type":"individual","investable_assets_hkd":8000000.01,"hong_kong_resident":true}`,
		`{"investor_type":"whale","investable_assets_hkd":"8000000.01","hong_kong_resident":true}`,
		`{"investor_type":"individual","investable_assets_hkd":"8e6","hong_kong_resident":true}`,
		`{"investor_type":"individual","investable_assets_hkd":"-9000000","hong_kong_resident":true}`,
	} {
		if a := send(t, "POST", base+"/api/v1/crypto/permission", proven, bad); a.status != 400 || (a.code() != "invalid_request" && a.code() != "invalid_argument") {
			t.Errorf("%s: %d %s", bad, a.status, a.raw)
		}
	}
	a := send(t, "POST", base+"/api/v1/crypto/permission", proven, `{"investor_type":"individual","investable_assets_hkd":"7500000","hong_kong_resident":true}`)
	if a.status != 403 || a.code() != "not_eligible" || a.detail("rule") != "professional_investor" ||
		a.detail("need") != "HKD 8,000,000.00" || a.detail("have") != "HKD 7,500,000.00" {
		t.Fatalf("short of HKD 8 million: %d %s", a.status, a.raw)
	}
	if a := send(t, "GET", base+"/api/v1/crypto/permission", password, ""); a.body["status"] != "refused" || a.body["rule"] != "professional_investor" {
		t.Fatalf("refusal not kept: %s", a.raw)
	}
	if a := send(t, "POST", base+"/api/v1/crypto/permission", proven, `{"investor_type":"individual","investable_assets_hkd":"9000000","hong_kong_resident":false}`); a.detail("rule") != "hong_kong_resident" {
		t.Fatalf("not resident: %d %s", a.status, a.raw)
	}
	if a := send(t, "POST", base+"/api/v1/crypto/permission", proven, grant); a.status != 200 || a.body["status"] != "granted" {
		t.Fatalf("grant: %d %s", a.status, a.raw)
	}
	events := map[string]int{}
	ctx := context.Background()
	_, _ = srv.Store.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
	srv.Store.View(ctx, func(tx sls.Tx) error {
		es, err := tx.AuditEntries(ctx, 0, 10000)
		for _, e := range es {
			if e.UserID == u.ID {
				events[e.Event]++
				if strings.Contains(e.Detail, "8000000") || strings.Contains(e.Detail, "800000001") {
					t.Errorf("the declared assets reached the audit trail: %s", e.Detail)
				}
			}
		}
		return err
	})
	if events["crypto.permission_granted"] != 1 || events["crypto.permission_refused"] != 2 {
		t.Errorf("audit: %v", events)
	}

	a = send(t, "POST", base+"/api/v1/crypto/orders/check", password, cryptoOrder)
	if a.status != 200 || a.body["accepted"] != true || a.body["quantity"] != "0.10000000" || a.body["commission_usd"] != "30.00" {
		t.Fatalf("market buy: %d %s", a.status, a.raw)
	}
	a = send(t, "POST", base+"/api/v1/crypto/orders/check", password, strings.Replace(cryptoOrder, `"10000"`, `"9.99"`, 1))
	if r, _ := a.body["refusal"].(map[string]any); a.status != 200 || a.body["accepted"] != false || r["rule"] != "min_order" || r["need"] != "USD 10.00" {
		t.Fatalf("under the minimum: %d %s", a.status, a.raw)
	}
	for _, bad := range []string{
		strings.Replace(cryptoOrder, `"10000"`, `"1e4"`, 1),
		strings.Replace(cryptoOrder, `"10000"`, `10000`, 1),
		strings.Replace(cryptoOrder, `"market_price":"100000",`, ``, 1),
		strings.Replace(cryptoOrder, `"value_usd":"10000"`, `"value_usd":"10000","quantity":"0.1"`, 1),
		strings.Replace(cryptoOrder, `"100000"`, `"1/3"`, 1),
	} {
		if a := send(t, "POST", base+"/api/v1/crypto/orders/check", password, bad); a.status != 400 {
			t.Errorf("%s: %d %s", bad, a.status, a.raw)
		}
	}
}

// TestCryptoOperatorRoutes: holdings are reported by the integration
// role only, and never by a client; the ledger is listed.
func TestCryptoOperatorRoutes(t *testing.T) {
	srv, base, _, session := cryptoServer(t, true)
	cs := mintOperator(t, srv, "cara", sls.RoleClientServices)
	integ := mintOperator(t, srv, "ivan", sls.RoleReporting)
	body := `{"value_usd":"50000.00"}`
	if a := send(t, "PUT", base+"/api/v1/ops/crypto/positions/hkc", cs, body); a.status != 403 {
		t.Fatalf("client services reported holdings: %d %s", a.status, a.raw)
	}
	if a := send(t, "PUT", base+"/api/v1/ops/crypto/positions/hkc", session(sls.KindCodeCard), body); a.status != 401 {
		t.Fatalf("a client reported holdings: %d %s", a.status, a.raw)
	}
	if a := send(t, "PUT", base+"/api/v1/ops/crypto/positions/hkc", integ, `{"value_usd":"-5"}`); a.status != 400 {
		t.Fatalf("negative holdings: %d %s", a.status, a.raw)
	}
	if a := send(t, "PUT", base+"/api/v1/ops/crypto/positions/nobody", integ, body); a.status != 404 {
		t.Fatalf("unknown user: %d %s", a.status, a.raw)
	}
	if a := send(t, "PUT", base+"/api/v1/ops/crypto/positions/hkc", integ, body); a.status != 200 || a.body["value_usd_cents"] != 5000000.0 {
		t.Fatalf("report: %d %s", a.status, a.raw)
	}
	if a := send(t, "GET", base+"/api/v1/ops/crypto/custody?month=2026-13", cs, ""); a.status != 400 {
		t.Fatalf("bad month: %d %s", a.status, a.raw)
	}
	if a := send(t, "GET", base+"/api/v1/ops/crypto/custody?account=HK1", cs, ""); a.status != 200 || !strings.Contains(a.raw, `"fees":[]`) {
		t.Fatalf("ledger: %d %s", a.status, a.raw)
	}
}

// TestCryptoNotOffered: where the entity does not offer it, every client
// route answers not_eligible.
func TestCryptoNotOffered(t *testing.T) {
	_, base, _, session := cryptoServer(t, false)
	tok := session(sls.KindCodeCard)
	for _, c := range [][2]string{{"GET", "/api/v1/crypto/permission"}, {"POST", "/api/v1/crypto/orders/check"}} {
		body := ""
		if c[0] == "POST" {
			body = cryptoOrder
		}
		if a := send(t, c[0], base+c[1], tok, body); a.status != 403 || a.detail("rule") != "crypto_offered" {
			t.Errorf("%s %s: %d %s", c[0], c[1], a.status, a.raw)
		}
	}
}
