package sqlstore_test

import (
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

func TestContractSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) sls.Store { return storetest.MustOpenSQLite(t) })
}

func TestContractPostgres(t *testing.T) {
	storetest.PostgresDSN(t) // skips when no server is configured
	storetest.Run(t, func(t *testing.T) sls.Store { return storetest.MustOpenPostgres(t) })
}

// The PostgreSQL pool is sized per node; SQLite's one writer is not.
func TestSetMaxConns(t *testing.T) {
	if err := storetest.MustOpenSQLite(t).SetMaxConns(10); err == nil {
		t.Error("SQLite took a connection limit")
	}
	storetest.PostgresDSN(t) // skips when no server is configured
	db := storetest.MustOpenPostgres(t)
	for _, bad := range []int{0, -1, 1001} {
		if err := db.SetMaxConns(bad); err == nil {
			t.Errorf("limit %d accepted", bad)
		}
	}
	if err := db.SetMaxConns(5); err != nil {
		t.Fatal(err)
	}
}
