package sqlstore

import (
	"context"
	"time"

	sls "github.com/secure-login-system/sls"
)

const sessionCols = `id, token_hash, user_id, platform, device_id, device_kind, scope, biometric, created_at, last_seen_at,
	expires_at, idle_timeout, ended_at, client_ip, proven_kind, proven_at, passwordless`

func scanSession(s scanner) (*sls.Session, error) {
	var ss sls.Session
	var created, seen, expires, idle int64
	err := s.Scan(&ss.ID, &ss.TokenHash, &ss.UserID, &ss.Platform, &ss.DeviceID, &ss.DeviceKind, &ss.Scope, &ss.Biometric,
		&created, &seen, &expires, &idle, nullTime{&ss.EndedAt}, &ss.ClientIP, &ss.ProvenKind, nullTime{&ss.ProvenAt}, &ss.Passwordless)
	if err != nil {
		return nil, err
	}
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = fromMicro(created), fromMicro(seen), fromMicro(expires)
	ss.IdleTimeout = time.Duration(idle) * time.Microsecond
	return &ss, nil
}

func (t *tx) CreateSession(ctx context.Context, s *sls.Session) error {
	network := sls.Network(s.ClientIP)
	// The new-network check rides on the insert: the index on (user_id,
	// network) answers it, and the new row is left out by its id.
	err := t.queryRow(ctx, `INSERT INTO sessions (`+sessionCols+`, network) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		RETURNING EXISTS (SELECT 1 FROM sessions o WHERE o.user_id = ? AND o.network = ? AND o.id <> ?)`,
		s.ID, s.TokenHash, s.UserID, s.Platform, s.DeviceID, s.DeviceKind, s.Scope, s.Biometric,
		s.CreatedAt.UnixMicro(), s.LastSeenAt.UnixMicro(), s.ExpiresAt.UnixMicro(), s.IdleTimeout.Microseconds(), ts(s.EndedAt), s.ClientIP, s.ProvenKind, ts(s.ProvenAt), s.Passwordless,
		network, s.UserID, network, s.ID).Scan(&s.NetworkSeen)
	return wrap("create session", err)
}

func (t *tx) SessionByTokenHash(ctx context.Context, tokenHash string) (*sls.Session, error) {
	s, err := scanSession(t.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE token_hash = ?`, tokenHash))
	return s, wrap("session", err)
}

func (t *tx) Session(ctx context.Context, id string) (*sls.Session, error) {
	s, err := scanSession(t.queryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
	return s, wrap("session", err)
}

func (t *tx) Sessions(ctx context.Context, userID string) ([]*sls.Session, error) {
	rows, err := t.query(ctx, `SELECT `+sessionCols+` FROM sessions WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, wrap("sessions", err)
	}
	return collect(rows, scanSession)
}

func (t *tx) PutSession(ctx context.Context, s *sls.Session) error {
	res, err := t.exec(ctx, `UPDATE sessions SET scope = ?, biometric = ?, last_seen_at = ?, expires_at = ?, idle_timeout = ?, ended_at = ?,
		proven_kind = ?, proven_at = ? WHERE id = ?`,
		s.Scope, s.Biometric, s.LastSeenAt.UnixMicro(), s.ExpiresAt.UnixMicro(), s.IdleTimeout.Microseconds(), ts(s.EndedAt),
		s.ProvenKind, ts(s.ProvenAt), s.ID)
	return mustAffect("put session", res, err)
}

func (t *tx) PurgeSessions(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM sessions WHERE (ended_at IS NOT NULL AND ended_at < ?) OR expires_at < ?`,
		before.UnixMicro(), before.UnixMicro())
	if err != nil {
		return 0, wrap("purge sessions", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("purge sessions", err)
}
