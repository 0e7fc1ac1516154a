package login_test

import (
	"context"
	"errors"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
)

// dscLogin creates a user with a DSC+ (PIN 4321), logs in to the portal
// with it and returns the card's key and the completed step.
func (h *harness) dscLogin(t *testing.T, name string) ([]byte, *login.Step) {
	t.Helper()
	h.user(name)
	key := h.dscCard(name)
	st := h.start(name, sls.PlatformPortal)
	done, err := h.login.Answer(context.Background(), st.LoginID, respond(t, key, "4321", st))
	if err != nil {
		t.Fatal(err)
	}
	return key, done
}

// TestSessionStepUp: a DSC+ session older than the step-up window proves
// its card again; the session's proof is renewed, wrong answers count
// toward the user's lockout, restarts never buy answers, and another
// session's handle is unknown.
func TestSessionStepUp(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		key, done := h.dscLogin(t, "sue")
		sess := done.Session.Session
		h.clock.Advance(6 * time.Minute)
		if sess.RecentlyProven(h.clock.Now(), 5*time.Minute) {
			t.Fatal("the login's proof should be stale")
		}
		su := h.login.StepUps()
		devs, err := su.Devices(ctx, sess)
		if err != nil || len(devs) != 1 || devs[0].Kind != sls.KindDSCPlus {
			t.Fatalf("devices: %+v %v", devs, err)
		}
		up, err := su.Start(ctx, sess, devs[0].ID)
		if err != nil || up.Prompt == nil || up.AttemptsLeft != 5 {
			t.Fatalf("start: %+v %v", up, err)
		}
		// A wrong answer counts.
		res, err := su.Answer(ctx, sess, up.ID, "00000000")
		if !errors.Is(err, sls.ErrBadResponse) || res == nil || res.AttemptsLeft != 4 {
			t.Fatalf("wrong answer: %+v %v", res, err)
		}
		var u *sls.User
		_ = h.store.View(ctx, func(tx sls.Tx) (err error) { u, err = tx.User(ctx, sess.UserID); return err })
		if u.FailedAnswers != 1 {
			t.Fatalf("failures %d, want 1", u.FailedAnswers)
		}
		// Another session's handle is unknown.
		other := *sess
		other.ID = "ses_other"
		if _, err := su.Answer(ctx, &other, up.ID, "x"); sls.ErrorCode(err) != sls.CodeNotFound {
			t.Fatalf("other session: %v", err)
		}
		// A restart supersedes the pending step-up and carries its count.
		up2, err := su.Start(ctx, sess, devs[0].ID)
		if err != nil || up2.AttemptsLeft != 3 {
			t.Fatalf("restart: %+v %v", up2, err)
		}
		if _, err := su.Answer(ctx, sess, up.ID, respond(t, key, "4321", &login.Step{Prompt: up.Prompt})); !errors.Is(err, sls.ErrLoginExpired) {
			t.Fatalf("superseded step-up: %v", err)
		}
		h.clock.Advance(time.Second)
		res, err = su.Answer(ctx, sess, up2.ID, respond(t, key, "4321", &login.Step{Prompt: up2.Prompt}))
		if err != nil || !res.Proven || res.ProvenKind != sls.KindDSCPlus || !res.ProvenAt.Equal(h.clock.Now()) {
			t.Fatalf("right answer: %+v %v", res, err)
		}
		got, _, err := h.login.Authenticate(ctx, done.Session.Token, "")
		if err != nil || !got.ProvenAt.Equal(h.clock.Now()) || !got.RecentlyProven(h.clock.Now(), 5*time.Minute) {
			t.Fatalf("session after step-up: %+v %v", got, err)
		}
		if _, err := su.Answer(ctx, sess, up2.ID, "x"); sls.ErrorCode(err) != sls.CodeConflict {
			t.Fatalf("answered twice: %v", err)
		}
		_ = h.store.View(ctx, func(tx sls.Tx) (err error) { u, err = tx.User(ctx, sess.UserID); return err })
		if u.FailedAnswers != 0 {
			t.Fatalf("failures %d after a right answer", u.FailedAnswers)
		}
	})
}

// TestStepUpRestartsBounded: restarting a step-up over and over (each
// start may send an SMS or a push) is bounded by the answer budget.
func TestStepUpRestartsBounded(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		_, done := h.dscLogin(t, "rex")
		sess := done.Session.Session
		su := h.login.StepUps()
		var last error
		n := 0
		for ; n < 10; n++ {
			if _, last = su.Start(ctx, sess, done.DeviceID); last != nil {
				break
			}
		}
		if !errors.Is(last, sls.ErrTooManyAttempts) || n != h.login.Config().MaxAnswers {
			t.Fatalf("%d starts, then %v", n, last)
		}
		// Once the pending one expires, a fresh start is possible.
		h.clock.Advance(h.login.Config().LoginTTL)
		if _, err := su.Start(ctx, sess, done.DeviceID); err != nil {
			t.Fatalf("after the deadline: %v", err)
		}
	})
}

// TestStepUpSteps: the step-up in the login's shape, as the portal shows
// it: a wrong answer gives back the challenge with the attempts left,
// Status follows it, a right answer completes it.
func TestStepUpSteps(t *testing.T) {
	run(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		key, done := h.dscLogin(t, "tess")
		sess := done.Session.Session
		steps := h.login.StepUps().Steps()
		st, err := steps.Start(ctx, sess, done.DeviceID)
		if err != nil || st.State != sls.LoginChallenged || st.LoginID == "" || st.Prompt == nil {
			t.Fatalf("start: %+v %v", st, err)
		}
		bad, err := steps.Answer(ctx, sess, st.LoginID, "00000000")
		if !errors.Is(err, sls.ErrBadResponse) || bad == nil || bad.State != sls.LoginChallenged || bad.AttemptsLeft != 4 ||
			bad.Prompt == nil || bad.Prompt.Challenge != st.Prompt.Challenge {
			t.Fatalf("wrong answer: %+v %v", bad, err)
		}
		cur, err := steps.Status(ctx, sess, st.LoginID)
		if err != nil || cur.State != sls.LoginChallenged || cur.AttemptsLeft != 4 {
			t.Fatalf("status: %+v %v", cur, err)
		}
		ok, err := steps.Answer(ctx, sess, st.LoginID, respond(t, key, "4321", st))
		if err != nil || ok.State != sls.LoginCompleted {
			t.Fatalf("right answer: %+v %v", ok, err)
		}
		if cur, err := steps.Status(ctx, sess, st.LoginID); err != nil || cur.State != sls.LoginCompleted {
			t.Fatalf("status after: %+v %v", cur, err)
		}
		other := *sess
		other.ID = "ses_other"
		if _, err := steps.Status(ctx, &other, st.LoginID); sls.ErrorCode(err) != sls.CodeNotFound {
			t.Fatalf("another session's status: %v", err)
		}
	})
}
