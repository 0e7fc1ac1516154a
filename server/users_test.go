package server_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/outbox"
	"github.com/secure-login-system/sls/server"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// queued returns the bodies of the queued messages of kind to user.
func queued(t *testing.T, srv *server.Server, userID, kind string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	err := srv.Store.View(ctx, func(tx sls.Tx) error {
		ms, err := tx.OutboxMessages(ctx, sls.OutboxPending, 100000)
		for _, m := range ms {
			if m.UserID == userID && m.Kind == kind {
				b, err := srv.Sealer.Open(outbox.BodyPlace(m.ID), m.SealedBody)
				if err != nil {
					return err
				}
				out = append(out, m.Channel+": "+string(b))
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// firstPW is the lifecycle users' first password.
const firstPW = "an opening passphrase 1"

func passwordLogin(srv *server.Server, user, pw string) error {
	_, err := srv.Login.Start(context.Background(), login.StartRequest{Username: user, Password: pw, Platform: sls.PlatformPortal, ClientIP: "192.0.2.1"})
	return err
}

func lifecycleUser(t *testing.T, srv *server.Server, name string) *sls.User {
	t.Helper()
	ctx := context.Background()
	if _, err := srv.Manage.CreateAccount(ctx, sls.ActorSystem, manage.NewAccount{ID: "L" + strings.ToUpper(name), BaseCurrency: "USD", Jurisdiction: "US"}); err != nil {
		t.Fatal(err)
	}
	u, err := srv.Manage.CreateUser(ctx, sls.ActorSystem, manage.NewUser{Username: name, Password: firstPW,
		AccountID: "L" + strings.ToUpper(name), Email: name + "@example.invalid"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Manage.IssueCodeCard(ctx, sls.ActorSystem, name); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestPasswordResetByClientServices: Client Services sends a reset code
// through the client's own channels and never sees it; the code works
// once, for that user, with a password that meets the rules.
func TestPasswordResetByClientServices(t *testing.T) { onBothEngines(t, passwordResetByClientServices) }

func passwordResetByClientServices(t *testing.T, db string) {
	srv, base := openServerWith(t, `"operators": `+testOperators, func(o *server.Options) { o.DB = db })
	u := lifecycleUser(t, srv, "rita")
	cs := mintOperator(t, srv, "carla", sls.RoleClientServices)
	a := send(t, "POST", base+"/api/v1/ops/users/rita/password-reset", cs, `{"identity_verification":"called back on the number on file"}`)
	if a.status != 201 || !strings.Contains(a.raw, "email to r***@example.invalid") {
		t.Fatalf("reset: %d %s", a.status, a.raw)
	}
	msgs := queued(t, srv, u.ID, "password_reset_code")
	if len(msgs) != 1 {
		t.Fatalf("reset messages: %q", msgs)
	}
	code := regexp.MustCompile(`[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}`).FindString(msgs[0])
	if code == "" || strings.Contains(a.raw, code) {
		t.Fatalf("code %q; operator saw: %s", code, a.raw)
	}
	reset := func(user, code, pw string) answer {
		return send(t, "POST", base+"/api/v1/password/reset", "", fmt.Sprintf(`{"username":%q,"code":%q,"new_password":%q}`, user, code, pw))
	}
	if a := reset("rita", "AAAA-BBBB-CCCC", "a brand new password"); a.status != 401 {
		t.Fatalf("wrong code: %d %s", a.status, a.raw)
	}
	mintOperator(t, srv, "other", sls.RoleAuditor)
	lifecycleUser(t, srv, "otto")
	if a := reset("otto", code, "a brand new password"); a.status != 401 {
		t.Fatalf("rita's code for otto: %d %s", a.status, a.raw)
	}
	if a := reset("rita", code, "short"); a.status != 400 {
		t.Fatalf("short password: %d %s", a.status, a.raw)
	}
	if a := reset("rita", strings.ToLower(code), "a brand new password"); a.status != 200 {
		t.Fatalf("reset: %d %s", a.status, a.raw)
	}
	if a := reset("rita", code, "another new password"); a.status != 401 {
		t.Fatalf("code used twice: %d %s", a.status, a.raw)
	}
	if err := passwordLogin(srv, "rita", firstPW); sls.ErrorCode(err) != sls.CodeInvalidCredentials {
		t.Fatalf("old password after reset: %v", err)
	}
	if err := passwordLogin(srv, "rita", "a brand new password"); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if got := queued(t, srv, u.ID, "password_changed"); len(got) != 1 || !strings.HasPrefix(got[0], "email: ") {
		t.Fatalf("told: %q", got)
	}
}

// TestPasswordChange: the user changes the password with a step-up; the
// current one is checked, the rules apply, the other sessions end.
func TestPasswordChange(t *testing.T) { onBothEngines(t, passwordChange) }

func passwordChange(t *testing.T, db string) {
	srv, base := openServerWith(t, `"operators": `+testOperators, func(o *server.Options) { o.DB = db })
	u := lifecycleUser(t, srv, "cleo")
	mk := sessionFor(t, srv)
	this, other := mk(u.ID, sls.ScopeFull, sls.KindCodeCard), mk(u.ID, sls.ScopeFull, sls.KindCodeCard)
	if a := send(t, "PUT", base+"/api/v1/password", mk(u.ID, sls.ScopeFull, ""), `{"current_password":"`+firstPW+`","new_password":"a brand new password"}`); a.status != 401 || a.code() != "step_up_required" {
		t.Fatalf("password-only session: %d %s", a.status, a.raw)
	}
	for body, want := range map[string]int{
		`{"current_password":"wrong","new_password":"a brand new password"}`:      401,
		`{"current_password":"` + firstPW + `","new_password":"short"}`:           400,
		`{"current_password":"` + firstPW + `","new_password":"` + firstPW + `"}`: 400,
		`{"current_password":"` + firstPW + `","new_password":"password1"}`:       400,
		`{"current_password":"` + firstPW + `","new_password":"cleo-says-hello"}`: 400,
		`{"current_password":"` + firstPW + `"}`:                                  400,
	} {
		if a := send(t, "PUT", base+"/api/v1/password", this, body); a.status != want {
			t.Errorf("%s: %d %s, want %d", body, a.status, a.raw, want)
		}
	}
	if a := send(t, "PUT", base+"/api/v1/password", this, `{"current_password":"`+firstPW+`","new_password":"a brand new password"}`); a.status != 200 {
		t.Fatalf("change: %d %s", a.status, a.raw)
	}
	if a := send(t, "GET", base+"/api/v1/session", this, ""); a.status != 200 {
		t.Fatalf("this session after the change: %d", a.status)
	}
	if a := send(t, "GET", base+"/api/v1/session", other, ""); a.status != 401 {
		t.Fatalf("other session after the change: %d", a.status)
	}
	if err := passwordLogin(srv, "cleo", "a brand new password"); err != nil {
		t.Fatal(err)
	}
	if got := queued(t, srv, u.ID, "password_changed"); len(got) != 1 {
		t.Fatalf("told: %q", got)
	}
}

// TestPasswordChangeBusy: a password change waits for the hashing slots
// the logins use, and when they stay taken it answers 503 with
// Retry-After, counts no failed change and changes nothing.
func TestPasswordChangeBusy(t *testing.T) {
	srv, base := openServerWith(t, `"operators": `+testOperators, nil)
	u := lifecycleUser(t, srv, "bea")
	this := sessionFor(t, srv)(u.ID, sls.ScopeFull, sls.KindCodeCard)
	ctx := context.Background()
	for range srv.Hashing.Slots() {
		release, err := srv.Hashing.Enter(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
	}
	a := send(t, "PUT", base+"/api/v1/password", this, `{"current_password":"wrong","new_password":"a brand new password"}`)
	if a.status != 503 || a.code() != "unavailable" || a.header.Get("Retry-After") == "" {
		t.Fatalf("change while the hashing slots are taken: %d %s (Retry-After %q)", a.status, a.raw, a.header.Get("Retry-After"))
	}
	_, _ = srv.Store.ChainAudit(ctx, true)
	srv.Store.View(ctx, func(tx sls.Tx) error {
		es, _ := tx.AuditEntries(ctx, 0, 100000)
		for _, e := range es {
			if e.UserID == u.ID && e.Event == manage.EventPasswordChangeFailed {
				t.Errorf("a refused change was audited as a wrong password: %+v", e)
			}
		}
		return nil
	})
}

// TestUserLifecycle: operators update, disable, enable and delete users;
// a deleted user cannot log in, and the audit history stays.
func TestUserLifecycle(t *testing.T) { onBothEngines(t, userLifecycle) }

func userLifecycle(t *testing.T, db string) {
	srv, base := openServerWith(t, `"operators": `+testOperators, func(o *server.Options) { o.DB = db })
	ctx := context.Background()
	u := lifecycleUser(t, srv, "dora")
	cs := mintOperator(t, srv, "cass", sls.RoleClientServices)
	for body, want := range map[string]int{
		`{}`:                               400,
		`{"email":"not-an-email"}`:         400,
		`{"identity":{"citizenship":"X"}}`: 400,
		`{"email":"dora@new.invalid","can_change_security":true}`: 200,
	} {
		if a := send(t, "PATCH", base+"/api/v1/ops/users/dora", cs, body); a.status != want {
			t.Errorf("update %s: %d %s, want %d", body, a.status, a.raw, want)
		}
	}
	if a := send(t, "PATCH", base+"/api/v1/ops/users/nobody", cs, `{"lang":"en"}`); a.status != 404 {
		t.Fatalf("unknown user: %d", a.status)
	}
	s := sessionFor(t, srv)(u.ID, sls.ScopeFull, sls.KindCodeCard)
	if a := send(t, "POST", base+"/api/v1/ops/users/dora/disable", cs, `{"reason":"fraud review 42"}`); a.status != 200 {
		t.Fatalf("disable: %d %s", a.status, a.raw)
	}
	if a := send(t, "GET", base+"/api/v1/session", s, ""); a.status != 401 {
		t.Fatalf("session of a disabled user: %d", a.status)
	}
	if err := passwordLogin(srv, "dora", firstPW); sls.ErrorCode(err) != sls.CodeInvalidCredentials {
		t.Fatalf("login of a disabled user: %v", err)
	}
	if a := send(t, "POST", base+"/api/v1/ops/users/dora/enable", cs, `{"reason":"review cleared"}`); a.status != 200 {
		t.Fatalf("enable: %d %s", a.status, a.raw)
	}
	if err := passwordLogin(srv, "dora", firstPW); err != nil {
		t.Fatalf("login after enabling: %v", err)
	}
	if a := send(t, "DELETE", base+"/api/v1/ops/users/dora", cs, `{"reason":"account closed, data erasure requested"}`); a.status != 200 {
		t.Fatalf("delete: %d %s", a.status, a.raw)
	}
	if err := passwordLogin(srv, "dora", firstPW); sls.ErrorCode(err) != sls.CodeInvalidCredentials {
		t.Fatalf("login of a deleted user: %v", err)
	}
	after, err := srv.Manage.UserByName(ctx, "dora")
	if err != nil || after.Email != "" || after.SealedIdentity != nil || after.DeletedAt.IsZero() {
		t.Fatalf("deleted user: %+v %v", after, err)
	}
	devs, _ := srv.Manage.Devices(ctx, u.ID)
	for _, d := range devs {
		if d.State != sls.StateRevoked {
			t.Fatalf("device %s %s after deletion", d.ID, d.State)
		}
	}
	if a := send(t, "PATCH", base+"/api/v1/ops/users/dora", cs, `{"lang":"en"}`); a.status != 409 {
		t.Fatalf("update of a deleted user: %d", a.status)
	}
	var events []string
	_, _ = srv.Store.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
	srv.Store.View(ctx, func(tx sls.Tx) error {
		es, _ := tx.AuditEntries(ctx, 0, 100000)
		for _, e := range es {
			if e.UserID == u.ID {
				events = append(events, e.Event)
			}
		}
		return nil
	})
	for _, want := range []string{"user.created", "user.updated", "user.disabled", "user.enabled", "user.deleted"} {
		if !slices.Contains(events, want) {
			t.Errorf("audit history lacks %s: %v", want, events)
		}
	}
}

// TestConcurrentSingleUse: an approval and a reset code each work once,
// even when several requests present them at the same moment.
func TestConcurrentSingleUse(t *testing.T) { onBothEngines(t, concurrentSingleUse) }

// onBothEngines runs fn on SQLite and, when configured, PostgreSQL.
func onBothEngines(t *testing.T, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, "") })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresDSN(t)) })
}

func concurrentSingleUse(t *testing.T, db string) {
	srv, base := openServerWith(t, `"operators": {}`, func(o *server.Options) { o.DB = db }) // dual control on
	lifecycleUser(t, srv, "zed")
	alice := mintOperator(t, srv, "alice", sls.RoleClientServices)
	bob := mintOperator(t, srv, "bob", sls.RoleClientServices)
	race := func(n int, fn func() int) map[int]int {
		got := map[int]int{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := fn()
				mu.Lock()
				got[s]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		return got
	}
	id := send(t, "POST", base+"/api/v1/ops/users/zed/unlock", alice, "").detail("approval_id")
	if send(t, "POST", base+"/api/v1/ops/approvals/"+id+"/approve", bob, "").status != 200 {
		t.Fatal("approve")
	}
	got := race(8, func() int {
		return send(t, "POST", base+"/api/v1/ops/users/zed/unlock", alice, "", httpapi.ApprovalHeader, id).status
	})
	if got[200] != 1 {
		t.Fatalf("one approval used concurrently: %v", got)
	}
	// Reset codes (dual control is not on resets).
	send(t, "POST", base+"/api/v1/ops/users/zed/password-reset", alice, `{"identity_verification":"called back on file number"}`)
	u, _ := srv.Manage.UserByName(context.Background(), "zed")
	code := regexp.MustCompile(`[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}`).FindString(strings.Join(queued(t, srv, u.ID, "password_reset_code"), " "))
	i := 0
	var mu sync.Mutex
	got = race(6, func() int {
		mu.Lock()
		i++
		pw := fmt.Sprintf("concurrent new passphrase %d", i)
		mu.Unlock()
		return send(t, "POST", base+"/api/v1/password/reset", "", fmt.Sprintf(`{"username":"zed","code":%q,"new_password":%q}`, code, pw)).status
	})
	if got[200] != 1 {
		t.Fatalf("one reset code used concurrently: %v", got)
	}
}
