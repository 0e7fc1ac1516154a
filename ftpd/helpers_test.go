package ftpd

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
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

	"golang.org/x/crypto/bcrypt"
)

// memDirectory is an in-memory Directory for tests: bcrypt hashes (the
// real directory uses Argon2id; the comparison is its business).
type memDirectory struct {
	mu      sync.Mutex
	clients map[string]*Client
	hashes  map[string][]byte
	// refuseAll makes AddrAllowed say no to every address.
	refuseAll bool
}

func newMemDirectory() *memDirectory {
	return &memDirectory{clients: map[string]*Client{}, hashes: map[string][]byte{}}
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func (d *memDirectory) put(t testing.TB, c *Client, password string) {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clients[c.Username] = c
	d.hashes[c.Username] = h
}

func (d *memDirectory) AddrAllowed(_ context.Context, a netip.Addr) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refuseAll {
		return false, nil
	}
	for _, c := range d.clients {
		if addrListed(c.Allowed, a) {
			return true, nil
		}
	}
	return false, nil
}

func (d *memDirectory) Authenticate(_ context.Context, user, pass string, addr netip.Addr) (*Client, error) {
	d.mu.Lock()
	c, ok := d.clients[user]
	h := d.hashes[user]
	d.mu.Unlock()
	if !ok {
		// Compare anyway, so that an unknown user takes as long.
		bcrypt.CompareHashAndPassword([]byte("$2a$04$invalidinvalidinvalidinvalidinvalidinvalidinvalidinvali"), []byte(pass))
		return nil, fmt.Errorf("memdir: unknown user: %w", ErrAuthFailed)
	}
	if bcrypt.CompareHashAndPassword(h, []byte(pass)) != nil {
		return nil, fmt.Errorf("memdir: wrong password: %w", ErrAuthFailed)
	}
	if !addrListed(c.Allowed, addr) {
		return nil, fmt.Errorf("memdir: address not listed: %w", ErrAuthFailed)
	}
	cp := *c
	return &cp, nil
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

func (a *memAuditor) all() []auditEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]auditEvent(nil), a.events...)
}

// waitFor polls for an audit event: the server records some (logout, an
// upload's close) after the client has exited.
func (a *memAuditor) waitFor(t *testing.T, event string, pred func(map[string]string) bool) map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, e := range a.find(event) {
			if pred == nil || pred(e.Attrs) {
				return e.Attrs
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no audit event %s matching; have %+v", event, a.all())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testTLS returns a server TLS config with a fresh self-signed certificate
// for 127.0.0.1.
func testTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "ftpd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// freePassiveRange finds a small range of ports free right now.
func freePassiveRange(t testing.TB) [2]int {
	t.Helper()
	const n = 8
	for range 200 {
		lo := 30000 + mrand.IntN(25000)
		ok := true
		var ls []net.Listener
		for p := lo; p < lo+n; p++ {
			l, err := net.Listen("tcp", ":"+strconv.Itoa(p))
			if err != nil {
				ok = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if ok {
			return [2]int{lo, lo + n - 1}
		}
	}
	t.Fatal("no free passive port range")
	return [2]int{}
}

type testServer struct {
	srv   *Server
	port  int
	root  string
	dir   *memDirectory
	audit *memAuditor
	done  chan error
	logs  *bytes.Buffer
	logMu *sync.Mutex
}

// startServer starts a server on 127.0.0.1:0 with TLS required and three
// clients: "alice" (TLS only), "plainbob" (PlainAllowed) and "quotaq"
// (quota of 1000 bytes, 5 entries). Each has the password user+"-pw".
func startServer(t *testing.T, mod func(*Config)) *testServer {
	t.Helper()
	ts := &testServer{root: t.TempDir(), dir: newMemDirectory(), audit: &memAuditor{}, done: make(chan error, 1),
		logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	ts.dir.put(t, &Client{Username: "alice", Allowed: loopback}, "alice-pw")
	ts.dir.put(t, &Client{Username: "plainbob", Allowed: loopback, PlainAllowed: true}, "plainbob-pw")
	ts.dir.put(t, &Client{Username: "quotaq", Allowed: loopback, QuotaBytes: 1000, QuotaEntries: 5}, "quotaq-pw")
	cfg := Config{
		Root:         ts.root,
		Directory:    ts.dir,
		Auditor:      ts.audit,
		Logger:       slog.New(slog.NewTextHandler(lockedWriter{ts.logs, ts.logMu}, &slog.HandlerOptions{Level: slog.LevelDebug})),
		TLS:          testTLS(t),
		RequireTLS:   true,
		PassivePorts: freePassiveRange(t),
	}
	if mod != nil {
		mod(&cfg)
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
		select {
		case err := <-ts.done:
			if !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after Close")
		}
		ts.logMu.Lock()
		defer ts.logMu.Unlock()
		for _, pw := range []string{"alice-pw", "plainbob-pw", "quotaq-pw", "wrong-pw"} {
			if strings.Contains(ts.logs.String(), pw) {
				t.Errorf("a password is in the log:\n%s", ts.logs.String())
			}
		}
		for _, e := range ts.audit.all() {
			for k, v := range e.Attrs {
				if strings.Contains(v, "-pw") {
					t.Errorf("a password is in audit event %s attr %s=%q", e.Event, k, v)
				}
			}
		}
	})
	return ts
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// put writes a file into a client's folder as a delivery would.
func (ts *testServer) put(t *testing.T, user, name, content string) string {
	t.Helper()
	p := filepath.Join(ts.root, user, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (ts *testServer) url(user, pass, p string) string {
	return fmt.Sprintf("ftp://%s:%s@127.0.0.1:%d%s", user, pass, ts.port, p)
}

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install -y curl lftp): skipping the tests with a real FTP client", name)
	}
	return p
}

// curl runs curl with a time bound and returns its stdout, stderr and exit
// code.
func runCurl(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	bin := needTool(t, "curl")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-sS", "--max-time", "20"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("curl: %v", err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

// tlsCurl is curl with FTPS required (AUTH TLS, PROT P) and the test's
// self-signed certificate accepted.
func tlsCurl(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runCurl(t, append([]string{"--ssl-reqd", "-k"}, args...)...)
}

// dial opens a raw control connection and reads the greeting, if any.
func dial(t *testing.T, port int) (net.Conn, string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	n, err := c.Read(buf)
	return c, string(buf[:n]), err
}

// command sends one line and reads the reply.
func command(t *testing.T, c net.Conn, line string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(line + "\r\n")); err != nil {
		return "write error: " + err.Error()
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	if err != nil && n == 0 {
		return "read error: " + err.Error()
	}
	return string(buf[:n])
}
