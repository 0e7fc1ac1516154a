package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/sqlstore/storetest"
	"github.com/secure-login-system/sls/verify"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
)

// fake is a factor whose right answer is "right"; "pending" is not an
// answer at all (like an IB Key push not yet approved). Its challenge
// wants to live an hour (the verifier caps it) and marks the device.
type fake struct{ available bool }

func (*fake) Kind() sls.DeviceKind { return sls.KindDSCPlus }

func (*fake) Challenge(_ context.Context, _ sls.Tx, _ *sls.User, d *sls.Device, c *sls.Challenge, now time.Time) error {
	c.Prompt = &sls.Prompt{Kind: sls.KindDSCPlus, Challenge: "123456"}
	c.FactorState = []byte("secret")
	c.Deadline = now.Add(time.Hour)
	d.FactorState = []byte(`{"n":1}`)
	return nil
}

func (*fake) Verify(_ context.Context, _ sls.Tx, _ *sls.User, _ *sls.Device, c *sls.Challenge, answer string, _ time.Time) (sls.Verified, error) {
	switch answer {
	case "right":
		return sls.Verified{}, nil
	case "pending":
		return sls.Verified{}, sls.Errorf(sls.CodeConflict, "not yet")
	}
	return sls.Verified{}, sls.ErrBadResponse
}

func (f *fake) Available(*sls.User, *sls.Device, []*sls.Device, time.Time) bool { return f.available }

type env struct {
	t     *testing.T
	store sls.Store
	v     *verify.Verifier
	f     *fake
	u     *sls.User
}

func newEnv(t *testing.T) *env {
	s := storetest.MustOpenSQLite(t)
	f := &fake{available: true}
	return &env{t: t, store: s, f: f, u: storetest.Fixture(t, s, "vera"),
		v: &verify.Verifier{Factors: sls.Factors{sls.KindDSCPlus: f}, Lockout: sls.Lockout{MaxFailures: 3, Cooldown: time.Hour}, MaxAttempts: 2}}
}

func (e *env) device(userID string, state sls.DeviceState) *sls.Device {
	d := &sls.Device{ID: sls.NewID("dev"), UserID: userID, Kind: sls.KindDSCPlus, State: state, CreatedAt: t0}
	if err := e.store.Update(ctx, func(tx sls.Tx) error { return tx.CreateDevice(ctx, d) }); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// start challenges d for purpose at now.
func (e *env) start(d *sls.Device, purpose sls.Purpose, now time.Time) (*sls.Challenge, error) {
	c := &sls.Challenge{Purpose: purpose, UserID: e.u.ID, CreatedAt: now, Deadline: now.Add(5 * time.Minute),
		Bound: sls.Binding{SessionID: "ses_1"}}
	err := e.store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, e.u.ID)
		if err != nil {
			return err
		}
		return e.v.Start(ctx, tx, u, d, c, now)
	})
	return c, err
}

// answer answers c at now; the transaction commits when the error is nil.
func (e *env) answer(c *sls.Challenge, answer string, now time.Time) (verify.Result, error) {
	var res verify.Result
	err := e.store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, c.UserID)
		if err != nil {
			return err
		}
		d, err := tx.Device(ctx, c.DeviceID)
		if err != nil {
			return err
		}
		res, err = e.v.Answer(ctx, tx, u, d, c, answer, now)
		return err
	})
	return res, err
}

func (e *env) user() *sls.User {
	var u *sls.User
	if err := e.store.View(ctx, func(tx sls.Tx) (err error) { u, err = tx.User(ctx, e.u.ID); return err }); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// events returns the audit events, with their details, in order.
func (e *env) events() []string {
	var out []string
	_, _ = e.store.ChainAudit(context.Background(), true) // the trail read below holds every entry committed so far
	err := e.store.View(ctx, func(tx sls.Tx) error {
		es, err := tx.AuditEntries(ctx, 0, 1000)
		for _, en := range es {
			if en.Event == sls.EventSecondFactorFail || en.Event == sls.EventLockout {
				out = append(out, en.Event+" "+string(en.Detail))
			}
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func TestStartRefuses(t *testing.T) {
	e := newEnv(t)
	other := storetest.Fixture(t, e.store, "otto")
	cases := []struct {
		name    string
		device  func() *sls.Device
		purpose sls.Purpose
		setup   func()
		want    sls.Code
	}{
		{"someone else's device", func() *sls.Device { return e.device(other.ID, sls.StateActive) }, sls.PurposeStepUp, nil, sls.CodeDeviceUnavailable},
		{"revoked", func() *sls.Device { return e.device(e.u.ID, sls.StateRevoked) }, sls.PurposeLogin, nil, sls.CodeDeviceUnavailable},
		{"pending, not an activation", func() *sls.Device { return e.device(e.u.ID, sls.StatePending) }, sls.PurposeWithdrawal, nil, sls.CodeDeviceUnavailable},
		{"active, for an activation", func() *sls.Device { return e.device(e.u.ID, sls.StateActive) }, sls.PurposeCardActivation, nil, sls.CodeConflict},
		{"not available", func() *sls.Device { return e.device(e.u.ID, sls.StateActive) }, sls.PurposeStepUp,
			func() { e.f.available = false }, sls.CodeDeviceUnavailable},
		{"unknown kind", func() *sls.Device {
			d := e.device(e.u.ID, sls.StateActive)
			d.Kind = sls.KindGold
			return d
		}, sls.PurposeLogin, nil, sls.CodeDeviceUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.f.available = true
			if tc.setup != nil {
				tc.setup()
			}
			if _, err := e.start(tc.device(), tc.purpose, t0); sls.ErrorCode(err) != tc.want {
				t.Fatalf("got %v, want %s", err, tc.want)
			}
		})
	}
}

func TestStartLockedUser(t *testing.T) {
	e := newEnv(t)
	d := e.device(e.u.ID, sls.StateActive)
	if err := e.store.Update(ctx, func(tx sls.Tx) error {
		u, _ := tx.UserForUpdate(ctx, e.u.ID)
		u.LockedUntil = t0.Add(time.Minute)
		return tx.PutUser(ctx, u)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.start(d, sls.PurposeLogin, t0); !errors.Is(err, sls.ErrLocked) {
		t.Fatalf("locked user: %v", err)
	}
	if _, err := e.start(d, sls.PurposeLogin, t0.Add(time.Minute)); err != nil {
		t.Fatalf("after the cooldown: %v", err)
	}
}

func TestStartPreparesAndCaps(t *testing.T) {
	e := newEnv(t)
	d := e.device(e.u.ID, sls.StateActive)
	c, err := e.start(d, sls.PurposeStepUp, t0)
	if err != nil {
		t.Fatal(err)
	}
	if c.DeviceID != d.ID || c.Prompt == nil || c.Prompt.Challenge != "123456" || string(c.FactorState) != "secret" {
		t.Fatalf("challenge: %+v", c)
	}
	if !c.Deadline.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("deadline %v not capped to the caller's", c.Deadline)
	}
	var stored *sls.Device
	_ = e.store.View(ctx, func(tx sls.Tx) (err error) { stored, err = tx.Device(ctx, d.ID); return err })
	if string(stored.FactorState) != `{"n":1}` {
		t.Fatalf("device state not stored: %s", stored.FactorState)
	}
	// An activation challenges a pending device.
	if _, err := e.start(e.device(e.u.ID, sls.StatePending), sls.PurposeCardActivation, t0); err != nil {
		t.Fatalf("activation of a pending device: %v", err)
	}
}

func TestAnswerOutcomes(t *testing.T) {
	e := newEnv(t)
	d := e.device(e.u.ID, sls.StateActive)
	c, err := e.start(d, sls.PurposeWithdrawal, t0)
	if err != nil {
		t.Fatal(err)
	}
	// Not an answer: nothing counted, nothing audited.
	if _, err := e.answer(c, "pending", t0); sls.ErrorCode(err) != sls.CodeConflict || c.Attempts != 0 {
		t.Fatalf("pending: %v, attempts %d", err, c.Attempts)
	}
	if got := e.events(); len(got) != 0 {
		t.Fatalf("audited a non-answer: %v", got)
	}
	// A wrong answer counts on the challenge and the user, with the purpose.
	res, err := e.answer(c, "wrong", t0)
	if err != nil || !errors.Is(res.Refusal, sls.ErrBadResponse) || res.Spent || c.Attempts != 1 || e.user().FailedAnswers != 1 {
		t.Fatalf("wrong: %+v %v attempts %d", res, err, c.Attempts)
	}
	if got := e.events(); len(got) != 1 || !strings.Contains(got[0], `"purpose":"withdrawal"`) || !strings.Contains(got[0], `"session_id":"ses_1"`) {
		t.Fatalf("audit: %v", got)
	}
	// Too late.
	if _, err := e.answer(c, "right", t0.Add(5*time.Minute)); !errors.Is(err, sls.ErrLoginExpired) {
		t.Fatalf("expired: %v", err)
	}
	// Right: the user's failures are cleared and the factor state dropped.
	res, err = e.answer(c, "right", t0.Add(time.Minute))
	if err != nil || !res.OK() || c.FactorState != nil || e.user().FailedAnswers != 0 {
		t.Fatalf("right: %+v %v", res, err)
	}
}

func TestAnswerBudget(t *testing.T) {
	e := newEnv(t)
	c, err := e.start(e.device(e.u.ID, sls.StateActive), sls.PurposeLogin, t0)
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := e.answer(c, "wrong", t0); !errors.Is(res.Refusal, sls.ErrBadResponse) {
		t.Fatalf("first: %+v", res)
	}
	if res, _ := e.answer(c, "wrong", t0); !errors.Is(res.Refusal, sls.ErrTooManyAttempts) || !res.Spent {
		t.Fatalf("second (last allowed): %+v", res)
	}
	if _, err := e.answer(c, "right", t0); !errors.Is(err, sls.ErrTooManyAttempts) {
		t.Fatalf("after the budget: %v", err)
	}
}

func TestAnswerLocksAndAudits(t *testing.T) {
	e := newEnv(t)
	d := e.device(e.u.ID, sls.StateActive)
	var last verify.Result
	for i := 0; i < 3; i++ { // MaxFailures 3, over two challenges (budget 2)
		c, err := e.start(d, sls.PurposeStepUp, t0)
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		if last, err = e.answer(c, "wrong", t0); err != nil {
			t.Fatal(err)
		}
	}
	if !errors.Is(last.Refusal, sls.ErrLocked) || !last.Spent {
		t.Fatalf("third failure: %+v", last)
	}
	u := e.user()
	if !u.Locked(t0) || u.FailedAnswers != 0 {
		t.Fatalf("user: locked until %v, failures %d", u.LockedUntil, u.FailedAnswers)
	}
	got := e.events()
	if len(got) != 4 || !strings.HasPrefix(got[3], sls.EventLockout) {
		t.Fatalf("audit: %v", got)
	}
	for _, g := range got[:3] {
		if !strings.Contains(g, `"purpose":"step_up"`) {
			t.Fatalf("failure without its purpose: %s", g)
		}
	}
	// Locked: a right answer to a fresh challenge is not even checked.
	if _, err := e.start(d, sls.PurposeStepUp, t0); !errors.Is(err, sls.ErrLocked) {
		t.Fatalf("start while locked: %v", err)
	}
}

func TestFail(t *testing.T) {
	e := newEnv(t)
	var outcome error
	err := e.store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, e.u.ID)
		if err != nil {
			return err
		}
		outcome, err = e.v.Fail(ctx, tx, u, "dev_x", sls.PurposePhone, map[string]any{"step": "mobile_verification"}, t0)
		return err
	})
	if err != nil || !errors.Is(outcome, sls.ErrBadResponse) {
		t.Fatalf("fail: %v %v", outcome, err)
	}
	if got := e.events(); len(got) != 1 || !strings.Contains(got[0], `"purpose":"phone"`) || !strings.Contains(got[0], `"step":"mobile_verification"`) {
		t.Fatalf("audit: %v", got)
	}
}
