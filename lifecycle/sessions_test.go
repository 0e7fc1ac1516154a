package lifecycle

import (
	"context"
	"errors"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/policy"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// sessions gives tests live sessions and tells whether they still work.
type sessions struct {
	e  *env
	ls *login.Service
}

func (e *env) sessions() *sessions {
	e.t.Helper()
	ls, err := login.New(login.Deps{Store: e.store, Factors: sls.Factors{}, Clock: e.clk})
	if err != nil {
		e.t.Fatal(err)
	}
	return &sessions{e: e, ls: ls}
}

func (s *sessions) open(u *sls.User, deviceID string, scope sls.Scope) string {
	s.e.t.Helper()
	_, tok := storetest.LiveSession(s.e.t, s.e.store, u.ID, deviceID, sls.PlatformPortal, scope, s.e.clk.Now())
	return tok
}

func (s *sessions) works(tok string) bool {
	s.e.t.Helper()
	_, _, err := s.ls.Authenticate(ctx, tok, "192.0.2.10")
	if err != nil && !errors.Is(err, sls.ErrUnauthenticated) {
		s.e.t.Fatal(err)
	}
	return err == nil
}

func (e *env) audited(event string) bool {
	e.t.Helper()
	var found bool
	_, _ = e.store.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
	if err := e.store.View(ctx, func(tx sls.Tx) error {
		list, err := tx.AuditEntries(ctx, 0, 100000)
		for _, en := range list {
			found = found || en.Event == event
		}
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return found
}

// TestReportLostEndsSessions: reporting a card lost or stolen ends what it
// opened, at once; another device's sessions go on.
func TestReportLostEndsSessions(t *testing.T) {
	for _, what := range []string{"lost", "stolen", "damaged"} {
		t.Run(what, func(t *testing.T) {
			e := newEnv(t)
			s := e.sessions()
			u := e.client("ada", "US", 2_000_000)
			dev, err := e.mgr.IssueDSCPlus(ctx, "operator:test", u.Username, "DSC-LOST-1", "2468", true)
			if err != nil {
				t.Fatal(err)
			}
			card, err := e.mgr.IssueCodeCard(ctx, "operator:test", u.Username)
			if err != nil {
				t.Fatal(err)
			}
			gone, kept := s.open(u, dev.Device.ID, sls.ScopeFull), s.open(u, card.Device.ID, sls.ScopeFull)
			if _, err := e.svc.Report(ctx, u, dev.Device.ID, what); err != nil {
				t.Fatal(err)
			}
			if s.works(gone) || !s.works(kept) {
				t.Fatalf("after report %s: card session works %v, other %v", what, s.works(gone), s.works(kept))
			}
			want := "session.ended.device_lost"
			if what == "damaged" {
				want = "session.ended.device_revoked"
			}
			if !e.audited(want) {
				t.Errorf("no %s", want)
			}
		})
	}
}

// TestReplacementEndsSessions: ordering a replacement retires the old card
// and its sessions; activating the replacement (a permanent device) then
// ends the temporary passcode that ordered it, and that session too.
func TestReplacementEndsSessions(t *testing.T) {
	e := newEnv(t)
	s := e.sessions()
	u := e.client("rosa", "US", 2_000_000)
	old, err := e.mgr.IssueDSCPlus(ctx, "operator:test", u.Username, "DSC-OLD-2", "2468", true)
	if err != nil {
		t.Fatal(err)
	}
	oldTok := s.open(u, old.Device.ID, sls.ScopeFull)
	// The client lost the card: Client Services verifies them and issues a
	// temporary passcode, with which they order the replacement.
	if _, err := e.mgr.Revoke(ctx, "operator:test", old.Device.ID, "client lost it"); err != nil {
		t.Fatal(err)
	}
	if s.works(oldTok) {
		t.Fatal("the revoked card's session still works")
	}
	_, tp, err := e.mgr.IssueTempPasscode(ctx, "operator:test", u.Username, "called back on file number")
	if err != nil {
		t.Fatal(err)
	}
	tpTok := s.open(u, tp.ID, sls.ScopeFull)

	// A damaged card still active is replaced: it is retired at the order.
	dmg, err := e.mgr.IssueDSCPlus(ctx, "operator:test", u.Username, "DSC-DMG-1", "1357", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Update(ctx, func(tx sls.Tx) error {
		d, err := tx.Device(ctx, dmg.Device.ID)
		if err != nil {
			return err
		}
		d.State = sls.StateActive // as if used before the passcode (written directly: ActivateInTx would expire the passcode)
		return tx.PutDevice(ctx, d)
	}); err != nil {
		t.Fatal(err)
	}
	dmgTok := s.open(u, dmg.Device.ID, sls.ScopeFull)
	sess := sessionOf(u, sls.KindTempPasscode)
	sess.DeviceID = tp.ID
	req := OrderRequest{ShippingAddress: address, PIN: "8642", Replace: &Replacement{DeviceID: dmg.Device.ID, Reason: policy.ReplaceDamaged}}
	sum, err := e.svc.Preview(ctx, sess, u, req)
	if err != nil {
		t.Fatal(err)
	}
	req.Summary = sum.Digest
	conf, err := e.svc.Place(ctx, sess, u, req)
	if err != nil {
		t.Fatal(err)
	}
	if s.works(dmgTok) || !e.audited("session.ended.device_replaced") {
		t.Fatal("the replaced card's session still works")
	}
	if !s.works(tpTok) {
		t.Fatal("the passcode session ended before the replacement was active")
	}
	key := e.ship(conf.Order.ID)
	if _, err := e.activate(u, conf.Order.ID, key, "8642"); err != nil {
		t.Fatal(err)
	}
	if s.works(tpTok) || e.device(tp.ID).State != sls.StateExpired {
		t.Fatal("the temporary passcode outlived the activation of the replacement")
	}
}

// TestExpireDevicesEndsSessions: a device that expires ends its sessions.
func TestExpireDevicesEndsSessions(t *testing.T) {
	e := newEnv(t)
	s := e.sessions()
	u := e.client("fay", "US", 100)
	_, tp, err := e.mgr.IssueTempPasscode(ctx, "operator:test", u.Username, "verified by phone")
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Set(tp.ExpiresAt.Add(-time.Hour))
	tok := s.open(u, tp.ID, sls.ScopeOnlineCardOnly)
	if err := e.svc.ExpireDevices(ctx, tp.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if s.works(tok) || !e.audited("session.ended.device_expired") {
		t.Fatal("an expired passcode's session still works")
	}
}

// TestDestroyedCardEndsSessions: a code card the client confirms destroyed
// ends its sessions.
func TestDestroyedCardEndsSessions(t *testing.T) {
	e := newEnv(t)
	s := e.sessions()
	u := e.client("dora", "US", 100)
	card, err := e.mgr.IssueCodeCard(ctx, "operator:test", u.Username)
	if err != nil {
		t.Fatal(err)
	}
	tok := s.open(u, card.Device.ID, sls.ScopeFull)
	if _, err := e.svc.ConfirmDestroyed(ctx, u, card.Device.ID, true); err != nil {
		t.Fatal(err)
	}
	if s.works(tok) {
		t.Fatal("a destroyed card's session still works")
	}
}

// TestClosureKeepsStatementsScope: closing the account ends every session
// but the statements-only one a closed account is allowed.
func TestClosureKeepsStatementsScope(t *testing.T) {
	e := newEnv(t)
	s := e.sessions()
	u := e.client("gus", "US", 100)
	full, statements := s.open(u, "", sls.ScopeFull), s.open(u, "", sls.ScopeStatementsOnly)
	cl, err := e.svc.CloseAccount(ctx, "operator:test", u.AccountID, "client request")
	if err != nil || cl.SessionsEnded != 1 {
		t.Fatalf("closure: %+v %v", cl, err)
	}
	if s.works(full) || !s.works(statements) || !e.audited("session.ended.account_closed") {
		t.Fatal("closure ended the wrong sessions")
	}
}

// TestActivationLockoutEndsSessions: wrong activation answers that lock
// the user end the user's sessions and audit user.locked.
func TestActivationLockoutEndsSessions(t *testing.T) {
	e := newEnv(t)
	e.svc.Config.MaxFailures = 2
	s := e.sessions()
	u := e.client("ivy", "US", 2_000_000)
	tok := s.open(u, "", sls.ScopeFull)
	id, key := e.delivered(u)
	var last error
	for range 2 {
		_, last = e.activate(u, id, key, "1357")
	}
	if !errors.Is(last, sls.ErrLocked) {
		t.Fatalf("second wrong answer: %v", last)
	}
	if s.works(tok) || !e.audited(sls.EventLockout) || !e.audited("session.ended.user_locked") {
		t.Fatal("a lock-out left the user's session working")
	}
}
