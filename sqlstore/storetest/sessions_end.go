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
