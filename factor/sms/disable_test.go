package sms_test

import (
	"context"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/sms"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// TestDisableForIBKeyEndsSessions: when IB Key switches SMS login off, the
// sessions SMS codes opened end with it; the IB Key's own do not.
func TestDisableForIBKeyEndsSessions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s := storetest.MustOpenSQLite(t)
	u := storetest.Fixture(t, s, "sara")
	smsDev := &sls.Device{ID: "dev_sms", UserID: u.ID, Kind: sls.KindSMS, State: sls.StateActive, CreatedAt: now}
	ibk := &sls.Device{ID: "dev_ibk", UserID: u.ID, Kind: sls.KindIBKey, State: sls.StateActive, CreatedAt: now}
	if err := s.Update(ctx, func(tx sls.Tx) error {
		if err := tx.CreateDevice(ctx, smsDev); err != nil {
			return err
		}
		return tx.CreateDevice(ctx, ibk)
	}); err != nil {
		t.Fatal(err)
	}
	smsSes, _ := storetest.LiveSession(t, s, u.ID, smsDev.ID, sls.PlatformPortal, sls.ScopeFull, now)
	ibkSes, _ := storetest.LiveSession(t, s, u.ID, ibk.ID, sls.PlatformPortal, sls.ScopeFull, now)
	if err := s.Update(ctx, func(tx sls.Tx) error { return sms.DisableForIBKey(ctx, tx, u, ibk, now.Add(time.Minute)) }); err != nil {
		t.Fatal(err)
	}
	if err := s.View(ctx, func(tx sls.Tx) error {
		a, err := tx.Session(ctx, smsSes)
		if err != nil {
			return err
		}
		b, err := tx.Session(ctx, ibkSes)
		if err != nil {
			return err
		}
		if a.Live(now.Add(2*time.Minute)) || !b.Live(now.Add(2*time.Minute)) {
			t.Errorf("SMS session live %v, IB Key session live %v", a.Live(now.Add(2*time.Minute)), b.Live(now.Add(2*time.Minute)))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
