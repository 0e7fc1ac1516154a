package sls

import (
	"context"
	"time"
)

// RateLimitStore keeps the state of the rate limits (package ratelimit)
// in the database, so that every node counts against the same budget.
type RateLimitStore interface {
	// TakeRateToken takes one token for key at now from a bucket that
	// refills one token every interval and holds at most burst tokens
	// (GCRA: the row holds the key's theoretical arrival time). It is
	// atomic across nodes. When no token is left it changes nothing and
	// returns allowed false and how long until one is.
	TakeRateToken(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (allowed bool, retryAfter time.Duration, err error)
	// PeekRateToken reports what TakeRateToken would answer, changing
	// nothing (a read).
	PeekRateToken(ctx context.Context, key string, now time.Time, interval time.Duration, burst int) (allowed bool, retryAfter time.Duration, err error)
	// DeleteRateLimitsBefore removes keys whose bucket is full again at t
	// (they mean the same as no row) and returns how many it removed.
	DeleteRateLimitsBefore(ctx context.Context, t time.Time) (int64, error)
}
