package sqlstore

import (
	"context"
	"encoding/base64"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/audit"
)

func (t *tx) AuditHead(ctx context.Context) (int64, string, error) {
	var seq int64
	var hash string
	err := t.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	return seq, hash, wrap("audit head", err)
}

func (t *tx) AddAuditCheckpoint(ctx context.Context, c audit.Checkpoint) error {
	_, err := t.exec(ctx, `INSERT INTO audit_checkpoints (seq, hash, at, key_id, sig) VALUES (?, ?, ?, ?, ?)`,
		c.Seq, c.Hash, c.At.UnixMicro(), c.KeyID, base64.StdEncoding.EncodeToString(c.Sig))
	return wrap("add audit checkpoint", err)
}

func scanCheckpoint(s scanner) (audit.Checkpoint, error) {
	var c audit.Checkpoint
	var at int64
	var sig string
	if err := s.Scan(&c.Seq, &c.Hash, &at, &c.KeyID, &sig); err != nil {
		return c, err
	}
	c.At = fromMicro(at)
	c.Sig, _ = base64.StdEncoding.DecodeString(sig) // a garbled signature fails verification
	return c, nil
}

func (t *tx) AuditCheckpoints(ctx context.Context, after int64, limit int) ([]audit.Checkpoint, error) {
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	rows, err := t.query(ctx, `SELECT seq, hash, at, key_id, sig FROM audit_checkpoints WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	if err != nil {
		return nil, wrap("audit checkpoints", err)
	}
	return collect(rows, scanCheckpoint)
}

func (t *tx) LastAuditCheckpoint(ctx context.Context) (audit.Checkpoint, error) {
	c, err := scanCheckpoint(t.queryRow(ctx, `SELECT seq, hash, at, key_id, sig FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`))
	return c, wrap("last audit checkpoint", err)
}

func (t *tx) AuditStreamCursor(ctx context.Context, name string) (int64, int64, error) {
	var e, c int64
	err := t.queryRow(ctx, `SELECT entries_after, checkpoints_after FROM audit_streams WHERE name = ?`, name).Scan(&e, &c)
	if err := wrap("audit stream", err); err == sls.ErrNotFound {
		return 0, 0, nil
	} else if err != nil {
		return 0, 0, err
	}
	return e, c, nil
}

func (t *tx) PutAuditStreamCursor(ctx context.Context, name string, entriesAfter, checkpointsAfter int64) error {
	_, err := t.exec(ctx, `INSERT INTO audit_streams (name, entries_after, checkpoints_after) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET entries_after = excluded.entries_after, checkpoints_after = excluded.checkpoints_after`,
		name, entriesAfter, checkpointsAfter)
	return wrap("put audit stream", err)
}

var _ sls.AuditEvidenceStore = (*tx)(nil)
