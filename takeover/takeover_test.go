package takeover

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

var t0 = time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)

// recorder is a Notifier that keeps what it was asked to send.
type recorder struct {
	mu    sync.Mutex
	notes []sls.Notification
}

func (r *recorder) Notify(_ context.Context, _ sls.Tx, n sls.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n)
	return nil
}

func newService(t testing.TB, cfg Config) (*Service, *sls.User, *clock.Fake, *recorder) {
	t.Helper()
	store := storetest.MustOpenSQLite(t)
	sealer, err := seal.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	rec := &recorder{}
	cfg.PublicURL = "https://broker.example"
	s := &Service{Store: store, Keys: sealer, Clock: clk, Notifier: rec, Config: cfg,
		Lock: func(_ context.Context, _ sls.Tx, u *sls.User, now time.Time) {
			u.LockedUntil = now.Add(100 * 365 * 24 * time.Hour)
		}}
	return s, storetest.Fixture(t, store, "vera"), clk, rec
}

func (s *Service) link(t *testing.T, userID string) string {
	t.Helper()
	var url string
	if err := s.Store.Update(context.Background(), func(tx sls.Tx) error {
		var err error
		url, err = s.NewReportLink(context.Background(), tx, userID, sls.NoteDeviceActivated, s.now())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "https://broker.example/report/rpt_") {
		t.Fatalf("link %q", url)
	}
	return url[strings.LastIndex(url, "/")+1:]
}

func TestCoolDownStartsExtendsAndClears(t *testing.T) {
	s, u, clk, _ := newService(t, Config{})
	ctx := context.Background()
	start := func(change string) {
		t.Helper()
		if err := s.Store.Update(ctx, func(tx sls.Tx) error { return s.StartCoolDown(ctx, tx, u.ID, change, clk.Now()) }); err != nil {
			t.Fatal(err)
		}
	}
	active := func() *sls.CoolDown {
		t.Helper()
		var c *sls.CoolDown
		if err := s.Store.View(ctx, func(tx sls.Tx) error { var err error; c, err = Active(ctx, tx, u.ID, clk.Now()); return err }); err != nil {
			t.Fatal(err)
		}
		return c
	}
	start(sls.ChangeDeviceAdded)
	if c := active(); c == nil || !c.Until.Equal(t0.Add(72*time.Hour)) || c.Reason != sls.ChangeDeviceAdded {
		t.Fatalf("cool-down: %+v", c)
	}
	clk.Advance(24 * time.Hour)
	start(sls.ChangeMobileChanged) // a later change extends it
	if c := active(); !c.Until.Equal(t0.Add(96*time.Hour)) || c.Reason != sls.ChangeMobileChanged {
		t.Fatalf("extended: %+v", c)
	}
	clk.Advance(96 * time.Hour)
	if c := active(); c != nil {
		t.Fatalf("still active after its end: %+v", c)
	}
	start(sls.ChangePasswordReset)
	if err := s.ClearCoolDown(ctx, "operator:cs", u, "x"); sls.ErrorCode(err) != sls.CodeInvalidArgument {
		t.Fatalf("cleared without a reason: %v", err)
	}
	if err := s.ClearCoolDown(ctx, "operator:cs", u, "called back on the number on file"); err != nil {
		t.Fatal(err)
	}
	if c := active(); c != nil {
		t.Fatalf("cleared but active: %+v", c)
	}
	if err := s.ClearCoolDown(ctx, "operator:cs", u, "again, nothing to clear"); sls.ErrorCode(err) != sls.CodeConflict {
		t.Fatalf("clearing nothing: %v", err)
	}

	off, u2, _, _ := newService(t, Config{CoolDownOff: true})
	if err := off.Store.Update(ctx, func(tx sls.Tx) error { return off.StartCoolDown(ctx, tx, u2.ID, sls.ChangeDeviceAdded, t0) }); err != nil {
		t.Fatal(err)
	}
	if err := off.Store.View(ctx, func(tx sls.Tx) error { _, err := tx.CoolDown(ctx, u2.ID); return err }); !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("a switched-off cool-down started: %v", err)
	}
}

// A link locks once; spent, expired and made-up links all answer the same
// and change nothing; a second report of a locked user alerts nobody again.
func TestReportLinks(t *testing.T) {
	s, u, clk, rec := newService(t, Config{SecurityTeam: "soc@broker.example"})
	ctx := context.Background()
	tok := s.link(t, u.ID)
	late := s.link(t, u.ID)
	other := s.link(t, u.ID)
	src := Source{Via: "link", ClientIP: "198.51.100.23", UserAgent: "Mozilla/5.0"}

	for _, bad := range []string{"", "rpt_madeup", "nonsense", strings.Repeat("x", 500), "rpt_" + strings.Repeat("A", 200)} {
		if _, err := s.Report(ctx, bad, src); !errors.Is(err, ErrUnknownLink) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	if len(rec.notes) != 0 {
		t.Fatalf("made-up links notified: %v", rec.notes)
	}
	name, err := s.Report(ctx, tok, src)
	if err != nil || name != "vera" {
		t.Fatalf("report: %q %v", name, err)
	}
	if _, err := s.Report(ctx, tok, src); !errors.Is(err, ErrUnknownLink) {
		t.Fatalf("a link reported twice: %v", err)
	}
	var got *sls.User
	s.Store.View(ctx, func(tx sls.Tx) error { got, err = tx.User(ctx, u.ID); return err })
	if !got.Locked(clk.Now().Add(365 * 24 * time.Hour)) {
		t.Fatalf("not locked: %+v", got)
	}
	if len(rec.notes) != 2 || rec.notes[0].Kind != sls.NoteTakeoverReported || rec.notes[1].Kind != sls.NoteSecurityAlert ||
		rec.notes[1].To != "soc@broker.example" || rec.notes[1].Data["Network"] != "198.51.100.0/24" {
		t.Fatalf("notices: %+v", rec.notes)
	}
	if _, err := s.Report(ctx, other, src); err != nil { // already locked: recorded, no second alert
		t.Fatal(err)
	}
	if len(rec.notes) != 2 {
		t.Fatalf("a second report alerted again: %+v", rec.notes)
	}
	clk.Advance(8 * 24 * time.Hour)
	if _, err := s.Report(ctx, late, src); !errors.Is(err, ErrUnknownLink) {
		t.Fatalf("an expired link reported: %v", err)
	}
	if err := s.Purge(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
}

func FuzzReportToken(f *testing.F) {
	s, _, _, _ := newService(f, Config{})
	f.Add("rpt_x")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		if _, err := s.Report(context.Background(), token, Source{Via: "link"}); !errors.Is(err, ErrUnknownLink) {
			t.Fatalf("%q: %v", token, err)
		}
	})
}
