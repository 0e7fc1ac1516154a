package server_test

import (
	"testing"

	sls "github.com/secure-login-system/sls"
)

// GET /api/v1/ops/server tells an auditor what one password check costs
// here; a client-services operator and a client get nothing.
func TestServerInfo(t *testing.T) {
	srv, base := openServer(t)
	a := send(t, "GET", base+"/api/v1/ops/server", mintOperator(t, srv, "ada", sls.RoleAuditor), "")
	if a.status != 200 || a.body["engine"] != "sqlite" || a.body["hash_concurrency"].(float64) < 1 {
		t.Fatalf("auditor: %d %s", a.status, a.raw)
	}
	if argon, _ := a.body["argon2"].(map[string]any); argon["memory_kib"].(float64) < 19456 {
		t.Errorf("argon2: %v", a.body["argon2"])
	}
	if a := send(t, "GET", base+"/api/v1/ops/server", mintOperator(t, srv, "cs", sls.RoleClientServices), ""); a.status != 403 {
		t.Errorf("client services: %d", a.status)
	}
	if a := send(t, "GET", base+"/api/v1/ops/server", "", ""); a.status != 401 {
		t.Errorf("anonymous: %d", a.status)
	}
}
