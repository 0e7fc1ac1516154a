package sqlstore

import (
	"context"

	sls "github.com/secure-login-system/sls"
)

const knownClientCols = `token_hash, user_id, created_at, last_used_at, failures, revoked_at`

// knownClientDests are the scan destinations of knownClientCols into c.
func knownClientDests(c *sls.KnownClient) []any {
	return []any{&c.TokenHash, &c.UserID, nullTime{&c.CreatedAt}, nullTime{&c.LastUsedAt}, &c.Failures, nullTime{&c.RevokedAt}}
}

func scanKnownClient(s scanner) (*sls.KnownClient, error) {
	var c sls.KnownClient
	if err := s.Scan(knownClientDests(&c)...); err != nil {
		return nil, err
	}
	return &c, nil
}

// userKnownClientQuery reads a user by name and the known client
// tokenHash names, if it is the user's (built once, see userAccountQuery).
var userKnownClientQuery = `SELECT ` + qualified("u", userCols) + `, COALESCE(k.token_hash, ''), COALESCE(k.user_id, ''),
		k.created_at, k.last_used_at, COALESCE(k.failures, 0), k.revoked_at
		FROM users u LEFT JOIN known_clients k ON k.token_hash = ? AND k.user_id = u.id WHERE u.username = ?`

func (t *tx) UserAndKnownClient(ctx context.Context, username, tokenHash string) (*sls.User, *sls.KnownClient, error) {
	// The client's columns are empty when no row joins (COALESCE: the
	// destinations are not nullable).
	row := t.queryRow(ctx, userKnownClientQuery, tokenHash, username)
	var c sls.KnownClient
	u, err := scanUser(scanFunc(func(dest ...any) error { return row.Scan(append(dest, knownClientDests(&c)...)...) }))
	if err != nil {
		return nil, nil, wrap("user", err)
	}
	if c.TokenHash == "" || tokenHash == "" {
		return u, nil, nil
	}
	return u, &c, nil
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
