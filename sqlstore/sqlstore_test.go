package sqlstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

// A write transaction on SQLite stops watching its context once begun
// (DB.begin), but one still waiting for the single writer leaves the
// queue when its request ends.
func TestSQLiteWriterWaitEndsWithContext(t *testing.T) {
	db := storetest.MustOpenSQLite(t)
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.Update(context.Background(), func(sls.Tx) error { close(held); <-release; return nil })
	}()
	<-held
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := db.Update(ctx, func(sls.Tx) error { t.Error("ran while the writer was held"); return nil })
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting for the writer: %v, want the context's deadline", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
