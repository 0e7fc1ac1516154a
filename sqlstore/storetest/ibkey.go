package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("IBKeyTickets", testIBKeyTickets)
	Register("IBKeyInstances", testIBKeyInstances)
	Register("IBKeyPushes", testIBKeyPushes)
	Register("IBKeyGatewayClaimOnce", testIBKeyGatewayClaim)
}

func testIBKeyTickets(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "tickets")
	qr := &sls.IBKeyTicket{IDHash: "h1", Kind: sls.IBKeyTicketQR, UserID: u.ID, SessionID: "ses_1", Sealed: []byte{1, 2, 3},
		CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	newer := &sls.IBKeyTicket{IDHash: "h2", Kind: sls.IBKeyTicketQR, UserID: u.ID, SessionID: "ses_1", Sealed: []byte{4},
		CreatedAt: t0.Add(time.Minute), ExpiresAt: t0.Add(11 * time.Minute)}
	sms := &sls.IBKeyTicket{IDHash: "h3", Kind: sls.IBKeyTicketSMS, UserID: u.ID, InstanceID: "ibi_1", CodeHash: []byte{9, 9},
		CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for _, k := range []*sls.IBKeyTicket{qr, newer, sms} {
			if err := tx.CreateIBKeyTicket(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.Update(context.Background(), func(tx sls.Tx) error { return tx.CreateIBKeyTicket(context.Background(), qr) })
	if !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("duplicate ticket: %v, want conflict", err)
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.IBKeyTicketForUpdate(ctx, "h3")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, sms) {
			return fmt.Errorf("got %+v, want %+v", got, sms)
		}
		got.Attempts, got.UsedAt = 2, t0.Add(30*time.Second)
		return tx.PutIBKeyTicket(ctx, got)
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		list, err := tx.IBKeyTicketsBySession(ctx, "ses_1")
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].IDHash != "h2" || list[1].IDHash != "h1" || !bytes.Equal(list[1].Sealed, []byte{1, 2, 3}) {
			return fmt.Errorf("tickets by session: %+v", list)
		}
		for _, c := range []struct {
			user, kind string
			want       time.Time
		}{{u.ID, sls.IBKeyTicketQR, t0.Add(time.Minute)}, {u.ID, sls.IBKeyTicketSMS, t0}, {"nobody", sls.IBKeyTicketSMS, time.Time{}}} {
			at, err := tx.LastIBKeyTicketAt(ctx, c.user, c.kind)
			if err != nil || !at.Equal(c.want) {
				return fmt.Errorf("last %s ticket of %s: %v %v, want %v", c.kind, c.user, at, err, c.want)
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, err := tx.IBKeyTicketForUpdate(ctx, "nope"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("missing ticket: %v", err)
		}
		got, err := tx.IBKeyTicketForUpdate(ctx, "h3")
		if err != nil {
			return err
		}
		if got.Attempts != 2 || !got.UsedAt.Equal(t0.Add(30*time.Second)) {
			return fmt.Errorf("put ticket: %+v", got)
		}
		n, err := tx.DeleteIBKeyTicketsBefore(ctx, t0.Add(10*time.Minute+time.Second))
		if err != nil || n != 2 {
			return fmt.Errorf("delete tickets: %d %v", n, err)
		}
		if err := tx.PutIBKeyTicket(ctx, got); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("put of a deleted ticket: %v", err)
		}
		return nil
	})
}

func testIBKeyInstances(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "inst")
	in := &sls.IBKeyInstance{ID: "ibi_a", TokenHash: "tok", SignPub: bytes.Repeat([]byte{7}, 32), Platform: "android", CreatedAt: t0}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateIBKeyInstance(ctx, in) })
	dup := *in
	dup.ID = "ibi_b"
	if err := s.Update(context.Background(), func(tx sls.Tx) error { return tx.CreateIBKeyInstance(context.Background(), &dup) }); !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("duplicate token hash: %v, want conflict", err)
	}
	in.Label, in.LastSeenAt = "phone", t0.Add(time.Hour)
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.PutIBKeyInstance(ctx, in); err != nil {
			return err
		}
		for i, serial := range []string{"ibi_a", "ibi_a", "other"} {
			d := &sls.Device{ID: fmt.Sprintf("dev_%d", i), UserID: u.ID, Kind: sls.KindIBKey, State: sls.StateActive, Serial: serial,
				CreatedAt: t0.Add(time.Duration(i) * time.Second)}
			if err := tx.CreateDevice(ctx, d); err != nil {
				return err
			}
		}
		// A device of another kind with the same serial is not an IB Key device.
		return tx.CreateDevice(ctx, &sls.Device{ID: "dev_x", UserID: u.ID, Kind: sls.KindCodeCard, State: sls.StateActive, Serial: "ibi_a", CreatedAt: t0})
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.IBKeyInstanceByTokenHash(ctx, "tok")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, in) {
			return fmt.Errorf("got %+v, want %+v", got, in)
		}
		if _, err := tx.IBKeyInstance(ctx, "ibi_zz"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("missing instance: %v", err)
		}
		ds, err := tx.IBKeyDevices(ctx, "ibi_a")
		if err != nil {
			return err
		}
		if len(ds) != 2 || ds[0].ID != "dev_0" || ds[1].ID != "dev_1" {
			return fmt.Errorf("devices of instance: %+v", ds)
		}
		return nil
	})
}

func testIBKeyPushes(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "pusher")
	v := Fixture(t, s, "pushee")
	mk := func(id, user string, created time.Time) *sls.IBKeyPush {
		return &sls.IBKeyPush{ID: id, UserID: user, DeviceID: "dev_" + id, LoginHash: "lh_" + id, State: sls.PushPending, Number: "42",
			Platform: sls.PlatformPortal, ClientIP: "192.0.2.1", UserAgent: "ua", CreatedAt: created, ExpiresAt: created.Add(2 * time.Minute),
			UpdatedAt: created}
	}
	p1, p2, p3 := mk("p1", u.ID, t0), mk("p2", u.ID, t0.Add(time.Second)), mk("p3", v.ID, t0.Add(2*time.Second))
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for _, p := range []*sls.IBKeyPush{p1, p2, p3} {
			if err := tx.CreateIBKeyPush(ctx, p); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.IBKeyPush(ctx, "p1")
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, p1) {
			return fmt.Errorf("got %+v, want %+v", got, p1)
		}
		pend, err := tx.IBKeyPendingPushes(ctx, []string{u.ID, v.ID})
		if err != nil || len(pend) != 3 || pend[0].ID != "p1" || pend[2].ID != "p3" {
			return fmt.Errorf("pending: %v %v", pend, err)
		}
		if pend, err := tx.IBKeyPendingPushes(ctx, nil); err != nil || len(pend) != 0 {
			return fmt.Errorf("pending of nobody: %v %v", pend, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		p, err := tx.IBKeyPushForUpdate(ctx, "p1")
		if err != nil {
			return err
		}
		p.State, p.AnsweredAt, p.AnsweredBy, p.Biometric, p.BadUnlocks, p.UpdatedAt = sls.PushApproved, t0.Add(5*time.Second), "dev_9", true, 1, t0.Add(5*time.Second)
		return tx.PutIBKeyPush(ctx, p)
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.IBKeyPush(ctx, "p1")
		if err != nil {
			return err
		}
		if got.State != sls.PushApproved || !got.Biometric || got.BadUnlocks != 1 || got.AnsweredBy != "dev_9" || !got.AnsweredAt.Equal(t0.Add(5*time.Second)) {
			return fmt.Errorf("after put: %+v", got)
		}
		pend, err := tx.IBKeyPendingPushes(ctx, []string{u.ID})
		if err != nil || len(pend) != 1 || pend[0].ID != "p2" {
			return fmt.Errorf("pending after approval: %v %v", pend, err)
		}
		changed, err := tx.IBKeyPushesUpdatedSince(ctx, t0.Add(500*time.Millisecond), 10)
		if err != nil || len(changed) != 3 || changed[0].ID != "p2" || changed[2].ID != "p1" {
			return fmt.Errorf("updated since: %v %v", changed, err)
		}
		if changed, err := tx.IBKeyPushesUpdatedSince(ctx, t0, 1); err != nil || len(changed) != 1 {
			return fmt.Errorf("limit: %v %v", changed, err)
		}
		exp, err := tx.IBKeyPushesExpiring(ctx, t0.Add(2*time.Minute+time.Second), 10)
		if err != nil || len(exp) != 1 || exp[0].ID != "p2" {
			return fmt.Errorf("expiring: %v %v", exp, err)
		}
		gw, err := tx.IBKeyPushesForGateway(ctx, t0.Add(time.Minute), 10)
		if err != nil || len(gw) != 2 {
			return fmt.Errorf("for gateway: %v %v", gw, err)
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		n, err := tx.DeleteIBKeyPushesBefore(ctx, t0.Add(2*time.Minute+time.Second+500*time.Millisecond))
		if err != nil || n != 2 {
			return fmt.Errorf("delete pushes: %d %v", n, err)
		}
		if _, err := tx.IBKeyPush(ctx, "p1"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("deleted push: %v", err)
		}
		return nil
	})
}

// testIBKeyGatewayClaimOnce: several nodes race to hand one push to the
// gateway; exactly one wins.
func testIBKeyGatewayClaim(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "claimer")
	p := &sls.IBKeyPush{ID: "pc", UserID: u.ID, DeviceID: "dev", LoginHash: "lh", State: sls.PushPending, Number: "10",
		CreatedAt: t0, ExpiresAt: t0.Add(time.Minute), UpdatedAt: t0}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateIBKeyPush(ctx, p) })
	var mu sync.Mutex
	wins := 0
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var won bool
			err := s.Update(context.Background(), func(tx sls.Tx) error {
				var err error
				won, err = tx.ClaimIBKeyPushGateway(context.Background(), "pc", t0.Add(time.Second))
				return err
			})
			if err != nil {
				t.Error(err)
				return
			}
			if won {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d claims won, want 1", wins)
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		gw, err := tx.IBKeyPushesForGateway(ctx, t0, 10)
		if err != nil || len(gw) != 0 {
			return fmt.Errorf("claimed push still listed: %v %v", gw, err)
		}
		return nil
	})
}
