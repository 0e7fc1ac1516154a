package sls

import "time"

// Purpose is why a device is challenged. The strings are stored and
// audited; never rename one.
type Purpose string

// Challenge purposes: every "prove you hold the device" flow.
const (
	PurposeLogin          Purpose = "login"           // the second step of a login
	PurposeStepUp         Purpose = "step_up"         // re-proving a device inside a live session
	PurposeWithdrawal     Purpose = "withdrawal"      // confirming one withdrawal (SPEC §4)
	PurposeBankingChange  Purpose = "banking_change"  // confirming one change of banking instructions
	PurposeActivation     Purpose = "activation"      // activating a pending device
	PurposeCardActivation Purpose = "card_activation" // activating a shipped DSC+ with its first response
	PurposePhone          Purpose = "phone"           // confirming a mobile number
)

// MaxAnswer bounds the answer to a challenge: a code is a few
// characters, a passkey's assertion (JSON of a PublicKeyCredential) a
// few kilobytes.
const MaxAnswer = 16 << 10

// Activates reports whether the purpose activates a device: its device is
// still pending, and proving it is what makes it active.
func (p Purpose) Activates() bool {
	return p == PurposeActivation || p == PurposeCardActivation
}

// Binding is what a challenge is bound to besides its user and device: an
// answer proves the device for this and nothing else.
type Binding struct {
	// SessionID: the session a step-up or a withdrawal confirmation
	// belongs to.
	SessionID string `json:"session_id,omitempty"`
	// Currency and AmountMinor: the withdrawal being confirmed.
	Currency    string `json:"currency,omitempty"`
	AmountMinor int64  `json:"amount_minor,omitempty"`
	// Payee: the account the withdrawal pays (normalised: letters and
	// digits, upper case); "" when the confirmation names none.
	Payee string `json:"payee,omitempty"`
	// OrderID: the device order whose card is being activated.
	OrderID string `json:"order_id,omitempty"`
}

// Challenge is one request to prove a device: a login's second step, a
// step-up, a withdrawal confirmation, an activation. Factors prepare and
// check it (Factor); one verifier (package verify) counts its answers.
type Challenge struct {
	// IDHash is the hash of the bearer handle the caller holds (a login
	// id, a step-up id); an IB Key push binds to it.
	IDHash    string   `json:"-"`
	Purpose   Purpose  `json:"purpose,omitempty"`
	Bound     Binding  `json:"bound,omitzero"`
	UserID    string   `json:"-"`
	DeviceID  string   `json:"device_id,omitempty"`
	Platform  Platform `json:"platform"`
	ClientIP  string   `json:"-"`
	UserAgent string   `json:"-"`
	// Prompt is what the device's screen shows (public).
	Prompt *Prompt `json:"prompt,omitempty"`
	// FactorState is the factor's private state for this challenge (for
	// example the hash of an SMS code). Never sent to the caller.
	FactorState []byte    `json:"-"`
	Attempts    int       `json:"attempts"`
	CreatedAt   time.Time `json:"created_at"`
	Deadline    time.Time `json:"deadline"`
}
