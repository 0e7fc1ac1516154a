package storetest

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Row names one row: the one of Table whose Column is Value.
type Row struct {
	Table, Column string
	Value         any
}

// LocksFirst checks, on the PostgreSQL schema dsn names, that op locks
// the row first before it waits for the row then. Paths that lock the
// same two rows must take them in the same order, or two of them can each
// hold one and wait for the other (PostgreSQL then aborts one as a
// deadlock). A second connection holds then locked; op runs until it
// waits for it; first must then be locked (by op: a NOWAIT lock on it
// fails). The lock is then released and op must succeed. Nothing here
// depends on timing: the wait is observed with pg_blocking_pids.
func LocksFirst(t *testing.T, dsn string, first, then Row, op func() error) {
	t.Helper()
	ctx := context.Background()
	conn, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hold, err := conn.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	var holder int
	if err := hold.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&holder); err != nil {
		t.Fatal(err)
	}
	if err := lockRow(ctx, hold, then, ""); err != nil {
		t.Fatalf("holding %s: %v", then.Table, err)
	}
	done := make(chan error, 1)
	go func() { done <- op() }()
	// Until op waits for the held row (the bound only ends a test whose
	// op never does).
	for deadline := time.Now().Add(30 * time.Second); ; {
		var waiting int
		if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))", holder).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the operation finished (%v) without waiting for the %s row held", err, then.Table)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the operation never waited for the %s row held", then.Table)
		}
		time.Sleep(10 * time.Millisecond)
	}
	err = lockRow(ctx, hold, first, " NOWAIT")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "55P03" { // lock_not_available
		t.Errorf("while waiting for the %s row, the operation did not hold the %s row (NOWAIT lock: %v): it locks them in the other order",
			then.Table, first.Table, err)
	}
	hold.Rollback()
	if err := <-done; err != nil {
		t.Fatalf("the operation, once the row was released: %v", err)
	}
}

// lockRow locks r in tx, and fails if it does not exist.
func lockRow(ctx context.Context, tx *sql.Tx, r Row, suffix string) error {
	var one int
	return tx.QueryRowContext(ctx, "SELECT 1 FROM "+r.Table+" WHERE "+r.Column+" = $1 FOR UPDATE"+suffix, r.Value).Scan(&one)
}
