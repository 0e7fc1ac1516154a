package sls

import (
	"context"
	"time"
)

// PasswordReset is a one-time code that lets a user set a new password,
// made after Client Services verified the user's identity and sent only
// through the user's own channels (the operator never sees it).
type PasswordReset struct {
	TokenHash string
	UserID    string
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    time.Time
}

// PasswordResetStore keeps password reset codes (hashed with a key
// outside the database).
type PasswordResetStore interface {
	CreatePasswordReset(ctx context.Context, r *PasswordReset) error
	// PasswordResetForUpdate returns the reset of a code hash, its row
	// locked (ErrNotFound when none).
	PasswordResetForUpdate(ctx context.Context, tokenHash string) (*PasswordReset, error)
	// SpendPasswordResets marks every unused reset of the user used at.
	SpendPasswordResets(ctx context.Context, userID string, at time.Time) error
}
