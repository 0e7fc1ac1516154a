package passhash

import (
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/secure-login-system/sls/passhash/argon2id"
)

// TestGCPercent: GOGC gives the next collection the headroom when the
// live heap is mostly hashes in flight, the default for a big heap, and
// stays within 100..100×HeadroomRounds whatever the live heap.
func TestGCPercent(t *testing.T) {
	const mib = 1 << 20
	const inFlight = 38 * mib // 2 slots × 19 MiB
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 400},          // before the first collection
		{6 * mib, 400},    // idle node: goal 5 × live = 30 MiB
		{38 * mib, 400},   // goal 38 + 152 MiB
		{44 * mib, 345},   // two hashes in flight: goal 44 + 152 MiB
		{152 * mib, 100},  // live = headroom
		{1024 * mib, 100}, // large heap: the default
	} {
		if got := gcPercent(tc.live, inFlight); got != tc.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", tc.live/mib, got, tc.want)
		}
	}
}

// TestPaceGC: pacing raises GOGC, keeps it raised across collections (the
// cleanup re-arms), and stopPacing gives back the default.
func TestPaceGC(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT set: PaceGC steps aside")
	}
	if argon2id.ReusesMemory(Default.Parallelism) {
		if r := PaceGC(2, Default); r.Reason == "" {
			t.Fatalf("PaceGC applied %+v though hashes reuse their memory", r)
		}
	}
	defer stopPacing()
	got := pace(2, Default)
	if want := uint64(HeadroomRounds * 2 * 19456 * 1024); got.Headroom != want || got.Reason != "" {
		t.Fatalf("pace = %+v, want headroom %d", got, want)
	}
	for range 3 {
		n := adjustments()
		runtime.GC()
		for i := 0; adjustments() == n; i++ {
			if i == 1000 {
				t.Fatal("no adjustment after a collection")
			}
			time.Sleep(time.Millisecond) // the cleanup runs on its own goroutine
		}
		waitGOGC(t, func(p uint64) bool { return p > 100 })
	}
	stopPacing()
	waitGOGC(t, func(p uint64) bool { return p == 100 })
	if r := PaceGC(0, Default); r.Reason == "" {
		t.Errorf("PaceGC with no slots applied %+v", r)
	}
}

func adjustments() int {
	paced.mu.Lock()
	defer paced.mu.Unlock()
	return paced.adjusted
}

// waitGOGC waits for the cleanup goroutine to have set GOGC.
func waitGOGC(t *testing.T, ok func(uint64) bool) {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	for range 1000 {
		metrics.Read(s)
		if ok(s[0].Value.Uint64()) {
			return
		}
		time.Sleep(time.Millisecond) // the cleanup runs on its own goroutine
	}
	t.Fatalf("GOGC stayed %d", s[0].Value.Uint64())
}

// BenchmarkCheckConcurrent checks passwords on every CPU at once (as the
// Gate lets a node do) under the default GOGC=100 and under PaceGC, and
// reports each check's p50 and p99, the process's CPU time, page faults
// and collections per check. It prints figures, it asserts nothing (on a
// machine shared with other work, the CPU time per check is the figure
// that contention disturbs least):
//
//	go test ./passhash -run '^$' -bench CheckConcurrent -benchtime 200x
func BenchmarkCheckConcurrent(b *testing.B) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		b.Skip("GOGC or GOMEMLIMIT set: PaceGC steps aside")
	}
	stored, err := Hash([]byte("correct horse"), Default)
	if err != nil {
		b.Fatal(err)
	}
	for _, paced := range []bool{false, true} {
		name := "gogc100"
		if paced {
			name = "paced"
		}
		b.Run(name, func(b *testing.B) {
			if paced {
				pace(runtime.GOMAXPROCS(0), Default)
				defer stopPacing()
			}
			runtime.GC()
			var mu sync.Mutex
			var took []time.Duration
			cycles := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
			metrics.Read(cycles)
			before := cycles[0].Value.Uint64()
			var ru0, ru1 syscall.Rusage
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					t0 := time.Now()
					if ok, _, err := Check([]byte("correct horse"), stored, Default); !ok || err != nil {
						b.Error("check failed", err)
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				took = append(took, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			metrics.Read(cycles)
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(cycles[0].Value.Uint64()-before)/float64(b.N), "gc/op")
			b.ReportMetric(float64(ru1.Minflt-ru0.Minflt)/float64(b.N), "faults/op")
			cpu := time.Duration(syscall.TimevalToNsec(ru1.Utime) + syscall.TimevalToNsec(ru1.Stime) -
				syscall.TimevalToNsec(ru0.Utime) - syscall.TimevalToNsec(ru0.Stime))
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
