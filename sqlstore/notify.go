package sqlstore

import (
	"context"
	"fmt"
	"time"

	sls "github.com/secure-login-system/sls"
)

const outboxCols = `id, user_id, kind, channel, dest, lang, subject, body_sealed, created_at, state, attempts, next_attempt_at, last_error, sent_at`

func scanOutbox(s scanner) (*sls.OutboxMessage, error) {
	var m sls.OutboxMessage
	var created, next int64
	err := s.Scan(&m.ID, &m.UserID, &m.Kind, &m.Channel, &m.To, &m.Lang, &m.Subject, &m.SealedBody, &created, &m.State,
		&m.Attempts, &next, &m.LastError, nullTime{&m.SentAt})
	if err != nil {
		return nil, err
	}
	m.CreatedAt, m.NextAttemptAt = fromMicro(created), fromMicro(next)
	return &m, nil
}

func (t *tx) EnqueueMessage(ctx context.Context, m *sls.OutboxMessage) error {
	_, err := t.exec(ctx, `INSERT INTO outbox (`+outboxCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.UserID, m.Kind, m.Channel, m.To, m.Lang, m.Subject, m.SealedBody, m.CreatedAt.UnixMicro(), m.State,
		m.Attempts, m.NextAttemptAt.UnixMicro(), m.LastError, ts(m.SentAt))
	return wrap("enqueue message", err)
}

func (t *tx) ClaimMessages(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*sls.OutboxMessage, error) {
	skip := ""
	if t.engine == Postgres {
		skip = " FOR UPDATE SKIP LOCKED" // another node's claim in progress is passed over, not waited for
	}
	rows, err := t.query(ctx, `UPDATE outbox SET lease_owner = ?, lease_until = ? WHERE id IN (
		SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until < ?
		ORDER BY next_attempt_at, id LIMIT ?`+skip+`) RETURNING `+outboxCols,
		owner, leaseUntil.UnixMicro(), now.UnixMicro(), now.UnixMicro(), limit)
	if err != nil {
		return nil, wrap("claim messages", err)
	}
	return collect(rows, scanOutbox)
}

func (t *tx) FinishMessage(ctx context.Context, owner string, m *sls.OutboxMessage) error {
	res, err := t.exec(ctx, `UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ?, sent_at = ?,
		lease_owner = '', lease_until = 0 WHERE id = ? AND lease_owner = ?`,
		m.State, m.Attempts, m.NextAttemptAt.UnixMicro(), m.LastError, ts(m.SentAt), m.ID, owner)
	if err := mustAffect("finish message", res, err); err != nil {
		return fmt.Errorf("sqlstore: message %s is no longer leased to %s: %w", m.ID, owner, err)
	}
	return nil
}

func (t *tx) OutboxMessages(ctx context.Context, state sls.OutboxState, limit int) ([]*sls.OutboxMessage, error) {
	rows, err := t.query(ctx, `SELECT `+outboxCols+` FROM outbox WHERE state = ? ORDER BY created_at, id LIMIT ?`, state, limit)
	if err != nil {
		return nil, wrap("outbox messages", err)
	}
	return collect(rows, scanOutbox)
}

func (t *tx) PutSinkMessage(ctx context.Context, m *sls.SinkMessage) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO sink_messages (id, channel, dest, kind, lang, subject, body, delivered_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		m.ID, m.Channel, m.To, m.Kind, m.Lang, m.Subject, m.Body, m.DeliveredAt.UnixMicro())
	if err != nil {
		return false, wrap("put sink message", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("put sink message", err)
}

func (t *tx) SinkMessages(ctx context.Context, to, kind string, limit int) ([]*sls.SinkMessage, error) {
	rows, err := t.query(ctx, `SELECT id, channel, dest, kind, lang, subject, body, delivered_at FROM sink_messages
		WHERE (? = '' OR dest = ?) AND (? = '' OR kind = ?) ORDER BY delivered_at, id LIMIT ?`, to, to, kind, kind, limit)
	if err != nil {
		return nil, wrap("sink messages", err)
	}
	return collect(rows, func(s scanner) (*sls.SinkMessage, error) {
		var m sls.SinkMessage
		var at int64
		err := s.Scan(&m.ID, &m.Channel, &m.To, &m.Kind, &m.Lang, &m.Subject, &m.Body, &at)
		m.DeliveredAt = fromMicro(at)
		return &m, err
	})
}

func (t *tx) UserPrefs(ctx context.Context, userID string) ([]byte, error) {
	var p string
	err := t.queryRow(ctx, `SELECT prefs FROM user_prefs WHERE user_id = ?`, userID).Scan(&p)
	return []byte(p), wrap("user prefs", err)
}

func (t *tx) PutUserPrefs(ctx context.Context, userID string, prefs []byte) error {
	_, err := t.exec(ctx, `INSERT INTO user_prefs (user_id, prefs) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET prefs = excluded.prefs`, userID, string(prefs))
	return wrap("put user prefs", err)
}

func (t *tx) RecordSMSSend(ctx context.Context, s sls.SMSSend) error {
	_, err := t.exec(ctx, `INSERT INTO sms_sends (user_id, dest, prefix, channel, at) VALUES (?, ?, ?, ?, ?)`,
		s.UserID, s.To, s.Region, s.Channel, s.At.UnixMicro())
	return wrap("record sms send", err)
}

func (t *tx) CountSMSSends(ctx context.Context, c sls.SMSCount) (int, error) {
	col, val := "user_id", c.UserID
	switch {
	case c.To != "":
		col, val = "dest", c.To
	case c.Region != "":
		// The column kept its first name; it holds the region now.
		col, val = "prefix", c.Region
	}
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM sms_sends WHERE `+col+` = ? AND at >= ?`, val, c.Since.UnixMicro()).Scan(&n)
	return n, wrap("count sms sends", err)
}

func (t *tx) PutPhoneVerification(ctx context.Context, v *sls.PhoneVerification) error {
	_, err := t.exec(ctx, `INSERT INTO phone_verifications (user_id, mobile, code_hash, sent_at, expires_at, attempts)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET mobile = excluded.mobile, code_hash = excluded.code_hash,
		sent_at = excluded.sent_at, expires_at = excluded.expires_at, attempts = excluded.attempts`,
		v.UserID, v.Mobile, v.CodeHash, v.SentAt.UnixMicro(), v.ExpiresAt.UnixMicro(), v.Attempts)
	return wrap("put phone verification", err)
}

func (t *tx) PhoneVerification(ctx context.Context, userID string) (*sls.PhoneVerification, error) {
	var v sls.PhoneVerification
	var sent, exp int64
	err := t.queryRow(ctx, `SELECT user_id, mobile, code_hash, sent_at, expires_at, attempts FROM phone_verifications WHERE user_id = ?`,
		userID).Scan(&v.UserID, &v.Mobile, &v.CodeHash, &sent, &exp, &v.Attempts)
	if err != nil {
		return nil, wrap("phone verification", err)
	}
	v.SentAt, v.ExpiresAt = fromMicro(sent), fromMicro(exp)
	return &v, nil
}

func (t *tx) DeletePhoneVerification(ctx context.Context, userID string) error {
	_, err := t.exec(ctx, `DELETE FROM phone_verifications WHERE user_id = ?`, userID)
	return wrap("delete phone verification", err)
}

func (t *tx) CreateSecureMessage(ctx context.Context, m *sls.SecureMessage) error {
	_, err := t.exec(ctx, `INSERT INTO secure_messages (id, user_id, summary, body_sealed, created_at, read_at) VALUES (?, ?, ?, ?, ?, ?)`,
		m.ID, m.UserID, m.Summary, m.SealedBody, m.CreatedAt.UnixMicro(), ts(m.ReadAt))
	return wrap("create secure message", err)
}

func (t *tx) SecureMessages(ctx context.Context, userID string) ([]*sls.SecureMessage, error) {
	rows, err := t.query(ctx, `SELECT id, user_id, summary, body_sealed, created_at, read_at FROM secure_messages WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, wrap("secure messages", err)
	}
	return collect(rows, func(s scanner) (*sls.SecureMessage, error) {
		var m sls.SecureMessage
		var created int64
		err := s.Scan(&m.ID, &m.UserID, &m.Summary, &m.SealedBody, &created, nullTime{&m.ReadAt})
		m.CreatedAt = fromMicro(created)
		return &m, err
	})
}
