package outbox_test

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/outbox"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 30: time.Hour} {
		if got := outbox.Backoff(n); got != want {
			t.Errorf("Backoff(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestWorkerRetriesTemporaryAndStopsOnPermanent(t *testing.T) {
	store := storetest.MustOpenSQLite(t)
	u := storetest.Fixture(t, store, "wendy")
	sealer, _ := seal.New(bytes.Repeat([]byte{5}, seal.KeySize))
	clk := clock.NewFake(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	q := &outbox.Queue{Sealer: sealer, Clock: clk}
	ctx := context.Background()
	err := store.Update(ctx, func(tx sls.Tx) error {
		cur, _ := tx.User(ctx, u.ID)
		cur.Email = "wendy@example.test"
		if err := tx.PutUser(ctx, cur); err != nil {
			return err
		}
		return q.Notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NoteSecureMessage, Data: map[string]string{"Summary": "hi"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	fail := errors.New("503 from provider")
	w := &outbox.Worker{Store: store, Sealer: sealer, Clock: clk, Owner: "w1",
		Sender: notify.SenderFunc(func(ctx context.Context, m notify.Message) error {
			calls.Add(1)
			if m.Body == "" || m.To != "wendy@example.test" {
				t.Errorf("message: %+v", m)
			}
			return fail
		})}
	w.RunOnce(ctx)
	w.RunOnce(ctx) // not due yet: backoff
	if calls.Load() != 1 {
		t.Fatalf("%d attempts, want 1 before the backoff passes", calls.Load())
	}
	clk.Advance(2 * time.Second)
	fail = notify.Permanent(errors.New("400 bad address"))
	w.RunOnce(ctx)
	clk.Advance(time.Hour)
	w.RunOnce(ctx)
	if calls.Load() != 2 {
		t.Fatalf("%d attempts, want 2 (a permanent failure is not retried)", calls.Load())
	}
	store.View(ctx, func(tx sls.Tx) error {
		failed, _ := tx.OutboxMessages(ctx, sls.OutboxFailed, 10)
		if len(failed) != 1 || failed[0].Attempts != 2 {
			t.Fatalf("failed: %+v", failed)
		}
		return nil
	})
}

// A notification that carries its user (as the caller's transaction holds
// it) is addressed from that user, without reading the row again; one
// whose user is another reads the row of UserID.
func TestNotifyUsesTheGivenUser(t *testing.T) {
	store := storetest.MustOpenSQLite(t)
	u := storetest.Fixture(t, store, "gina")
	sealer, _ := seal.New(bytes.Repeat([]byte{5}, seal.KeySize))
	q := &outbox.Queue{Sealer: sealer, Clock: clock.NewFake(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))}
	ctx := context.Background()
	err := store.Update(ctx, func(tx sls.Tx) error {
		stored, err := tx.User(ctx, u.ID)
		if err != nil {
			return err
		}
		stored.Email = "stored@example.test"
		if err := tx.PutUser(ctx, stored); err != nil {
			return err
		}
		held := *stored
		held.Email = "held@example.test" // what this transaction holds, not yet written
		other := held
		other.ID = "usr_someone_else"
		data := map[string]string{"Summary": "hi"}
		if err := q.Notify(ctx, tx, sls.Notification{UserID: u.ID, User: &held, Kind: sls.NoteSecureMessage, Data: data}); err != nil {
			return err
		}
		return q.Notify(ctx, tx, sls.Notification{UserID: u.ID, User: &other, Kind: sls.NoteSecureMessage, Data: data})
	})
	if err != nil {
		t.Fatal(err)
	}
	store.View(ctx, func(tx sls.Tx) error {
		pending, err := tx.OutboxMessages(ctx, sls.OutboxPending, 10)
		if err != nil || len(pending) != 2 {
			t.Fatalf("pending: %+v %v", pending, err)
		}
		to := map[string]bool{}
		for _, m := range pending {
			to[m.To] = true
		}
		if !to["held@example.test"] || !to["stored@example.test"] {
			t.Fatalf("destinations %v, want the held user's and, for a notification of another user, the stored one", to)
		}
		return nil
	})
}
