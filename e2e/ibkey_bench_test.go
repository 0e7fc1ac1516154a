package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestIBKeyBenchmark measures, on the real binaries, the push round trip
// (login request → notification received by ibkey → approval with the
// matched number → login complete) over many logins, and how many idle
// app connections one node holds per GiB of memory. It is opt-in:
//
//	SLS_IBKEY_BENCH=1 [SLS_IBKEY_BENCH_N=1000] [SLS_IBKEY_BENCH_CONNS=5000] \
//	[SLS_IBKEY_BENCH_DB=postgres] go test ./e2e -run TestIBKeyBenchmark -v -timeout 30m
func TestIBKeyBenchmark(t *testing.T) {
	if os.Getenv("SLS_IBKEY_BENCH") == "" {
		t.Skip("set SLS_IBKEY_BENCH=1 to run the IB Key benchmark")
	}
	logins := envInt("SLS_IBKEY_BENCH_N", 1000)
	conns := envInt("SLS_IBKEY_BENCH_CONNS", 5000)
	db := ""
	if os.Getenv("SLS_IBKEY_BENCH_DB") == "postgres" {
		db = engines()[1].db(t)
	}
	n := startNode(t, db, withArgs("--log-level", "warn"))
	dir := t.TempDir()
	u := newIBKUser(t, n, "bench", "U9901")
	st := filepath.Join(dir, "phone.json")
	ibkActivateQR(t, n, u.session(t, n, "portal"), st, "android")
	n.mustCtl("", "device", "revoke", cardID(t, n, "bench"), "--reason", "benchmark: IB Key only")
	nums := ibkNumbers(filepath.Join(dir, "numbers"))
	l := ibkStartListener(t, st, "--approve-number-from", string(nums))

	var total, push, notify []time.Duration
	for i := 0; i < logins; i++ {
		t0 := time.Now()
		r := startLogin(t, n, "bench", "trading")
		t1 := time.Now()
		pushID, number := r.str("prompt", "extra", "push_id"), r.str("prompt", "match_number")
		if pushID == "" {
			t.Fatalf("login %d: no push: %s", i, r.Raw)
		}
		nums.add(t, pushID, number)
		w := ibkWait(t, n, r.str("login_id"), 10000)
		if w.str("prompt", "extra", "push") != "approved" {
			t.Fatalf("login %d: %s", i, w.Raw)
		}
		if done := answer(t, n, r.str("login_id"), ""); done.Status != 201 {
			t.Fatalf("login %d: %s", i, done.Raw)
		}
		t2 := time.Now()
		ev := l.next(t, "push", 5*time.Second)
		if at, err := time.Parse(time.RFC3339Nano, ev["at"].(string)); err == nil {
			notify = append(notify, at.Sub(t0))
		}
		l.next(t, "answered", 5*time.Second)
		total, push = append(total, t2.Sub(t0)), append(push, t2.Sub(t1))
	}
	engine := "sqlite"
	if db != "" {
		engine = "postgres"
	}
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("machine: %d CPUs (%s), GOMAXPROCS %d, load average %s, engine %s, one node, app and client on the same host",
		runtime.NumCPU(), cpuModel(), runtime.GOMAXPROCS(0), strings.Join(strings.Fields(string(load))[:3], " "), engine)
	t.Logf("push logins: %d", logins)
	t.Logf("  full round trip (password check incl.): median %s  p99 %s", pct(total, 50), pct(total, 99))
	t.Logf("  push part (login answered → complete):  median %s  p99 %s", pct(push, 50), pct(push, 99))
	t.Logf("  login request → notification in ibkey:  median %s  p99 %s", pct(notify, 50), pct(notify, 99))
	l.cmd.Process.Kill()
	l.cmd.Wait()

	// Idle app connections: RSS growth of the node per connection.
	raw, _ := os.ReadFile(st)
	var state struct {
		Token string `json:"token"`
	}
	json.Unmarshal(raw, &state)
	n.restart() // a fresh process: the logins' garbage would blur the figure
	pid := n.cmd.Process.Pid
	time.Sleep(2 * time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true}
	client := &http.Client{Transport: tr}
	opened, base := 0, conns/10
	var before int
	for i := 0; i < conns; i++ {
		if i == base {
			// Measure from a tenth of the connections on, so the runtime's
			// own start-up growth is not counted as theirs.
			time.Sleep(3 * time.Second)
			before = rssKiB(t, pid)
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", n.url+"/api/v1/ibkey/app/events", nil)
		req.Header.Set("Authorization", "Bearer "+state.Token)
		resp, err := client.Do(req)
		if err != nil {
			t.Logf("connection %d: %v", i, err)
			break
		}
		br := bufio.NewReader(resp.Body)
		if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "event: hello") {
			t.Fatalf("connection %d: %q %v", i, line, err)
		}
		defer resp.Body.Close()
		opened++
	}
	time.Sleep(3 * time.Second)
	after := rssKiB(t, pid)
	per := float64(after-before) * 1024 / float64(opened-base)
	t.Logf("idle app connections: %d open; node RSS %d MiB at %d connections → %d MiB at %d; %.1f KiB each; ≈ %.0f connections per GiB",
		opened, before/1024, base, after/1024, opened, per/1024, float64(1<<30)/per)
}

func envInt(k string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil && v > 0 {
		return v
	}
	return def
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (len(s)*p + 99) / 100
	if i < 1 {
		i = 1
	}
	return s[i-1].Round(100 * time.Microsecond)
}

func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			v, _ := strconv.Atoi(f[1])
			return v
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			return strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
		}
	}
	return "unknown CPU"
}

// cardID finds the id of a user's code card.
func cardID(t *testing.T, n *node, user string) string {
	t.Helper()
	for _, line := range strings.Split(n.mustCtl("", "devices", user), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[1] == "codecard" {
			return f[0]
		}
	}
	t.Fatalf("no code card for %s", user)
	return ""
}
