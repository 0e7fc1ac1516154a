package sqlstore

import (
	"context"
	"time"
)

func (t *tx) ClaimJob(ctx context.Context, name string, now, next time.Time) (bool, error) {
	if _, err := t.exec(ctx, `INSERT INTO job_schedule (name, next_run_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`,
		name, now.UnixMicro()); err != nil {
		return false, wrap("claim job", err)
	}
	// The conditional UPDATE is the claim: on PostgreSQL a second node
	// blocks on the row and then finds the condition false.
	res, err := t.exec(ctx, `UPDATE job_schedule SET next_run_at = ?, last_run_at = ? WHERE name = ? AND next_run_at <= ?`,
		next.UnixMicro(), now.UnixMicro(), name, now.UnixMicro())
	if err != nil {
		return false, wrap("claim job", err)
	}
	n, err := res.RowsAffected()
	return n == 1, wrap("claim job", err)
}

func (t *tx) JobSchedule(ctx context.Context) (map[string]time.Time, error) {
	rows, err := t.query(ctx, `SELECT name, next_run_at FROM job_schedule`)
	if err != nil {
		return nil, wrap("job schedule", err)
	}
	out := map[string]time.Time{}
	type entry struct {
		name string
		next int64
	}
	list, err := collect(rows, func(s scanner) (entry, error) {
		var e entry
		return e, s.Scan(&e.name, &e.next)
	})
	for _, e := range list {
		out[e.name] = fromMicro(e.next)
	}
	return out, wrap("job schedule", err)
}
