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

// TestGateHashAndCheck: hashes and checks through a gate wait for its
// slots like logins do, a full gate refuses them without hashing, and a
// nil gate lets them through.
func TestGateHashAndCheck(t *testing.T) {
	ctx := context.Background()
	p := Params{MemoryKiB: 19 * 1024, Iterations: 2, Parallelism: 1}
	g := NewGate(1, 0, time.Millisecond)
	stored, err := g.Hash(ctx, []byte("pw"), p)
	if err != nil {
		t.Fatal(err)
	}
	if ok, _, err := g.Check(ctx, []byte("pw"), stored, p); !ok || err != nil {
		t.Fatalf("check through the gate: %v %v", ok, err)
	}
	release, _ := g.Enter(ctx) // the only slot
	if _, err := g.Hash(ctx, []byte("pw"), p); !errors.Is(err, ErrBusy) {
		t.Fatalf("hash at a full gate: %v, want ErrBusy", err)
	}
	if ok, _, err := g.Check(ctx, []byte("pw"), stored, p); ok || !errors.Is(err, ErrBusy) {
		t.Fatalf("check at a full gate: %v %v, want ErrBusy", ok, err)
	}
	release()
	var none *Gate
	if ok, _, err := none.Check(ctx, []byte("pw"), stored, p); !ok || err != nil {
		t.Fatalf("check without a gate: %v %v", ok, err)
	}
}
