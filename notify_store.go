package sls

import (
	"context"
	"time"
)

// OutboxState is the delivery state of an outbound message.
type OutboxState string

// Outbox states.
const (
	OutboxPending OutboxState = "pending"
	OutboxSent    OutboxState = "sent"
	OutboxFailed  OutboxState = "failed" // permanent failure or out of retries
)

// OutboxMessage is one message waiting for (or past) delivery. It is
// written in the transaction of the event that causes it.
type OutboxMessage struct {
	ID      string `json:"id"`
	UserID  string `json:"user_id,omitempty"`
	Kind    string `json:"kind"`
	Channel string `json:"channel"`
	To      string `json:"to"`
	Lang    string `json:"lang"`
	Subject string `json:"subject,omitempty"`
	// SealedBody is the message text sealed at rest (it may hold a code).
	SealedBody    []byte      `json:"-"`
	CreatedAt     time.Time   `json:"created_at"`
	State         OutboxState `json:"state"`
	Attempts      int         `json:"attempts"`
	NextAttemptAt time.Time   `json:"next_attempt_at"`
	LastError     string      `json:"last_error,omitempty"`
	SentAt        time.Time   `json:"sent_at,omitzero"`
}

// SinkMessage is a message delivered to the local sink channel (the
// default channel of a deployment without providers, and of tests).
type SinkMessage struct {
	ID          string    `json:"id"`
	Channel     string    `json:"channel"`
	To          string    `json:"to"`
	Kind        string    `json:"kind"`
	Lang        string    `json:"lang"`
	Subject     string    `json:"subject,omitempty"`
	Body        string    `json:"body"`
	DeliveredAt time.Time `json:"delivered_at"`
}

// SMSSend records one code sent by SMS or voice, for the anti-pumping caps.
type SMSSend struct {
	UserID  string
	To      string
	Region  string // the number's region (notify.Region: "US", "HU", "001"), the per-region cap's key
	Channel string
	At      time.Time
}

// SMSCount selects sends to count: exactly one of UserID, To, Region is set.
type SMSCount struct {
	UserID, To, Region string
	Since              time.Time
}

// PhoneVerification is a pending mobile-number verification.
type PhoneVerification struct {
	UserID    string
	Mobile    string
	CodeHash  []byte
	SentAt    time.Time
	ExpiresAt time.Time
	Attempts  int
}

// SecureMessage is a message in a user's message center. Its body is
// sealed at rest and is only ever shown in the message center.
type SecureMessage struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Summary    string    `json:"summary"`
	SealedBody []byte    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
	ReadAt     time.Time `json:"read_at,omitzero"`
}

// NotifyStore keeps the outbox, the local sink, message-center
// preferences and messages, SMS send records and phone verifications.
type NotifyStore interface {
	EnqueueMessage(ctx context.Context, m *OutboxMessage) error
	// ClaimMessages leases up to limit pending messages due at now to
	// owner until leaseUntil; a message leased by another owner whose lease
	// has not run out is not returned (so two nodes never send one message
	// at the same time).
	ClaimMessages(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*OutboxMessage, error)
	// FinishMessage stores the outcome of a delivery attempt made under
	// owner's lease (state, attempts, next attempt, error, sent time).
	FinishMessage(ctx context.Context, owner string, m *OutboxMessage) error
	OutboxMessages(ctx context.Context, state OutboxState, limit int) ([]*OutboxMessage, error)

	// PutSinkMessage stores a delivered message once: a second delivery
	// of the same id is ignored (false).
	PutSinkMessage(ctx context.Context, m *SinkMessage) (bool, error)
	SinkMessages(ctx context.Context, to, kind string, limit int) ([]*SinkMessage, error)

	UserPrefs(ctx context.Context, userID string) ([]byte, error) // ErrNotFound when never set
	PutUserPrefs(ctx context.Context, userID string, prefs []byte) error

	RecordSMSSend(ctx context.Context, s SMSSend) error
	CountSMSSends(ctx context.Context, c SMSCount) (int, error)

	PutPhoneVerification(ctx context.Context, v *PhoneVerification) error
	PhoneVerification(ctx context.Context, userID string) (*PhoneVerification, error)
	DeletePhoneVerification(ctx context.Context, userID string) error

	CreateSecureMessage(ctx context.Context, m *SecureMessage) error
	SecureMessages(ctx context.Context, userID string) ([]*SecureMessage, error)
}
