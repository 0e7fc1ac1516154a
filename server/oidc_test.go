package server_test

import (
	"net/http"
	"strings"
	"testing"

	sls "github.com/secure-login-system/sls"
)

const goodClient = `{"id": "trading", "name": "Trading", "redirect_uris": ["https://trade.example/cb"], "scopes": ["profile", "offline_access"]}`

// TestOIDCClientRoutes: registering an application takes an admin and a
// second operator; bad input is refused whole, with every problem named,
// and changes nothing; a confidential client's secret is shown once.
func TestOIDCClientRoutes(t *testing.T) {
	srv, url := openServerWith(t, `"operators": {}`, nil) // dual control as shipped
	admin := mintOperator(t, srv, "ada", sls.RoleAdmin)
	auditor := mintOperator(t, srv, "aud", sls.RoleAuditor)
	second := mintOperator(t, srv, "bob", sls.RoleAdmin)

	if a := send(t, "POST", url+"/api/v1/ops/oidc/clients", auditor, goodClient); a.status != http.StatusForbidden {
		t.Fatalf("auditor registered a client: %d %s", a.status, a.raw)
	}
	if a := send(t, "POST", url+"/api/v1/ops/oidc/clients", admin, `{"id": "trading", "name": `); a.status != http.StatusBadRequest {
		t.Fatalf("truncated body: %d %s", a.status, a.raw)
	}
	approved := func(body string) string {
		t.Helper()
		a := send(t, "POST", url+"/api/v1/ops/oidc/clients", admin, body)
		if a.status != http.StatusForbidden || a.code() != "approval_required" {
			t.Fatalf("registering without a second operator: %d %s", a.status, a.raw)
		}
		id := a.detail("approval_id")
		if r := send(t, "POST", url+"/api/v1/ops/approvals/"+id+"/approve", second, ""); r.status != http.StatusOK {
			t.Fatalf("approve: %d %s", r.status, r.raw)
		}
		return id
	}
	bad := `{"id": "No Good", "name": "", "redirect_uris": ["http://trade.example/cb", "https://x.example/#f"], "scopes": ["admin"]}`
	a := send(t, "POST", url+"/api/v1/ops/oidc/clients", admin, bad, "X-SLS-Approval", approved(bad))
	if a.status != http.StatusBadRequest || a.code() != "invalid_argument" {
		t.Fatalf("bad client: %d %s", a.status, a.raw)
	}
	for _, want := range []string{"id must", "name must", "plain http", "fragment", "unknown scope"} {
		if !strings.Contains(a.raw, want) {
			t.Errorf("the refusal does not name %q: %s", want, a.raw)
		}
	}
	if list := send(t, "GET", url+"/api/v1/ops/oidc/clients", auditor, ""); strings.Contains(list.raw, "No Good") {
		t.Fatalf("a refused client was stored: %s", list.raw)
	}
	a = send(t, "POST", url+"/api/v1/ops/oidc/clients", admin, goodClient, "X-SLS-Approval", approved(goodClient))
	if a.status != http.StatusCreated || !strings.Contains(a.raw, `"client_secret"`) {
		t.Fatalf("register: %d %s", a.status, a.raw)
	}
	secret := a.body["client_secret"].(string)
	list := send(t, "GET", url+"/api/v1/ops/oidc/clients", auditor, "")
	if list.status != http.StatusOK || !strings.Contains(list.raw, `"trading"`) || strings.Contains(list.raw, secret) || strings.Contains(list.raw, "secret") {
		t.Fatalf("list: %d %s", list.status, list.raw)
	}
	if r := send(t, "DELETE", url+"/api/v1/ops/oidc/clients/nope", admin, ""); r.status != http.StatusNotFound {
		t.Fatalf("remove unknown: %d %s", r.status, r.raw)
	}
	if r := send(t, "DELETE", url+"/api/v1/ops/oidc/clients/trading", admin, ""); r.status != http.StatusOK {
		t.Fatalf("remove: %d %s", r.status, r.raw)
	}
	if r := send(t, "POST", url+"/api/v1/ops/oidc/keys/rotate", auditor, ""); r.status != http.StatusForbidden {
		t.Fatalf("auditor rotated keys: %d %s", r.status, r.raw)
	}
	if r := send(t, "POST", url+"/api/v1/ops/oidc/keys/rotate", admin, ""); r.status != http.StatusOK {
		t.Fatalf("rotate: %d %s", r.status, r.raw)
	}
	if r := send(t, "GET", url+"/api/v1/ops/oidc/keys", auditor, ""); r.status != http.StatusOK || !strings.Contains(r.raw, `"signing"`) {
		t.Fatalf("keys: %d %s", r.status, r.raw)
	}
}

// TestOIDCAuthorizeRateLimited: anonymous authorization requests, which
// the database keeps until they expire, are limited per address.
func TestOIDCAuthorizeRateLimited(t *testing.T) {
	srv, url := openServerWith(t, `"operators": `+testOperators+`, "limits": {"oidc_authorize_per_address": {"rate": 1, "per": "1h", "burst": 3}}`, nil)
	srv.OIDC().SetIssuer(url)
	if a := send(t, "POST", url+"/api/v1/ops/oidc/clients", operatorToken(t, srv), goodClient); a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.raw)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := url + "/oauth2/authorize?client_id=trading&response_type=code&scope=openid&redirect_uri=https%3A%2F%2Ftrade.example%2Fcb&state=s"
	for i := range 4 {
		resp, err := noRedirect.Get(authorize)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusFound
		if i == 3 {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}
