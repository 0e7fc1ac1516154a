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
type LoginTx struct {
	IDHash    string     `json:"-"`
	UserID    string     `json:"-"`
	Platform  Platform   `json:"platform"`
	State     LoginState `json:"state"`
	DeviceID  string     `json:"device_id,omitempty"`
	Attempts  int        `json:"attempts"`
	CreatedAt time.Time  `json:"created_at"`
	Deadline  time.Time  `json:"deadline"`
	ClientIP  string     `json:"-"`
	UserAgent string     `json:"-"`
	// Prompt is what the device's screen shows (public).
	Prompt *Prompt `json:"prompt,omitempty"`
	// FactorState is the factor's private state for this challenge (for
	// example the hash of an SMS code). Never sent to the caller.
	FactorState []byte    `json:"-"`
	CompletedAt time.Time `json:"completed_at,omitzero"`
	SessionID   string    `json:"-"`
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
