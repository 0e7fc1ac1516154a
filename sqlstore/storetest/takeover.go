package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("Takeover", testTakeover)
}

// testTakeover: a user's cool-down round-trips; a report link is made,
// read locked, spent once, and purged after it expired.
func testTakeover(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "cool")
	ctx := context.Background()
	c := &sls.CoolDown{UserID: u.ID, Reason: sls.ChangeDeviceAdded, StartedAt: t0, Until: t0.Add(72 * time.Hour)}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutCoolDown(ctx, c) })
	c.Reason, c.Until = sls.ChangeMobileChanged, t0.Add(80*time.Hour)
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutCoolDown(ctx, c) }) // replaces
	var got *sls.CoolDown
	if err := s.View(ctx, func(tx sls.Tx) error { var err error; got, err = tx.CoolDown(ctx, u.ID); return err }); err != nil ||
		!got.Until.Equal(t0.Add(80*time.Hour)) || got.Reason != sls.ChangeMobileChanged || !got.StartedAt.Equal(t0) || !got.Active(t0) || got.Active(t0.Add(81*time.Hour)) {
		t.Fatalf("cool-down: %+v %v", got, err)
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.DeleteCoolDown(ctx, u.ID) })
	if err := s.View(ctx, func(tx sls.Tx) error { _, err := tx.CoolDown(ctx, u.ID); return err }); !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("deleted cool-down: %v", err)
	}

	l := &sls.ReportLink{TokenHash: "rl_1", UserID: u.ID, Notice: sls.NoteDeviceActivated, CreatedAt: t0, ExpiresAt: t0.Add(7 * 24 * time.Hour)}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateReportLink(ctx, l) })
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		r, err := tx.ReportLinkForUpdate(ctx, "rl_1")
		if err != nil {
			return err
		}
		if r.UserID != u.ID || r.Notice != sls.NoteDeviceActivated || !r.ExpiresAt.Equal(l.ExpiresAt) || !r.UsedAt.IsZero() {
			t.Errorf("report link: %+v", r)
		}
		return tx.SpendReportLink(ctx, "rl_1", t0.Add(time.Hour))
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		r, err := tx.ReportLinkForUpdate(ctx, "rl_1")
		if err == nil && !r.UsedAt.Equal(t0.Add(time.Hour)) {
			t.Errorf("spent: %+v", r)
		}
		return err
	})
	if err := s.Update(ctx, func(tx sls.Tx) error { _, err := tx.ReportLinkForUpdate(ctx, "rl_none"); return err }); !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("unknown link: %v", err)
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		n, err := tx.PurgeReportLinks(ctx, t0.Add(8*24*time.Hour))
		if err == nil && n != 1 {
			t.Errorf("purged %d", n)
		}
		return err
	})
}
