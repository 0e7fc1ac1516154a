package sls_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/audit"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

var t0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

func lastAudit(t *testing.T, s sls.Store) audit.Entry {
	t.Helper()
	var last audit.Entry
	_, _ = s.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
	if err := s.View(context.Background(), func(tx sls.Tx) error {
		list, err := tx.AuditEntries(context.Background(), 0, 1000)
		if len(list) > 0 {
			last = list[len(list)-1]
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return last
}

// TestEndSessionsAudit: one audit entry per call, named after the reason,
// with the ids ended and the device's user; nothing ended, nothing
// written.
func TestEndSessionsAudit(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpenSQLite(t)
	u := storetest.Fixture(t, s, "ada")
	d := &sls.Device{ID: "dev_x", UserID: u.ID, Kind: sls.KindCodeCard, State: sls.StateActive, CreatedAt: t0}
	if err := s.Update(ctx, func(tx sls.Tx) error { return tx.CreateDevice(ctx, d) }); err != nil {
		t.Fatal(err)
	}
	id, _ := storetest.LiveSession(t, s, u.ID, d.ID, sls.PlatformPortal, sls.ScopeFull, t0)
	var ended []string
	if err := s.Update(ctx, func(tx sls.Tx) error {
		var err error
		ended, err = sls.EndSessions(ctx, tx, sls.SessionFilter{DeviceID: d.ID}, sls.EndDeviceLost, sls.ActorUser(u.ID), t0.Add(time.Minute))
		return err
	}); err != nil || !slices.Equal(ended, []string{id}) {
		t.Fatalf("ended %v, %v", ended, err)
	}
	e := lastAudit(t, s)
	var detail struct {
		Reason     string   `json:"reason"`
		SessionIDs []string `json:"session_ids"`
	}
	_ = json.Unmarshal([]byte(e.Detail), &detail)
	if e.Event != "session.ended.device_lost" || e.UserID != u.ID || e.DeviceID != d.ID || detail.Reason != "device_lost" || !slices.Equal(detail.SessionIDs, []string{id}) {
		t.Fatalf("audit: %+v", e)
	}
	seq := e.Seq
	if err := s.Update(ctx, func(tx sls.Tx) error {
		_, err := sls.EndSessions(ctx, tx, sls.SessionFilter{DeviceID: d.ID}, sls.EndDeviceLost, sls.ActorSystem, t0.Add(2*time.Minute))
		return err
	}); err != nil || lastAudit(t, s).Seq != seq {
		t.Fatalf("ending nothing wrote an audit entry (%v)", err)
	}
	if err := s.Update(ctx, func(tx sls.Tx) error {
		_, err := sls.EndSessions(ctx, tx, sls.SessionFilter{}, sls.EndByOperator, sls.ActorSystem, t0)
		return err
	}); err == nil {
		t.Fatal("an empty filter must be refused, never end everything")
	}
}

// TestLockoutEndsSessions: the lock-out rule shared by the second-factor
// flows ends every session of the user it locks.
func TestLockoutEndsSessions(t *testing.T) {
	ctx := context.Background()
	s := storetest.MustOpenSQLite(t)
	u := storetest.Fixture(t, s, "ada")
	storetest.LiveSession(t, s, u.ID, "", sls.PlatformTrading, sls.ScopeFull, t0)
	rule := sls.Lockout{MaxFailures: 2, Cooldown: time.Hour}
	for i, want := range []error{sls.ErrBadResponse, sls.ErrLocked} {
		var outcome error
		if err := s.Update(ctx, func(tx sls.Tx) error {
			cur, err := tx.UserForUpdate(ctx, u.ID)
			if err != nil {
				return err
			}
			outcome, err = rule.Fail(ctx, tx, cur, "", nil, t0)
			return err
		}); err != nil || !errors.Is(outcome, want) {
			t.Fatalf("failure %d: %v %v", i+1, outcome, err)
		}
	}
	if e := lastAudit(t, s); e.Event != "session.ended.user_locked" || e.Actor != sls.ActorSystem {
		t.Fatalf("last audit: %+v", e)
	}
	if err := s.View(ctx, func(tx sls.Tx) error {
		list, err := tx.Sessions(ctx, u.ID)
		if err == nil && (len(list) != 1 || list[0].Live(t0)) {
			t.Errorf("session still live: %+v", list)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
