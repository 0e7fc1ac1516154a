package sls

import (
	"context"
	"time"
)

// KnownClient is a browser or app instance that completed a login for a
// user. It holds a random token (a device cookie, OWASP "Slow Down Online
// Guessing Attacks with Device Cookies"); only the token's hash is
// stored. A login that presents a valid token of its user is not held off
// by wrong passwords that came from elsewhere, and counts its own.
type KnownClient struct {
	TokenHash  string    `json:"-"`
	UserID     string    `json:"user_id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	// Failures counts wrong passwords given with this token since its
	// last right one.
	Failures  int       `json:"failures"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Valid reports whether the client's token may still vouch for userID.
func (c *KnownClient) Valid(userID string) bool {
	return c != nil && c.UserID == userID && c.RevokedAt.IsZero()
}

// KnownClientStore keeps known clients.
type KnownClientStore interface {
	CreateKnownClient(ctx context.Context, c *KnownClient) error
	// KnownClient finds a client by its token's hash (ErrNotFound).
	KnownClient(ctx context.Context, tokenHash string) (*KnownClient, error)
	// UserAndKnownClient finds a user by username (ErrNotFound) and, in
	// the same statement, the user's known client with the token hash
	// (nil: none, or tokenHash empty): a login's first read.
	UserAndKnownClient(ctx context.Context, username, tokenHash string) (*User, *KnownClient, error)
	PutKnownClient(ctx context.Context, c *KnownClient) error
	// PruneKnownClients keeps the user's keep most recently used clients
	// and deletes the others.
	PruneKnownClients(ctx context.Context, userID string, keep int) error
}
