package passhash

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// HeadroomRounds is how many rounds of full slots the heap may grow by
// between two garbage collections when PaceGC is on: with 2 slots at
// 19 MiB, the collector runs about once every 8 hashes instead of once
// every 2 or 3 under the default GOGC=100 (each Argon2id computation
// allocates its whole memory cost at once and drops it when done, while
// the rest of the heap stays a few MiB, so the default's proportional
// goal is hit every few hashes).
const HeadroomRounds = 4

// minLive is the smallest live heap gcPercent divides by: the runtime's
// own minimum goal is 4 MiB × GOGC/100, so dividing by less would push
// that minimum, and so the heap, above live + headroom.
const minLive = 4 << 20

// GCPacing is what PaceGC applied.
type GCPacing struct {
	// Headroom is how far the heap may grow past the live heap before the
	// next collection, at least: HeadroomRounds × slots × memory cost.
	Headroom uint64
	// Reason says why nothing was applied ("" when applied).
	Reason string
}

// pacer keeps the collector's goal at live + max(live, headroom) by
// resetting GOGC after every collection from the heap it found live.
type pacer struct {
	mu       sync.Mutex
	headroom uint64 // 0: stopped
	armed    bool   // a sentinel's cleanup is pending
	adjusted int    // times GOGC was set (tests see the chain work)
	sample   [1]metrics.Sample
}

var (
	paceOnce sync.Once
	paced    *pacer
)

// PaceGC tunes the garbage collector for password hashing, for a process
// that runs at most slots Argon2id computations at once under p.
//
// Why: each computation allocates its memory cost (19 MiB by default) in
// one piece and drops it when done, while the rest of an SLS node's heap
// stays small. Under the default GOGC=100 the collector then runs every
// two or three hashes, and every cycle costs two stop-the-world pauses,
// mark work taken from the hashing CPUs and, on a busy machine, stalls
// while the runtime waits for every thread to stop.
//
// What: after every collection it sets GOGC so that the next goal is
// live + max(live, headroom), headroom = HeadroomRounds × slots × memory
// cost. That is GOGC=100 when the live heap is large, and a fixed number
// of hashes between collections when it is small. The heap therefore
// stays below 2 × live + headroom, where live is at most the rest of the
// process + slots × memory cost (the Gate bounds the computations in
// flight); with the defaults and 2 slots the headroom is 152 MiB.
//
// It does nothing when the operator set GOGC or GOMEMLIMIT in the
// environment (their settings are kept as given), or when slots or the
// memory cost is zero. Calling it again changes the headroom.
func PaceGC(slots int, p Params) GCPacing {
	switch {
	case os.Getenv("GOGC") != "":
		return GCPacing{Reason: "GOGC is set in the environment"}
	case os.Getenv("GOMEMLIMIT") != "":
		return GCPacing{Reason: "GOMEMLIMIT is set in the environment"}
	case slots <= 0 || p.MemoryKiB == 0:
		return GCPacing{Reason: "no hashing slots or no memory cost"}
	}
	headroom := uint64(HeadroomRounds) * uint64(slots) * uint64(p.MemoryKiB) * 1024
	paceOnce.Do(func() {
		paced = &pacer{}
		paced.sample[0].Name = "/gc/heap/live:bytes"
	})
	paced.mu.Lock()
	defer paced.mu.Unlock()
	paced.headroom = headroom
	paced.adjustLocked()
	if !paced.armed {
		paced.armed = true
		paced.arm()
	}
	return GCPacing{Headroom: headroom}
}

// stopPacing gives the collector back GOGC=100 (for tests and benchmarks
// that compare both).
func stopPacing() {
	if paced == nil {
		return
	}
	paced.mu.Lock()
	defer paced.mu.Unlock()
	paced.headroom = 0
	debug.SetGCPercent(100)
}

// sentinel is allocated once per collection cycle; its cleanup runs after
// the cycle that found it unreachable. It is larger than the runtime's
// tiny-allocation size (16 bytes) so that it gets an object of its own
// and its cleanup does run.
type sentinel struct{ _ [64]byte }

// arm registers the cleanup that adjusts GOGC after the next collection
// and arms the one after; after stopPacing the chain ends.
func (p *pacer) arm() {
	runtime.AddCleanup(new(sentinel), func(p *pacer) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.headroom == 0 {
			p.armed = false
			return
		}
		p.adjustLocked()
		p.arm()
	}, p)
}

// adjustLocked sets GOGC from the live heap of the last collection; p.mu
// is held.
func (p *pacer) adjustLocked() {
	metrics.Read(p.sample[:])
	var live uint64
	if p.sample[0].Value.Kind() == metrics.KindUint64 {
		live = p.sample[0].Value.Uint64()
	}
	debug.SetGCPercent(gcPercent(live, p.headroom))
	p.adjusted++
}

// gcPercent is the GOGC that makes the next goal about live + headroom,
// and never below the default 100. A live heap below minLive (none yet
// before the first collection) counts as minLive.
func gcPercent(live, headroom uint64) int {
	live = max(live, minLive)
	return int(max(headroom*100/live, 100))
}
