package scheduler_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/scheduler"
	"github.com/secure-login-system/sls/sqlstore"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

func TestEachRunOnceAcrossNodes(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) (sls.Store, sls.Store){
		"sqlite": func(t *testing.T) (sls.Store, sls.Store) {
			a := storetest.MustOpenSQLite(t)
			return a, a
		},
		"postgres": func(t *testing.T) (sls.Store, sls.Store) {
			dsn := storetest.PostgresDSN(t)
			a, err := sqlstore.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			b, err := sqlstore.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { a.Close(); b.Close() })
			return a, b
		},
	} {
		t.Run(name, func(t *testing.T) {
			s1, s2 := open(t)
			clk := clock.NewFake(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
			var runs atomic.Int32
			job := scheduler.Job{Name: "count", Every: time.Hour, Run: func(context.Context, time.Time) error { runs.Add(1); return nil }}
			nodes := []*scheduler.Scheduler{{Store: s1, Clock: clk}, {Store: s2, Clock: clk}, {Store: s2, Clock: clk}}
			for _, n := range nodes {
				n.Add(job)
			}
			for period := 0; period < 5; period++ {
				var wg sync.WaitGroup
				for _, n := range nodes {
					wg.Add(1)
					go func() { defer wg.Done(); n.RunDue(context.Background()) }()
				}
				wg.Wait()
				if got := runs.Load(); got != int32(period+1) {
					t.Fatalf("period %d: %d runs, want %d", period, got, period+1)
				}
				// Not due again within the period.
				nodes[0].RunDue(context.Background())
				if got := runs.Load(); got != int32(period+1) {
					t.Fatalf("ran again before the period ended")
				}
				clk.Advance(time.Hour)
			}
		})
	}
}
