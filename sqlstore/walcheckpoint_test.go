package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	sls "github.com/secure-login-system/sls"
)

// The writer leaves checkpoints to the checkpointer (its own mark is the
// safety net), and the checkpointer copies the log back after a write.
func TestWALCheckpointer(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "sls.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mark int
	if err := db.write.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&mark); err != nil {
		t.Fatal(err)
	}
	if mark != walSafetyPages {
		t.Errorf("writer's wal_autocheckpoint = %d, want %d", mark, walSafetyPages)
	}
	before := db.wal.runs.Load()
	if err := db.Update(ctx, func(tx sls.Tx) error {
		return tx.CreateAccount(ctx, &sls.Account{ID: "Uwal", BaseCurrency: "USD", Jurisdiction: "US", CreatedAt: time.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	// Not a timing test: the bound only stops a checkpointer that never runs.
	for deadline := time.Now().Add(10 * time.Second); db.wal.runs.Load() == before; {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint after a write")
		}
		time.Sleep(20 * time.Millisecond)
	}
	reg := prometheus.NewRegistry()
	if err := db.Instrument(reg); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" {
					key += "/" + l.GetValue()
				}
			}
			found[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	if found["sls_store_wal_checkpoints_total/done"] < 1 {
		t.Errorf("checkpoint metrics: %v", found)
	}
	if _, ok := found["sls_store_wal_backlog_pages"]; !ok {
		t.Errorf("no backlog gauge: %v", found)
	}
	var busy, logPages, copied int
	if err := db.wal.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied); err != nil {
		t.Fatal(err)
	}
	if busy != 0 || copied != logPages {
		t.Errorf("after the checkpointer: busy %d, %d of %d log pages copied", busy, copied, logPages)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}
