package sqlstore

import (
	"context"
	"time"
)

// TakeRateToken applies the generic cell rate algorithm to one row. The
// row is created first (ON CONFLICT DO NOTHING, both engines) so that the
// SELECT … FOR UPDATE that follows always finds it and holds it until the
// commit on PostgreSQL; SQLite serialises writers anyway.
func (t *tx) TakeRateToken(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (bool, time.Duration, error) {
	if interval <= 0 || burst < 1 {
		return true, 0, nil // no limit configured
	}
	if _, err := t.exec(ctx, `INSERT INTO rate_limits (bucket, tat) VALUES (?, 0) ON CONFLICT (bucket) DO NOTHING`, key); err != nil {
		return false, 0, wrap("take rate token", err)
	}
	var tatMicro int64
	if err := t.queryRow(ctx, `SELECT tat FROM rate_limits WHERE bucket = ?`+t.forUpdate(), key).Scan(&tatMicro); err != nil {
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
