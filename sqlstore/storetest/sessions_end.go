package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("EndSessions", testEndSessions)
}

// testEndSessions: ending by device or by user touches only live sessions
// that match, reports exactly those, leaves the kept scope running, and
// never matches password-only sessions by an empty device id.
func testEndSessions(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "sessend")
	other := Fixture(t, s, "sessother")
	mk := func(id, user, device string, scope sls.Scope, expires time.Time, ended time.Time) *sls.Session {
		return &sls.Session{ID: id, TokenHash: "th_" + id, UserID: user, Platform: sls.PlatformPortal, DeviceID: device,
			Scope: scope, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: expires, EndedAt: ended}
	}
	later := t0.Add(12 * time.Hour)
	now := t0.Add(time.Hour)
	all := []*sls.Session{
		mk("ses_a", u.ID, "dev_1", sls.ScopeFull, later, time.Time{}),
		mk("ses_b", u.ID, "dev_1", sls.ScopeFull, later, time.Time{}),
		mk("ses_c", u.ID, "dev_1", sls.ScopeFull, later, t0.Add(time.Minute)),       // already ended
		mk("ses_d", u.ID, "dev_1", sls.ScopeFull, t0.Add(time.Minute), time.Time{}), // already expired
		mk("ses_e", u.ID, "dev_2", sls.ScopeFull, later, time.Time{}),
		mk("ses_f", u.ID, "", sls.ScopeFull, later, time.Time{}),
		mk("ses_g", u.ID, "", sls.ScopeStatementsOnly, later, time.Time{}),
		mk("ses_h", other.ID, "dev_9", sls.ScopeFull, later, time.Time{}),
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for id, user := range map[string]string{"dev_1": u.ID, "dev_2": u.ID, "dev_9": other.ID} {
			if err := tx.CreateDevice(ctx, &sls.Device{ID: id, UserID: user, Kind: sls.KindDSCPlus, State: sls.StateActive, CreatedAt: t0}); err != nil {
				return err
			}
		}
		for _, ss := range all {
			if err := tx.CreateSession(ctx, ss); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if ids, err := tx.EndSessionsByDevice(ctx, "", now); err != nil || len(ids) != 0 {
			return fmt.Errorf("empty device: %v %v", ids, err)
		}
		ids, err := tx.EndSessionsByDevice(ctx, "dev_1", now)
		if err != nil || !slices.Equal(ids, []string{"ses_a", "ses_b"}) {
			return fmt.Errorf("by device: %v %v", ids, err)
		}
		if ids, err = tx.EndSessionsByDevice(ctx, "dev_1", now); err != nil || len(ids) != 0 {
			return fmt.Errorf("by device again: %v %v", ids, err)
		}
		ids, err = tx.EndSessionsByUser(ctx, u.ID, sls.ScopeStatementsOnly, now.Add(time.Minute))
		if err != nil || !slices.Equal(ids, []string{"ses_e", "ses_f"}) {
			return fmt.Errorf("by user: %v %v", ids, err)
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		want := map[string]time.Time{"ses_a": now, "ses_b": now, "ses_c": t0.Add(time.Minute), "ses_d": {},
			"ses_e": now.Add(time.Minute), "ses_f": now.Add(time.Minute), "ses_g": {}, "ses_h": {}}
		for id, ended := range want {
			got, err := tx.Session(ctx, id)
			if err != nil {
				return err
			}
			if !got.EndedAt.Equal(ended) {
				return fmt.Errorf("%s ended at %v, want %v", id, got.EndedAt, ended)
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		ids, err := tx.EndSessionsByUser(ctx, u.ID, "", now.Add(2*time.Minute))
		if err != nil || !slices.Equal(ids, []string{"ses_g"}) {
			return fmt.Errorf("by user, nothing kept: %v %v", ids, err)
		}
		return nil
	})
}

// LiveSession stores a live 12-hour session of userID authenticated by
// deviceID (empty: password only) on platform, created at now, and returns
// its bearer token. Tests use it to prove that an action ends the sessions
// it should: the token stops authenticating.
func LiveSession(tb testing.TB, s sls.Store, userID, deviceID string, platform sls.Platform, scope sls.Scope, now time.Time) (id, token string) {
	tb.Helper()
	token = sls.NewToken("ses")
	ss := &sls.Session{ID: sls.NewID("ses"), TokenHash: sls.TokenHash(token), UserID: userID, Platform: platform, DeviceID: deviceID,
		Scope: scope, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(12 * time.Hour), ClientIP: "192.0.2.10"}
	if deviceID != "" {
		err := s.View(context.Background(), func(tx sls.Tx) error {
			d, err := tx.Device(context.Background(), deviceID)
			if err == nil {
				ss.DeviceKind = d.Kind
			}
			return err
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := s.Update(context.Background(), func(tx sls.Tx) error { return tx.CreateSession(context.Background(), ss) }); err != nil {
		tb.Fatal(err)
	}
	return ss.ID, token
}

// MustDevice reads device id, failing tb when it cannot.
func MustDevice(tb testing.TB, s sls.Store, id string) *sls.Device {
	tb.Helper()
	var d *sls.Device
	if err := s.View(context.Background(), func(tx sls.Tx) error {
		var err error
		d, err = tx.Device(context.Background(), id)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	return d
}
