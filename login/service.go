package login

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/verify"
)

// Gate adds account-protection rules to a login (IP restrictions, opt-out,
// account closure). It runs inside the login transaction after the
// password is accepted.
type Gate interface {
	// Admit decides what the login needs: an error refuses it (audited as
	// login.refused); secondFactor=false lets the password alone create a
	// session with the returned scope.
	Admit(ctx context.Context, tx sls.Tx, u *sls.User, a *sls.Account, platform sls.Platform, clientIP string, now time.Time) (secondFactor bool, scope sls.Scope, err error)
}

// Hooks are called after a successful login commits (notifications such as
// "login from a new device" hang here). They must not block for long.
type Hooks interface {
	// LoginCompleted runs inside the login's transaction: what it writes
	// (for example an outbox message) commits with the session.
	LoginCompleted(ctx context.Context, tx sls.Tx, u *sls.User, s *sls.Session, c Client, now time.Time) error
}

// Client is what a login knows of the browser or app that made it.
type Client struct {
	UserAgent string
	// Known: it presented a known-client token of this user (it logged in
	// as the user before; see KnownClient).
	Known bool
}

// SessionGate checks every use of a session, not only its login: rules
// that must hold for the whole session (IP restrictions, SPEC §5) live
// here. It runs in a read-only transaction.
type SessionGate interface {
	// CheckSession returns an error (a *sls.Error with a stable code) to
	// refuse this use of s from clientIP. The login service audits the
	// refusal as session.refused; the session itself is not ended.
	CheckSession(ctx context.Context, tx sls.Tx, s *sls.Session, u *sls.User, clientIP string, now time.Time) error
}

// EventSessionRefused is audited when a SessionGate refuses a use of a
// live session (detail: session id, reason code, address).
const EventSessionRefused = "session.refused"

// Deps are what the service needs.
type Deps struct {
	Store   sls.Store
	Factors sls.Factors
	Clock   sls.Clock
	Config  Config
	Gate    Gate        // nil: BasicGate
	Session SessionGate // nil: no per-use rules beyond liveness
	Hooks   Hooks       // nil: none
	// Notifier tells users of refusals they should know about (a right
	// password from outside their IP restrictions, password guessing);
	// nil: not told.
	Notifier sls.Notifier
	Logger   *slog.Logger
	Metrics  prometheus.Registerer // nil: not registered
	// VerifyMetrics times the factor checks (nil: not timed); the server
	// shares one with every verifier it builds.
	VerifyMetrics *verify.Metrics
	// Limiter bounds password checks per address and per (address,
	// username), and device selections and answers per user (nil: none).
	Limiter *ratelimit.Limiter
	// Hashing bounds concurrent Argon2id computations (nil: unbounded).
	Hashing *passhash.Gate
}

// Service runs logins and checks sessions.
type Service struct {
	store   sls.Store
	factors sls.Factors
	clock   sls.Clock
	cfg     Config
	gate    Gate
	sgate   SessionGate
	hooks   Hooks
	notes   sls.Notifier
	log     *slog.Logger
	verify  *verify.Verifier
	limiter *ratelimit.Limiter
	hashing *passhash.Gate

	dummyOnce sync.Once
	dummy     string

	steps *stepMetrics
}

// New returns a Service. It fails on invalid configuration.
func New(d Deps) (*Service, error) {
	cfg := d.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Service{store: d.Store, factors: d.Factors, clock: d.Clock, cfg: cfg, gate: d.Gate, sgate: d.Session, hooks: d.Hooks, notes: d.Notifier, log: d.Logger,
		limiter: d.Limiter, hashing: d.Hashing}
	if s.clock == nil {
		s.clock = sls.SystemClock{}
	}
	if s.gate == nil {
		s.gate = BasicGate{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.verify = &verify.Verifier{Factors: d.Factors, Lockout: s.Lockout(), MaxAttempts: cfg.MaxAnswers, Metrics: d.VerifyMetrics}
	steps, err := newStepMetrics(d.Metrics)
	if err != nil {
		return nil, err
	}
	s.steps = steps
	return s, nil
}

// Factors returns the factors the service was built with.
func (s *Service) Factors() sls.Factors { return s.factors }

// Config returns the effective configuration.
func (s *Service) Config() Config { return s.cfg }

// Verifier returns the verifier every "prove you hold the device" flow
// goes through: the service's factors, lockout rule and answer budget.
func (s *Service) Verifier() *verify.Verifier { return s.verify }

// DeviceChoice is one device offered on "Select Second Factor Device".
type DeviceChoice struct {
	ID     string         `json:"id"`
	Kind   sls.DeviceKind `json:"kind"`
	Title  string         `json:"title"`
	Label  string         `json:"label,omitempty"`
	Serial string         `json:"serial,omitempty"`
}

// Step is where a login stands after a call: a device to choose, a
// challenge to answer, or a session.
type Step struct {
	// LoginID is the bearer handle of the login transaction (absent once a
	// session exists).
	LoginID  string         `json:"login_id,omitempty"`
	State    sls.LoginState `json:"state"`
	Deadline time.Time      `json:"deadline,omitzero"`
	Devices  []DeviceChoice `json:"devices,omitempty"`
	DeviceID string         `json:"device_id,omitempty"`
	Prompt   *sls.Prompt    `json:"prompt,omitempty"`
	// AttemptsLeft is how many more answers this login accepts.
	AttemptsLeft int         `json:"attempts_left,omitempty"`
	Session      *NewSession `json:"session,omitempty"`
}

// NewSession is a session just created, with its bearer token. The token
// is shown once and never stored.
type NewSession struct {
	Token   string       `json:"token"`
	Session *sls.Session `json:"session"`
	// ClientToken marks the browser or app as a known client of the user
	// (see KnownClient): it sends it back at its next login, and wrong
	// passwords from elsewhere do not hold it off. Shown once.
	ClientToken string `json:"client_token,omitempty"`
}

// StartRequest is the first step: username and password.
type StartRequest struct {
	Username  string
	Password  string
	Platform  sls.Platform
	ClientIP  string
	UserAgent string
	// ClientToken is the known-client token this browser or app holds
	// from an earlier login (empty: none); see KnownClient.
	ClientToken string
}

// Start checks username and password and opens a login transaction.
// Unknown user and wrong password both return ErrInvalidCredentials after
// the same work (one Argon2id hash, one audited transaction).
func (s *Service) Start(ctx context.Context, r StartRequest) (*Step, error) {
	start := time.Now()
	if !r.Platform.Valid() {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "platform must be %q or %q", sls.PlatformPortal, sls.PlatformTrading)
	}
	var step *Step
	var refusal error
	_, _, err := s.checkPassword(ctx, Credentials{Username: r.Username, Password: r.Password, ClientToken: r.ClientToken, ClientIP: r.ClientIP},
		map[string]any{"platform": r.Platform, "ip": r.ClientIP}, func(tx sls.Tx, u *sls.User, known *sls.KnownClient) error {
			// The rest of the step commits with the password's outcome.
			step, refusal = nil, nil
			now := s.clock.Now()
			var needFactor bool
			var scope sls.Scope
			var err error
			if needFactor, scope, refusal, err = s.admit(ctx, tx, u, r.Platform, r.ClientIP, now); err != nil || refusal != nil {
				return err
			}
			if !needFactor {
				ns, err := s.createSession(ctx, tx, u, nil, r.Platform, scope, r.ClientIP, r.UserAgent, knownHash(known), sls.Verified{}, now)
				if err != nil {
					return err
				}
				step = &Step{State: sls.LoginCompleted, Session: ns}
				return nil
			}
			devices, err := s.usableDevices(ctx, tx, u, now)
			if err != nil {
				return err
			}
			if len(devices) == 0 {
				refusal = sls.Errorf(sls.CodeDeviceUnavailable, "No active security device. Please contact Client Services.")
				return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), sls.EventLoginRefused, u.ID, "", map[string]any{"reason": "no_device", "ip": r.ClientIP})
			}
			loginID := sls.NewToken("login")
			l := &sls.LoginTx{State: sls.LoginSelectDevice, Challenge: sls.Challenge{IDHash: sls.TokenHash(loginID), Purpose: sls.PurposeLogin,
				UserID: u.ID, Platform: r.Platform, CreatedAt: now, Deadline: now.Add(s.cfg.LoginTTL), ClientIP: r.ClientIP,
				UserAgent: truncate(r.UserAgent, 256)}, KnownClient: knownHash(known)}
			if len(devices) == 1 {
				// One device: "Select Second Factor Device" is skipped.
				if err := s.challenge(ctx, tx, u, devices[0], l, now); err != nil {
					return err
				}
			}
			if err := tx.CreateLogin(ctx, l); err != nil {
				return err
			}
			step = s.stepOf(loginID, l, devices)
			return nil
		})
	if err != nil {
		if errors.Is(err, sls.ErrInvalidCredentials) {
			s.steps.done(start, "password", "failed", "")
		}
		return nil, err
	}
	if refusal != nil {
		s.steps.done(start, "password", string(sls.ErrorCode(refusal)), "")
		return nil, refusal
	}
	s.steps.done(start, "password", "ok", "")
	return step, nil
}

// admit applies what every login's first step must pass once the user
// is known (u read with UserForUpdate): not locked or disabled, and the
// gate (IP restrictions, opt-out, closure). A refusal comes back as
// refusal, audited, and says no more than a wrong password would.
func (s *Service) admit(ctx context.Context, tx sls.Tx, u *sls.User, p sls.Platform, ip string, now time.Time) (needFactor bool, scope sls.Scope, refusal, err error) {
	if u.Locked(now) || u.Inactive() {
		reason := "locked"
		if u.Inactive() {
			reason = "disabled"
		}
		return false, "", sls.ErrInvalidCredentials,
			sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), sls.EventLoginRefused, u.ID, "", map[string]any{"reason": reason, "ip": ip})
	}
	acct, err := tx.Account(ctx, u.AccountID)
	if err != nil {
		return false, "", nil, err
	}
	needFactor, scope, gerr := s.gate.Admit(ctx, tx, u, acct, p, ip, now)
	if gerr == nil {
		return needFactor, scope, nil, nil
	}
	if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), sls.EventLoginRefused, u.ID, "",
		map[string]any{"reason": string(sls.ErrorCode(gerr)), "ip": ip, "platform": p}); err != nil {
		return false, "", nil, err
	}
	if sls.ErrorCode(gerr) == sls.CodeIPNotAllowed {
		// The refusal must not confirm the password to whoever typed it:
		// it answers as a wrong password does, and the user hears of it
		// through their own channels.
		return false, "", sls.ErrInvalidCredentials, s.notify(ctx, tx, sls.Notification{UserID: u.ID, Kind: sls.NoteLoginRefusedIP,
			Data: map[string]string{"Platform": string(p), "Address": ip, "Time": now.UTC().Format("2006-01-02 15:04 MST")}})
	}
	return false, "", gerr, nil
}

func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy = passhash.Dummy(s.cfg.Argon) })
	return s.dummy
}

func (s *Service) usableDevices(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) ([]*sls.Device, error) {
	all, err := tx.Devices(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var out []*sls.Device
	for _, d := range all {
		f, ok := s.factors[d.Kind]
		if !ok || !d.Usable(now) {
			continue
		}
		if av, ok := f.(sls.Availability); ok && !av.Available(u, d, all, now) {
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

func choices(devices []*sls.Device) []DeviceChoice {
	out := make([]DeviceChoice, 0, len(devices))
	for _, d := range devices {
		out = append(out, DeviceChoice{ID: d.ID, Kind: d.Kind, Title: d.Kind.Title(), Label: d.Label, Serial: d.Serial})
	}
	return out
}

func (s *Service) stepOf(loginID string, l *sls.LoginTx, devices []*sls.Device) *Step {
	st := &Step{LoginID: loginID, State: l.State, Deadline: l.Deadline, DeviceID: l.DeviceID, Prompt: l.Prompt,
		AttemptsLeft: s.cfg.MaxAnswers - l.Attempts}
	if devices != nil {
		st.Devices = choices(devices)
	}
	return st
}

// challenge asks the device's factor for its screen, through the
// verifier, and moves l to LoginChallenged.
func (s *Service) challenge(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, l *sls.LoginTx, now time.Time) error {
	l.Deadline = l.CreatedAt.Add(s.cfg.LoginTTL)
	if err := s.verify.Start(ctx, tx, u, d, &l.Challenge, now); err != nil {
		return err
	}
	l.State = sls.LoginChallenged
	return nil
}

// openLogin loads and locks a login transaction, refusing it when it can
// no longer be used. The returned error is for the caller; the login is
// left as it is.
func (s *Service) openLogin(ctx context.Context, tx sls.Tx, loginID string, now time.Time) (*sls.LoginTx, *sls.User, *sls.Device, error) {
	if loginID == "" || len(loginID) > 128 {
		return nil, nil, nil, sls.Errorf(sls.CodeNotFound, "Unknown login.")
	}
	// The user (locked) and the chosen device come in the same statement:
	// every caller reads them next.
	l, u, d, err := tx.LoginWithUserForUpdate(ctx, sls.TokenHash(loginID))
	if errors.Is(err, sls.ErrNotFound) {
		return nil, nil, nil, sls.Errorf(sls.CodeNotFound, "Unknown login. Please start over.")
	}
	if err != nil {
		return nil, nil, nil, err
	}
	switch {
	case l.State == sls.LoginCompleted:
		return nil, nil, nil, sls.ErrLoginCompleted
	case l.State == sls.LoginFailed:
		return nil, nil, nil, sls.ErrTooManyAttempts
	case !now.Before(l.Deadline):
		return nil, nil, nil, sls.ErrLoginExpired
	}
	return l, u, d, nil
}

// SelectDevice chooses the device that will answer the login (or switches
// to another one before answering).
func (s *Service) SelectDevice(ctx context.Context, loginID, deviceID string) (*Step, error) {
	now := s.clock.Now()
	var step *Step
	var spent bool
	err := s.store.Update(ctx, func(tx sls.Tx) error {
		step, spent = nil, false
		l, u, _, err := s.openLogin(ctx, tx, loginID, now)
		if err != nil {
			return err
		}
		if l.State == sls.LoginChallenged {
			// Choosing again draws a new challenge, so it spends one of the
			// login's answers: re-selecting until a challenge seen before
			// comes back (a code card pair, a guessable code) is no cheaper
			// than guessing (NIST SP 800-63B §5.2.2).
			l.Attempts++
			if l.Attempts >= s.cfg.MaxAnswers {
				l.State, spent = sls.LoginFailed, true
				return tx.PutLogin(ctx, l)
			}
		}
		// Re-selecting re-rolls the challenge, so it is limited like an
		// answer (NIST SP 800-63B §5.2.2).
		if err := s.limiter.TakeIn(ctx, tx, ratelimit.SecondFactorUser, u.ID); err != nil {
			return err
		}
		if u.Locked(now) {
			return sls.ErrLocked
		}
		devices, err := s.usableDevices(ctx, tx, u, now)
		if err != nil {
			return err
		}
		var chosen *sls.Device
		for _, d := range devices {
			if d.ID == deviceID {
				chosen = d
			}
		}
		if chosen == nil {
			return sls.Errorf(sls.CodeNotFound, "This device is not one of your active security devices.")
		}
		if err := s.challenge(ctx, tx, u, chosen, l, now); err != nil {
			return err
		}
		if err := tx.PutLogin(ctx, l); err != nil {
			return err
		}
		step = s.stepOf(loginID, l, devices)
		return nil
	})
	if err == nil && spent {
		return nil, sls.ErrTooManyAttempts
	}
	return step, err
}

// Status reports where a login stands without changing it (the page that
// waits for an IB Key push polls it).
func (s *Service) Status(ctx context.Context, loginID string) (*Step, error) {
	now := s.clock.Now()
	var step *Step
	// One statement: no transaction around it (on PostgreSQL that saves
	// two round trips on each of a waiting page's reads).
	err := s.store.Read(ctx, func(tx sls.Tx) error {
		l, err := tx.Login(ctx, sls.TokenHash(loginID))
		if errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "Unknown login. Please start over.")
		}
		if err != nil {
			return err
		}
		if l.State != sls.LoginCompleted && l.State != sls.LoginFailed && !now.Before(l.Deadline) {
			return sls.ErrLoginExpired
		}
		step = s.stepOf(loginID, l, nil)
		return nil
	})
	return step, err
}

// Answer checks the answer to the chosen device's challenge. A wrong
// answer is counted toward the login's limit and the user's lockout, and
// returns ErrBadResponse (or ErrLocked when this failure locked the user,
// or ErrTooManyAttempts when the login is used up); the counts are
// committed even though an error is returned. A right answer completes the
// login once and returns the session.
func (s *Service) Answer(ctx context.Context, loginID, answer string) (*Step, error) {
	start := time.Now()
	if len(answer) > sls.MaxAnswer {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "The answer is too long.")
	}
	now := s.clock.Now()
	var step *Step
	var outcome error
	var kind sls.DeviceKind
	err := s.store.Update(ctx, func(tx sls.Tx) error {
		step, outcome = nil, nil
		l, u, d, err := s.openLogin(ctx, tx, loginID, now)
		if err != nil {
			return err
		}
		if l.State != sls.LoginChallenged {
			return sls.Errorf(sls.CodeConflict, "Choose a security device first.")
		}
		if err := s.limiter.TakeIn(ctx, tx, ratelimit.SecondFactorUser, u.ID); err != nil {
			return err
		}
		if d == nil {
			return sls.ErrNotFound // as reading the device was when it is gone
		}
		kind = d.Kind
		res, err := s.verify.Answer(ctx, tx, u, d, &l.Challenge, answer, now)
		if err != nil {
			return err // not counted: expired, used up, locked, or not an answer at all
		}
		if !res.OK() {
			outcome = res.Refusal
			if res.Spent {
				l.State = sls.LoginFailed
			}
			if errors.Is(outcome, sls.ErrLocked) {
				s.log.WarnContext(ctx, "user locked after failed second-factor answers", "user_id", u.ID, "until", u.LockedUntil)
			}
			step = s.stepOf(loginID, l, nil)
			return tx.PutLogin(ctx, l)
		}
		// Success.
		ns, refusal, err := s.finishLogin(ctx, tx, u, d, l.Platform, l.ClientIP, l.UserAgent, l.KnownClient, res.Verified, false, now)
		if err != nil {
			return err
		}
		if refusal != nil {
			outcome, l.State = refusal, sls.LoginFailed
			return tx.PutLogin(ctx, l)
		}
		l.State, l.CompletedAt, l.SessionID, l.FactorState = sls.LoginCompleted, now, ns.Session.ID, nil
		if err := tx.PutLogin(ctx, l); err != nil {
			return err
		}
		step = &Step{State: sls.LoginCompleted, DeviceID: d.ID, Session: ns}
		return nil
	})
	if err != nil {
		s.steps.done(start, "answer", string(sls.ErrorCode(err)), string(kind))
		return nil, err
	}
	if outcome != nil {
		s.steps.done(start, "answer", string(sls.ErrorCode(outcome)), string(kind))
		return step, outcome
	}
	s.steps.done(start, "answer", "ok", string(kind))
	return step, nil
}

// Lockout is the lockout rule of the configuration, for other features
// whose failed answers count toward the same lock.
func (s *Service) Lockout() sls.Lockout {
	return sls.Lockout{MaxFailures: s.cfg.MaxFailures, Cooldown: s.cfg.LockoutCooldown}
}

// scopeFor decides what a session authenticated by d may do.
func (s *Service) scopeFor(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, p sls.Platform, now time.Time) (sls.Scope, error) {
	acct, err := tx.Account(ctx, u.AccountID)
	if err != nil {
		return "", err
	}
	if acct.Closed() {
		if p != sls.PlatformPortal {
			return "", sls.Errorf(sls.CodeForbidden, "This account is closed; only the Client Portal is available.")
		}
		return sls.ScopeStatementsOnly, nil
	}
	if acct.ID == sls.OperatorsAccount {
		return sls.ScopeOperator, nil
	}
	return s.deviceScope(d, p, now)
}

// deviceScope applies the temporary passcode rule (SPEC §1): full access
// for TempPasscodeFull after issue, then the portal's online card page only.
func (s *Service) deviceScope(d *sls.Device, p sls.Platform, now time.Time) (sls.Scope, error) {
	if d == nil || d.Kind != sls.KindTempPasscode {
		return sls.ScopeFull, nil
	}
	if now.Sub(d.ActivatedAt) < s.cfg.TempPasscodeFull {
		return sls.ScopeFull, nil
	}
	if p != sls.PlatformPortal {
		return "", sls.Errorf(sls.CodeForbidden, "This temporary passcode now works only in the Client Portal, to print an Online Security Code Card.")
	}
	return sls.ScopeOnlineCardOnly, nil
}

// finishLogin makes the session of a login whose device was proven: the
// scope the account and device allow, or a refusal (a closed account on
// a trading platform, an expired temporary passcode), audited.
func (s *Service) finishLogin(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, p sls.Platform,
	ip, userAgent, known string, v sls.Verified, passwordless bool, now time.Time) (*NewSession, error, error) {
	scope, err := s.scopeFor(ctx, tx, u, d, p, now)
	if err != nil {
		return nil, err, sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), sls.EventLoginRefused, u.ID, d.ID,
			map[string]any{"reason": string(sls.ErrorCode(err)), "kind": d.Kind, "platform": p})
	}
	ns, err := s.newSession(ctx, tx, u, d, p, scope, ip, userAgent, known, v, passwordless, now)
	return ns, nil, err
}

// createSession makes the session of a completed login; known is the
// token hash of the known client that started it (empty: none).
func (s *Service) createSession(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, p sls.Platform, scope sls.Scope,
	ip, userAgent, known string, v sls.Verified, now time.Time) (*NewSession, error) {
	return s.newSession(ctx, tx, u, d, p, scope, ip, userAgent, known, v, false, now)
}

// newSession is createSession; passwordless marks a login that checked
// no password.
func (s *Service) newSession(ctx context.Context, tx sls.Tx, u *sls.User, d *sls.Device, p sls.Platform, scope sls.Scope,
	ip, userAgent, known string, v sls.Verified, passwordless bool, now time.Time) (*NewSession, error) {
	token := sls.NewToken("sls")
	lifetime, idle := s.cfg.SessionLifetime, s.cfg.IdleTimeout
	if p == sls.PlatformTrading {
		lifetime, idle = s.cfg.TradingLifetime, 0
	}
	ss := &sls.Session{ID: sls.NewID("ses"), TokenHash: sls.TokenHash(token), UserID: u.ID, Username: u.Username, Platform: p,
		Scope: scope, Biometric: v.Biometric, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(lifetime), IdleTimeout: idle, ClientIP: ip,
		Passwordless: passwordless}
	if d != nil {
		ss.DeviceID, ss.DeviceKind = d.ID, d.Kind
		ss.ProvenKind, ss.ProvenAt = d.Kind, now
		if d.Kind == sls.KindTempPasscode && scope == sls.ScopeFull {
			// Full access ends with the passcode's full-access window.
			if end := d.ActivatedAt.Add(s.cfg.TempPasscodeFull); end.Before(ss.ExpiresAt) {
				ss.ExpiresAt = end
			}
		}
	}
	if err := tx.CreateSession(ctx, ss); err != nil {
		return nil, err
	}
	detail := map[string]any{"platform": p, "scope": scope, "session_id": ss.ID, "ip": ip}
	if passwordless {
		detail["passwordless"] = true
	}
	if d != nil {
		detail["kind"] = d.Kind
	} else {
		detail["kind"] = "none"
	}
	if err := sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), sls.EventLoginSuccess, u.ID, ss.DeviceID, detail); err != nil {
		return nil, err
	}
	if s.hooks != nil {
		if err := s.hooks.LoginCompleted(ctx, tx, u, ss, Client{UserAgent: userAgent, Known: known != ""}, now); err != nil {
			return nil, err
		}
	}
	clientToken, err := s.rememberClient(ctx, tx, u, known, now)
	if err != nil {
		return nil, err
	}
	return &NewSession{Token: token, Session: ss, ClientToken: clientToken}, nil
}

// sessionTouchInterval limits writes: last-seen is stored at most this
// often per session, which is precise enough for a 30-minute idle timeout.
const sessionTouchInterval = time.Minute

// Authenticate returns the live session for token and its user, refreshing
// its last use. clientIP is the address this use comes from: the
// SessionGate (when set) may refuse it, and the refusal is audited.
func (s *Service) Authenticate(ctx context.Context, token, clientIP string) (*sls.Session, *sls.User, error) {
	if token == "" || len(token) > 128 {
		return nil, nil, sls.ErrUnauthenticated
	}
	now := s.clock.Now()
	var ss *sls.Session
	var u *sls.User
	var refused error
	err := s.store.View(ctx, func(tx sls.Tx) error {
		var err error
		if ss, err = tx.SessionByTokenHash(ctx, sls.TokenHash(token)); err != nil {
			return err
		}
		if u, err = tx.User(ctx, ss.UserID); err != nil || s.sgate == nil || !ss.Live(now) {
			return err
		}
		refused = s.sgate.CheckSession(ctx, tx, ss, u, clientIP, now)
		return nil
	})
	if errors.Is(err, sls.ErrNotFound) {
		return nil, nil, sls.ErrUnauthenticated
	}
	if err != nil {
		return nil, nil, err
	}
	ss.Username = u.Username
	if !ss.Live(now) {
		return nil, nil, sls.Errorf(sls.CodeUnauthenticated, "Your session has ended. Please log in again.")
	}
	if u.Locked(now) {
		// Locking ends the user's sessions (sls.RecordLockout, manage.Lock);
		// this holds even for a path that forgot to (defense in depth).
		return nil, nil, sls.ErrLocked
	}
	if u.Inactive() { // disabling and deleting end the sessions too
		return nil, nil, sls.ErrUnauthenticated
	}
	if refused != nil {
		return nil, nil, s.refuseSession(ctx, ss, clientIP, refused, now)
	}
	if now.Sub(ss.LastSeenAt) >= sessionTouchInterval {
		err := s.store.Update(ctx, func(tx sls.Tx) error {
			cur, err := tx.Session(ctx, ss.ID)
			if err != nil {
				return err
			}
			cur.LastSeenAt = now
			return tx.PutSession(ctx, cur)
		})
		if err != nil {
			return nil, nil, err
		}
		ss.LastSeenAt = now
	}
	return ss, u, nil
}

// refuseSession audits a SessionGate refusal and returns it; when the audit
// cannot be written the use is refused all the same (fail closed).
func (s *Service) refuseSession(ctx context.Context, ss *sls.Session, clientIP string, refused error, now time.Time) error {
	code := sls.CodeInternal
	var se *sls.Error
	if errors.As(refused, &se) {
		code = se.Code
	}
	err := s.store.Update(ctx, func(tx sls.Tx) error {
		return sls.Audit(ctx, tx, now, sls.ActorUser(ss.UserID), EventSessionRefused, ss.UserID, ss.DeviceID,
			map[string]any{"session_id": ss.ID, "reason": string(code), "ip": truncate(clientIP, 64), "platform": ss.Platform})
	})
	if err != nil {
		s.log.ErrorContext(ctx, "session refusal not audited", "session_id", ss.ID, "err", err)
	}
	return refused
}

// Sessions lists a user's sessions, newest last.
func (s *Service) Sessions(ctx context.Context, userID string) ([]*sls.Session, error) {
	var out []*sls.Session
	err := s.store.View(ctx, func(tx sls.Tx) error {
		var err error
		out, err = tx.Sessions(ctx, userID)
		return err
	})
	return out, err
}

// End ends one of the user's sessions.
func (s *Service) End(ctx context.Context, userID, sessionID string) error {
	now := s.clock.Now()
	return s.store.Update(ctx, func(tx sls.Tx) error {
		ss, err := tx.Session(ctx, sessionID)
		if errors.Is(err, sls.ErrNotFound) || (err == nil && ss.UserID != userID) {
			return sls.Errorf(sls.CodeNotFound, "Unknown session.")
		}
		if err != nil {
			return err
		}
		if !ss.EndedAt.IsZero() {
			return nil
		}
		ss.EndedAt = now
		if err := tx.PutSession(ctx, ss); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, sls.ActorUser(userID), sls.EventSessionEnded, userID, ss.DeviceID, map[string]any{"session_id": ss.ID})
	})
}

// BasicGate applies the rules every deployment has: a closed account may
// still open the portal with the password alone, to read statements and
// tax forms (SPEC §6); an opted-out user logs in to trading platforms with
// the password alone (SPEC §5). Package policy extends it.
type BasicGate struct{}

// Admit implements Gate.
func (BasicGate) Admit(_ context.Context, _ sls.Tx, u *sls.User, a *sls.Account, p sls.Platform, _ string, _ time.Time) (bool, sls.Scope, error) {
	if a.ID == sls.OperatorsAccount {
		// An operator always proves a device; the session serves only the
		// exchange for an operator token.
		return true, sls.ScopeOperator, nil
	}
	if a.Closed() {
		if p != sls.PlatformPortal {
			return false, "", sls.Errorf(sls.CodeForbidden, "This account is closed; only the Client Portal is available.")
		}
		return false, sls.ScopeStatementsOnly, nil
	}
	if u.OptedOut && p == sls.PlatformTrading {
		return false, sls.ScopeFull, nil
	}
	return true, sls.ScopeFull, nil
}

// knownHash is the token hash of a known client, or "" for none.
func knownHash(c *sls.KnownClient) string {
	if c == nil {
		return ""
	}
	return c.TokenHash
}

func normalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NormalizeUsername is the form usernames are stored and looked up in.
func NormalizeUsername(s string) string { return normalizeUsername(s) }

func idOf(u *sls.User) string {
	if u == nil {
		return ""
	}
	return u.ID
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// Now is the service's clock, for the access decisions made at the edge.
func (s *Service) Now() time.Time { return s.clock.Now() }
