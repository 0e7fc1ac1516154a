package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/audit"
)

// AppendAudit queues e in the caller's transaction (audit_pending): it
// is stored, or not, with what it records, and no two requests contend
// on a shared row. ChainAudit links it into the hash chain after commit.
// e.Seq, PrevHash and Hash are assigned then, not here.
func (t *tx) AppendAudit(ctx context.Context, e *audit.Entry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond) // the stored precision, so the hash verifies after reading back
	if _, err := t.exec(ctx, `INSERT INTO audit_pending (at, actor, event, user_id, device_id, detail) VALUES (?, ?, ?, ?, ?, ?)`,
		e.At.UnixMicro(), e.Actor, e.Event, e.UserID, e.DeviceID, e.Detail); err != nil {
		return wrap("append audit", err)
	}
	t.audited = true
	return nil
}

// chainBatch bounds the entries one chaining transaction links; the
// chainer runs again at once while more are waiting.
const chainBatch = 500

// ErrChainBusy is returned by ChainAudit, when asked not to wait, while
// another node is linking entries: that node will link these too, or
// the next run will.
var ErrChainBusy = errors.New("sqlstore: another node is chaining the audit trail")

// ChainAudit links every queued audit entry into the hash chain, oldest
// queued first, in batches: each batch locks the chain's head once,
// seals the entries (package audit), stores them in audit_log, removes
// them from the queue and moves the head, in one transaction. It returns
// how many entries it linked. With wait false it returns ErrChainBusy at
// once when another node holds the head (PostgreSQL); with wait true it
// waits, so that everything committed before the call is in the chain
// when it returns (readers of the trail call it first).
func (db *DB) ChainAudit(ctx context.Context, wait bool) (int, error) {
	// Most calls find nothing queued: one read, no transaction, says so.
	var queued bool
	if err := db.Read(withoutCounts(ctx), func(stx sls.Tx) error {
		var one int
		err := stx.(*tx).queryRow(ctx, `SELECT 1 FROM audit_pending LIMIT 1`).Scan(&one)
		queued = err == nil
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	}); err != nil || !queued {
		return 0, wrap("audit pending", err)
	}
	total := 0
	for {
		n, err := db.chainOnce(ctx, wait)
		total += n
		if err != nil || n < chainBatch {
			return total, err
		}
	}
}

func (db *DB) chainOnce(ctx context.Context, wait bool) (int, error) {
	n := 0
	err := db.run(withoutCounts(ctx), db.write, false, func(stx sls.Tx) error {
		t := stx.(*tx)
		n = 0
		lock := t.forUpdate()
		if lock != "" && !wait {
			lock += " SKIP LOCKED"
		}
		var head audit.Entry
		err := t.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+lock).Scan(&head.Seq, &head.Hash)
		if errors.Is(err, sql.ErrNoRows) && !wait {
			return ErrChainBusy
		}
		if err != nil {
			return wrap("audit head", err)
		}
		rows, err := t.query(ctx, `SELECT id, at, actor, event, user_id, device_id, detail FROM audit_pending ORDER BY id LIMIT ?`, chainBatch)
		if err != nil {
			return wrap("audit pending", err)
		}
		var ids []any
		entries, err := collect(rows, func(s scanner) (audit.Entry, error) {
			var e audit.Entry
			var id, at int64
			err := s.Scan(&id, &at, &e.Actor, &e.Event, &e.UserID, &e.DeviceID, &e.Detail)
			e.At = fromMicro(at)
			ids = append(ids, id)
			return e, err
		})
		if err != nil || len(entries) == 0 {
			return err
		}
		prev := &head
		if head.Seq == 0 {
			prev = nil
		}
		for i := range entries {
			e := &entries[i]
			e.Seq = head.Seq + int64(i) + 1
			audit.Seal(e, prev)
			prev = e
		}
		// A few rows per statement: far fewer round trips than one each,
		// and well under either engine's limit on parameters.
		const perInsert = 50
		for start := 0; start < len(entries); start += perInsert {
			part := entries[start:min(start+perInsert, len(entries))]
			args := make([]any, 0, 9*len(part))
			for _, e := range part {
				args = append(args, e.Seq, e.At.UnixMicro(), e.Actor, e.Event, e.UserID, e.DeviceID, e.Detail, e.PrevHash, e.Hash)
			}
			if _, err := t.execOnce(ctx, `INSERT INTO audit_log (seq, at, actor, event, user_id, device_id, detail, prev_hash, hash) VALUES `+
				placeholderRows(len(part), 9), args...); err != nil {
				return wrap("chain audit", err)
			}
		}
		if _, err := t.execOnce(ctx, `DELETE FROM audit_pending WHERE id IN (`+placeholders(len(ids))+`)`, ids...); err != nil {
			return wrap("chain audit", err)
		}
		last := entries[len(entries)-1]
		res, err := t.exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, last.Seq, last.Hash)
		if err := mustAffect("audit head", res, err); err != nil {
			return err
		}
		n = len(entries)
		return nil
	})
	return n, err
}

// placeholderRows is n rows of cols placeholders: "(?, ?), (?, ?)".
func placeholderRows(n, cols int) string {
	row := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// AuditPending returns a channel that receives a value, without
// blocking, after a transaction that queued audit entries commits: the
// node's chainer waits on it.
func (db *DB) AuditPending() <-chan struct{} { return db.auditPending }

// AuditEntries returns chained entries only; call ChainAudit first to
// include everything committed so far.
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
