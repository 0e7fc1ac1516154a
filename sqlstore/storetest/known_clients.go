package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("KnownClients", testKnownClients)
}

// testKnownClients: a client round-trips, counts failures, is revoked,
// the user's untrusted hold-off round-trips, and pruning keeps the most
// recently used clients of that user only.
func testKnownClients(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "kc")
	other := Fixture(t, s, "kcother")
	ctx := context.Background()
	c := &sls.KnownClient{TokenHash: "kh_1", UserID: u.ID, CreatedAt: t0, LastUsedAt: t0}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateKnownClient(ctx, c) })
	if err := s.Update(ctx, func(tx sls.Tx) error { return tx.CreateKnownClient(ctx, c) }); !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("duplicate token: %v", err)
	}
	c.Failures, c.LastUsedAt, c.RevokedAt = 3, t0.Add(time.Hour), t0.Add(2*time.Hour)
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutKnownClient(ctx, c) })
	var got *sls.KnownClient
	err := s.View(ctx, func(tx sls.Tx) error {
		var err error
		got, err = tx.KnownClient(ctx, "kh_1")
		return err
	})
	if err != nil || got.UserID != u.ID || got.Failures != 3 || !got.LastUsedAt.Equal(c.LastUsedAt) || !got.RevokedAt.Equal(c.RevokedAt) ||
		!got.CreatedAt.Equal(t0) || got.Valid(u.ID) {
		t.Fatalf("known client: %+v %v", got, err)
	}
	if err := s.View(ctx, func(tx sls.Tx) error { _, err := tx.KnownClient(ctx, "kh_none"); return err }); !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
	// The user's hold-off of unknown clients.
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		v, err := tx.UserForUpdate(ctx, u.ID)
		if err != nil {
			return err
		}
		v.UntrustedUntil, v.FailedPasswords = t0.Add(15*time.Minute), 10
		return tx.PutUser(ctx, v)
	})
	if err := s.View(ctx, func(tx sls.Tx) error {
		v, err := tx.User(ctx, u.ID)
		if err == nil && (!v.UntrustedUntil.Equal(t0.Add(15*time.Minute)) || v.FailedPasswords != 10) {
			err = fmt.Errorf("user hold-off: %+v", v)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Pruning keeps the newest per user.
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for i := range 5 {
			if err := tx.CreateKnownClient(ctx, &sls.KnownClient{TokenHash: fmt.Sprint("kp_", i), UserID: u.ID, CreatedAt: t0,
				LastUsedAt: t0.Add(2*time.Hour + time.Duration(i)*time.Minute)}); err != nil {
				return err
			}
		}
		if err := tx.CreateKnownClient(ctx, &sls.KnownClient{TokenHash: "ko", UserID: other.ID, CreatedAt: t0, LastUsedAt: t0}); err != nil {
			return err
		}
		return tx.PruneKnownClients(ctx, u.ID, 2)
	})
	err = s.View(ctx, func(tx sls.Tx) error {
		for h, want := range map[string]bool{"kp_4": true, "kp_3": true, "kp_2": false, "kh_1": false, "ko": true} {
			_, err := tx.KnownClient(ctx, h)
			if (err == nil) != want {
				return fmt.Errorf("after pruning, %s: %v (want kept=%v)", h, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
