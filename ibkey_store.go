package sls

import (
	"context"
	"time"
)

// IB Key ticket kinds.
const (
	// IBKeyTicketQR is the activation ticket shown in the portal as a QR
	// code and as the activation string printed under it.
	IBKeyTicketQR = "qr"
	// IBKeyTicketSMS is an "Add User" request made in the app with username
	// and password, waiting for the activation code sent by SMS.
	IBKeyTicketSMS = "sms"
)

// IBKeyTicket is one single-use activation ticket (SPEC §3). Only the hash
// of its bearer secret is a key; the secret itself is kept sealed so that
// the same QR code can be shown again to the session it belongs to.
type IBKeyTicket struct {
	IDHash string `json:"-"` // TokenHash of the canonical activation string or pending id
	Kind   string `json:"kind"`
	UserID string `json:"user_id"`
	// SessionID binds a QR ticket to the portal session that showed it:
	// it stops working when that session ends (log out and in for a fresh one).
	SessionID string `json:"session_id,omitempty"`
	// InstanceID binds an SMS ticket to the app instance that asked for it.
	InstanceID string `json:"instance_id,omitempty"`
	// Sealed holds the activation string (QR) sealed at rest.
	Sealed []byte `json:"-"`
	// CodeHash is the keyed hash of the SMS activation code.
	CodeHash  []byte    `json:"-"`
	Attempts  int       `json:"attempts"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// UsedAt is set by the first activation attempt that names the ticket,
	// successful or not ("already used to attempt an activation").
	UsedAt time.Time `json:"used_at,omitzero"`
}

// IBKeyInstance is one installation of the authenticator app. It may hold
// several users (one IB Key device each). The server keeps only public
// material: the instance's signature key and the hash of its bearer token.
type IBKeyInstance struct {
	ID        string `json:"id"`
	TokenHash string `json:"-"`
	// SignPub is the instance's Ed25519 public key; approvals and Add User
	// requests are signed with the private half, which never leaves the app.
	SignPub []byte `json:"-"`
	// Platform is "android" (PIN) or "ios" (device unlock / biometrics).
	Platform   string    `json:"platform"`
	Label      string    `json:"label,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at,omitzero"`
}

// IB Key push states.
const (
	PushPending    = "pending"    // waiting for the app
	PushApproved   = "approved"   // approved with the right number; the login may complete
	PushUsed       = "used"       // an approved push that completed its login
	PushDenied     = "denied"     // the user said it was not them; the login ended
	PushExpired    = "expired"    // unanswered within its lifetime
	PushRejected   = "rejected"   // wrong number, or too many bad unlocks
	PushSuperseded = "superseded" // a newer push for the same user replaced it
	PushCancelled  = "cancelled"  // the login completed another way (challenge/response)
)

// IBKeyPush is one notification to the app instances holding a user,
// bound to one login transaction. It lives in the database so any node can
// deliver it and any node can take the answer.
type IBKeyPush struct {
	ID        string `json:"id"`
	UserID    string `json:"user_id"`
	DeviceID  string `json:"device_id"` // the IB Key device the login chose
	LoginHash string `json:"-"`         // id hash of the login transaction
	State     string `json:"state"`
	// Number is what the login screen shows and the user must type in the
	// app (number matching). Never sent to the app.
	Number string `json:"-"`
	// Who, where and on which platform, shown in the app.
	Platform  Platform  `json:"platform"`
	ClientIP  string    `json:"client_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// UpdatedAt moves on every change; nodes watch it to learn of pushes
	// created or answered elsewhere.
	UpdatedAt  time.Time `json:"updated_at"`
	AnsweredAt time.Time `json:"answered_at,omitzero"`
	// AnsweredBy is the device (instance + user) whose signature was accepted.
	AnsweredBy string `json:"answered_by,omitempty"`
	Biometric  bool   `json:"biometric,omitempty"`
	// BadUnlocks counts answers whose signature or PIN proof failed.
	BadUnlocks int `json:"bad_unlocks"`
	// GatewayAt is when a node claimed the delivery to the push gateway.
	GatewayAt time.Time `json:"gateway_at,omitzero"`
	// Bound is what the push confirms when it confirms a withdrawal
	// (Currency, AmountMinor, Payee; zero otherwise): the app shows it and
	// signs it.
	Bound Binding `json:"-"`
}

// IBKeyStore keeps the tables of the ibkey feature. Package sqlstore
// implements them on both engines and package storetest checks them.
type IBKeyStore interface {
	// CreateIBKeyTicket stores a ticket; ErrConflict if its hash exists.
	CreateIBKeyTicket(ctx context.Context, t *IBKeyTicket) error
	// IBKeyTicketForUpdate reads and locks a ticket by hash.
	IBKeyTicketForUpdate(ctx context.Context, idHash string) (*IBKeyTicket, error)
	PutIBKeyTicket(ctx context.Context, t *IBKeyTicket) error
	// IBKeyTicketsBySession lists the QR tickets shown to a session, newest first.
	IBKeyTicketsBySession(ctx context.Context, sessionID string) ([]*IBKeyTicket, error)
	// LastIBKeyTicketAt is when the newest ticket of kind for the user was
	// made (zero when there is none, or none left): an Add User code is
	// sent with each SMS ticket, so this is when the last one was sent,
	// for the SMS resend interval.
	LastIBKeyTicketAt(ctx context.Context, userID, kind string) (time.Time, error)
	// DeleteIBKeyTicketsBefore removes tickets that expired before t.
	DeleteIBKeyTicketsBefore(ctx context.Context, t time.Time) (int64, error)

	// CreateIBKeyInstance stores an instance; ErrConflict if the id or token hash exists.
	CreateIBKeyInstance(ctx context.Context, in *IBKeyInstance) error
	IBKeyInstance(ctx context.Context, id string) (*IBKeyInstance, error)
	IBKeyInstanceByTokenHash(ctx context.Context, tokenHash string) (*IBKeyInstance, error)
	PutIBKeyInstance(ctx context.Context, in *IBKeyInstance) error
	// IBKeyDevices lists the IB Key devices (every state) held by an
	// instance: devices of kind ibkey whose Serial is the instance id.
	IBKeyDevices(ctx context.Context, instanceID string) ([]*Device, error)

	CreateIBKeyPush(ctx context.Context, p *IBKeyPush) error
	IBKeyPush(ctx context.Context, id string) (*IBKeyPush, error)
	IBKeyPushForUpdate(ctx context.Context, id string) (*IBKeyPush, error)
	PutIBKeyPush(ctx context.Context, p *IBKeyPush) error
	// IBKeyPendingPushes lists the pending pushes of the users, oldest first.
	IBKeyPendingPushes(ctx context.Context, userIDs []string) ([]*IBKeyPush, error)
	// IBKeyPushesUpdatedSince lists pushes whose UpdatedAt is after since,
	// oldest change first, at most limit.
	IBKeyPushesUpdatedSince(ctx context.Context, since time.Time, limit int) ([]*IBKeyPush, error)
	// IBKeyPushesExpiring lists pending pushes whose ExpiresAt is at or
	// before now, at most limit.
	IBKeyPushesExpiring(ctx context.Context, now time.Time, limit int) ([]*IBKeyPush, error)
	// IBKeyPushesForGateway lists pending, unexpired pushes not yet claimed
	// for the push gateway, at most limit.
	IBKeyPushesForGateway(ctx context.Context, now time.Time, limit int) ([]*IBKeyPush, error)
	// ClaimIBKeyPushGateway marks a push as handed to the gateway; it
	// returns true for exactly one caller.
	ClaimIBKeyPushGateway(ctx context.Context, id string, now time.Time) (bool, error)
	// DeleteIBKeyPushesBefore removes pushes that expired before t.
	DeleteIBKeyPushesBefore(ctx context.Context, t time.Time) (int64, error)
}
