package sqlstore

import (
	"context"
	"time"
)

// TakeRateToken applies the generic cell rate algorithm to one row. One
// upsert creates the row or, when it exists, locks it (ON CONFLICT DO
// UPDATE takes the row lock on PostgreSQL; SQLite serialises writers
// anyway) and returns its state. Two statements, an INSERT … DO NOTHING
// and then a SELECT … FOR UPDATE, left a gap in which the purge job
// (DeleteRateLimitsBefore) could delete a full bucket: the SELECT then
// found no row and the request failed with "not found".
func (t *tx) TakeRateToken(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (bool, time.Duration, error) {
	if interval <= 0 || burst < 1 {
		return true, 0, nil // no limit configured
	}
	var tatMicro int64
	if err := t.queryRow(ctx, `INSERT INTO rate_limits (bucket, tat) VALUES (?, 0)
		ON CONFLICT (bucket) DO UPDATE SET tat = rate_limits.tat RETURNING tat`, key).Scan(&tatMicro); err != nil {
		return false, 0, wrap("take rate token", err)
	}
	tat := time.UnixMicro(tatMicro)
	if tat.Before(now) {
		tat = now
	}
	// The request is allowed when, after it, the bucket would still be
	// within its burst: newTAT - now <= burst × interval.
	newTAT := tat.Add(interval)
	allowAt := newTAT.Add(-time.Duration(burst) * interval)
	if now.Before(allowAt) {
		return false, allowAt.Sub(now), nil
	}
	if _, err := t.exec(ctx, `UPDATE rate_limits SET tat = ? WHERE bucket = ?`, newTAT.UnixMicro(), key); err != nil {
		return false, 0, wrap("take rate token", err)
	}
	return true, 0, nil
}

func (t *tx) DeleteRateLimitsBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM rate_limits WHERE tat < ?`, before.UnixMicro())
	if err != nil {
		return 0, wrap("delete rate limits", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete rate limits", err)
}
