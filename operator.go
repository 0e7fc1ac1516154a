package sls

import (
	"context"
	"time"
)

// OperatorsAccount is the reserved account whose users are operators'
// credentials: an operator logs in as that user (password and a security
// device, under the same lock-out and rate limits as clients) and trades
// the session for an operator token. Sessions of its users have scope
// ScopeOperator, which no client route serves, and operator routes
// refuse to act on its users (one operator cannot unlock or reissue
// another's credentials through the client tools).
const OperatorsAccount = "SLS-OPERATORS"

// ScopeOperator is the scope of an operator's login session: it serves
// only the exchange for an operator token.
const ScopeOperator Scope = "operator"

// Operator is a named person who operates the system.
type Operator struct {
	Name       string    `json:"name"`
	UserID     string    `json:"-"`
	Roles      []Role    `json:"roles"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
	DisabledAt time.Time `json:"disabled_at,omitzero"`
	// MAC authenticates the row (package operators): set before it is
	// stored, checked when it is used.
	MAC string `json:"-"`
}

// Disabled reports whether the operator was disabled.
func (o *Operator) Disabled() bool { return !o.DisabledAt.IsZero() }

// OperatorToken is a short-lived credential of an operator (stored
// hashed).
type OperatorToken struct {
	Hash      string
	Operator  string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ApprovalState is where a dual-control request stands.
type ApprovalState string

// Approval states.
const (
	ApprovalPending  ApprovalState = "pending"
	ApprovalApproved ApprovalState = "approved"
	ApprovalDenied   ApprovalState = "denied"
	ApprovalUsed     ApprovalState = "used"
)

// Approval is one operator's request for an action that needs a second
// operator (dual control). It is bound to the exact request (method, path
// and a hash of the body) and to the operator who asked.
type Approval struct {
	ID          string        `json:"id"`
	Action      string        `json:"action"`
	Method      string        `json:"method"`
	Path        string        `json:"path"`
	RequestHash string        `json:"-"`
	Roles       []Role        `json:"roles"`
	RequestedBy string        `json:"requested_by"`
	CreatedAt   time.Time     `json:"created_at"`
	ExpiresAt   time.Time     `json:"expires_at"`
	DecidedBy   string        `json:"decided_by,omitempty"`
	DecidedAt   time.Time     `json:"decided_at,omitzero"`
	State       ApprovalState `json:"state"`
	UsedAt      time.Time     `json:"used_at,omitzero"`
	MAC         string        `json:"-"`
}

// OperatorStore keeps operators, their tokens, the bootstrap secret and
// dual-control approvals.
type OperatorStore interface {
	CreateOperator(ctx context.Context, o *Operator) error
	Operator(ctx context.Context, name string) (*Operator, error)
	OperatorForUpdate(ctx context.Context, name string) (*Operator, error)
	Operators(ctx context.Context) ([]*Operator, error)
	PutOperator(ctx context.Context, o *Operator) error
	// CountOperators counts operators (disabled ones too).
	CountOperators(ctx context.Context) (int, error)

	AddOperatorToken(ctx context.Context, t *OperatorToken) error
	OperatorToken(ctx context.Context, tokenHash string) (*OperatorToken, error)
	// DeleteOperatorTokens removes every token of the operator (disable,
	// logout) and returns how many there were.
	DeleteOperatorTokens(ctx context.Context, operator string) (int64, error)
	DeleteOperatorToken(ctx context.Context, tokenHash string) error
	DeleteExpiredOperatorTokens(ctx context.Context, now time.Time) (int64, error)

	// PutBootstrapSecret stores the bootstrap secret's hash unless one
	// exists (ErrConflict).
	PutBootstrapSecret(ctx context.Context, secretHash string, at time.Time) error
	// BootstrapSecret returns the stored hash and when it was spent (zero:
	// not yet), ErrNotFound when none was made.
	BootstrapSecret(ctx context.Context) (hash string, usedAt time.Time, err error)
	// SpendBootstrapSecret marks the secret used by operator; ErrConflict
	// when it was already spent.
	SpendBootstrapSecret(ctx context.Context, by string, at time.Time) error

	CreateApproval(ctx context.Context, a *Approval) error
	ApprovalForUpdate(ctx context.Context, id string) (*Approval, error)
	PutApproval(ctx context.Context, a *Approval) error
	// Approvals lists approvals in state (all states when empty), newest
	// first.
	Approvals(ctx context.Context, state ApprovalState, limit int) ([]*Approval, error)
}
