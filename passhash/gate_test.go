package passhash

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestGate: slots run at once, the queue holds a bounded number of
// waiters, and anyone beyond is refused at once.
func TestGate(t *testing.T) {
	g := NewGate(2, 1, time.Hour)
	ctx := context.Background()
	r1, err1 := g.Enter(ctx)
	r2, err2 := g.Enter(ctx)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	entered := make(chan error)
	go func() {
		r, err := g.Enter(ctx) // waits in the queue
		if err == nil {
			r()
		}
		entered <- err
	}()
	for g.waiting.Load() != 1 {
		time.Sleep(time.Millisecond) // wait for the goroutine to queue, not for a time
	}
	if _, err := g.Enter(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("queue full: got %v, want ErrBusy", err)
	}
	r1()
	if err := <-entered; err != nil {
		t.Fatalf("queued caller: %v", err)
	}
	r2()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	full := NewGate(1, 4, time.Hour)
	full.Enter(ctx)
	if _, err := full.Enter(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
	short := NewGate(1, 4, time.Millisecond)
	short.Enter(ctx)
	if _, err := short.Enter(ctx); !errors.Is(err, ErrBusy) {
		t.Fatalf("timed-out wait: %v", err)
	}
	var none *Gate
	if r, err := none.Enter(ctx); err != nil {
		t.Fatal(err)
	} else {
		r()
	}
}
