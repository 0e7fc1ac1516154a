package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("RateLimits", testRateLimits)
	Register("ConcurrentRateLimits", testConcurrentRateLimits)
	Register("RateLimitPurgeRace", testRateLimitPurgeRace)
}

func take(t *testing.T, s sls.Store, key string, now time.Time, every time.Duration, burst int) (bool, time.Duration) {
	t.Helper()
	var ok bool
	var wait time.Duration
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		var err error
		ok, wait, err = tx.TakeRateToken(ctx, key, now, every, burst)
		return err
	})
	return ok, wait
}

// testRateLimits: a bucket allows its burst at once, then one request per
// interval, with the exact wait; keys are independent; a refused request
// costs nothing; purging drops only full buckets.
func testRateLimits(t *testing.T, s sls.Store) {
	every := 6 * time.Second // 10 a minute
	for i := 0; i < 3; i++ {
		if ok, _ := take(t, s, "a", t0, every, 3); !ok {
			t.Fatalf("request %d within the burst refused", i+1)
		}
	}
	ok, wait := take(t, s, "a", t0, every, 3)
	if ok || wait != every {
		t.Fatalf("over the burst: ok=%v wait=%v, want refused and %v", ok, wait, every)
	}
	if ok, _ := take(t, s, "b", t0, every, 3); !ok {
		t.Fatal("another key was limited by the first")
	}
	// Refused requests do not push the wait further.
	ok, wait = take(t, s, "a", t0.Add(2*time.Second), every, 3)
	if ok || wait != 4*time.Second {
		t.Fatalf("2s later: ok=%v wait=%v, want refused and 4s", ok, wait)
	}
	if ok, _ := take(t, s, "a", t0.Add(every), every, 3); !ok {
		t.Fatal("one interval later the request was refused")
	}
	if ok, _ := take(t, s, "a", t0.Add(every), every, 3); ok {
		t.Fatal("a second request in the same interval was allowed")
	}
	// Microsecond precision survives the round trip.
	ok, wait = take(t, s, "a", t0.Add(every+1500*time.Microsecond), every, 3)
	if ok || wait != every-1500*time.Microsecond {
		t.Fatalf("wait %v, want %v", wait, every-1500*time.Microsecond)
	}
	// No limit configured: always allowed, nothing stored.
	if ok, _ := take(t, s, "c", t0, 0, 0); !ok {
		t.Fatal("a zero rule refused")
	}
	var n int64
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		var err error
		n, err = tx.DeleteRateLimitsBefore(ctx, t0.Add(7*time.Second))
		return err
	})
	if n != 1 { // "b" (full again at t0+6s); "a" is full only at t0+24s
		t.Fatalf("purged %d buckets, want 1", n)
	}
	ok, _ = take(t, s, "a", t0.Add(7*time.Second), every, 3)
	if ok {
		t.Fatal("purge dropped a bucket still in use")
	}
}

// testConcurrentRateLimits: concurrent takers (as on several nodes) never
// get more than the burst.
func testConcurrentRateLimits(t *testing.T, s sls.Store) {
	const burst, takers = 5, 20
	var mu sync.Mutex
	allowed := 0
	var wg sync.WaitGroup
	for i := 0; i < takers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ok bool
			err := s.Update(context.Background(), func(tx sls.Tx) error {
				var err error
				ok, _, err = tx.TakeRateToken(context.Background(), "shared", t0, time.Minute, burst)
				return err
			})
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if allowed != burst {
		t.Fatalf("%d of %d concurrent takers allowed, want exactly %d", allowed, takers, burst)
	}
}

// testRateLimitPurgeRace: taking tokens while the purge deletes buckets
// never fails (a bucket deleted between its creation and its lock used
// to answer "not found").
func testRateLimitPurgeRace(t *testing.T, s sls.Store) {
	ctx := context.Background()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = s.Update(ctx, func(tx sls.Tx) error {
				_, err := tx.DeleteRateLimitsBefore(ctx, t0.Add(time.Hour))
				return err
			})
		}
	}()
	defer func() { close(stop); <-done }()
	for i := range 200 {
		err := s.Update(ctx, func(tx sls.Tx) error {
			_, _, err := tx.TakeRateToken(ctx, "race", t0, time.Millisecond, 1000)
			return err
		})
		if err != nil {
			t.Fatalf("take %d while purging: %v", i, err)
		}
	}
}
