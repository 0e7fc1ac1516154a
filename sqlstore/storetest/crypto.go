package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("Crypto", testCrypto)
}

// testCrypto: a permission round-trips and is replaced; holdings are
// upserted; a day's value and a month's custody fee are stored once
// whatever the retries (the job's idempotence rests on it).
func testCrypto(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "crypto")
	ctx := context.Background()
	if err := s.View(ctx, func(tx sls.Tx) error { _, err := tx.CryptoPermission(ctx, u.ID); return err }); !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("no permission yet: %v", err)
	}
	p := &sls.CryptoPermission{UserID: u.ID, Status: sls.CryptoRefused, InvestorType: "individual", AssetsHKD: 7_000_000_00,
		Residence: "HK", Rule: "professional_investor", DecidedAt: t0}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutCryptoPermission(ctx, p) })
	p2 := *p
	p2.Status, p2.AssetsHKD, p2.Rule, p2.DecidedAt = sls.CryptoGranted, 9_000_000_00, "", t0.Add(time.Hour)
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutCryptoPermission(ctx, &p2) })
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.CryptoPermission(ctx, u.ID)
		if err == nil && (*got != p2) {
			t.Errorf("permission: %+v, want %+v", got, p2)
		}
		return err
	})

	h := &sls.CryptoHolding{AccountID: u.AccountID, ValueUSD: 50_000_00, UpdatedAt: t0, UpdatedBy: "operator:ops"}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutCryptoHolding(ctx, h) })
	h.ValueUSD = 60_000_00
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutCryptoHolding(ctx, h) })
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		hs, err := tx.CryptoHoldings(ctx)
		if err == nil && (len(hs) != 1 || *hs[0] != *h) {
			t.Errorf("holdings: %+v", hs)
		}
		return err
	})

	for i, day := range []string{"2026-11-30", "2026-12-01", "2026-12-02", "2026-12-01"} {
		update(t, s, func(ctx context.Context, tx sls.Tx) error {
			added, err := tx.AddCryptoDailyValue(ctx, &sls.CryptoDailyValue{AccountID: u.AccountID, Day: day, ValueUSD: int64(i+1) * 100, At: t0})
			if err == nil && added != (i < 3) {
				t.Errorf("day %s added=%v", day, added)
			}
			return err
		})
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		vs, err := tx.CryptoDailyValues(ctx, "", "2026-12-01", "2026-12-31")
		if err == nil && (len(vs) != 2 || vs[0].Day != "2026-12-01" || vs[0].ValueUSD != 200 || vs[1].ValueUSD != 300) {
			t.Errorf("December: %+v", vs)
		}
		return err
	})

	f := &sls.CustodyFee{AccountID: u.AccountID, Month: "2026-12", Days: 31, AverageUSD: 16, BPMonthly: 8, FeeUSD: 0, At: t0}
	for i := range 2 {
		update(t, s, func(ctx context.Context, tx sls.Tx) error {
			added, err := tx.AddCustodyFee(ctx, f)
			if err == nil && added != (i == 0) {
				t.Errorf("fee %d added=%v", i, added)
			}
			return err
		})
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		fs, err := tx.CustodyFees(ctx, u.AccountID, "")
		if err == nil && (len(fs) != 1 || *fs[0] != *f) {
			t.Errorf("ledger: %+v", fs)
		}
		if none, err2 := tx.CustodyFees(ctx, "", "2026-11"); err2 != nil || len(none) != 0 {
			t.Errorf("November: %+v %v", none, err2)
		}
		return err
	})
}
