package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHashingLoad fires many concurrent password logins at one real slsd
// and prints the process's peak memory (VmHWM), how many logins were
// refused as busy (503 with Retry-After) by the bound on concurrent
// Argon2id computations, and whether slsd paced its garbage collector
// for the hashes (passhash.PaceGC; SLS_HASH_BENCH_GOGC=100 gives the node
// GOGC=100, which turns the pacing off, to compare). It prints figures and asserts only what the
// bound promises (every answer is 401 or 503; every 503 has Retry-After).
// It is opt-in (it loads the machine):
//
//	SLS_HASH_BENCH=1 [SLS_HASH_BENCH_N=200] [SLS_HASH_BENCH_SLOTS=0 (CPUs)] \
//	[SLS_HASH_BENCH_QUEUE=-1 (16 × slots)] [SLS_HASH_BENCH_GOGC=100] \
//	go test ./e2e -run TestHashingLoad -v
func TestHashingLoad(t *testing.T) {
	if os.Getenv("SLS_HASH_BENCH") == "" {
		t.Skip("set SLS_HASH_BENCH=1 to run the hashing load test")
	}
	logins := envInt("SLS_HASH_BENCH_N", 200)
	limits := strings.TrimSuffix(relaxedLimits, "}")
	if s := envInt("SLS_HASH_BENCH_SLOTS", 0); s > 0 {
		limits += fmt.Sprintf(`, "hash_concurrency": %d`, s)
	}
	if q := os.Getenv("SLS_HASH_BENCH_QUEUE"); q != "" {
		limits += fmt.Sprintf(`, "hash_queue": %s`, q)
	}
	if g := os.Getenv("SLS_HASH_BENCH_GOGC"); g != "" {
		t.Setenv("GOGC", g) // the node inherits it; this process's GC is already set
	}
	n := startNode(t, "", withArgs("--log-level", "info", "--config", limitsConfig(t, limits+"}")))
	pid := n.cmd.Process.Pid
	base := procStatus(t, pid, "VmRSS")

	statuses := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	missingRetry := 0
	start := make(chan struct{})
	for i := 0; i < logins; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			// Unknown users: the server hashes against a dummy so they
			// cost what a real user costs.
			g := guessFrom(t, n, fmt.Sprintf("load%04d", i), "wrong password", "")
			mu.Lock()
			defer mu.Unlock()
			statuses[g.status]++
			if g.status == http.StatusServiceUnavailable && g.retry == "" {
				missingRetry++
			}
		}()
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	took := time.Since(t0)
	peak := procStatus(t, pid, "VmHWM")
	t.Logf("%d concurrent logins in %v: %v (status: count)", logins, took.Round(time.Millisecond), statuses)
	t.Logf("slsd RSS before %s, peak (VmHWM) %s", base, peak)
	gc := "runtime"
	if strings.Contains(n.logs.String(), "garbage collector paced for password hashing") {
		gc = "paced"
	}
	fmt.Printf("hashing load: logins=%d slots=%s gc=%s peak_rss=%s base_rss=%s refused_503=%d answered_401=%d took=%v\n",
		logins, os.Getenv("SLS_HASH_BENCH_SLOTS"), gc, peak, base, statuses[503], statuses[401], took.Round(time.Millisecond))
	for st := range statuses {
		if st != http.StatusUnauthorized && st != http.StatusServiceUnavailable {
			t.Errorf("unexpected status %d", st)
		}
	}
	if missingRetry > 0 {
		t.Errorf("%d busy answers without Retry-After", missingRetry)
	}
}

// procStatus reads one field (e.g. "VmHWM: 123456 kB") of a process's
// /proc status.
func procStatus(t *testing.T, pid int, field string) string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == field {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return "?"
}
