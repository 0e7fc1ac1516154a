package ibkey

import (
	"time"

	sls "github.com/secure-login-system/sls"
)

// JSON bodies of the app API (docs/ibkey.md lists the endpoints). Byte
// fields travel as standard base64.

// Ticket is what the portal shows a logged-in user: the QR code and the
// activation string under it.
type Ticket struct {
	// Code is the activation string in its readable grouped form.
	Code string `json:"code"`
	// QRPayload is the text the QR code encodes.
	QRPayload string `json:"qr_payload"`
	// QRText renders the QR code for a terminal (Unicode half blocks).
	QRText    string    `json:"qr_text"`
	ExpiresAt time.Time `json:"expires_at"`
	// HasIBKey tells the portal whether the user already has an active IB
	// Key (the banner is for users without one; a user with one may still
	// migrate to a new phone with this ticket).
	HasIBKey bool `json:"has_ibkey"`
}

// ActivateRequest activates a user on an app instance, either a new one
// (Platform and SignPub set) or an existing one (InstanceID and Signature
// set: Add User, confirmed with the instance's PIN).
type ActivateRequest struct {
	// Code is the activation string (scanned or typed); or PendingID and
	// SMSCode for Add User by username, password and SMS code.
	Code      string `json:"code,omitempty"`
	PendingID string `json:"pending_id,omitempty"`
	SMSCode   string `json:"sms_code,omitempty"`

	InstanceID string `json:"instance_id,omitempty"`
	Signature  []byte `json:"sig,omitempty"` // over ActivationMessage

	Platform string `json:"platform,omitempty"`
	SignPub  []byte `json:"sign_pub,omitempty"`
	Label    string `json:"label,omitempty"`

	// AppDH is the app's X25519 public key for this activation.
	AppDH []byte `json:"app_dh" required:"true"`
}

// ActivateResponse completes the key agreement.
type ActivateResponse struct {
	InstanceID string `json:"instance_id"`
	// Token authenticates the instance's push connection; only for a new
	// instance, shown once.
	Token    string `json:"token,omitempty"`
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	DeviceID string `json:"device_id"`
	ServerDH []byte `json:"server_dh"`
	Confirm  []byte `json:"confirm"`
	// MigratedFrom lists the instances that no longer hold the user.
	MigratedFrom []string `json:"migrated_from,omitempty"`
}

// AddUserRequest starts Add User with username and password (SPEC §3 (b)).
type AddUserRequest struct {
	Username string `json:"username" required:"true"`
	Password string `json:"password" required:"true"`
}

// AddUserResponse says the activation code is on its way by SMS.
type AddUserResponse struct {
	PendingID string    `json:"pending_id"`
	SentTo    string    `json:"sent_to"` // masked number
	ExpiresAt time.Time `json:"expires_at"`
}

// PendingHash is the binding of an Add User by SMS request, as
// ActivationMessage and Transcript name it.
func PendingHash(pendingID string) string { return sls.TokenHash(pendingID) }

// Push is a push request as the app sees it: who is logging in, on which
// platform and from where. The number to match is NOT in it: the user
// reads it on the login screen.
type Push struct {
	ID        string    `json:"push_id"`
	Tx        string    `json:"tx"`
	UserID    string    `json:"user_id"`
	Username  string    `json:"username"`
	DeviceID  string    `json:"device_id"`
	Platform  string    `json:"platform"`
	ClientIP  string    `json:"client_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Transaction is set when the push confirms a withdrawal: the app
	// shows it and signs TransactionTx(Tx, Transaction).
	Transaction *Transaction `json:"transaction,omitempty"`
}

// Event is one server-sent event on the app's connection.
type Event struct {
	// Type is "push" (a new request), "closed" (a request that is no longer
	// pending: answered elsewhere, expired, superseded) or "hello".
	Type  string `json:"type"`
	Push  *Push  `json:"push,omitempty"`
	ID    string `json:"push_id,omitempty"`
	State string `json:"state,omitempty"`
}

// AnswerResult is the server's verdict on an approval or denial.
type AnswerResult struct {
	PushID string `json:"push_id"`
	State  string `json:"state"`
}

// ReauthNonce is the server's nonce for a re-authentication.
type ReauthNonce struct {
	Nonce string `json:"nonce"`
}

// ReauthRequest re-authenticates a user from the app (SPEC §2.5).
type ReauthRequest struct {
	DeviceID  string `json:"device_id" required:"true"`
	Unlock    string `json:"unlock" required:"true"`
	Nonce     string `json:"nonce" required:"true"`
	Signature []byte `json:"sig" required:"true"`
	MAC       []byte `json:"mac" required:"true"`
}

// ReauthResult lists the sessions whose access was extended.
type ReauthResult struct {
	Extended []ExtendedSession `json:"extended"`
}

// ExtendedSession is one extended session.
type ExtendedSession struct {
	SessionID string    `json:"session_id"`
	ExpiresAt time.Time `json:"expires_at"`
}
