package sqlstore

import (
	"context"

	sls "github.com/secure-login-system/sls"
)

const knownClientCols = `token_hash, user_id, created_at, last_used_at, failures, revoked_at`

func scanKnownClient(s scanner) (*sls.KnownClient, error) {
	var c sls.KnownClient
	var created, used int64
	if err := s.Scan(&c.TokenHash, &c.UserID, &created, &used, &c.Failures, nullTime{&c.RevokedAt}); err != nil {
		return nil, err
	}
	c.CreatedAt, c.LastUsedAt = fromMicro(created), fromMicro(used)
	return &c, nil
}

func (t *tx) CreateKnownClient(ctx context.Context, c *sls.KnownClient) error {
	_, err := t.exec(ctx, `INSERT INTO known_clients (`+knownClientCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		c.TokenHash, c.UserID, c.CreatedAt.UnixMicro(), c.LastUsedAt.UnixMicro(), c.Failures, ts(c.RevokedAt))
	return wrap("create known client", err)
}

func (t *tx) KnownClient(ctx context.Context, tokenHash string) (*sls.KnownClient, error) {
	c, err := scanKnownClient(t.queryRow(ctx, `SELECT `+knownClientCols+` FROM known_clients WHERE token_hash = ?`, tokenHash))
	return c, wrap("known client", err)
}

func (t *tx) PutKnownClient(ctx context.Context, c *sls.KnownClient) error {
	res, err := t.exec(ctx, `UPDATE known_clients SET last_used_at = ?, failures = ?, revoked_at = ? WHERE token_hash = ?`,
		c.LastUsedAt.UnixMicro(), c.Failures, ts(c.RevokedAt), c.TokenHash)
	return mustAffect("put known client", res, err)
}

func (t *tx) PruneKnownClients(ctx context.Context, userID string, keep int) error {
	_, err := t.exec(ctx, `DELETE FROM known_clients WHERE user_id = ? AND token_hash NOT IN
		(SELECT token_hash FROM known_clients WHERE user_id = ? ORDER BY last_used_at DESC, token_hash LIMIT ?)`, userID, userID, keep)
	return wrap("prune known clients", err)
}
