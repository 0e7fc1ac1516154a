package passhash

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"

	"github.com/secure-login-system/sls/passhash/argon2id"
)

// HeadroomRounds is how many rounds of full slots the heap may grow by
// between two garbage collections when PaceGC is on: with 2 slots at
// 19 MiB, the collector runs about once every 5 to 8 hashes instead of
// once every 2 or 3 under the default GOGC=100. It is also the most
// PaceGC multiplies GOGC by: GOGC stays within 100..100×HeadroomRounds.
const HeadroomRounds = 4

// GCPacing is what PaceGC applied.
type GCPacing struct {
	// Headroom is how far the heap may grow past a live heap of at least
	// slots × memory cost before the next collection:
	// HeadroomRounds × slots × memory cost.
	Headroom uint64
	// Reason says why nothing was applied ("" when applied).
	Reason string
}

// pacer resets GOGC after every collection from the heap it found live.
type pacer struct {
	mu       sync.Mutex
	inFlight uint64 // slots × memory cost; 0: stopped
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
// What: after every collection it sets GOGC from the live heap found:
// with S = slots × memory cost (what the Gate lets be in flight) and
// H = HeadroomRounds × S, GOGC = 100 × H / live, kept within 100 and
// 100 × HeadroomRounds. So the next collection comes when the heap has
// grown by:
//   - H (the default: 152 MiB for 2 slots) when live is between S and H:
//     a node whose live heap is mostly hashes in flight;
//   - live (GOGC=100) when live is above H: a big heap keeps the
//     runtime's default pacing;
//   - HeadroomRounds × live when live is below S: an idle node's heap
//     stays small.
//
// Whatever the timing of the adjustment (it runs after each cycle, on
// the runtime's cleanup goroutine), GOGC never exceeds 100 ×
// HeadroomRounds, so the heap stays below (1 + HeadroomRounds) × live,
// where live is at most the rest of the process + 2 × S (hashes in
// flight, and hashes that started during the marking, which count as
// live until the next cycle).
//
// It does nothing when the operator set GOGC or GOMEMLIMIT in the
// environment (their settings are kept as given), when slots or the
// memory cost is zero, or when the hash reuses its memory
// (argon2id.ReusesMemory: one lane on a CPU with AVX2, the default): then
// a login allocates little and the runtime's own pacing is the right one.
// Calling it again changes the headroom.
func PaceGC(slots int, p Params) GCPacing {
	switch {
	case os.Getenv("GOGC") != "":
		return GCPacing{Reason: "GOGC is set in the environment"}
	case os.Getenv("GOMEMLIMIT") != "":
		return GCPacing{Reason: "GOMEMLIMIT is set in the environment"}
	case slots <= 0 || p.MemoryKiB == 0:
		return GCPacing{Reason: "no hashing slots or no memory cost"}
	case argon2id.ReusesMemory(p.Parallelism):
		return GCPacing{Reason: "password hashes reuse their memory"}
	}
	return pace(slots, p)
}

// pace is PaceGC without its reasons to step aside (slots and the memory
// cost are positive): it starts or retunes the pacing.
func pace(slots int, p Params) GCPacing {
	inFlight := uint64(slots) * uint64(p.MemoryKiB) * 1024
	paceOnce.Do(func() {
		paced = &pacer{}
		paced.sample[0].Name = "/gc/heap/live:bytes"
	})
	paced.mu.Lock()
	defer paced.mu.Unlock()
	paced.inFlight = inFlight
	paced.adjustLocked()
	if !paced.armed {
		paced.armed = true
		paced.arm()
	}
	return GCPacing{Headroom: HeadroomRounds * inFlight}
}

// stopPacing gives the collector back GOGC=100 (for tests and benchmarks
// that compare both).
func stopPacing() {
	if paced == nil {
		return
	}
	paced.mu.Lock()
	defer paced.mu.Unlock()
	paced.inFlight = 0
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
		if p.inFlight == 0 {
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
	debug.SetGCPercent(gcPercent(live, p.inFlight))
	p.adjusted++
}

// gcPercent is the GOGC for a live heap: 100 × HeadroomRounds ×
// inFlight / live, within 100 and 100 × HeadroomRounds (see PaceGC).
func gcPercent(live, inFlight uint64) int {
	const most = 100 * HeadroomRounds
	if live <= inFlight {
		return most
	}
	return int(max(most*inFlight/live, 100))
}
