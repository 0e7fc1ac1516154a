package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/operators"

	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// bin holds the paths of the programs built for this test run.
var bin = map[string]string{}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sls-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, name := range []string{"slsd", "slsctl", "dsccard", "ibkey", "slsbench"} {
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", out, "../cmd/"+name)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n", name, err)
			os.Exit(1)
		}
		bin[name] = out
	}
	code := m.Run()
	if errs := strayErrors(); len(errs) > 0 {
		fmt.Fprintf(os.Stderr, "answers received outside a test's goroutine do not match api/openapi.json:\n%s\n", strings.Join(errs, "\n"))
		code = 1
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// engine is one database setup the journeys run on.
type engine struct {
	name string
	// db returns the --db value for a fresh database ("" = SQLite in the
	// node's data directory).
	db func(t *testing.T) string
}

func engines() []engine {
	return []engine{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return storetest.PostgresDSN(t) }},
	}
}

// forEachEngine runs fn on SQLite and, when configured, PostgreSQL.
func forEachEngine(t *testing.T, fn func(t *testing.T, db string)) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) { fn(t, e.db(t)) })
	}
}

// node is one running slsd.
type node struct {
	t         *testing.T
	url       string
	dataDir   string
	db        string
	clockFile string
	extra     []string
	cmd       *exec.Cmd
	logs      *syncBuffer
	done      chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type nodeOpt func(*node)

// withDataDir shares a data directory (seal key, operator token) between
// nodes, as a deployment shares them through configuration management.
func withDataDir(dir string) nodeOpt { return func(n *node) { n.dataDir = dir } }

// withClockFile makes the node's time follow the offset in path.
func withClockFile(path string) nodeOpt { return func(n *node) { n.clockFile = path } }

// withArgs adds command-line arguments.
func withArgs(args ...string) nodeOpt { return func(n *node) { n.extra = append(n.extra, args...) } }

// startNode starts slsd on a free port and waits until it is ready.
func startNode(t *testing.T, db string, opts ...nodeOpt) *node {
	t.Helper()
	n := &node{t: t, db: db}
	for _, o := range opts {
		o(n)
	}
	if n.dataDir == "" {
		n.dataDir = t.TempDir()
	}
	n.start()
	t.Cleanup(func() { n.stop() })
	return n
}

func (n *node) start() {
	t := n.t
	t.Helper()
	addrFile := filepath.Join(t.TempDir(), "addr")
	// --sftp-listen: every node gets its own SFTP port, as it does for HTTP.
	args := []string{"--listen", "127.0.0.1:0", "--data", n.dataDir, "--addr-file", addrFile, "--log-format", "json", "--sftp-listen", "127.0.0.1:0"}
	if n.db != "" {
		args = append(args, "--db", n.db)
	}
	if n.clockFile != "" {
		args = append(args, "--test-clock-file", n.clockFile)
	}
	args = append(args, relaxLimits(t, n.extra)...)
	n.logs = &syncBuffer{}
	n.cmd = exec.Command(bin["slsd"], args...)
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.done = make(chan error, 1)
	go func() { n.done <- n.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			n.url = "http://" + strings.TrimSpace(string(b))
			break
		}
		select {
		case err := <-n.done:
			t.Fatalf("slsd exited: %v\n%s", err, n.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("slsd did not start:\n%s", n.logs.String())
		}
	}
}

// relaxedLimits are the rate limits of nodes whose configuration has no
// "limits" section: the journeys log in many times from 127.0.0.1, which
// the defaults (rightly) refuse. Tests of the limits give their own
// section, which is kept.
const relaxedLimits = `{"password_per_address": {"rate": 100000, "per": "1m", "burst": 100000},
	"password_per_address_user": {"rate": 100000, "per": "1m", "burst": 100000},
	"second_factor_per_user": {"rate": 100000, "per": "1m", "burst": 100000},
	"activation_per_address": {"rate": 100000, "per": "1m", "burst": 100000},
	"sms_per_address": {"rate": 100000, "per": "1m", "burst": 100000},
	"operator_per_address": {"rate": 100000, "per": "1m", "burst": 100000},
	"oidc_authorize_per_address": {"rate": 100000, "per": "1m", "burst": 100000}}`

// noDualControl is the operators section of the journeys' nodes: dual
// control off for every action.
var noDualControl = func() string {
	off := map[string]bool{}
	for _, a := range operators.Actions {
		off[a] = false
	}
	b, _ := json.Marshal(map[string]any{"dual_control": off})
	return string(b)
}()

// relaxLimits returns args with the --config file given a "limits"
// section of relaxedLimits when it has none, dual control off when it has
// no "operators" section, and the test sink on unless it says otherwise
// (and a --config holding only those when there is none).
func relaxLimits(t *testing.T, args []string) []string {
	t.Helper()
	out := append([]string(nil), args...)
	at := -1
	for i, a := range out {
		if a == "--config" && i+1 < len(out) {
			at = i + 1
		}
	}
	cfg := map[string]json.RawMessage{}
	if at >= 0 {
		b, err := os.ReadFile(out[at])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatalf("config %s: %v", out[at], err)
		}
	}
	if _, ok := cfg["limits"]; !ok {
		cfg["limits"] = json.RawMessage(relaxedLimits)
	}
	// The journeys act as one operator: dual control (tested on its own)
	// is off, and messages land in the test sink they read.
	if _, ok := cfg["operators"]; !ok {
		cfg["operators"] = json.RawMessage(noDualControl)
	}
	notifySection := map[string]json.RawMessage{}
	if raw, ok := cfg["notify"]; ok {
		if err := json.Unmarshal(raw, &notifySection); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := notifySection["sink"]; !ok {
		notifySection["sink"] = json.RawMessage("true")
	}
	if raw, err := json.Marshal(notifySection); err != nil {
		t.Fatal(err)
	} else {
		cfg["notify"] = raw
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sls-relaxed.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if at >= 0 {
		out[at] = path
		return out
	}
	return append(out, "--config", path)
}

// stop sends SIGTERM and waits for a graceful exit.
func (n *node) stop() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
	case <-time.After(30 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
	if n.t.Failed() {
		n.t.Logf("slsd logs (%s):\n%s", n.dataDir, lastLines(n.logs.String(), 60))
	}
	n.cmd = nil
}

// restart stops and starts the node on the same data directory and database.
func (n *node) restart() {
	n.stop()
	n.start()
}

// kill stops the node at once (SIGKILL), as a crash would.
func (n *node) kill() {
	n.cmd.Process.Kill()
	<-n.done
	n.cmd = nil
}

func lastLines(s string, k int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > k {
		lines = lines[len(lines)-k:]
	}
	return strings.Join(lines, "\n")
}

// opTokenFile is the operator token file the tests' slsctl uses.
func (n *node) opTokenFile() string { return filepath.Join(n.dataDir, "operator.token") }

// testOperator is the operator the journeys act as: bootstrapped with
// every role on a fresh database (dual control is off in their
// configuration, see relaxedConfig).
const testOperator, testOperatorPassword = "tester", "the test operator passphrase"

// opToken is the operator token of the tests' operator, who holds every
// role; the first call on a fresh database bootstraps that operator with
// the node's one-time secret.
func (n *node) opToken() string {
	n.t.Helper()
	raw, err := os.ReadFile(n.opTokenFile())
	if errors.Is(err, os.ErrNotExist) {
		cmd := exec.Command(bin["slsctl"], "--server", n.url, "--token-file", n.opTokenFile(), "bootstrap",
			"--secret-file", filepath.Join(n.dataDir, "bootstrap.secret"), "--name", testOperator, "--roles", "all", "--pin", "2468",
			"--out", n.opCardFile())
		cmd.Stdin = strings.NewReader(testOperatorPassword + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			n.t.Fatalf("bootstrapping the test operator: %v\n%s", err, out)
		}
		raw, err = os.ReadFile(n.opTokenFile())
	}
	if err != nil {
		n.t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

// opCardFile is the test operator's DSC+ card file.
func (n *node) opCardFile() string { return filepath.Join(n.dataDir, "tester-card.json") }

// ctl runs slsctl against the node as the test operator; stdin may be
// empty. When the operator's token has expired (tests move the clock by
// days), the operator logs in again, as a person would, and the command
// is run once more.
func (n *node) ctl(stdin string, args ...string) (string, error) {
	n.t.Helper()
	n.opToken()
	run := func() (string, error) {
		full := append([]string{"--server", n.url, "--token-file", n.opTokenFile()}, args...)
		cmd := exec.Command(bin["slsctl"], full...)
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	out, err := run()
	if err != nil && strings.Contains(out, "(unauthenticated)") {
		if lo, lerr := slsctlLogin(n.t, n, n.opTokenFile(), testOperator, testOperatorPassword, n.opCardFile(), "2468"); lerr != nil {
			n.t.Fatalf("logging the test operator in again: %v\n%s", lerr, lo)
		}
		out, err = run()
	}
	return out, err
}

// mustCtl is ctl that fails the test on error.
func (n *node) mustCtl(stdin string, args ...string) string {
	n.t.Helper()
	out, err := n.ctl(stdin, args...)
	if err != nil {
		n.t.Fatalf("slsctl %v: %v\n%s", args, err, out)
	}
	return out
}

// codeCard issues a Security Code Card to user and returns slsctl's
// output followed by the printable card, read from the card output
// directory (this machine is the server's host).
func (n *node) codeCard(user string) string {
	n.t.Helper()
	out := filepath.Join(n.t.TempDir(), "codecard.txt")
	text := n.mustCtl("", "codecard", "issue", user, "--out", out)
	card, err := os.ReadFile(out)
	if err != nil {
		n.t.Fatal(err)
	}
	return text + string(card)
}

// setClock moves the time of every node following path.
func setClock(t *testing.T, path string, offset time.Duration) {
	t.Helper()
	if err := clock.WriteOffset(path, offset); err != nil {
		t.Fatal(err)
	}
	time.Sleep(250 * time.Millisecond) // nodes re-read the file every 100ms
}

// apiResult is a decoded JSON answer.
type apiResult struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// requestIDField is the error body's request id, different on every
// answer by design.
var requestIDField = regexp.MustCompile(`,"request_id":"[^"]*"`)

// sameAs reports whether two answers are the same, byte for byte, but for
// their request ids: what must hold when an answer must not tell a right
// password from a wrong one.
func (r apiResult) sameAs(o apiResult) bool {
	return r.Status == o.Status &&
		requestIDField.ReplaceAllString(string(r.Raw), "") == requestIDField.ReplaceAllString(string(o.Raw), "")
}

func (r apiResult) code() string {
	if e, ok := r.Body["error"].(map[string]any); ok {
		s, _ := e["code"].(string)
		return s
	}
	return ""
}

// str reads a value by its path: object keys, and indices into arrays.
func (r apiResult) str(path ...string) string {
	var v any = r.Body
	for _, p := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return ""
			}
			v = x[i]
		default:
			return ""
		}
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// callNoFatal is call for goroutines other than the test's: a transport
// error is an answer of status 0.
func callNoFatal(method, url string, body any) apiResult {
	raw, _ := json.Marshal(body)
	resp, err := client.New("", "").Send(context.Background(), method, url, "application/json", bytes.NewReader(raw))
	if err != nil {
		return apiResult{Raw: []byte(err.Error())}
	}
	if err := checkAnswer(method, url, resp.Status, resp.Header, resp.Body); err != nil {
		recordStray(err)
	}
	return resultOf(resp)
}

// resultOf reads an answer into an apiResult.
func resultOf(resp *client.Response) apiResult {
	r := apiResult{Status: resp.Status, Header: resp.Header, Raw: resp.Body}
	_ = json.Unmarshal(resp.Body, &r.Body)
	return r
}

// call sends a JSON request (body may be a string of raw JSON, nil, or a
// value to marshal) with an optional bearer token.
func call(t *testing.T, method, url, token string, body any) apiResult {
	t.Helper()
	return callWith(t, client.New("", token), method, url, body)
}

// callWith is call through a client of the test's making (its own
// transport, headers or token).
func callWith(t *testing.T, c *client.Client, method, url string, body any) apiResult {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	contentType := ""
	if rd != nil {
		contentType = "application/json"
	}
	resp, err := c.Send(ctx, method, url, contentType, rd)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkAnswer(method, url, resp.Status, resp.Header, resp.Body); err != nil {
		t.Errorf("answer does not match the API document: %v", err)
	}
	return resultOf(resp)
}
