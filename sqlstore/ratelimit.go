package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"math/rand/v2"
	"time"
)

// TakeRateToken applies the generic cell rate algorithm to one row in
// one statement: an upsert that creates the row, or moves its
// theoretical arrival time (tat) when a token is left, and in that case
// writes this request's random mark (hit), which the statement returns.
// The row is locked by the upsert on PostgreSQL (SQLite serialises
// writers), so two nodes never take the same token, and the purge job
// (DeleteRateLimitsBefore) cannot delete the row between a read and a
// write, as there is none.
func (t *tx) TakeRateToken(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (bool, time.Duration, error) {
	if interval <= 0 || burst < 1 {
		return true, 0, nil // no limit configured
	}
	greatest := "max"
	if t.engine == Postgres {
		greatest = "GREATEST"
	}
	mark := rand.Int64N(math.MaxInt64-1) + 1
	n, i, span := now.UnixMicro(), interval.Microseconds(), (time.Duration(burst) * interval).Microseconds()
	// A token is left when, after this request, the bucket would still
	// be within its burst: max(tat, now) + interval - burst × interval <= now.
	left := greatest + `(rate_limits.tat, ?) + ? - ? <= ?`
	var tat, hit int64
	err := t.queryRow(ctx, `INSERT INTO rate_limits (bucket, tat, hit) VALUES (?, ?, ?)
		ON CONFLICT (bucket) DO UPDATE SET
			tat = CASE WHEN `+left+` THEN `+greatest+`(rate_limits.tat, ?) + ? ELSE rate_limits.tat END,
			hit = CASE WHEN `+left+` THEN ? ELSE rate_limits.hit END
		RETURNING tat, hit`,
		key, n+i, mark,
		n, i, span, n, n, i,
		n, i, span, n, mark).Scan(&tat, &hit)
	if err != nil {
		return false, 0, wrap("take rate token", err)
	}
	if hit == mark {
		return true, 0, nil
	}
	return false, retryAfter(tat, n, i, span), nil
}

// retryAfter is how long until the bucket whose arrival time is tat
// (microseconds) has a token again.
func retryAfter(tat, now, interval, span int64) time.Duration {
	return time.Duration(max(tat, now)+interval-span-now) * time.Microsecond
}

func (t *tx) PeekRateToken(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (bool, time.Duration, error) {
	if interval <= 0 || burst < 1 {
		return true, 0, nil
	}
	var tat int64
	err := t.queryRow(ctx, `SELECT tat FROM rate_limits WHERE bucket = ?`, key).Scan(&tat)
	if errors.Is(err, sql.ErrNoRows) {
		return true, 0, nil
	}
	if err != nil {
		return false, 0, wrap("peek rate token", err)
	}
	n, i, span := now.UnixMicro(), interval.Microseconds(), (time.Duration(burst) * interval).Microseconds()
	if max(tat, n)+i-span <= n {
		return true, 0, nil
	}
	return false, retryAfter(tat, n, i, span), nil
}

func (t *tx) DeleteRateLimitsBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM rate_limits WHERE tat < ?`, before.UnixMicro())
	if err != nil {
		return 0, wrap("delete rate limits", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete rate limits", err)
}
