package login

import (
	"context"
	"errors"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/ratelimit"
)

// Audit events of the session step-up. Strings are stored; never rename
// one.
const (
	EventStepUpStarted = "session.step_up_started"
	EventSteppedUp     = "session.stepped_up"
)

// StepUps proves a device inside a live session: a right answer renews
// the session's ProvenKind and ProvenAt, which is what routes that need
// a recent device proof (sls.NeedStepUp) read. The challenge goes through
// the login's verifier, so its attempt budget and the user's lockout are
// the login's; it is kept in step_ups (purpose step_up, bound to the
// session) and can never turn into a session.
type StepUps struct{ s *Service }

// StepUps returns the session step-up of the service.
func (s *Service) StepUps() *StepUps { return &StepUps{s: s} }

// StepUp is a step-up waiting for its answer. ID is a bearer handle: it
// goes back in a JSON body, never in a URL; only its hash is stored.
type StepUp struct {
	ID string `json:"stepup_id"`
	// State is challenged while answers are accepted, completed once
	// proven, failed when used up.
	State        sls.LoginState `json:"state"`
	DeviceID     string         `json:"device_id"`
	DeviceKind   sls.DeviceKind `json:"device_kind"`
	Prompt       *sls.Prompt    `json:"prompt,omitempty"`
	Deadline     time.Time      `json:"deadline"`
	AttemptsLeft int            `json:"attempts_left"`
}

// StepUpResult is where a step-up stands after an answer: proven (the
// session's new proof), or the attempts left after a wrong answer.
type StepUpResult struct {
	Proven       bool           `json:"proven"`
	ProvenKind   sls.DeviceKind `json:"proven_kind,omitempty"`
	ProvenAt     time.Time      `json:"proven_at,omitzero"`
	AttemptsLeft int            `json:"attempts_left"`
}

// Devices lists the devices that can step the session up: the user's
// usable, available devices whose kind proves a device
// (sls.AssuranceDevice; a temporary passcode proves a phone call, not a
// device).
func (st *StepUps) Devices(ctx context.Context, sess *sls.Session) ([]DeviceChoice, error) {
	s := st.s
	now := s.clock.Now()
	var out []DeviceChoice
	err := s.store.View(ctx, func(tx sls.Tx) error {
		u, err := tx.User(ctx, sess.UserID)
		if err != nil {
			return err
		}
		devices, err := s.stepUpDevices(ctx, tx, u, now)
		out = choices(devices)
		return err
	})
	return out, err
}

func (s *Service) stepUpDevices(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) ([]*sls.Device, error) {
	all, err := s.usableDevices(ctx, tx, u, now)
	var out []*sls.Device
	for _, d := range all {
		if d.Kind.Assurance() >= sls.AssuranceDevice {
			out = append(out, d)
		}
	}
	return out, err
}

// Start challenges one of the user's devices to step the session up. It
// is refused to a locked user. A start while another step-up of the
// session is pending supersedes it and counts like a device selection in
// a login: the new challenge carries the old one's attempts plus one, so
// restarting (each start may send an SMS or a push) never buys answers;
// when that would use the budget up the start is refused
// (too_many_attempts) and the pending one stays until its deadline.
func (st *StepUps) Start(ctx context.Context, sess *sls.Session, deviceID string) (*StepUp, error) {
	start := time.Now()
	s := st.s
	if sess == nil {
		return nil, sls.ErrUnauthenticated
	}
	now := s.clock.Now()
	id := sls.NewToken("stepup")
	var out *StepUp
	err := s.store.Update(ctx, func(tx sls.Tx) error {
		u, err := tx.UserForUpdate(ctx, sess.UserID)
		if err != nil {
			return err
		}
		// Limited per user like the login's device selection.
		if err := s.limiter.TakeIn(ctx, tx, ratelimit.SecondFactorUser, u.ID); err != nil {
			return err
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		d, err := tx.Device(ctx, deviceID)
		if errors.Is(err, sls.ErrNotFound) || (err == nil && d.UserID != u.ID) {
			return sls.Errorf(sls.CodeNotFound, "This device is not one of your security devices.")
		}
		if err != nil {
			return err
		}
		if d.Kind.Assurance() < sls.AssuranceDevice {
			return sls.ErrDeviceUnavailable.WithDetail("reason", "not_a_device")
		}
		pending, err := tx.PendingStepUps(ctx, sess.ID, sls.PurposeStepUp, now)
		if err != nil {
			return err
		}
		attempts := 0
		for _, p := range pending {
			attempts = max(attempts, p.Attempts+1)
		}
		if attempts >= s.cfg.MaxAnswers {
			return sls.ErrTooManyAttempts
		}
		if _, err := tx.SupersedeStepUps(ctx, sess.ID, sls.PurposeStepUp, now); err != nil {
			return err
		}
		su := &sls.StepUp{DeviceKind: d.Kind, Challenge: sls.Challenge{IDHash: sls.TokenHash(id), Purpose: sls.PurposeStepUp,
			Bound: sls.Binding{SessionID: sess.ID}, UserID: u.ID, Platform: sess.Platform, ClientIP: sess.ClientIP,
			Attempts: attempts, CreatedAt: now, Deadline: now.Add(s.cfg.LoginTTL)}}
		if err := s.verify.Start(ctx, tx, u, d, &su.Challenge, now); err != nil {
			return err
		}
		if err := tx.CreateStepUp(ctx, su); err != nil {
			return err
		}
		out = s.stepUpOf(id, su, now)
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), EventStepUpStarted, u.ID, d.ID,
			map[string]any{"kind": d.Kind, "session_id": sess.ID, "superseded": len(pending)})
	})
	if err != nil {
		s.steps.done(start, "step_up_start", string(sls.ErrorCode(err)), "")
		return nil, err
	}
	return out, nil
}

// Answer checks the answer to a step-up of sess. A right answer sets the
// session's ProvenKind to the device's kind and ProvenAt to now (audited
// as session.stepped_up). A wrong answer is counted by the verifier
// toward the step-up's budget and the user's lockout and returns
// bad_response (or account_locked, or too_many_attempts), with the result
// still describing the attempts left; the counts are committed. An IB Key
// push is answered with an empty answer once approved; before that the
// answer is a conflict and counts nothing. A handle of another session is
// unknown (not_found).
func (st *StepUps) Answer(ctx context.Context, sess *sls.Session, stepUpID, answer string) (*StepUpResult, error) {
	start := time.Now()
	s := st.s
	unknown := sls.Errorf(sls.CodeNotFound, "Unknown step-up. Please start over.")
	now := s.clock.Now()
	var out *StepUpResult
	var outcome error
	var kind sls.DeviceKind
	err := s.store.Update(ctx, func(tx sls.Tx) error {
		out, outcome = nil, nil
		if sess != nil {
			if err := s.limiter.TakeIn(ctx, tx, ratelimit.SecondFactorUser, sess.UserID); err != nil {
				return err
			}
		}
		su, d, res, err := s.verify.AnswerInSession(ctx, tx, sess, sls.PurposeStepUp, stepUpID, answer, unknown, now)
		if err != nil {
			return err // not counted: unknown, expired, used up, locked, a push not yet approved
		}
		kind = d.Kind
		out = &StepUpResult{AttemptsLeft: max(s.cfg.MaxAnswers-su.Attempts, 0)}
		if !res.OK() {
			outcome = res.Refusal
			return nil
		}
		ss, err := tx.Session(ctx, sess.ID)
		if err != nil {
			return err
		}
		if !ss.Live(now) {
			return sls.Errorf(sls.CodeUnauthenticated, "Your session has ended. Please log in again.")
		}
		ss.ProvenKind, ss.ProvenAt = d.Kind, now
		if err := tx.PutSession(ctx, ss); err != nil {
			return err
		}
		out.Proven, out.ProvenKind, out.ProvenAt = true, d.Kind, now
		return sls.Audit(ctx, tx, now, sls.ActorUser(su.UserID), EventSteppedUp, su.UserID, d.ID,
			map[string]any{"kind": d.Kind, "session_id": ss.ID, "platform": ss.Platform})
	})
	if err != nil {
		s.steps.done(start, "step_up", string(sls.ErrorCode(err)), string(kind))
		return nil, err
	}
	if outcome != nil {
		s.steps.done(start, "step_up", string(sls.ErrorCode(outcome)), string(kind))
		return out, outcome
	}
	s.steps.done(start, "step_up", "ok", string(kind))
	return out, nil
}

// stepUpOf is what the holder of id sees of su at now.
func (s *Service) stepUpOf(id string, su *sls.StepUp, now time.Time) *StepUp {
	out := &StepUp{ID: id, State: sls.LoginChallenged, DeviceID: su.DeviceID, DeviceKind: su.DeviceKind, Prompt: su.Prompt,
		Deadline: su.Deadline, AttemptsLeft: max(s.cfg.MaxAnswers-su.Attempts, 0)}
	switch {
	case !su.VerifiedAt.IsZero():
		out.State, out.Prompt = sls.LoginCompleted, nil
	case out.AttemptsLeft == 0:
		out.State = sls.LoginFailed
	}
	return out
}

// Status shows where a step-up of sess stands without changing it (the
// page waiting for an IB Key push polls it: the prompt follows the push).
// A handle of another session is unknown; an expired step-up is
// login_expired.
func (st *StepUps) Status(ctx context.Context, sess *sls.Session, stepUpID string) (*StepUp, error) {
	s := st.s
	now := s.clock.Now()
	var out *StepUp
	err := s.store.View(ctx, func(tx sls.Tx) error {
		su, err := tx.StepUp(ctx, sls.TokenHash(stepUpID))
		if errors.Is(err, sls.ErrNotFound) || (err == nil && (sess == nil || su.Bound.SessionID != sess.ID ||
			su.UserID != sess.UserID || su.Purpose != sls.PurposeStepUp)) {
			return sls.Errorf(sls.CodeNotFound, "Unknown step-up. Please start over.")
		}
		if err != nil {
			return err
		}
		out = s.stepUpOf(stepUpID, su, now)
		if out.State == sls.LoginChallenged && !now.Before(su.Deadline) {
			return sls.ErrLoginExpired
		}
		return nil
	})
	return out, err
}

// Steps is the step-up in the login's shape (Step: LoginID is the
// step-up's handle), for pages that show it with the login's screens
// (the portal's in-place step-up, portal.StepUp).
func (st *StepUps) Steps() *StepUpSteps { return &StepUpSteps{st: st} }

// StepUpSteps is StepUps in the login's shape.
type StepUpSteps struct{ st *StepUps }

func stepOfStepUp(up *StepUp) *Step {
	return &Step{LoginID: up.ID, State: up.State, Deadline: up.Deadline, DeviceID: up.DeviceID, Prompt: up.Prompt,
		AttemptsLeft: up.AttemptsLeft}
}

// Devices is StepUps.Devices.
func (x *StepUpSteps) Devices(ctx context.Context, sess *sls.Session) ([]DeviceChoice, error) {
	return x.st.Devices(ctx, sess)
}

// Start is StepUps.Start.
func (x *StepUpSteps) Start(ctx context.Context, sess *sls.Session, deviceID string) (*Step, error) {
	up, err := x.st.Start(ctx, sess, deviceID)
	if err != nil {
		return nil, err
	}
	return stepOfStepUp(up), nil
}

// Status is StepUps.Status.
func (x *StepUpSteps) Status(ctx context.Context, sess *sls.Session, id string) (*Step, error) {
	up, err := x.st.Status(ctx, sess, id)
	if err != nil {
		return nil, err
	}
	return stepOfStepUp(up), nil
}

// Answer is StepUps.Answer. After a wrong answer that leaves the step-up
// open, the step (challenged, with its prompt and the attempts left)
// comes with the error; a step-up used up or a user locked gives a failed
// step.
func (x *StepUpSteps) Answer(ctx context.Context, sess *sls.Session, id, answer string) (*Step, error) {
	res, err := x.st.Answer(ctx, sess, id, answer)
	switch {
	case err == nil:
		return &Step{State: sls.LoginCompleted}, nil
	case res == nil:
		return nil, err // nothing was counted
	}
	step := &Step{State: sls.LoginFailed, AttemptsLeft: res.AttemptsLeft}
	if errors.Is(err, sls.ErrBadResponse) && res.AttemptsLeft > 0 {
		if cur, serr := x.st.Status(ctx, sess, id); serr == nil {
			step = stepOfStepUp(cur)
		}
	}
	return step, err
}
