package sqlstore

import (
	"context"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/audit"
)

func (t *tx) AppendAudit(ctx context.Context, e *audit.Entry) error {
	// Locking the head row serialises appends across nodes, so the chain
	// has exactly one successor for every entry.
	var head audit.Entry
	if err := t.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+t.forUpdate()).Scan(&head.Seq, &head.Hash); err != nil {
		return wrap("audit head", err)
	}
	e.Seq = head.Seq + 1
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond) // the stored precision, so the hash verifies after reading back
	var prev *audit.Entry
	if head.Seq > 0 {
		prev = &head
	}
	audit.Seal(e, prev)
	if _, err := t.exec(ctx, `INSERT INTO audit_log (seq, at, actor, event, user_id, device_id, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At.UnixMicro(), e.Actor, e.Event, e.UserID, e.DeviceID, e.Detail, e.PrevHash, e.Hash); err != nil {
		return wrap("append audit", err)
	}
	res, err := t.exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, e.Seq, e.Hash)
	return mustAffect("audit head", res, err)
}

func (t *tx) AuditEntries(ctx context.Context, after int64, limit int) ([]audit.Entry, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := t.query(ctx, `SELECT seq, at, actor, event, user_id, device_id, detail, prev_hash, hash
		FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("audit entries", err)
	}
	return collect(rows, func(s scanner) (audit.Entry, error) {
		var e audit.Entry
		var at int64
		err := s.Scan(&e.Seq, &at, &e.Actor, &e.Event, &e.UserID, &e.DeviceID, &e.Detail, &e.PrevHash, &e.Hash)
		e.At = fromMicro(at)
		return e, err
	})
}

var _ sls.AuditStore = (*tx)(nil)
