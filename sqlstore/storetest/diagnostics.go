package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("Diagnostics", testDiagnostics)
	Register("DiagnosticsCountSerialised", testDiagnosticsCountSerialised)
}

// testDiagnosticsCountSerialised: while one transaction has counted a
// username's bundles and not yet committed its new one, a second
// transaction's count of that username waits, and then sees it.
func testDiagnosticsCountSerialised(t *testing.T, s sls.Store) {
	ctx := context.Background()
	counted := make(chan struct{})
	second := make(chan int, 1)
	go func() {
		<-counted
		var n int
		err := s.Update(ctx, func(tx sls.Tx) error {
			var err error
			n, err = tx.CountDiagnostics(ctx, "burst", t0.Add(-time.Hour))
			return err
		})
		if err != nil {
			t.Error(err)
		}
		second <- n
	}()
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		n, err := tx.CountDiagnostics(ctx, "burst", t0.Add(-time.Hour))
		if err != nil || n != 0 {
			t.Errorf("first count: %d %v", n, err)
		}
		close(counted)
		time.Sleep(300 * time.Millisecond) // the second count is waiting, or has not begun
		return tx.CreateDiagnostic(ctx, &sls.Diagnostic{Ref: "D-BRST-0001", Username: "burst", Reason: "r", ArchiveKind: "zip", CreatedAt: t0})
	})
	if n := <-second; n != 1 {
		t.Fatalf("the second count saw %d bundles, want 1: two uploads passed the cap together", n)
	}
}

// testDiagnostics: a bundle's row round-trips, a second row with its
// reference is a conflict, the lists filter open and closed, the
// per-username count sees the window, the purge lists what is old, and a
// ticket cites a bundle.
func testDiagnostics(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "diag")
	ctx := context.Background()
	a := &sls.Diagnostic{Ref: "D-AAAA-0001", Username: "diag", UserID: u.ID, Reason: "freezes", ArchiveKind: "zip", ArchiveBytes: 100,
		ArchiveEntries: 2, UncompressedBytes: 300, Screenshots: []string{"screenshot-1.png", "screenshot-2.jpg"}, CreatedAt: t0}
	b := &sls.Diagnostic{Ref: "D-AAAA-0002", Username: "someone", Reason: "login", ArchiveKind: "tar.gz", ArchiveBytes: 10,
		ArchiveEntries: 1, UncompressedBytes: 20, CreatedAt: t0.Add(time.Hour)}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateDiagnostic(ctx, a) })
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateDiagnostic(ctx, b) })
	if err := s.Update(ctx, func(tx sls.Tx) error { return tx.CreateDiagnostic(ctx, a) }); !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("same reference twice: %v", err)
	}
	var got *sls.Diagnostic
	if err := s.View(ctx, func(tx sls.Tx) error { var err error; got, err = tx.Diagnostic(ctx, a.Ref); return err }); err != nil ||
		got.Username != "diag" || got.UserID != u.ID || len(got.Screenshots) != 2 || got.Screenshots[1] != "screenshot-2.jpg" ||
		!got.CreatedAt.Equal(t0) || !got.Open() || got.ArchiveEntries != 2 || got.UncompressedBytes != 300 {
		t.Fatalf("diagnostic: %+v %v", got, err)
	}
	if err := s.View(ctx, func(tx sls.Tx) error { _, err := tx.Diagnostic(ctx, "D-NONE-0000"); return err }); !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("unknown reference: %v", err)
	}

	tk := &sls.Ticket{ID: "tkt_1", UserID: u.ID, Subject: "TWS freezes", SealedBody: []byte{1, 2, 3}, Diagnostic: a.Ref, CreatedAt: t0.Add(2 * time.Hour)}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateTicket(ctx, tk) })
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		d, err := tx.DiagnosticForUpdate(ctx, a.Ref)
		if err != nil {
			return err
		}
		d.TicketID = tk.ID
		d.ClosedAt, d.ClosedBy = t0.Add(3*time.Hour), "operator:ann"
		return tx.PutDiagnostic(ctx, d)
	})
	if err := s.Update(ctx, func(tx sls.Tx) error { return tx.PutDiagnostic(ctx, &sls.Diagnostic{Ref: "D-NONE-0000"}) }); !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("put unknown: %v", err)
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		list, err := tx.Tickets(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(list) != 1 || list[0].Subject != "TWS freezes" || list[0].Diagnostic != a.Ref || string(list[0].SealedBody) != "\x01\x02\x03" {
			t.Errorf("tickets: %+v", list)
		}
		for state, want := range map[string][]string{"open": {b.Ref}, "closed": {a.Ref}, "": {b.Ref, a.Ref}} {
			l, err := tx.Diagnostics(ctx, sls.DiagnosticFilter{State: state})
			if err != nil {
				return err
			}
			var refs []string
			for _, d := range l {
				refs = append(refs, d.Ref)
			}
			if len(refs) != len(want) || (len(refs) > 0 && refs[0] != want[0]) {
				t.Errorf("state %q: %v, want %v", state, refs, want)
			}
			if state == "closed" && (l[0].TicketID != tk.ID || l[0].ClosedBy != "operator:ann" || !l[0].ClosedAt.Equal(t0.Add(3*time.Hour))) {
				t.Errorf("closed: %+v", l[0])
			}
		}
		n, err := tx.CountDiagnostics(ctx, "diag", t0)
		if err != nil || n != 1 {
			t.Errorf("count: %d %v", n, err)
		}
		n, err = tx.CountDiagnostics(ctx, "diag", t0.Add(time.Minute))
		if err != nil || n != 0 {
			t.Errorf("count after: %d %v", n, err)
		}
		old, err := tx.DiagnosticsBefore(ctx, t0.Add(30*time.Minute), 10)
		if err != nil || len(old) != 1 || old[0] != a.Ref {
			t.Errorf("before: %v %v", old, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.DeleteDiagnostic(ctx, a.Ref) })
	if err := s.View(ctx, func(tx sls.Tx) error { _, err := tx.Diagnostic(ctx, a.Ref); return err }); !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("deleted: %v", err)
	}
}
