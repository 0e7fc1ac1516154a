// Package operators manages the named people who operate the system:
// their roles, their short-lived tokens, the one-time bootstrap of the
// first operator, and dual control (an action one operator asks for and
// a second approves).
//
// An operator's credentials are a user of the reserved account
// sls.OperatorsAccount: the operator logs in like a client (password,
// then a security device, under the same lock-out and rate limits), which
// gives a session of scope sls.ScopeOperator that no client route serves,
// and trades it here for an operator token (Exchange).
package operators

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/secure-login-system/sls/config/field"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/passrules"
)

// Events of the audit trail. Strings are stored; never rename one.
const (
	EventBootstrapMade   = "operator.bootstrap_made"
	EventBootstrapped    = "operator.bootstrapped"
	EventAdded           = "operator.added"
	EventRolesChanged    = "operator.roles_changed"
	EventDisabled        = "operator.disabled"
	EventEnabled         = "operator.enabled"
	EventLogin           = "operator.login"
	EventLogout          = "operator.logout"
	EventRead            = "operator.read"
	EventRefused         = "operator.refused"
	EventApprovalAsked   = "approval.requested"
	EventApprovalGranted = "approval.granted"
	EventApprovalDenied  = "approval.denied"
	EventApprovalUsed    = "approval.used"
)

// Config is the "operators" section of the configuration.
type Config struct {
	// TokenTTL is how long an operator token lasts (default 8 hours: one
	// working shift; NIST SP 800-63B §4.2.3 allows up to 12 hours before
	// reauthentication at AAL2).
	TokenTTL time.Duration
	// ApprovalWindow is how long a dual-control request waits for its
	// approval, and how long an approval may wait to be used (default 30
	// minutes).
	ApprovalWindow time.Duration
	// DualControl turns dual control on or off per action (see Actions);
	// an action not listed keeps its default (on).
	DualControl map[string]bool
}

// Dual-control actions; operator routes name them (sls.Access.Approval).
const (
	ActionTempPasscode  = "temppasscode.issue"
	ActionUnlock        = "user.unlock"
	ActionMobileChange  = "user.mobile"
	ActionRaiseLimits   = "limits.raise"
	ActionOperatorAdd   = "operator.add"
	ActionOperatorRoles = "operator.roles"
	ActionOperatorOff   = "operator.disable"
	ActionOperatorKey   = "operator.device"
	ActionUserDelete    = "user.delete"
	ActionOIDCClient    = "oidc.client" // register or replace an application of the OpenID Connect provider
	ActionTOTPIssue     = "totp.issue"  // enrol an authenticator app for a client (the operator sees its secret)
)

// Actions lists every dual-control action.
var Actions = []string{ActionTempPasscode, ActionUnlock, ActionMobileChange, ActionRaiseLimits,
	ActionOperatorAdd, ActionOperatorRoles, ActionOperatorOff, ActionOperatorKey, ActionUserDelete, ActionOIDCClient,
	ActionTOTPIssue}

// DefaultDualControl is whether each action needs a second operator when
// the configuration does not say. Every action that grants access or
// money is on; disabling an operator is off, so that a rogue operator is
// stopped at once (it cannot be turned into solo power: the bootstrap
// exception counts disabled operators too).
var DefaultDualControl = map[string]bool{ActionTempPasscode: true, ActionUnlock: true, ActionMobileChange: true, ActionRaiseLimits: true,
	ActionOperatorAdd: true, ActionOperatorRoles: true, ActionOperatorOff: false, ActionOperatorKey: true, ActionUserDelete: true,
	ActionOIDCClient: true, ActionTOTPIssue: true}

// WithDefaults fills in zero values and checks the section.
func (c Config) WithDefaults() (Config, error) {
	if c.TokenTTL == 0 {
		c.TokenTTL = 8 * time.Hour
	}
	if c.ApprovalWindow == 0 {
		c.ApprovalWindow = 30 * time.Minute
	}
	var errs field.Errors
	if c.TokenTTL < time.Minute || c.TokenTTL > 12*time.Hour {
		errs.Addf("token_ttl", "%s must be between 1m and 12h (NIST SP 800-63B §4.2.3)", c.TokenTTL)
	}
	if c.ApprovalWindow < time.Minute || c.ApprovalWindow > 24*time.Hour {
		errs.Addf("approval_window", "%s must be between 1m and 24h", c.ApprovalWindow)
	}
	for a := range c.DualControl {
		if !slices.Contains(Actions, a) {
			errs.Addf("dual_control."+a, "unknown action (actions: %s)", strings.Join(Actions, ", "))
		}
	}
	return c, errs.Err()
}

// Keys makes keyed hashes with a key held outside the database (the
// sealing key: seal.Sealer).
type Keys interface {
	KeyedHash(purpose string, data []byte) []byte
}

// Service manages operators.
type Service struct {
	Store sls.Store
	Clock sls.Clock
	Argon passhash.Params
	// Hashing bounds the password hashes this service computes together
	// with the logins' (nil: unbounded).
	Hashing *passhash.Gate
	Config  Config
	// Keys authenticates what an insider with write access to the
	// database must not be able to forge: token hashes, operator rows
	// (roles) and approvals.
	Keys Keys
	// EndSession ends an operator's login session once traded for a
	// token (set by the server; nil leaves it to expire).
	EndSession func(ctx context.Context, tx sls.Tx, s *sls.Session, now time.Time) error
}

func (s *Service) now() time.Time { return s.Clock.Now().UTC() }

// TokenHash is how an operator token is stored: keyed, so that a
// database writer cannot make a token that works.
func (s *Service) TokenHash(token string) string {
	return hex.EncodeToString(s.Keys.KeyedHash("sls operator token v1", []byte(token)))
}

func (s *Service) rowMAC(o *sls.Operator) string {
	return hex.EncodeToString(s.Keys.KeyedHash("sls operator row v1",
		fmt.Appendf(nil, "%s\x00%s\x00%s\x00%d", o.Name, o.UserID, sls.RolesString(o.Roles), o.DisabledAt.UnixMicro())))
}

func (s *Service) approvalMAC(a *sls.Approval) string {
	return hex.EncodeToString(s.Keys.KeyedHash("sls approval row v1",
		fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%d\x00%s\x00%s", a.ID, a.Action, a.Method, a.Path, a.RequestHash,
			sls.RolesString(a.Roles), a.RequestedBy, a.ExpiresAt.UnixMicro(), a.State, a.DecidedBy)))
}

// errTampered refuses a row whose MAC does not match: it was written
// outside SLS. Callers fail closed.
var errTampered = errors.New("operators: a row fails its MAC (changed outside SLS)")

func (s *Service) checkRow(o *sls.Operator) error {
	if subtle.ConstantTimeCompare([]byte(o.MAC), []byte(s.rowMAC(o))) != 1 {
		return fmt.Errorf("%w: operator %q", errTampered, o.Name)
	}
	return nil
}

func (s *Service) putOperator(ctx context.Context, tx sls.Tx, o *sls.Operator) error {
	o.MAC = s.rowMAC(o)
	return tx.PutOperator(ctx, o)
}

// Actor is the audit actor of an operator.
func Actor(name string) string { return sls.ActorOperator(name) }

var namePattern = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,31}$`)

func invalid(format string, args ...any) error {
	return sls.Errorf(sls.CodeInvalidArgument, format, args...)
}

// NewOperator describes an operator to add, with the PIN of the DSC+
// they receive with their account (an operator always has a device).
type NewOperator struct {
	Name     string `json:"name" required:"true"`
	Password string `json:"password" required:"true"`
	Roles    []Role `json:"roles" required:"true"`
	PIN      string `json:"pin" required:"true"`
}

// Role is a role as it arrives in a request (checked by Add).
type Role = sls.Role

func checkNew(n NewOperator) ([]sls.Role, error) {
	if !namePattern.MatchString(n.Name) {
		return nil, invalid("The operator name must be 2 to 32 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter.")
	}
	roles, err := checkRoles(n.Roles)
	if err != nil {
		return nil, err
	}
	// NIST SP 800-63B §5.1.1.2, as for clients: an operator always has a
	// second factor.
	if err := passrules.Check(n.Password, false, n.Name); err != nil {
		return nil, err
	}
	if !dscplus.ValidPIN(n.PIN) {
		return nil, invalid("The DSC+ PIN must be 4 digits.")
	}
	return roles, nil
}

func checkRoles(in []sls.Role) ([]sls.Role, error) {
	if len(in) == 0 {
		return nil, invalid("Name at least one role.")
	}
	parts := make([]string, len(in))
	for i, r := range in {
		parts[i] = string(r)
	}
	return sls.ParseRoles(strings.Join(parts, ","))
}

// createOperator makes the operators account when missing, the
// operator's user and the operator, inside tx.
func (s *Service) createOperator(ctx context.Context, tx sls.Tx, actor string, n NewOperator, roles []sls.Role, now time.Time) (*sls.Operator, error) {
	if _, err := tx.Account(ctx, sls.OperatorsAccount); errors.Is(err, sls.ErrNotFound) {
		if err := tx.CreateAccount(ctx, &sls.Account{ID: sls.OperatorsAccount, BaseCurrency: "USD", Jurisdiction: "ZZ", CreatedAt: now}); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	if _, err := tx.Operator(ctx, n.Name); err == nil {
		return nil, sls.Errorf(sls.CodeConflict, "Operator %s already exists.", n.Name)
	} else if !errors.Is(err, sls.ErrNotFound) {
		return nil, err
	}
	hash, err := s.Hashing.Hash(ctx, []byte(n.Password), s.Argon)
	if err != nil {
		return nil, err
	}
	u := &sls.User{ID: sls.NewID("usr"), Username: n.Name, AccountID: sls.OperatorsAccount, PasswordHash: hash, Lang: "en", CreatedAt: now}
	if err := tx.CreateUser(ctx, u); err != nil {
		if errors.Is(err, sls.ErrConflict) {
			return nil, sls.Errorf(sls.CodeConflict, "The name %s is taken by a user; choose another.", n.Name)
		}
		return nil, err
	}
	o := &sls.Operator{Name: n.Name, UserID: u.ID, Roles: roles, CreatedAt: now, CreatedBy: actor}
	o.MAC = s.rowMAC(o)
	if err := tx.CreateOperator(ctx, o); err != nil {
		return nil, err
	}
	return o, sls.Audit(ctx, tx, now, actor, EventAdded, u.ID, "", map[string]any{"operator": o.Name, "roles": sls.RolesString(roles)})
}

// Add adds an operator; the caller then issues their DSC+ with n.PIN.
func (s *Service) Add(ctx context.Context, actor string, n NewOperator) (*sls.Operator, error) {
	roles, err := checkNew(n)
	if err != nil {
		return nil, err
	}
	var o *sls.Operator
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		var err error
		o, err = s.createOperator(ctx, tx, actor, n, roles, s.now())
		return err
	})
	return o, err
}

// List returns every operator.
func (s *Service) List(ctx context.Context) ([]*sls.Operator, error) {
	var list []*sls.Operator
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		list, err = tx.Operators(ctx)
		return err
	})
	if list == nil {
		list = []*sls.Operator{}
	}
	return list, err
}

// Get returns one operator.
func (s *Service) Get(ctx context.Context, name string) (*sls.Operator, error) {
	var o *sls.Operator
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		o, err = tx.Operator(ctx, name)
		return err
	})
	if errors.Is(err, sls.ErrNotFound) {
		return nil, sls.Errorf(sls.CodeNotFound, "No operator %q.", name)
	}
	return o, err
}

func (s *Service) change(ctx context.Context, name string, fn func(tx sls.Tx, o *sls.Operator, now time.Time) error) (*sls.Operator, error) {
	var o *sls.Operator
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		var err error
		if o, err = tx.OperatorForUpdate(ctx, name); errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No operator %q.", name)
		} else if err != nil {
			return err
		}
		if err := s.checkRow(o); err != nil {
			return err
		}
		return fn(tx, o, s.now())
	})
	return o, err
}

// SetRoles replaces an operator's roles. An operator cannot change their
// own roles.
func (s *Service) SetRoles(ctx context.Context, actor, by, name string, roles []sls.Role) (*sls.Operator, error) {
	r, err := checkRoles(roles)
	if err != nil {
		return nil, err
	}
	if by == name {
		return nil, sls.Errorf(sls.CodeForbidden, "An operator cannot change their own roles.")
	}
	return s.change(ctx, name, func(tx sls.Tx, o *sls.Operator, now time.Time) error {
		old := sls.RolesString(o.Roles)
		o.Roles = r
		if err := s.putOperator(ctx, tx, o); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, EventRolesChanged, o.UserID, "", map[string]any{"operator": o.Name, "from": old, "to": sls.RolesString(r)})
	})
}

// SetDisabled disables (ending every token) or enables an operator. An
// operator cannot disable themselves (a mistake that locks the last admin
// out); the bootstrap cannot be repeated.
func (s *Service) SetDisabled(ctx context.Context, actor, by, name string, disabled bool) (*sls.Operator, error) {
	if by == name && disabled {
		return nil, sls.Errorf(sls.CodeForbidden, "An operator cannot disable themselves.")
	}
	return s.change(ctx, name, func(tx sls.Tx, o *sls.Operator, now time.Time) error {
		if o.Disabled() == disabled {
			return nil
		}
		event := EventEnabled
		o.DisabledAt = time.Time{}
		var ended int64
		if disabled {
			event, o.DisabledAt = EventDisabled, now
			var err error
			if ended, err = tx.DeleteOperatorTokens(ctx, o.Name); err != nil {
				return err
			}
			if _, err := sls.EndSessions(ctx, tx, sls.SessionFilter{UserID: o.UserID}, sls.EndByOperator, actor, now); err != nil {
				return err
			}
		}
		if err := s.putOperator(ctx, tx, o); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, actor, event, o.UserID, "", map[string]any{"operator": o.Name, "tokens_ended": ended})
	})
}

// Token is a new operator token.
type Token struct {
	Token     string        `json:"token"`
	Operator  *sls.Operator `json:"operator"`
	ExpiresAt time.Time     `json:"expires_at"`
}

func (s *Service) newToken(ctx context.Context, tx sls.Tx, o *sls.Operator, now time.Time) (*Token, error) {
	tok := sls.NewToken("slsop")
	exp := now.Add(s.Config.TokenTTL)
	if err := tx.AddOperatorToken(ctx, &sls.OperatorToken{Hash: s.TokenHash(tok), Operator: o.Name, CreatedAt: now, ExpiresAt: exp}); err != nil {
		return nil, err
	}
	return &Token{Token: tok, Operator: o, ExpiresAt: exp}, nil
}

// Exchange trades an operator's login session (scope sls.ScopeOperator,
// second factor proven) for an operator token, and ends the session.
func (s *Service) Exchange(ctx context.Context, sess *sls.Session, clientIP string) (*Token, error) {
	var out *Token
	err := s.Store.Update(ctx, func(tx sls.Tx) error {
		now := s.now()
		u, err := tx.User(ctx, sess.UserID)
		if err != nil {
			return err
		}
		o, err := tx.Operator(ctx, u.Username)
		if errors.Is(err, sls.ErrNotFound) || (err == nil && o.UserID != u.ID) || u.AccountID != sls.OperatorsAccount {
			return sls.Errorf(sls.CodeForbidden, "This login is not an operator's.")
		}
		if err != nil {
			return err
		}
		if err := s.checkRow(o); err != nil {
			return err
		}
		if o.Disabled() {
			return sls.Errorf(sls.CodeForbidden, "Operator %s is disabled.", o.Name)
		}
		if sess.Assurance() < sls.AssuranceDevice {
			return sls.ErrStepUpRequired
		}
		if out, err = s.newToken(ctx, tx, o, now); err != nil {
			return err
		}
		if s.EndSession != nil {
			if err := s.EndSession(ctx, tx, sess, now); err != nil {
				return err
			}
		}
		return sls.Audit(ctx, tx, now, Actor(o.Name), EventLogin, u.ID, sess.DeviceID,
			map[string]any{"ip": clientIP, "expires_at": out.ExpiresAt, "device_kind": string(sess.DeviceKind)})
	})
	return out, err
}

// Authenticate returns the operator a token belongs to; an unknown,
// expired or disabled operator's token is ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, token string) (*sls.Operator, error) {
	if token == "" || len(token) > 200 {
		return nil, sls.ErrUnauthenticated
	}
	var o *sls.Operator
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		ot, err := tx.OperatorToken(ctx, s.TokenHash(token))
		if err != nil {
			return err
		}
		if !s.now().Before(ot.ExpiresAt) {
			return sls.Errorf(sls.CodeUnauthenticated, "The operator token expired; log in again (slsctl login).")
		}
		if o, err = tx.Operator(ctx, ot.Operator); err != nil {
			return err
		}
		if err := s.checkRow(o); err != nil {
			return err
		}
		if o.Disabled() {
			return sls.ErrUnauthenticated
		}
		return nil
	})
	if errors.Is(err, sls.ErrNotFound) {
		return nil, sls.ErrUnauthenticated
	}
	if errors.Is(err, errTampered) {
		return nil, sls.ErrUnauthenticated.Wrap(err) // logged, and refused like any bad token
	}
	return o, err
}

// Logout ends one token.
func (s *Service) Logout(ctx context.Context, o *sls.Operator, token string) error {
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		if err := tx.DeleteOperatorToken(ctx, s.TokenHash(token)); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, s.now(), Actor(o.Name), EventLogout, o.UserID, "", nil)
	})
}

// PurgeTokens deletes expired tokens (a scheduler job).
func (s *Service) PurgeTokens(ctx context.Context) error {
	return s.Store.Update(ctx, func(tx sls.Tx) error {
		_, err := tx.DeleteExpiredOperatorTokens(ctx, s.now())
		return err
	})
}

// BootstrapFile is the bootstrap secret's file name in the data
// directory.
const BootstrapFile = "bootstrap.secret"

// EnsureBootstrap makes the bootstrap secret on a server with no operator
// and no secret yet: it is written to dir/BootstrapFile (mode 0600) and
// only its hash is stored. It returns the file's path when a secret is
// waiting to be used, "" once an operator exists.
func (s *Service) EnsureBootstrap(ctx context.Context, dir string) (string, error) {
	path := filepath.Join(dir, BootstrapFile)
	var waiting, mine bool
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		n, err := tx.CountOperators(ctx)
		if err != nil || n > 0 {
			return err
		}
		hash, used, err := tx.BootstrapSecret(ctx)
		if errors.Is(err, sls.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		waiting = used.IsZero()
		if b, err := os.ReadFile(path); err == nil {
			mine = subtle.ConstantTimeCompare([]byte(sls.TokenHash(strings.TrimSpace(string(b)))), []byte(hash)) == 1
		}
		return nil
	})
	switch {
	case err != nil:
		return "", err
	case waiting && mine:
		return path, nil
	case waiting:
		// Another node made it, in its own data directory.
		return "", nil
	}
	var n int
	if err := s.Store.View(ctx, func(tx sls.Tx) error { var e error; n, e = tx.CountOperators(ctx); return e }); err != nil || n > 0 {
		return "", err
	}
	secret := sls.NewToken("slsboot")
	now := s.now()
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		if err := tx.PutBootstrapSecret(ctx, sls.TokenHash(secret), now); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, sls.ActorSystem, EventBootstrapMade, "", "", map[string]any{"file": path})
	})
	if errors.Is(err, sls.ErrConflict) {
		return "", nil // another node made one at the same moment
	}
	if err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("operators: bootstrap secret: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("operators: bootstrap secret: %w", err)
	}
	return path, nil
}

// Bootstrap creates the first operator with the bootstrap secret and
// returns their first token. The secret works once: it is spent in the
// same transaction, and refused once any operator exists. The first
// operator's DSC+ is issued by the caller with n.PIN.
func (s *Service) Bootstrap(ctx context.Context, secret string, n NewOperator, dir, clientIP string) (*Token, error) {
	roles, err := checkNew(n)
	if err != nil {
		return nil, err
	}
	var out *Token
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		now := s.now()
		hash, used, err := tx.BootstrapSecret(ctx)
		if errors.Is(err, sls.ErrNotFound) {
			return badBootstrap
		}
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(sls.TokenHash(secret)), []byte(hash)) != 1 || !used.IsZero() {
			return badBootstrap
		}
		if c, err := tx.CountOperators(ctx); err != nil {
			return err
		} else if c > 0 {
			return badBootstrap
		}
		if err := tx.SpendBootstrapSecret(ctx, n.Name, now); err != nil {
			if errors.Is(err, sls.ErrConflict) {
				return badBootstrap
			}
			return err
		}
		actor := sls.ActorSystem + ":bootstrap"
		o, err := s.createOperator(ctx, tx, actor, n, roles, now)
		if err != nil {
			return err
		}
		if out, err = s.newToken(ctx, tx, o, now); err != nil {
			return err
		}
		return sls.Audit(ctx, tx, now, Actor(o.Name), EventBootstrapped, o.UserID, "", map[string]any{"ip": clientIP, "roles": sls.RolesString(roles)})
	})
	if err != nil {
		return nil, err
	}
	if dir != "" {
		os.Remove(filepath.Join(dir, BootstrapFile)) // spent: the file is useless now
	}
	return out, nil
}

var badBootstrap = sls.Errorf(sls.CodeUnauthenticated, "The bootstrap secret is wrong or was used already.")

// RequestHash binds an approval to one exact request.
func RequestHash(method, path string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "sls approval v1\x00%s\x00%s\x00", method, path)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}
