package cryptotrade_test

import (
	"context"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/cryptorules"
	"github.com/secure-login-system/sls/cryptotrade"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// TestCustodyJob: the job snapshots the reported holdings once a day
// and, once the month is over, charges 8 bps of the average daily value
// over every day of the month, once, however often it runs.
func TestCustodyJob(t *testing.T) {
	db := storetest.MustOpenSQLite(t)
	u := storetest.Fixture(t, db, "holder")
	clk := clock.NewFake(time.Date(2026, 11, 1, 0, 30, 0, 0, time.UTC))
	svc := &cryptotrade.Service{Store: db, Clock: clk, Config: cryptotrade.Config{Enabled: true, Rules: cryptorules.Default(), JobEvery: time.Hour}}
	ctx := context.Background()
	if _, err := svc.ReportHolding(ctx, "operator:ivan", "holder", "100000.00"); err != nil {
		t.Fatal(err)
	}
	// November has 30 days; the holding is reported for the first 15
	// (USD 100,000) and the next 15 (USD 200,000): average USD 150,000,
	// fee 8 bps = USD 120.00.
	for day := range 30 {
		if day == 15 {
			if _, err := svc.ReportHolding(ctx, "operator:ivan", u.ID, "200000.00"); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 { // twice a day: the second run adds nothing
			if err := svc.RunCustody(ctx, clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(24 * time.Hour)
	}
	for range 3 { // December 1st, on "three nodes"
		if err := svc.RunCustody(ctx, clk.Now()); err != nil {
			t.Fatal(err)
		}
	}
	fees, err := svc.CustodyLedger(ctx, u.AccountID, "")
	if err != nil || len(fees) != 1 {
		t.Fatalf("ledger: %+v %v", fees, err)
	}
	if f := fees[0]; f.Month != "2026-11" || f.Days != 30 || f.AverageUSD != 150_000_00 || f.FeeUSD != 120_00 || f.BPMonthly != 8 {
		t.Errorf("fee: %+v", f)
	}
	var audited int
	_, _ = db.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
	db.View(ctx, func(tx sls.Tx) error {
		es, err := tx.AuditEntries(ctx, 0, 1000)
		for _, e := range es {
			if e.Event == cryptotrade.EventCustodyFee {
				audited++
			}
		}
		return err
	})
	if audited != 1 {
		t.Errorf("%d custody-fee audit entries", audited)
	}
}

// A month where holdings were recorded on some days only: the other days
// count as nothing held.
func TestCustodyPartialMonth(t *testing.T) {
	db := storetest.MustOpenSQLite(t)
	u := storetest.Fixture(t, db, "late")
	clk := clock.NewFake(time.Date(2027, 2, 22, 12, 0, 0, 0, time.UTC)) // February 2027: 28 days
	svc := &cryptotrade.Service{Store: db, Clock: clk, Config: cryptotrade.Config{Enabled: true, Rules: cryptorules.Default(), JobEvery: time.Hour}}
	ctx := context.Background()
	if _, err := svc.ReportHolding(ctx, "operator:ivan", u.Username, "28000.00"); err != nil {
		t.Fatal(err)
	}
	for range 7 { // 22nd to 28th
		if err := svc.RunCustody(ctx, clk.Now()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(24 * time.Hour)
	}
	if err := svc.RunCustody(ctx, clk.Now()); err != nil { // March 1st
		t.Fatal(err)
	}
	fees, _ := svc.CustodyLedger(ctx, "", "2027-02")
	// 7 × 28,000 / 28 = USD 7,000 average; 8 bps = USD 5.60.
	if len(fees) != 1 || fees[0].AverageUSD != 7_000_00 || fees[0].FeeUSD != 5_60 {
		t.Fatalf("fees: %+v", fees)
	}
}
