package sqlstore

import (
	"context"
	"time"

	sls "github.com/secure-login-system/sls"
)

func (t *tx) CreatePasswordReset(ctx context.Context, r *sls.PasswordReset) error {
	_, err := t.exec(ctx, `INSERT INTO password_resets (token_hash, user_id, created_by, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.TokenHash, r.UserID, r.CreatedBy, r.CreatedAt.UnixMicro(), r.ExpiresAt.UnixMicro(), zmicro(r.UsedAt))
	return wrap("create password reset", err)
}

func (t *tx) PasswordResetForUpdate(ctx context.Context, tokenHash string) (*sls.PasswordReset, error) {
	var r sls.PasswordReset
	var created, expires, used int64
	err := t.queryRow(ctx, `SELECT token_hash, user_id, created_by, created_at, expires_at, used_at FROM password_resets WHERE token_hash = ?`+t.forUpdate(),
		tokenHash).Scan(&r.TokenHash, &r.UserID, &r.CreatedBy, &created, &expires, &used)
	if err != nil {
		return nil, wrap("password reset", err)
	}
	r.CreatedAt, r.ExpiresAt, r.UsedAt = fromMicro(created), fromMicro(expires), fromZMicro(used)
	return &r, nil
}

func (t *tx) SpendPasswordResets(ctx context.Context, userID string, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at = 0`, at.UnixMicro(), userID)
	return wrap("spend password resets", err)
}

var _ sls.PasswordResetStore = (*tx)(nil)
