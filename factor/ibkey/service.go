// Package ibkey is the server side of IB Key, the mobile authenticator:
// the login factor (push with number matching, challenge/response), the
// activation of app instances (QR ticket, Add User with another user's
// ticket or with username, password and an SMS code, migration to a new
// phone), the push channel the apps keep open, and re-authentication for
// extended access. The protocol shared with the app is package
// sls/ibkey; docs/ibkey.md describes both.
//
// Everything lives in the database: pushes are rows, so an app connected
// to one node learns of a push created on another by polling, and a login
// waiting on one node learns of an approval taken by another the same way.
package ibkey

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor"
	proto "github.com/secure-login-system/sls/ibkey"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/verify"
)

// Audit events of the feature. Strings are stored; never rename one.
const (
	EventTicketIssued     = "ibkey.ticket_issued"
	EventActivated        = "ibkey.activated"
	EventActivationFailed = "ibkey.activation_failed"
	EventMigrated         = "ibkey.migrated" // the user left an older instance
	EventAddUserCodeSent  = "ibkey.add_user_code_sent"
	EventPushApproved     = "ibkey.push_approved"
	EventPushDenied       = "ibkey.push_denied"
	EventPushWrongNumber  = "ibkey.push_wrong_number"
	EventPushFlood        = "ibkey.push_flood"
	EventBadUnlock        = "ibkey.bad_unlock"
	EventReauth           = "ibkey.reauth"
)

// ActivateFunc activates a device with the device hooks
// (manage.Service.ActivateInTx).
type ActivateFunc func(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error

// Deps are what the service needs. Login and Activate are reached at
// request time (the server builds them after the factors).
type Deps struct {
	Store    sls.Store
	Sealer   *seal.Sealer
	Clock    sls.Clock
	Rand     io.Reader    // nil: crypto/rand
	Notifier sls.Notifier // nil: no notifications
	// Codes sends "Add User" activation codes by SMS under the SMS rules
	// (package factor/sms) and checks them; nil: Add User by SMS
	// unavailable.
	Codes    CodeSender
	Log      *slog.Logger
	Argon    passhash.Params
	Config   Config
	Activate ActivateFunc
	Login    func() *login.Service
	// Limiter bounds activation-ticket use per client address (nil: no
	// limit).
	Limiter *ratelimit.Limiter
	// Report applies a denial marked "this wasn't me" in its transaction
	// (u's row locked): package takeover locks the user and alerts the
	// Security Team. nil: such a denial is an ordinary one.
	Report func(ctx context.Context, tx sls.Tx, u *sls.User, clientIP string, now time.Time) error
}

// CodeSender sends one-time codes by SMS and checks them (*sms.Codes).
type CodeSender interface {
	Send(ctx context.Context, tx sls.Tx, u *sls.User, clientIP, to string, ch notify.Channel, kind notify.Kind, lastSent, now time.Time) ([]byte, error)
	Matches(stored []byte, code string) bool
}

// Service is the IB Key feature.
type Service struct {
	d   Deps
	cfg Config
	hub *Hub
	log *slog.Logger
	// streams counts the app event streams open on this node.
	streams atomic.Int64
	// open holds them.
	open streamSet
	// life is the context of work that outlives a request (a stream's
	// reads); it ends when Run does.
	life    context.Context
	endLife context.CancelFunc
}

// ConnectedApps is the number of app instances holding an event stream
// open to this node (metrics).
func (s *Service) ConnectedApps() int64 { return s.streams.Load() }

// New builds the service; it fails on invalid configuration.
func New(d Deps) (*Service, error) {
	cfg := d.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Clock == nil {
		d.Clock = sls.SystemClock{}
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{d: d, cfg: cfg, log: d.Log}
	s.life, s.endLife = context.WithCancel(context.Background())
	s.hub = newHub(d.Store, d.Clock, cfg.PollInterval.D(), d.Log)
	return s, nil
}

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Hub returns the node's push hub.
func (s *Service) Hub() *Hub { return s.hub }

func (s *Service) now() time.Time { return s.d.Clock.Now() }

// Run runs the node's background work until ctx ends: watching the
// database for push changes and handing new pushes to the gateway.
func (s *Service) Run(ctx context.Context) {
	go s.hub.run(ctx)
	if s.cfg.Gateway != nil {
		s.runGateway(ctx)
	}
	<-ctx.Done()
	s.closeStreams(nil)
	s.endLife()
}

// activationFailed is what every refused activation looks like to the
// user ("An error has occurred. Please try again.", as the app shows it);
// the reason is machine-readable in the detail.
func activationFailed(reason string) error {
	return (&sls.Error{Code: sls.CodeActivationFailed, Message: "An error has occurred. Please try again."}).WithDetail("reason", reason)
}

// secret is what is sealed for an IB Key device: the offline key agreed at
// activation. The instance's public signature key lives on the instance.
type secret struct {
	Key []byte `json:"key"`
}

func (s *Service) offlineKey(d *sls.Device) ([]byte, error) {
	plain, err := factor.OpenSecret(s.d.Sealer, d)
	if err != nil {
		return nil, err
	}
	var sec secret
	if err := json.Unmarshal(plain, &sec); err != nil || len(sec.Key) != proto.OfflineKeySize {
		return nil, sls.ErrDeviceUnavailable.Wrap(fmt.Errorf("ibkey: device %s: secret unreadable", d.ID))
	}
	return sec.Key, nil
}

// devState is the device's factor state: the anti-fatigue streak.
type devState struct {
	// Streak counts pushes in a row that ended without approval.
	Streak int `json:"streak"`
	// Since is when the streak began.
	Since time.Time `json:"since,omitzero"`
}

func readDevState(d *sls.Device) devState {
	var st devState
	if len(d.FactorState) > 0 {
		_ = json.Unmarshal(d.FactorState, &st) // unreadable state: start afresh
	}
	return st
}

func writeDevState(d *sls.Device, st devState) {
	d.FactorState, _ = json.Marshal(st)
}

// loginState is the factor's private state of a login.
type loginState struct {
	PushID string `json:"push_id,omitempty"`
}

func readLoginState(c *sls.Challenge) loginState {
	var st loginState
	_ = json.Unmarshal(c.FactorState, &st)
	return st
}

// promptExtra is the public IB Key part of the login prompt: the login
// page shows the push's state and, when pushing is off, why.
type promptExtra struct {
	// Sign is set when the challenge confirms a withdrawal: the parts of
	// its question, which the user types into the app's Authenticate
	// screen in SIGN mode (dynamic linking).
	Sign          *factor.SignParts `json:"sign,omitempty"`
	PushID        string            `json:"push_id,omitempty"`
	Push          string            `json:"push"` // pending, approved, denied, expired, rejected, superseded, cancelled, off
	PushExpiresAt time.Time         `json:"push_expires_at,omitzero"`
	Reason        string            `json:"reason,omitempty"`
}

// countFailure records a wrong PIN (bad signature or proof) or a wrong
// number against the user's lockout, through the one verifier (package
// verify), like a failed login answer; step says where in the app it
// happened. It returns the error for the caller: ErrBadResponse or
// ErrLocked.
func (s *Service) countFailure(ctx context.Context, tx sls.Tx, u *sls.User, deviceID string, purpose sls.Purpose, step string, now time.Time) (error, error) {
	v := &verify.Verifier{Lockout: sls.Lockout{MaxFailures: login.DefaultConfig().MaxFailures, Cooldown: login.DefaultConfig().LockoutCooldown}}
	if s.d.Login != nil && s.d.Login() != nil {
		v = s.d.Login().Verifier()
	}
	outcome, err := v.Fail(ctx, tx, u, deviceID, purpose, map[string]any{"kind": sls.KindIBKey, "step": step}, now)
	if err == nil && errors.Is(outcome, sls.ErrLocked) {
		s.log.WarnContext(ctx, "user locked after failed IB Key answers", "user_id", u.ID, "until", u.LockedUntil)
	}
	return outcome, err
}

// unapproved reports whether a final push state counts toward the
// anti-fatigue streak.
func unapproved(state string) bool {
	switch state {
	case sls.PushDenied, sls.PushExpired, sls.PushRejected, sls.PushSuperseded:
		return true
	}
	return false
}

// closePush ends a pending push in state. dev, when it is the push's
// device, is updated in memory (the caller stores it); otherwise the
// device row is read and stored here. Unapproved endings lengthen the
// streak, and reaching the limit is audited and notified once.
func (s *Service) closePush(ctx context.Context, tx sls.Tx, p *sls.IBKeyPush, state string, dev *sls.Device, now time.Time) error {
	p.State, p.UpdatedAt = state, now
	if state != sls.PushExpired {
		p.AnsweredAt = now
	}
	if err := tx.PutIBKeyPush(ctx, p); err != nil {
		return err
	}
	if !unapproved(state) {
		return nil
	}
	own := dev != nil && dev.ID == p.DeviceID
	d := dev
	if !own {
		var err error
		if d, err = tx.Device(ctx, p.DeviceID); errors.Is(err, sls.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
	}
	st := readDevState(d)
	if st.Streak == 0 {
		st.Since = p.CreatedAt
	}
	st.Streak++
	writeDevState(d, st)
	if !own {
		if err := tx.PutDevice(ctx, d); err != nil {
			return err
		}
	}
	if st.Streak == s.cfg.MaxUnanswered {
		s.log.WarnContext(ctx, "IB Key pushes suspended after unapproved requests", "user_id", p.UserID, "count", st.Streak)
		if err := sls.Audit(ctx, tx, now, sls.ActorSystem, EventPushFlood, p.UserID, d.ID,
			map[string]any{"count": st.Streak, "since": st.Since, "last": state}); err != nil {
			return err
		}
		if err := s.notify(ctx, tx, sls.Notification{UserID: p.UserID, Kind: sls.NotePushFlood,
			Data: map[string]string{"Count": fmt.Sprint(st.Streak), "Since": st.Since.UTC().Format("2006-01-02 15:04 MST")}}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) notify(ctx context.Context, tx sls.Tx, n sls.Notification) error {
	if s.d.Notifier == nil {
		return nil
	}
	return s.d.Notifier.Notify(ctx, tx, n)
}

// setLoginPush shows a push's new state on its login's prompt, and ends
// the login when the user denied it. The login page's wait call sees the
// change at once. A push that belongs to no login belongs to a challenge
// kept in step_ups (a session step-up, a withdrawal confirmation), which
// is treated alike. The caller holds the user's row locked, so the order
// of locks is the one of an answer (user, then challenge).
func setLoginPush(ctx context.Context, tx sls.Tx, p *sls.IBKeyPush, fail bool) error {
	l, err := tx.LoginForUpdate(ctx, p.LoginHash)
	if errors.Is(err, sls.ErrNotFound) {
		return setStepUpPush(ctx, tx, p, fail)
	}
	if err != nil {
		return err
	}
	return showOnLogin(ctx, tx, l, p, fail)
}

// showOnLogin is setLoginPush for a login the caller has read (locked).
func showOnLogin(ctx context.Context, tx sls.Tx, l *sls.LoginTx, p *sls.IBKeyPush, fail bool) error {
	if l.State != sls.LoginChallenged || !showPush(&l.Challenge, p) {
		return nil // the login moved on (another device, a newer push, done)
	}
	if fail {
		l.State = sls.LoginFailed
	}
	return tx.PutLogin(ctx, l)
}

// setStepUpPush is setLoginPush for a challenge kept in step_ups: a
// denial ends it (its deadline is now).
func setStepUpPush(ctx context.Context, tx sls.Tx, p *sls.IBKeyPush, fail bool) error {
	su, err := tx.StepUpForUpdate(ctx, p.LoginHash)
	if errors.Is(err, sls.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !su.VerifiedAt.IsZero() || !showPush(&su.Challenge, p) {
		return nil
	}
	if fail && p.UpdatedAt.Before(su.Deadline) {
		su.Deadline = p.UpdatedAt
	}
	return tx.PutStepUp(ctx, su)
}

// showPush writes p's state into c's prompt when p is c's current push;
// it reports whether it was.
func showPush(c *sls.Challenge, p *sls.IBKeyPush) bool {
	if c.DeviceID != p.DeviceID || readLoginState(c).PushID != p.ID || c.Prompt == nil {
		return false
	}
	var ex promptExtra
	_ = json.Unmarshal(c.Prompt.Extra, &ex)
	ex.Push = p.State
	c.Prompt.Extra, _ = json.Marshal(ex)
	return true
}
