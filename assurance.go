package sls

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Assurance is how much a session's holder has proven. Every device kind
// declares what proving it is worth (DeviceKind.Assurance), as each
// authenticator type declares its assurance level in NIST SP 800-63B §4;
// a new kind is one row in the kind table.
type Assurance int

// Assurance levels, lowest first.
const (
	// AssuranceNone: nothing proven (no session, or an unknown kind).
	AssuranceNone Assurance = iota
	// AssurancePassword: the password alone (an opted-out user's trading
	// login; a closed account's statements).
	AssurancePassword
	// AssuranceTemporary: a temporary passcode from Client Services. It
	// proves a phone call with the Security Team, not a device.
	AssuranceTemporary
	// AssuranceDevice: a security device the user holds.
	AssuranceDevice
)

func (a Assurance) String() string {
	switch a {
	case AssurancePassword:
		return "password"
	case AssuranceTemporary:
		return "temporary"
	case AssuranceDevice:
		return "device"
	}
	return "none"
}

// Assurance is what authenticated the session: the device kind of its
// login, or the password alone.
func (s *Session) Assurance() Assurance {
	if s.DeviceKind == "" {
		return AssurancePassword
	}
	return s.DeviceKind.Assurance()
}

// RecentlyProven reports whether a real device (AssuranceDevice) was
// proven in the session within window before now: at login or by a
// step-up.
func (s *Session) RecentlyProven(now time.Time, window time.Duration) bool {
	if s.ProvenAt.IsZero() || s.ProvenKind.Assurance() < AssuranceDevice {
		return false
	}
	age := now.Sub(s.ProvenAt)
	return age >= 0 && age <= window
}

// Caller is who may call a route.
type Caller int

// Callers. The zero value is "undeclared": a route that declares nothing
// is refused when mounted (deny by default).
const (
	CallerUndeclared Caller = iota
	CallerAnyone            // no credentials (the login steps, health)
	CallerClient            // a client session (bearer token or portal cookie)
	CallerOperator          // an operator (Client Services, Security Team)
	CallerApp               // an IB Key app instance (signed requests)
)

func (c Caller) String() string {
	switch c {
	case CallerAnyone:
		return "anyone"
	case CallerClient:
		return "client"
	case CallerOperator:
		return "operator"
	case CallerApp:
		return "app"
	}
	return "undeclared"
}

// Need is what a client route needs of the session's assurance.
type Need int

// Needs, weakest first.
const (
	// NeedSession: any live session of an allowed scope, the password
	// alone included (an opted-out user may trade and read).
	NeedSession Need = iota
	// NeedSecondFactor: a session whose login proved a second factor (a
	// temporary passcode counts).
	NeedSecondFactor
	// NeedStepUp: a real device proven within the step-up window (at
	// login or by a step-up). For sensitive changes: enrolling devices,
	// addresses, opt-out, IP restrictions, orders, large withdrawals.
	NeedStepUp
	// NeedStepUpOrTemporary: NeedStepUp, or a session opened with a
	// temporary passcode. SPEC §1/§6: the passcode Client Services issues
	// after verifying the client by phone lets the client print and
	// activate an Online Security Code Card and order a replacement, and
	// nothing else creates that access.
	NeedStepUpOrTemporary
)

func (n Need) String() string {
	switch n {
	case NeedSession:
		return "session"
	case NeedSecondFactor:
		return "second factor"
	case NeedStepUp:
		return "step-up"
	case NeedStepUpOrTemporary:
		return "step-up or temporary passcode"
	}
	return fmt.Sprintf("need(%d)", int(n))
}

// AnyScope, in Access.Scopes, admits a session of any scope (logging out,
// looking at one's own session).
const AnyScope Scope = "*"

// Access is what a route declares where it is registered: who may call
// it and, for client routes, the scopes and assurance it needs. The one
// decision is Check; handlers never repeat it.
type Access struct {
	Caller Caller
	Need   Need
	// Scopes are the session scopes the route serves besides ScopeFull
	// (AnyScope: all of them).
	Scopes []Scope
	// Roles are the operator roles any one of which admits an operator
	// (operator routes; at least one, deny by default).
	Roles []Role
	// Approval names the dual-control action an operator route performs
	// (empty: none). Whether the action needs a second operator's
	// approval is configuration (operators.dual_control).
	Approval string
}

// Declared reports whether the access was declared at all.
func (a Access) Declared() bool {
	switch a.Caller {
	case CallerAnyone, CallerClient, CallerOperator, CallerApp:
		return true
	}
	return false
}

// ServesScope reports whether a session of scope sc may use the route.
func (a Access) ServesScope(sc Scope) bool {
	return sc == ScopeFull || slices.Contains(a.Scopes, sc) || slices.Contains(a.Scopes, AnyScope)
}

// ErrStepUpRequired refuses a session that has not proven a real device
// recently enough; the client proves one (step-up) and tries again.
var ErrStepUpRequired = &Error{Code: CodeStepUpRequired,
	Message: "Please confirm this with one of your security devices first."}

// Check decides whether session s may use a client route at now;
// stepUpWindow is how recent a device proof must be. It returns nil,
// ErrForbidden (with the scope in the detail) or ErrStepUpRequired (with
// what would satisfy it).
func (a Access) Check(s *Session, now time.Time, stepUpWindow time.Duration) error {
	if a.Caller != CallerClient {
		return ErrForbidden
	}
	if s == nil {
		return ErrUnauthenticated
	}
	if !a.ServesScope(s.Scope) {
		return Errorf(CodeForbidden, "This session may not do that (scope %s).", s.Scope).WithDetail("scope", string(s.Scope))
	}
	switch a.Need {
	case NeedSession:
		return nil
	case NeedSecondFactor:
		if s.Assurance() >= AssuranceTemporary {
			return nil
		}
		return ErrStepUpRequired.WithDetail("need", a.Need.String())
	case NeedStepUpOrTemporary:
		if s.Assurance() == AssuranceTemporary {
			return nil
		}
		fallthrough
	case NeedStepUp:
		if s.RecentlyProven(now, stepUpWindow) {
			return nil
		}
		return ErrStepUpRequired.WithDetail("need", a.Need.String()).WithDetail("max_age_seconds", int(stepUpWindow.Seconds()))
	}
	return ErrForbidden // an unknown need: fail closed
}

// The declarations routes use, by name.
var (
	// ForAnyone: no credentials (the login steps; a login id or ticket in
	// the body is the credential).
	ForAnyone = Access{Caller: CallerAnyone}
	// ForSession: any full session, the password alone included: reading
	// and trading.
	ForSession = Access{Caller: CallerClient, Need: NeedSession}
	// ForSecondFactor: a session whose login proved a second factor.
	ForSecondFactor = Access{Caller: CallerClient, Need: NeedSecondFactor}
	// ForStepUp: a real device proven within the step-up window.
	ForStepUp = Access{Caller: CallerClient, Need: NeedStepUp}
	// ForStepUpOrTemporary: ForStepUp, or a temporary passcode session
	// (SPEC §1/§6 recovery: print and activate an online card, order a
	// replacement).
	ForStepUpOrTemporary = Access{Caller: CallerClient, Need: NeedStepUpOrTemporary}
	// ForApp: an IB Key app instance.
	ForApp = Access{Caller: CallerApp}
)

// ForRoles admits an operator holding any one of roles (least
// privilege: name the roles whose work the route is, OWASP ASVS 4.0.3
// V4.1.3).
func ForRoles(roles ...Role) Access { return Access{Caller: CallerOperator, Roles: roles} }

// WithApproval returns a copy of a that performs the dual-control action
// named (see Access.Approval).
func (a Access) WithApproval(action string) Access {
	a.Approval = action
	return a
}

// AdmitsOperator reports whether an operator holding roles may call an
// operator route.
func (a Access) AdmitsOperator(roles []Role) bool {
	if a.Caller != CallerOperator {
		return false
	}
	for _, r := range roles {
		if slices.Contains(a.Roles, r) {
			return true
		}
	}
	return false
}

// Also returns a copy of a that serves sessions of the given scopes too.
func (a Access) Also(scopes ...Scope) Access {
	a.Scopes = append(slices.Clone(a.Scopes), scopes...)
	return a
}

// String is the declaration in words, for the generated access matrix.
func (a Access) String() string {
	s := a.Caller.String()
	if a.Caller == CallerClient {
		s += ", " + a.Need.String()
		if len(a.Scopes) > 0 {
			sc := make([]string, len(a.Scopes))
			for i, x := range a.Scopes {
				sc[i] = string(x)
			}
			s += " (also " + strings.Join(sc, ", ") + ")"
		}
	}
	if len(a.Roles) > 0 {
		r := make([]string, len(a.Roles))
		for i, x := range a.Roles {
			r[i] = string(x)
		}
		s += " (" + strings.Join(r, ", ") + ")"
	}
	if a.Approval != "" {
		s += ", dual control " + a.Approval
	}
	return s
}
