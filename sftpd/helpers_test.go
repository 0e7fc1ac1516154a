package sftpd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// memDirectory is an in-memory Directory for tests.
type memDirectory struct {
	mu      sync.Mutex
	clients map[string]*Client
}

func newMemDirectory(cs ...*Client) *memDirectory {
	d := &memDirectory{clients: map[string]*Client{}}
	for _, c := range cs {
		d.clients[c.Username] = c
	}
	return d
}

func (d *memDirectory) put(c *Client) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clients[c.Username] = c
}

func (d *memDirectory) AddrAllowed(_ context.Context, a netip.Addr) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.clients {
		if addrListed(c.Allowed, a) {
			return true, nil
		}
	}
	return false, nil
}

func (d *memDirectory) Client(_ context.Context, u string) (*Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c, ok := d.clients[u]
	if !ok {
		return nil, fmt.Errorf("memdir: %q: %w", u, ErrUnknownClient)
	}
	return c, nil
}

type auditEvent struct {
	Event string
	Attrs map[string]string
}

// memAuditor records events for assertions.
type memAuditor struct {
	mu     sync.Mutex
	events []auditEvent
}

func (a *memAuditor) Audit(_ context.Context, event string, attrs map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cp := make(map[string]string, len(attrs))
	for k, v := range attrs {
		cp[k] = v
	}
	a.events = append(a.events, auditEvent{event, cp})
}

func (a *memAuditor) find(event string) []auditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []auditEvent
	for _, e := range a.events {
		if e.Event == event {
			out = append(out, e)
		}
	}
	return out
}

// waitFor polls for an audit event: the server records some events (logout,
// an upload's close) after the client has already exited. Polling a
// condition is not sleeping for time to pass.
func (a *memAuditor) waitFor(t *testing.T, event string, pred func(map[string]string) bool) map[string]string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, e := range a.find(event) {
			if pred == nil || pred(e.Attrs) {
				return e.Attrs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit event %s matching; have %+v", event, a.all())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (a *memAuditor) all() []auditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]auditEvent(nil), a.events...)
}

func needTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

func run(t testing.TB, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// puttyKey is a key pair made by puttygen as the seed article does, with
// its OpenSSH export for the sftp client.
type puttyKey struct {
	PPK, OpenSSH string
	Pub          ssh.PublicKey
}

func makePuttyKey(t testing.TB, dir, name string) puttyKey {
	t.Helper()
	needTools(t, "puttygen")
	empty := filepath.Join(dir, "empty-passphrase")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ppk := filepath.Join(dir, name+".ppk")
	priv := filepath.Join(dir, name)
	pub := filepath.Join(dir, name+".pub")
	run(t, nil, "puttygen", "-t", "rsa", "-b", "2048", "--new-passphrase", empty, "-o", ppk)
	run(t, nil, "puttygen", ppk, "-O", "private-openssh", "-o", priv)
	run(t, nil, "puttygen", ppk, "-O", "public-openssh", "-o", pub)
	os.Chmod(priv, 0o600)
	data, err := os.ReadFile(pub)
	if err != nil {
		t.Fatal(err)
	}
	pk, _, _, _, err := ssh.ParseAuthorizedKey(data)
	if err != nil {
		t.Fatalf("parse %s: %v", pub, err)
	}
	return puttyKey{PPK: ppk, OpenSSH: priv, Pub: pk}
}

// keyCache shares the puttygen keys between tests: RSA generation is the
// slowest part of the suite.
var keyCache struct {
	once       sync.Once
	dir        string
	good, evil puttyKey
}

func testKeys(t testing.TB) (good, evil puttyKey) {
	t.Helper()
	needTools(t, "puttygen")
	keyCache.once.Do(func() {
		dir, err := os.MkdirTemp("", "sftpd-keys-")
		if err != nil {
			t.Fatal(err)
		}
		keyCache.dir = dir
		keyCache.good = makePuttyKey(t, dir, "client")
		keyCache.evil = makePuttyKey(t, dir, "other")
	})
	if keyCache.good.Pub == nil {
		t.Fatal("key generation failed earlier")
	}
	return keyCache.good, keyCache.evil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if keyCache.dir != "" {
		os.RemoveAll(keyCache.dir)
	}
	os.Exit(code)
}

var testHostKey = sync.OnceValue(func() ssh.Signer {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		panic(err)
	}
	return s
})

type testServer struct {
	srv   *Server
	root  string
	port  int
	audit *memAuditor
	dir   *memDirectory
	done  chan error
}

func startServer(t testing.TB, dir *memDirectory, mutate func(*Config)) *testServer {
	t.Helper()
	hk := testHostKey()
	ts := &testServer{root: t.TempDir(), audit: &memAuditor{}, dir: dir, done: make(chan error, 1)}
	cfg := Config{
		HostKey:   hk,
		Root:      ts.root,
		Directory: dir,
		Auditor:   ts.audit,
		Logger:    slog.New(slog.NewTextHandler(&testLogWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	ts.port = ln.Addr().(*net.TCPAddr).Port
	go func() { ts.done <- srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-ts.done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return ts
}

// testLogWriter sends the server's log to the test log, so that it shows
// only for failing tests.
type testLogWriter struct {
	t  testing.TB
	mu sync.Mutex
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// sftpBatch runs the OpenSSH sftp client in batch mode and returns its
// combined output and error.
func sftpBatch(t testing.TB, port int, key, user, batch, workdir string, extra ...string) (string, error) {
	t.Helper()
	needTools(t, "sftp")
	bf := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(bf, []byte(batch), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"-b", bf, "-i", key, "-P", strconv.Itoa(port),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR",
		"-o", "ConnectTimeout=10",
	}
	args = append(args, extra...)
	args = append(args, user+"@127.0.0.1")
	cmd := exec.Command("sftp", args...)
	cmd.Dir = workdir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func mustPrefix(s string) netip.Prefix { return netip.MustParsePrefix(s) }
