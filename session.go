package sls

import (
	"net/netip"
	"time"
)

// Scope limits what a session may do (SPEC §2.4).
type Scope string

// Session scopes.
const (
	ScopeFull Scope = "full"
	// ScopeOnlineCardOnly: a temporary passcode older than 2 days gives the
	// portal only, and only the page that prints an Online Security Code Card.
	ScopeOnlineCardOnly Scope = "online_card_only"
	// ScopeStatementsOnly: a closed account may still read statements and
	// tax forms with username and password alone.
	ScopeStatementsOnly Scope = "statements_only"
)

// Session is an authenticated session on one platform. Its token is a
// bearer secret held by the client; only the token's hash is stored.
type Session struct {
	// NetworkSeen is set by CreateSession: another session of the user
	// came from the same Network.
	NetworkSeen bool `json:"-"`

	ID         string     `json:"id"` // public id, for listing and ending
	TokenHash  string     `json:"-"`
	UserID     string     `json:"user_id"`
	Username   string     `json:"username,omitempty"`
	Platform   Platform   `json:"platform"`
	DeviceID   string     `json:"device_id,omitempty"`   // empty: password only
	DeviceKind DeviceKind `json:"device_kind,omitempty"` // kind of the device that authenticated
	Scope      Scope      `json:"scope"`
	// Biometric is true when an IB Key login was unlocked with device
	// biometrics rather than a PIN (SPEC §2.5 access duration).
	Biometric  bool      `json:"biometric,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	// ExpiresAt is the absolute end; IdleTimeout ends it earlier when unused.
	ExpiresAt   time.Time     `json:"expires_at"`
	IdleTimeout time.Duration `json:"idle_timeout"`
	EndedAt     time.Time     `json:"ended_at,omitzero"`
	ClientIP    string        `json:"client_ip,omitempty"`
	// ProvenKind is the device kind of the last second factor proven in
	// this session: at login, or by a later step-up. Empty: none (a
	// password-only session).
	ProvenKind DeviceKind `json:"proven_kind,omitempty"`
	// ProvenAt is when ProvenKind was proven (zero: never).
	ProvenAt time.Time `json:"proven_at,omitzero"`
	// Passwordless: the login checked no password (a passkey its user
	// let log in alone); the device proved both factors.
	Passwordless bool `json:"passwordless,omitempty"`
}

// Live reports whether the session may be used at now.
func (s *Session) Live(now time.Time) bool {
	if !s.EndedAt.IsZero() || !now.Before(s.ExpiresAt) {
		return false
	}
	return s.IdleTimeout <= 0 || now.Sub(s.LastSeenAt) < s.IdleTimeout
}

// Network is the network of an address as notices name it: the /24 of an
// IPv4 address, the /48 of an IPv6 one. A notice says where a login came
// from without publishing the client's exact address.
func Network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	bits := 48
	if a.Is4() || a.Is4In6() {
		a, bits = a.Unmap(), 24
	}
	p, _ := a.Prefix(bits)
	return p.String()
}
