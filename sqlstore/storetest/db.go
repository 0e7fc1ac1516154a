// Package storetest is the storage contract: one suite that every sls.Store
// implementation must pass, run on SQLite always and on PostgreSQL when the
// environment names a server (SLS_TEST_POSTGRES, a postgres:// URL).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/secure-login-system/sls/sqlstore"
)

// PostgresEnv names the environment variable holding the PostgreSQL URL
// for tests.
const PostgresEnv = "SLS_TEST_POSTGRES"

// MustOpenSQLite opens a fresh SQLite store in a temporary directory.
func MustOpenSQLite(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	db, err := sqlstore.Open(context.Background(), filepath.Join(tb.TempDir(), "sls.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN returns the URL of a fresh, empty schema on the test
// PostgreSQL server, dropped when the test ends; it skips the test when
// SLS_TEST_POSTGRES is not set. Several stores may open the same URL (two
// nodes sharing one database).
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		tb.Skipf("%s not set: PostgreSQL tests skipped", PostgresEnv)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "slstest_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// MustOpenPostgres opens a store on a fresh schema (see PostgresDSN).
func MustOpenPostgres(tb testing.TB) *sqlstore.DB {
	tb.Helper()
	db, _ := OpenPostgres(tb)
	return db
}

// OpenPostgres is MustOpenPostgres that also returns the schema's URL,
// for a test that opens a connection of its own beside the store.
func OpenPostgres(tb testing.TB) (*sqlstore.DB, string) {
	tb.Helper()
	dsn := PostgresDSN(tb)
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db, dsn
}
