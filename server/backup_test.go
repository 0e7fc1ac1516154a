package server_test

import (
	"database/sql"
	"net/http"
	"os"
	"testing"

	sls "github.com/secure-login-system/sls"
)

// TestOnlineBackup: an admin's backup is a consistent SQLite file, private
// to the service, in the data directory; other roles cannot make one.
func TestOnlineBackup(t *testing.T) {
	srv, url := openServer(t)
	admin := operatorToken(t, srv)
	if a := send(t, "POST", url+"/api/v1/ops/backup", mintOperator(t, srv, "aud", sls.RoleAuditor), ""); a.status != http.StatusForbidden {
		t.Fatalf("auditor made a backup: %d %s", a.status, a.raw)
	}
	a := send(t, "POST", url+"/api/v1/ops/backup", admin, "")
	if a.status != http.StatusCreated {
		t.Fatalf("backup: %d %s", a.status, a.raw)
	}
	path := a.body["file"].(string)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil || n == 0 {
		t.Fatalf("the backup holds no users: %d %v", n, err)
	}
	if a := send(t, "POST", url+"/api/v1/ops/backup", admin, `{"path": "/etc/passwd"}`); a.status != http.StatusBadRequest {
		t.Fatalf("a body naming a path: %d %s", a.status, a.raw)
	}
}
