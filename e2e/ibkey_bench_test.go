package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestIBKeyBenchmark measures, on the real binaries, the push round trip
// (password accepted → notification received by ibkey → approval with the
// matched number → the login page's wait returns → login complete) over
// many logins, and how many idle app connections one node holds per GiB of
// memory. It reports figures and never fails on one. It is opt-in:
//
//	SLS_IBKEY_BENCH=1 [SLS_IBKEY_BENCH_N=1000] [SLS_IBKEY_BENCH_CONNS=15000] \
//	[SLS_IBKEY_BENCH_DB=postgres] go test ./e2e -run TestIBKeyBenchmark -v -timeout 30m
func TestIBKeyBenchmark(t *testing.T) {
	if os.Getenv("SLS_IBKEY_BENCH") == "" {
		t.Skip("set SLS_IBKEY_BENCH=1 to run the IB Key benchmark")
	}
	logins := envInt("SLS_IBKEY_BENCH_N", 1000)
	// The node and this process each hold one descriptor per connection;
	// the node inherits this process's limit.
	conns := min(envInt("SLS_IBKEY_BENCH_CONNS", 15000), raiseFileLimit(t)-500)
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

	// Per login: t0 request sent, t1 password accepted (the login
	// answered), then the push seen by the app, its approval answered, the
	// page's wait returned, and t2 the login complete.
	var total, push, notify, seen, approved, waited, completed []time.Duration
	stamp := func(ev map[string]any) time.Time {
		at, _ := time.Parse(time.RFC3339Nano, ev["at"].(string))
		return at
	}
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
		tw := time.Now()
		if w.str("prompt", "extra", "push") != "approved" {
			t.Fatalf("login %d: %s", i, w.Raw)
		}
		if done := answer(t, n, r.str("login_id"), ""); done.Status != 201 {
			t.Fatalf("login %d: %s", i, done.Raw)
		}
		t2 := time.Now()
		at := stamp(l.next(t, "push", 5*time.Second))
		ans := stamp(l.next(t, "answered", 5*time.Second))
		notify, seen, approved = append(notify, at.Sub(t0)), append(seen, at.Sub(t1)), append(approved, ans.Sub(t1))
		waited, completed = append(waited, tw.Sub(t1)), append(completed, t2.Sub(tw))
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
	t.Logf("  push round trip (password accepted → login complete): median %s  p99 %s", pct(push, 50), pct(push, 99))
	for _, q := range []int{50, 99} {
		t.Logf("    of which (p%d): push in ibkey %s, approval answered %s, wait returned %s (from password accepted); completion %s",
			q, pct(seen, q), pct(approved, q), pct(waited, q), pct(completed, q))
	}
	t.Logf("  full round trip (password check incl.):               median %s  p99 %s", pct(total, 50), pct(total, 99))
	t.Logf("  login request → notification in ibkey:               median %s  p99 %s", pct(notify, 50), pct(notify, 99))
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
	// A bare request per connection, so this process stays small.
	req := "GET /api/v1/ibkey/app/events HTTP/1.1\r\nHost: " + strings.TrimPrefix(n.url, "http://") +
		"\r\nAuthorization: Bearer " + state.Token + "\r\nAccept: text/event-stream\r\n\r\n"
	opened, base := 0, conns/10
	var before int
	for i := 0; i < conns; i++ {
		if i == base {
			// Measure from a tenth of the connections on, so the runtime's
			// own start-up growth is not counted as theirs.
			time.Sleep(3 * time.Second)
			before = rssKiB(t, pid)
		}
		c, err := net.Dial("tcp", strings.TrimPrefix(n.url, "http://"))
		if err != nil {
			t.Logf("connection %d: %v", i, err)
			break
		}
		defer c.Close()
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if head, err := readUntil(c, "event: hello"); err != nil {
			t.Fatalf("connection %d: %q %v", i, head, err)
		}
		opened++
	}
	time.Sleep(3 * time.Second)
	after := rssKiB(t, pid)
	per := float64(after-before) * 1024 / float64(opened-base)
	t.Logf("idle app connections: %d open; node RSS %d MiB at %d connections → %d MiB at %d; %.1f KiB each; ≈ %.0f connections per GiB",
		opened, before/1024, base, after/1024, opened, per/1024, float64(1<<30)/per)
}

// raiseFileLimit raises this process's open-file limit to its hard limit
// and returns it.
func raiseFileLimit(t *testing.T) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Logf("raising the open-file limit: %v", err)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return int(min(lim.Cur, 1<<20))
}

// readUntil reads from c until what was read contains s.
func readUntil(c net.Conn, s string) (string, error) {
	var got []byte
	buf := make([]byte, 512)
	for !strings.Contains(string(got), s) {
		k, err := c.Read(buf)
		got = append(got, buf[:k]...)
		if err != nil {
			return string(got), err
		}
	}
	return string(got), nil
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
