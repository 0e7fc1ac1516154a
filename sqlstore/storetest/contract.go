package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/audit"
	"github.com/secure-login-system/sls/sqlstore"
)

// Opener returns a fresh, empty store for one contract test. Tests that
// need two nodes on one database open a second handle themselves (see
// PostgresDSN).
type Opener func(t *testing.T) sls.Store

// Run runs the whole contract against stores from open.
func Run(t *testing.T, open Opener) {
	tests := map[string]func(*testing.T, sls.Store){
		"Accounts":             testAccounts,
		"Users":                testUsers,
		"Devices":              testDevices,
		"UsedResponses":        testUsedResponses,
		"Logins":               testLogins,
		"Sessions":             testSessions,
		"AuditChain":           testAuditChain,
		"AuditAppendOnly":      testAuditAppendOnly,
		"RollbackOnError":      testRollback,
		"ConcurrentAudit":      testConcurrentAudit,
		"ConcurrentUserUpdate": testConcurrentUserUpdate,
	}
	for _, ext := range extensions {
		tests[ext.name] = ext.fn
	}
	for name, fn := range tests {
		t.Run(name, func(t *testing.T) { fn(t, open(t)) })
	}
}

var extensions []struct {
	name string
	fn   func(*testing.T, sls.Store)
}

// Register adds a contract test; feature areas register theirs from init
// functions in this package so that one Run covers every table.
func Register(name string, fn func(*testing.T, sls.Store)) {
	extensions = append(extensions, struct {
		name string
		fn   func(*testing.T, sls.Store)
	}{name, fn})
}

var t0 = time.Date(2026, 3, 2, 14, 30, 0, 123456000, time.UTC)

// Fixture creates an account and a user and returns the user.
func Fixture(t testing.TB, s sls.Store, username string) *sls.User {
	t.Helper()
	u := &sls.User{ID: "usr_" + username, Username: username, AccountID: "U" + username, PasswordHash: "$argon2id$x",
		CreatedAt: t0, Lang: "en"}
	err := s.Update(context.Background(), func(tx sls.Tx) error {
		if err := tx.CreateAccount(context.Background(), &sls.Account{ID: u.AccountID, BaseCurrency: "USD", Jurisdiction: "US", CreatedAt: t0}); err != nil {
			return err
		}
		return tx.CreateUser(context.Background(), u)
	})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func update(t *testing.T, s sls.Store, fn func(ctx context.Context, tx sls.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx sls.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func view(t *testing.T, s sls.Store, fn func(ctx context.Context, tx sls.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.View(ctx, func(tx sls.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatal(err)
	}
}

func testAccounts(t *testing.T, s sls.Store) {
	a := &sls.Account{ID: "U100", BaseCurrency: "EUR", EquityMinor: 123_456_789, Jurisdiction: "HU", CreatedAt: t0}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateAccount(ctx, a) })
	err := s.Update(context.Background(), func(tx sls.Tx) error { return tx.CreateAccount(context.Background(), a) })
	if !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("duplicate account: %v, want conflict", err)
	}
	a.ClosedAt, a.TempPasscodeLast, a.EquityMinor = t0.Add(time.Hour), true, 5
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutAccount(ctx, a) })
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.Account(ctx, "U100")
		if err != nil {
			return err
		}
		if *got != *a {
			return fmt.Errorf("got %+v, want %+v", got, a)
		}
		if _, err := tx.Account(ctx, "nope"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("missing account: %v", err)
		}
		return nil
	})
	// UserForUpdate reads the account with the user; in the same
	// transaction Account then answers what was stored last, a change
	// made by the transaction included.
	u := Fixture(t, s, "accountcache")
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, err := tx.UserForUpdate(ctx, u.ID); err != nil {
			return err
		}
		acct, err := tx.Account(ctx, u.AccountID)
		if err != nil || acct.ID != u.AccountID {
			return fmt.Errorf("account with the user: %+v %v", acct, err)
		}
		acct.EquityMinor = 42
		if err := tx.PutAccount(ctx, acct); err != nil {
			return err
		}
		if again, err := tx.Account(ctx, u.AccountID); err != nil || again.EquityMinor != 42 {
			return fmt.Errorf("after a change in the transaction: %+v %v", again, err)
		}
		return nil
	})
}

func testUsers(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "alice")
	err := s.Update(context.Background(), func(tx sls.Tx) error {
		dup := *u
		dup.ID = "usr_other"
		return tx.CreateUser(context.Background(), &dup)
	})
	if !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("duplicate username: %v", err)
	}
	u.Mobile, u.MobileVerifiedAt, u.FailedAnswers, u.LockedUntil, u.FailedPasswords = "+3612345678", t0, 3, t0.Add(time.Minute), 7
	u.SealedIdentity, u.OptedOut, u.CanChangeSecurity, u.Always2FA = []byte{1, 2, 3}, true, true, true
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, err := tx.UserForUpdate(ctx, u.ID); err != nil {
			return err
		}
		return tx.PutUser(ctx, u)
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.UserByUsername(ctx, "alice")
		if err != nil {
			return err
		}
		if got.Mobile != u.Mobile || !got.MobileVerifiedAt.Equal(t0) || got.FailedAnswers != 3 || got.FailedPasswords != 7 || !got.LockedUntil.Equal(u.LockedUntil) ||
			string(got.SealedIdentity) != "\x01\x02\x03" || !got.OptedOut || !got.CanChangeSecurity || !got.Always2FA {
			return fmt.Errorf("round trip: %+v", got)
		}
		list, err := tx.UsersByAccount(ctx, u.AccountID)
		if err != nil || len(list) != 1 {
			return fmt.Errorf("users by account: %v %v", list, err)
		}
		if _, err := tx.UserByUsername(ctx, "bob"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("missing user: %v", err)
		}
		return nil
	})
	err = s.Update(context.Background(), func(tx sls.Tx) error {
		return tx.PutUser(context.Background(), &sls.User{ID: "usr_missing"})
	})
	if !errors.Is(err, sls.ErrNotFound) {
		t.Fatalf("put missing user: %v", err)
	}
}

func testDevices(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "carol")
	d1 := &sls.Device{ID: "dev_1", UserID: u.ID, Kind: sls.KindDSCPlus, State: sls.StateActive, Serial: "DSC-1", Secret: []byte("sealed"), CreatedAt: t0}
	d2 := &sls.Device{ID: "dev_2", UserID: u.ID, Kind: sls.KindCodeCard, State: sls.StatePending, CreatedAt: t0.Add(time.Second)}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.CreateDevice(ctx, d1); err != nil {
			return err
		}
		return tx.CreateDevice(ctx, d2)
	})
	d2.State, d2.ActivatedAt, d2.ExpiresAt, d2.FactorState = sls.StateActive, t0.Add(time.Hour), t0.Add(21*24*time.Hour), []byte(`{"last":[1,2]}`)
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutDevice(ctx, d2) })
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		list, err := tx.Devices(ctx, u.ID)
		if err != nil {
			return err
		}
		if len(list) != 2 || list[0].ID != "dev_1" || list[1].ID != "dev_2" {
			return fmt.Errorf("devices: %+v", list)
		}
		if string(list[0].Secret) != "sealed" || !list[1].ExpiresAt.Equal(d2.ExpiresAt) || string(list[1].FactorState) != `{"last":[1,2]}` {
			return fmt.Errorf("round trip: %+v", list[1])
		}
		got, err := tx.DeviceBySerial(ctx, sls.KindDSCPlus, "DSC-1")
		if err != nil || got.ID != "dev_1" {
			return fmt.Errorf("by serial: %v %v", got, err)
		}
		if _, err := tx.Device(ctx, "dev_x"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("missing device: %v", err)
		}
		return nil
	})
}

func testUsedResponses(t *testing.T, s sls.Store) {
	mark := func(digest string, now, exp time.Time) error {
		return s.Update(context.Background(), func(tx sls.Tx) error {
			return tx.MarkResponseUsed(context.Background(), "dev_1", digest, now, exp)
		})
	}
	if err := mark("abc", t0, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := mark("abc", t0, t0.Add(time.Hour)); !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("replay not refused: %v", err)
	}
	used := func(digest string, now time.Time) bool {
		var u bool
		view(t, s, func(ctx context.Context, tx sls.Tx) error {
			var err error
			u, err = tx.ResponseUsed(ctx, "dev_1", digest, now)
			return err
		})
		return u
	}
	if !used("abc", t0) || used("abd", t0) || used("abc", t0.Add(2*time.Hour)) {
		t.Fatal("ResponseUsed: wrong answer for used, unused or expired")
	}
	// Once expired, the record may go; a fresh mark succeeds.
	if err := mark("abc", t0.Add(2*time.Hour), t0.Add(3*time.Hour)); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if err := mark("abc", t0.Add(2*time.Hour), t0.Add(3*time.Hour)); !errors.Is(err, sls.ErrConflict) {
		t.Fatalf("replay of the renewed record not refused: %v", err)
	}
	// The purge drops expired records only.
	if err := mark("old", t0, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		n, err := tx.PurgeUsedResponses(ctx, t0.Add(2*time.Hour))
		if err == nil && n != 1 {
			err = fmt.Errorf("purged %d, want 1", n)
		}
		return err
	})
	if !used("abc", t0.Add(2*time.Hour)) {
		t.Fatal("the purge dropped a live record")
	}
}

func testLogins(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "dave")
	l := &sls.LoginTx{State: sls.LoginSelectDevice, Challenge: sls.Challenge{IDHash: "h1", Purpose: sls.PurposeLogin, UserID: u.ID,
		Platform: sls.PlatformPortal, CreatedAt: t0, Deadline: t0.Add(3 * time.Minute), ClientIP: "192.0.2.1"}, KnownClient: "kh_login"}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateLogin(ctx, l) })
	l.State, l.DeviceID, l.Attempts = sls.LoginChallenged, "dev_1", 2
	l.Prompt = &sls.Prompt{Kind: sls.KindDSCPlus, Challenge: "123456", Indices: []int{3, 9}}
	l.FactorState = []byte("x")
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, err := tx.LoginForUpdate(ctx, "h1"); err != nil {
			return err
		}
		return tx.PutLogin(ctx, l)
	})
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.Login(ctx, "h1")
		if err != nil {
			return err
		}
		if got.State != sls.LoginChallenged || got.Attempts != 2 || got.Prompt == nil || got.Prompt.Challenge != "123456" ||
			len(got.Prompt.Indices) != 2 || string(got.FactorState) != "x" || got.ClientIP != "192.0.2.1" || got.KnownClient != "kh_login" {
			return fmt.Errorf("round trip: %+v", got)
		}
		return nil
	})
	// A step may move the deadline (a factor's code lifetime shortens
	// it) or keep it (PutLogin then leaves the indexed column alone):
	// either way the stored one is what the step put, also when the same
	// transaction puts twice.
	for _, steps := range [][]time.Duration{{time.Minute}, {3 * time.Minute}, {2 * time.Minute, 2 * time.Minute, 3 * time.Minute}} {
		update(t, s, func(ctx context.Context, tx sls.Tx) error {
			got, err := tx.LoginForUpdate(ctx, "h1")
			if err != nil {
				return err
			}
			for _, d := range steps {
				got.Deadline = t0.Add(d)
				if err := tx.PutLogin(ctx, got); err != nil {
					return err
				}
			}
			return nil
		})
		view(t, s, func(ctx context.Context, tx sls.Tx) error {
			got, err := tx.Login(ctx, "h1")
			if err != nil {
				return err
			}
			if want := t0.Add(steps[len(steps)-1]); !got.Deadline.Equal(want) || got.State != sls.LoginChallenged {
				return fmt.Errorf("after putting deadlines %v: %v (%s), want %v", steps, got.Deadline, got.State, want)
			}
			return nil
		})
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		for at, want := range map[time.Time]int64{t0: 1, t0.Add(3 * time.Minute): 0} {
			if n, err := tx.PendingLogins(ctx, at); err != nil || n != want {
				return fmt.Errorf("pending logins at %v: %d %v, want %d", at, n, err, want)
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		n, err := tx.DeleteLoginsBefore(ctx, t0.Add(time.Hour))
		if err != nil || n != 1 {
			return fmt.Errorf("delete: %d %v", n, err)
		}
		return nil
	})
}

func testSessions(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "erin")
	ss := &sls.Session{ID: "ses_1", TokenHash: "th1", UserID: u.ID, Platform: sls.PlatformTrading, DeviceID: "dev_1",
		DeviceKind: sls.KindDSCPlus, Scope: sls.ScopeFull, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(12 * time.Hour),
		IdleTimeout: 30 * time.Minute, Passwordless: true}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateSession(ctx, ss) })
	ss.EndedAt, ss.LastSeenAt = t0.Add(time.Hour), t0.Add(time.Minute)
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutSession(ctx, ss) })
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.SessionByTokenHash(ctx, "th1")
		if err != nil {
			return err
		}
		if got.IdleTimeout != 30*time.Minute || !got.EndedAt.Equal(ss.EndedAt) || got.DeviceKind != sls.KindDSCPlus || !got.Passwordless {
			return fmt.Errorf("round trip: %+v", got)
		}
		list, err := tx.Sessions(ctx, u.ID)
		if err != nil || len(list) != 1 {
			return fmt.Errorf("list: %v %v", list, err)
		}
		if _, err := tx.SessionByTokenHash(ctx, "nope"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("missing: %v", err)
		}
		return nil
	})
	// CreateSession tells whether another session of the user came from
	// the same network; the new one does not count.
	nu := Fixture(t, s, "erin-net")
	for i, c := range []struct {
		ip   string
		seen bool
	}{{"198.51.100.23", false}, {"198.51.100.99", true}, {"203.0.113.5", false}} {
		ns := &sls.Session{ID: fmt.Sprintf("ses_net%d", i), TokenHash: fmt.Sprintf("th_net%d", i), UserID: nu.ID, Platform: sls.PlatformPortal,
			Scope: sls.ScopeFull, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(200 * 24 * time.Hour), ClientIP: c.ip}
		update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateSession(ctx, ns) })
		if ns.NetworkSeen != c.seen {
			t.Errorf("session from %s: network seen %v, want %v", c.ip, ns.NetworkSeen, c.seen)
		}
	}

	// Purge: an ended session and an expired one go once past the cut-off;
	// a live one stays.
	live := &sls.Session{ID: "ses_2", TokenHash: "th2", UserID: u.ID, Platform: sls.PlatformPortal, Scope: sls.ScopeFull,
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(100 * 24 * time.Hour)}
	expired := &sls.Session{ID: "ses_3", TokenHash: "th3", UserID: u.ID, Platform: sls.PlatformPortal, Scope: sls.ScopeFull,
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(2 * time.Hour)}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		if err := tx.CreateSession(ctx, live); err != nil {
			return err
		}
		return tx.CreateSession(ctx, expired)
	})
	purge := func(before time.Time, want int64) {
		t.Helper()
		update(t, s, func(ctx context.Context, tx sls.Tx) error {
			n, err := tx.PurgeSessions(ctx, before)
			if err == nil && n != want {
				err = fmt.Errorf("purged %d before %v, want %d", n, before, want)
			}
			return err
		})
	}
	purge(t0.Add(30*time.Minute), 0)
	purge(t0.Add(3*time.Hour), 2)
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		list, err := tx.Sessions(ctx, u.ID)
		if err == nil && (len(list) != 1 || list[0].ID != "ses_2") {
			err = fmt.Errorf("after the purge: %+v", list)
		}
		return err
	})
}

func appendEvents(t *testing.T, s sls.Store, n int) {
	for i := 0; i < n; i++ {
		update(t, s, func(ctx context.Context, tx sls.Tx) error {
			return tx.AppendAudit(ctx, &audit.Entry{At: t0.Add(time.Duration(i) * time.Second), Actor: "system", Event: "test", Detail: fmt.Sprintf(`{"i":%d}`, i)})
		})
	}
}

// VerifyChain chains what is queued, reads the whole trail and verifies
// it.
func VerifyChain(t *testing.T, s sls.Store) int64 {
	t.Helper()
	Chain(t, s)
	var v audit.Verifier
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		for after := int64(0); ; {
			es, err := tx.AuditEntries(ctx, after, 100)
			if err != nil || len(es) == 0 {
				return err
			}
			for _, e := range es {
				if err := v.Next(e); err != nil {
					return err
				}
			}
			after = es[len(es)-1].Seq
		}
	})
	return v.Count()
}

func testAuditChain(t *testing.T, s sls.Store) {
	appendEvents(t, s, 250)
	if n := VerifyChain(t, s); n != 250 {
		t.Fatalf("verified %d entries, want 250", n)
	}
}

func testAuditAppendOnly(t *testing.T, s sls.Store) {
	appendEvents(t, s, 2)
	Chain(t, s)
	type execer interface {
		ExecRaw(ctx context.Context, query string) error
	}
	for _, q := range []string{"UPDATE audit_log SET event = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 2"} {
		err := s.Update(context.Background(), func(tx sls.Tx) error {
			ex, ok := tx.(execer)
			if !ok {
				t.Skip("store has no raw SQL access")
			}
			return ex.ExecRaw(context.Background(), q)
		})
		if err == nil {
			t.Errorf("%q succeeded on the append-only trail", q)
		}
	}
	if n := VerifyChain(t, s); n != 2 {
		t.Fatalf("chain after refused changes: %d", n)
	}
}

func testRollback(t *testing.T, s sls.Store) {
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx sls.Tx) error {
		if err := tx.CreateAccount(context.Background(), &sls.Account{ID: "U9", BaseCurrency: "USD", Jurisdiction: "US", CreatedAt: t0}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		if _, err := tx.Account(ctx, "U9"); !errors.Is(err, sls.ErrNotFound) {
			return fmt.Errorf("rolled-back write is visible: %v", err)
		}
		return nil
	})
}

// Chain links every queued audit entry into the chain.
func Chain(t testing.TB, s sls.Store) {
	t.Helper()
	if _, err := s.ChainAudit(context.Background(), true); err != nil {
		t.Fatalf("chain audit: %v", err)
	}
}

// testConcurrentAudit appends from many transactions at once while two
// chainers (two nodes) link the queue without waiting for each other:
// every entry is chained exactly once, in one unbroken chain.
func testConcurrentAudit(t *testing.T, s sls.Store) {
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(context.Background(), func(tx sls.Tx) error {
				return tx.AppendAudit(context.Background(), &audit.Entry{At: t0, Actor: "system", Event: "race", Detail: fmt.Sprintf(`{"i":%d}`, i)})
			})
		}()
	}
	stop := make(chan struct{})
	var chainers sync.WaitGroup
	for range 2 {
		chainers.Add(1)
		go func() {
			defer chainers.Done()
			for {
				if _, err := s.ChainAudit(context.Background(), false); err != nil && !errors.Is(err, sqlstore.ErrChainBusy) {
					t.Error(err)
					return
				}
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	chainers.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := VerifyChain(t, s); n != 40 {
		t.Fatalf("verified %d, want 40", n)
	}
	seen := map[string]bool{}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		es, err := tx.AuditEntries(ctx, 0, 100)
		for _, e := range es {
			if seen[e.Detail] {
				return fmt.Errorf("entry %s chained twice", e.Detail)
			}
			seen[e.Detail] = true
		}
		return err
	})
	if len(seen) != 40 {
		t.Fatalf("%d distinct entries, want 40", len(seen))
	}
}

// testConcurrentUserUpdate checks that read-modify-write through
// UserForUpdate never loses an increment.
func testConcurrentUserUpdate(t *testing.T, s sls.Store) {
	u := Fixture(t, s, "frank")
	var wg sync.WaitGroup
	const n = 30
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Update(context.Background(), func(tx sls.Tx) error {
				cur, err := tx.UserForUpdate(context.Background(), u.ID)
				if err != nil {
					return err
				}
				cur.FailedAnswers++
				return tx.PutUser(context.Background(), cur)
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	view(t, s, func(ctx context.Context, tx sls.Tx) error {
		got, err := tx.User(ctx, u.ID)
		if err == nil && got.FailedAnswers != n {
			err = fmt.Errorf("lost updates: %d, want %d", got.FailedAnswers, n)
		}
		return err
	})
}
