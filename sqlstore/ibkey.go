package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
)

// IB Key tables (migration 00004).

const ticketCols = `id_hash, kind, user_id, session_id, instance_id, sealed, code_hash, attempts, created_at, expires_at, used_at`

func scanTicket(s scanner) (*sls.IBKeyTicket, error) {
	var t sls.IBKeyTicket
	var created, expires int64
	err := s.Scan(&t.IDHash, &t.Kind, &t.UserID, &t.SessionID, &t.InstanceID, &t.Sealed, &t.CodeHash, &t.Attempts,
		&created, &expires, nullTime{&t.UsedAt})
	if err != nil {
		return nil, err
	}
	t.CreatedAt, t.ExpiresAt = fromMicro(created), fromMicro(expires)
	return &t, nil
}

func (t *tx) CreateIBKeyTicket(ctx context.Context, k *sls.IBKeyTicket) error {
	_, err := t.exec(ctx, `INSERT INTO ibkey_tickets (`+ticketCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.IDHash, k.Kind, k.UserID, k.SessionID, k.InstanceID, k.Sealed, k.CodeHash, k.Attempts,
		k.CreatedAt.UnixMicro(), k.ExpiresAt.UnixMicro(), ts(k.UsedAt))
	return wrap("create ibkey ticket", err)
}

func (t *tx) IBKeyTicketForUpdate(ctx context.Context, idHash string) (*sls.IBKeyTicket, error) {
	k, err := scanTicket(t.queryRow(ctx, `SELECT `+ticketCols+` FROM ibkey_tickets WHERE id_hash = ?`+t.forUpdate(), idHash))
	return k, wrap("ibkey ticket", err)
}

func (t *tx) PutIBKeyTicket(ctx context.Context, k *sls.IBKeyTicket) error {
	res, err := t.exec(ctx, `UPDATE ibkey_tickets SET attempts = ?, expires_at = ?, used_at = ? WHERE id_hash = ?`,
		k.Attempts, k.ExpiresAt.UnixMicro(), ts(k.UsedAt), k.IDHash)
	return mustAffect("put ibkey ticket", res, err)
}

func (t *tx) IBKeyTicketsBySession(ctx context.Context, sessionID string) ([]*sls.IBKeyTicket, error) {
	rows, err := t.query(ctx, `SELECT `+ticketCols+` FROM ibkey_tickets WHERE session_id = ? AND kind = ? ORDER BY created_at DESC, id_hash`,
		sessionID, sls.IBKeyTicketQR)
	if err != nil {
		return nil, wrap("ibkey tickets", err)
	}
	return collect(rows, scanTicket)
}

func (t *tx) LastIBKeyTicketAt(ctx context.Context, userID, kind string) (time.Time, error) {
	var at sql.NullInt64
	err := t.queryRow(ctx, `SELECT MAX(created_at) FROM ibkey_tickets WHERE user_id = ? AND kind = ?`, userID, kind).Scan(&at)
	if err != nil || !at.Valid {
		return time.Time{}, wrap("last ibkey ticket", err)
	}
	return time.UnixMicro(at.Int64).UTC(), nil
}

func (t *tx) DeleteIBKeyTicketsBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM ibkey_tickets WHERE expires_at < ?`, before.UnixMicro())
	if err != nil {
		return 0, wrap("delete ibkey tickets", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete ibkey tickets", err)
}

const instanceCols = `id, token_hash, sign_pub, platform, label, created_at, last_seen_at`

func scanInstance(s scanner) (*sls.IBKeyInstance, error) {
	var in sls.IBKeyInstance
	var created int64
	if err := s.Scan(&in.ID, &in.TokenHash, &in.SignPub, &in.Platform, &in.Label, &created, nullTime{&in.LastSeenAt}); err != nil {
		return nil, err
	}
	in.CreatedAt = fromMicro(created)
	return &in, nil
}

func (t *tx) CreateIBKeyInstance(ctx context.Context, in *sls.IBKeyInstance) error {
	_, err := t.exec(ctx, `INSERT INTO ibkey_instances (`+instanceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		in.ID, in.TokenHash, in.SignPub, in.Platform, in.Label, in.CreatedAt.UnixMicro(), ts(in.LastSeenAt))
	return wrap("create ibkey instance", err)
}

func (t *tx) IBKeyInstance(ctx context.Context, id string) (*sls.IBKeyInstance, error) {
	in, err := scanInstance(t.queryRow(ctx, `SELECT `+instanceCols+` FROM ibkey_instances WHERE id = ?`, id))
	return in, wrap("ibkey instance", err)
}

func (t *tx) IBKeyInstanceByTokenHash(ctx context.Context, tokenHash string) (*sls.IBKeyInstance, error) {
	in, err := scanInstance(t.queryRow(ctx, `SELECT `+instanceCols+` FROM ibkey_instances WHERE token_hash = ?`, tokenHash))
	return in, wrap("ibkey instance", err)
}

func (t *tx) PutIBKeyInstance(ctx context.Context, in *sls.IBKeyInstance) error {
	res, err := t.exec(ctx, `UPDATE ibkey_instances SET label = ?, last_seen_at = ? WHERE id = ?`, in.Label, ts(in.LastSeenAt), in.ID)
	return mustAffect("put ibkey instance", res, err)
}

func (t *tx) IBKeyDevices(ctx context.Context, instanceID string) ([]*sls.Device, error) {
	rows, err := t.query(ctx, `SELECT `+deviceCols+` FROM devices WHERE kind = ? AND serial = ? ORDER BY created_at, id`,
		sls.KindIBKey, instanceID)
	if err != nil {
		return nil, wrap("ibkey devices", err)
	}
	return collect(rows, scanDevice)
}

const pushCols = `id, user_id, device_id, login_hash, state, number, platform, client_ip, user_agent, created_at, expires_at,
	updated_at, answered_at, answered_by, biometric, bad_unlocks, gateway_at, currency, amount_minor, payee`

func scanPush(s scanner) (*sls.IBKeyPush, error) {
	var p sls.IBKeyPush
	var created, expires, updated int64
	err := s.Scan(&p.ID, &p.UserID, &p.DeviceID, &p.LoginHash, &p.State, &p.Number, &p.Platform, &p.ClientIP, &p.UserAgent,
		&created, &expires, &updated, nullTime{&p.AnsweredAt}, &p.AnsweredBy, &p.Biometric, &p.BadUnlocks, nullTime{&p.GatewayAt},
		&p.Bound.Currency, &p.Bound.AmountMinor, &p.Bound.Payee)
	if err != nil {
		return nil, err
	}
	p.CreatedAt, p.ExpiresAt, p.UpdatedAt = fromMicro(created), fromMicro(expires), fromMicro(updated)
	return &p, nil
}

func (t *tx) CreateIBKeyPush(ctx context.Context, p *sls.IBKeyPush) error {
	_, err := t.exec(ctx, `INSERT INTO ibkey_pushes (`+pushCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.UserID, p.DeviceID, p.LoginHash, p.State, p.Number, p.Platform, p.ClientIP, p.UserAgent,
		p.CreatedAt.UnixMicro(), p.ExpiresAt.UnixMicro(), p.UpdatedAt.UnixMicro(), ts(p.AnsweredAt), p.AnsweredBy,
		p.Biometric, p.BadUnlocks, ts(p.GatewayAt), p.Bound.Currency, p.Bound.AmountMinor, p.Bound.Payee)
	return wrap("create ibkey push", err)
}

func (t *tx) push(ctx context.Context, id, suffix string) (*sls.IBKeyPush, error) {
	p, err := scanPush(t.queryRow(ctx, `SELECT `+pushCols+` FROM ibkey_pushes WHERE id = ?`+suffix, id))
	return p, wrap("ibkey push", err)
}

func (t *tx) IBKeyPush(ctx context.Context, id string) (*sls.IBKeyPush, error) {
	return t.push(ctx, id, "")
}

func (t *tx) IBKeyPushForUpdate(ctx context.Context, id string) (*sls.IBKeyPush, error) {
	return t.push(ctx, id, t.forUpdate())
}

func (t *tx) PutIBKeyPush(ctx context.Context, p *sls.IBKeyPush) error {
	res, err := t.exec(ctx, `UPDATE ibkey_pushes SET state = ?, expires_at = ?, updated_at = ?, answered_at = ?, answered_by = ?,
		biometric = ?, bad_unlocks = ?, gateway_at = ? WHERE id = ?`,
		p.State, p.ExpiresAt.UnixMicro(), p.UpdatedAt.UnixMicro(), ts(p.AnsweredAt), p.AnsweredBy, p.Biometric, p.BadUnlocks,
		ts(p.GatewayAt), p.ID)
	return mustAffect("put ibkey push", res, err)
}

func (t *tx) IBKeyPendingPushes(ctx context.Context, userIDs []string) ([]*sls.IBKeyPush, error) {
	if len(userIDs) == 0 {
		return nil, nil
	}
	args := []any{sls.PushPending}
	for _, id := range userIDs {
		args = append(args, id)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(userIDs)), ", ")
	rows, err := t.query(ctx, `SELECT `+pushCols+` FROM ibkey_pushes WHERE state = ? AND user_id IN (`+marks+`)
		ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, wrap("ibkey pending pushes", err)
	}
	return collect(rows, scanPush)
}

func (t *tx) IBKeyPushesUpdatedSince(ctx context.Context, since time.Time, limit int) ([]*sls.IBKeyPush, error) {
	rows, err := t.query(ctx, `SELECT `+pushCols+` FROM ibkey_pushes WHERE updated_at > ? ORDER BY updated_at, id LIMIT ?`,
		since.UnixMicro(), limit)
	if err != nil {
		return nil, wrap("ibkey pushes updated", err)
	}
	return collect(rows, scanPush)
}

func (t *tx) IBKeyPushesExpiring(ctx context.Context, now time.Time, limit int) ([]*sls.IBKeyPush, error) {
	rows, err := t.query(ctx, `SELECT `+pushCols+` FROM ibkey_pushes WHERE state = ? AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`,
		sls.PushPending, now.UnixMicro(), limit)
	if err != nil {
		return nil, wrap("ibkey pushes expiring", err)
	}
	return collect(rows, scanPush)
}

func (t *tx) IBKeyPushesForGateway(ctx context.Context, now time.Time, limit int) ([]*sls.IBKeyPush, error) {
	rows, err := t.query(ctx, `SELECT `+pushCols+` FROM ibkey_pushes WHERE state = ? AND gateway_at IS NULL AND expires_at > ?
		ORDER BY created_at, id LIMIT ?`, sls.PushPending, now.UnixMicro(), limit)
	if err != nil {
		return nil, wrap("ibkey pushes for gateway", err)
	}
	return collect(rows, scanPush)
}

func (t *tx) ClaimIBKeyPushGateway(ctx context.Context, id string, now time.Time) (bool, error) {
	// The conditional UPDATE is the claim: a second node finds the
	// condition false (PostgreSQL re-checks it after the row lock).
	res, err := t.exec(ctx, `UPDATE ibkey_pushes SET gateway_at = ? WHERE id = ? AND gateway_at IS NULL`, now.UnixMicro(), id)
	if err != nil {
		return false, wrap("claim ibkey push", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("claim ibkey push", err)
}

func (t *tx) DeleteIBKeyPushesBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM ibkey_pushes WHERE expires_at < ?`, before.UnixMicro())
	if err != nil {
		return 0, wrap("delete ibkey pushes", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete ibkey pushes", err)
}
