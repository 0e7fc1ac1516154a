package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secure-login-system/sls/operators"
)

// TestSlsbench runs the load command against a real node as an operator
// would: it creates its users through the operator API, logs them in
// with their cards, reports figures, and removes the users with a second
// operator's approval (dual control on user.delete).
func TestSlsbench(t *testing.T) {
	dual := map[string]bool{}
	for _, a := range operators.Actions {
		dual[a] = a == operators.ActionUserDelete
	}
	ops, _ := json.Marshal(map[string]any{"operators": map[string]any{"dual_control": dual}})
	cfg := filepath.Join(t.TempDir(), "bench.json")
	if err := os.WriteFile(cfg, ops, 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "", withArgs("--log-level", "warn", "--config", cfg))
	n.opToken()
	card := filepath.Join(t.TempDir(), "approver-card.json")
	n.mustCtl("second staff passphrase\n", "operator", "add", "approver", "--roles", "client-services", "--pin", "4321", "--out", card)
	approverTok := filepath.Join(t.TempDir(), "approver.token")
	if out, err := slsctlLogin(t, n, approverTok, "approver", "second staff passphrase", card, "4321"); err != nil {
		t.Fatalf("approver login: %v\n%s", err, out)
	}

	bench := func(args ...string) (map[string]any, string) {
		t.Helper()
		full := append([]string{"--server", n.url, "--token-file", n.opTokenFile(), "-o", "json", "--warmup", "0", "--bound-time", "300ms"}, args...)
		cmd := exec.Command(bin["slsbench"], full...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("slsbench %v: %v\n%s%s", args, err, out, stderr.String())
		}
		var rep map[string]any
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("report: %v\n%s", err, out)
		}
		return rep, stderr.String()
	}

	rep, log := bench("-c", "2", "-d", "2s", "--approver-token-file", approverTok)
	if rep["flows"].(float64) < 1 || rep["error_count"].(float64) != 0 || rep["ratio_to_bound"].(float64) <= 0 {
		t.Fatalf("report: %v\n%s", rep, log)
	}
	steps := map[string]bool{}
	for _, s := range rep["steps"].([]any) {
		m := s.(map[string]any)
		steps[m["step"].(string)] = m["p50_ms"].(float64) > 0 && m["p99_ms"].(float64) >= m["p50_ms"].(float64)
	}
	for _, s := range []string{"password", "answer", "logout", "flow"} {
		if !steps[s] {
			t.Errorf("step %s missing or without figures: %v", s, rep["steps"])
		}
	}
	prefix := rep["user_prefix"].(string)
	if !strings.Contains(log, "removed 2 test users") {
		t.Errorf("users not removed:\n%s", log)
	}
	if r := call(t, "GET", n.url+"/api/v1/ops/users/"+prefix+"0", n.opToken(), nil); r.str("deleted_at") == "" {
		t.Errorf("test user not deleted: %d %s", r.Status, r.Raw)
	}

	// The full login without logout, with the store's work read from the
	// node's metrics around the measured window.
	rep, log = bench("-c", "2", "-d", "1s", "--flow", "login", "--metrics", n.url+"/metrics", "--approver-token-file", approverTok)
	if rep["flows"].(float64) < 1 || rep["error_count"].(float64) != 0 {
		t.Fatalf("login flow: %v\n%s", rep, log)
	}
	steps = map[string]bool{}
	for _, s := range rep["steps"].([]any) {
		steps[s.(map[string]any)["step"].(string)] = true
	}
	if !steps["password"] || !steps["answer"] || steps["logout"] {
		t.Errorf("login flow steps: %v", rep["steps"])
	}
	store, _ := rep["store"].(map[string]any)
	if store == nil || store["transactions"].(float64) < rep["flows"].(float64) || store["transactions_per_flow"].(float64) <= 0 {
		t.Errorf("store figures: %v", rep["store"])
	}
	t.Logf("login flow: %.1f flows/s, store per flow: %v", rep["flows_per_second"].(float64), store)
	// The same in text: the ratio says what it divides.
	cmd := exec.Command(bin["slsbench"], "--server", n.url, "--token-file", n.opTokenFile(), "--warmup", "0", "--bound-time", "200ms",
		"-c", "1", "-d", "500ms", "--flow", "login", "--metrics", n.url+"/metrics", "--approver-token-file", approverTok)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "flows/s ÷ bound") || !strings.Contains(string(out), "transactions") {
		t.Errorf("text report: %v\n%s", err, out)
	}

	// Without an approver, the users are disabled and the operator is told
	// how to delete them; the password flow needs no card.
	rep, log = bench("-c", "1", "-d", "1s", "--flow", "password")
	if rep["flows"].(float64) < 1 || rep["error_count"].(float64) != 0 || !strings.Contains(log, "slsctl user delete") {
		t.Fatalf("password flow: %v\n%s", rep, log)
	}
	if r := call(t, "GET", n.url+"/api/v1/ops/users/"+rep["user_prefix"].(string)+"0", n.opToken(), nil); r.Status != 200 || r.str("disabled_at") == "" {
		t.Errorf("left-over user not disabled: %s", r.Raw)
	}

	// Usage mistakes exit 2 and say why.
	cmd = exec.Command(bin["slsbench"], "--flow", "nonsense")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "--flow") {
		t.Errorf("bad flag: %v %s", err, out)
	}
	// A --metrics URL that is not an SLS node's metrics fails the run
	// before any load, and the users are still removed.
	cmd = exec.Command(bin["slsbench"], "--server", n.url, "--token-file", n.opTokenFile(), "--bound-time", "0", "--warmup", "0",
		"-c", "1", "-d", "1s", "--flow", "password", "--metrics", n.url+"/healthz")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--metrics") {
		t.Errorf("bad metrics URL: %v %s", err, out)
	}
}

// TestCheapHashRefusedByDefault: the parameters scripts/bench-ceiling
// gives its nodes (built with -tags slsbench_cheaphash) are refused by
// the ordinary build, whose floor is OWASP's minimum.
func TestCheapHashRefusedByDefault(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "cheap.json")
	if err := os.WriteFile(cfg, []byte(`{"login":{"argon2":{"memory_kib":64,"iterations":1,"parallelism":1}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin["slsd"], "--check-config", "--config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "OWASP") {
		t.Fatalf("the default build accepts a cheap hash: %v\n%s", err, out)
	}
}
