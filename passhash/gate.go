package passhash

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/secure-login-system/sls"
)

// ErrBusy is what Gate.Enter's error wraps when every slot is taken and
// the queue is full, or the wait ran out: the error itself is the
// client's answer (sls.CodeUnavailable, "try again shortly", with the
// seconds to wait that the HTTP edge sends as Retry-After), so callers
// return it as it is instead of computing the hash.
var ErrBusy = errors.New("passhash: too many password checks at once")

// Gate bounds how many Argon2id computations run at once. Each one holds
// its memory cost (19 MiB by default) for its duration, so unbounded
// concurrent logins would let anyone exhaust the server's memory; with a
// gate, memory stays below Slots × memory cost + the rest of the process,
// whatever the number of requests (OWASP Denial of Service cheat sheet:
// bound expensive work; OWASP Password Storage: Argon2id's memory is the
// point, so it must be budgeted).
type Gate struct {
	slots   chan struct{}
	queue   int64
	wait    time.Duration
	waiting atomic.Int64
}

// Gate defaults. A waiter costs a parked request, not a hash's memory, so
// the queue can be deeper than the slots: at ~50 ms per hash, 16 waiters
// per slot clear within DefaultWait, and a burst of logins (a market
// opening) waits instead of failing.
const (
	DefaultQueuePerSlot = 16
	DefaultWait         = 2 * time.Second
)

// NewGate lets slots computations run at once (0: runtime.NumCPU()),
// queue more wait for a slot (negative: DefaultQueuePerSlot × slots) for
// at most wait (0: DefaultWait); beyond that Enter fails with ErrBusy.
func NewGate(slots, queue int, wait time.Duration) *Gate {
	if slots <= 0 {
		slots = runtime.NumCPU()
	}
	if queue < 0 {
		queue = DefaultQueuePerSlot * slots
	}
	if wait <= 0 {
		wait = DefaultWait
	}
	return &Gate{slots: make(chan struct{}, slots), queue: int64(queue), wait: wait}
}

// Slots is how many computations may run at once.
func (g *Gate) Slots() int { return cap(g.slots) }

// Enter takes a slot, waiting in the bounded queue if need be, and returns
// the function that gives it back. A nil Gate lets everything through.
func (g *Gate) Enter(ctx context.Context) (release func(), err error) {
	if g == nil {
		return func() {}, nil
	}
	release = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	if g.waiting.Add(1) > g.queue {
		g.waiting.Add(-1)
		return nil, g.busy()
	}
	defer g.waiting.Add(-1)
	t := time.NewTimer(g.wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, g.busy()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// busy is the answer when no slot frees: unavailable, with the gate's
// wait as the time to retry after, wrapping ErrBusy.
func (g *Gate) busy() error {
	return sls.Errorf(sls.CodeUnavailable, "The service is busy. Please try again in a moment.").
		WithDetail("retry_after_seconds", int(math.Ceil(g.wait.Seconds()))).Wrap(ErrBusy)
}

// Check is the package's Check inside the gate: it waits for a slot as
// Enter does, and answers Enter's busy error (or the context's) without
// hashing when none frees in time. A nil Gate lets it through.
func (g *Gate) Check(ctx context.Context, password []byte, stored string, want Params) (ok, needsRehash bool, err error) {
	release, err := g.Enter(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	return Check(password, stored, want)
}

// Hash is the package's Hash inside the gate, as Check is.
func (g *Gate) Hash(ctx context.Context, password []byte, p Params) (string, error) {
	release, err := g.Enter(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return Hash(password, p)
}
