package sls

import (
	"encoding/json"
	"time"
)

// Platform is where a session is used.
type Platform string

// Platforms (SPEC §2.4).
const (
	PlatformPortal  Platform = "portal"  // Client Portal (web)
	PlatformTrading Platform = "trading" // trading platforms and API clients
)

// Valid reports whether p is a known platform.
func (p Platform) Valid() bool { return p == PlatformPortal || p == PlatformTrading }

// LoginState is the state of a login transaction.
type LoginState string

// Login transaction states.
const (
	LoginSelectDevice LoginState = "select_device" // password accepted; the caller must pick a device
	LoginChallenged   LoginState = "challenged"    // a device was chosen and challenged
	LoginCompleted    LoginState = "completed"     // answered; a session exists
	LoginFailed       LoginState = "failed"        // no more answers accepted
)

// LoginTx is one login in progress, from an accepted password to a session.
// Its id is a bearer secret held by the caller; only its hash is stored.
// Its second step is a Challenge of purpose PurposeLogin.
type LoginTx struct {
	Challenge
	State       LoginState `json:"state"`
	CompletedAt time.Time  `json:"completed_at,omitzero"`
	SessionID   string     `json:"-"`
	// KnownClient is the token hash of the known client whose password
	// step opened the login (empty: an unknown client).
	KnownClient string `json:"-"`
}

// Prompt is what a device's login screen needs.
type Prompt struct {
	Kind DeviceKind `json:"kind"`
	// Message is the instruction shown to the client (English; pages
	// translate by Kind).
	Message string `json:"message"`
	// Challenge is the code to enter into the device (DSC+: 6 digits; IB
	// Key challenge/response).
	Challenge string `json:"challenge,omitempty"`
	// Indices are the code card positions whose values must be typed.
	Indices []int `json:"indices,omitempty"`
	// MatchNumber is the number the user must enter in the app to approve
	// an IB Key push (number matching).
	MatchNumber string `json:"match_number,omitempty"`
	// ResendAfter says when a new code may be requested (SMS).
	ResendAfter time.Time `json:"resend_after,omitzero"`
	// Extra holds kind-specific public fields.
	Extra json.RawMessage `json:"extra,omitempty"`
}
