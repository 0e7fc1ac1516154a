package ftpd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func runLFTP(t *testing.T, dir, script string) (string, error) {
	t.Helper()
	bin := needTool(t, "lftp")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-c", script)
	cmd.Dir = dir
	// lftp reads ~/.lftprc; a private HOME keeps the test's settings the
	// only ones.
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestLFTP(t *testing.T) {
	needTool(t, "lftp")
	ts := startServer(t, nil)
	ts.put(t, "alice", "statement.pgp", "statement bytes")
	work := t.TempDir()
	if err := os.WriteFile(filepath.Join(work, "request.csv"), []byte("x,y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	settings := "set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; " +
		"set net:max-retries 1; set net:timeout 10; set net:reconnect-interval-base 1; "
	script := settings + fmt.Sprintf("open -u alice,alice-pw -p %d ftp://127.0.0.1; ", ts.port) +
		"ls; get statement.pgp -o got.pgp; put request.csv -o up.csv; mkdir sub; rm statement.pgp; rmdir sub; ls"
	out, err := runLFTP(t, work, script)
	if err != nil {
		t.Fatalf("lftp: %v\n%s", err, out)
	}
	if !strings.Contains(out, "statement.pgp") {
		t.Errorf("listing lacks the statement:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(work, "got.pgp")); err != nil || string(b) != "statement bytes" {
		t.Errorf("get: %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(ts.root, "alice", "up.csv")); err != nil || string(b) != "x,y\n" {
		t.Errorf("put: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ts.root, "alice", "statement.pgp")); !os.IsNotExist(err) {
		t.Errorf("rm: %v", err)
	}
	if _, err := os.Stat(filepath.Join(ts.root, "alice", "sub")); !os.IsNotExist(err) {
		t.Errorf("rmdir: %v", err)
	}
	ts.audit.waitFor(t, EventLogin, func(a map[string]string) bool { return a["tls"] == "yes" })

	// A wrong password fails, and lftp does not loop on it.
	out, err = runLFTP(t, work, settings+fmt.Sprintf("open -u alice,wrong-pw -p %d ftp://127.0.0.1; ls", ts.port))
	if err == nil || !strings.Contains(out, "Login incorrect") {
		t.Errorf("wrong password: %v\n%s", err, out)
	}
}

func TestAddressRefused(t *testing.T) {
	ts := startServer(t, nil)
	ts.dir.mu.Lock()
	ts.dir.refuseAll = true
	ts.dir.mu.Unlock()
	_, greeting, err := dial(t, ts.port)
	if err == nil || greeting != "" {
		t.Fatalf("refused address got %q, %v", greeting, err)
	}
	ev := ts.audit.waitFor(t, EventAddrRefused, nil)
	if ev["addr"] != "127.0.0.1" || ev["reason"] != "not on allow-list" {
		t.Errorf("addr_refused %v", ev)
	}
	if _, err := exec.LookPath("curl"); err == nil {
		if _, _, code := tlsCurl(t, ts.url("alice", "alice-pw", "/")); code == 0 {
			t.Error("curl from a refused address succeeded")
		}
	}
}

// A client whose own list lacks its address is refused at login like a
// wrong password, even though the address is on another client's list.
func TestAddressNotOnClientsList(t *testing.T) {
	ts := startServer(t, nil)
	ts.dir.put(t, &Client{Username: "far", Allowed: nil}, "far-pw")
	_, _, code := tlsCurl(t, ts.url("far", "far-pw", "/"))
	if code != curlLoginDenied {
		t.Fatalf("exit %d", code)
	}
	ts.audit.waitFor(t, EventAuthFailed, func(a map[string]string) bool { return a["user"] == "far" })
}

func TestGarbageAndHugeLines(t *testing.T) {
	ts := startServer(t, nil)
	c, greeting, err := dial(t, ts.port)
	if err != nil || !strings.HasPrefix(greeting, "220 ") {
		t.Fatalf("greeting %q, %v", greeting, err)
	}
	if r := command(t, c, "\x00\xff\xfe garbage \x01"); !strings.HasPrefix(r, "5") {
		t.Errorf("garbage: %q", r)
	}
	if r := command(t, c, "LIST"); !strings.HasPrefix(r, "530") {
		t.Errorf("LIST before login: %q", r)
	}
	if r := command(t, c, "PASS nothing"); !strings.HasPrefix(r, "530") {
		t.Errorf("PASS without USER: %q", r)
	}
	c2, _, _ := dial(t, ts.port)
	command(t, c2, "USER "+strings.Repeat("A", 100000))
	c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(c2); err != nil {
		t.Errorf("huge line: %v", err)
	}
	// Still serving.
	c3, greeting, err := dial(t, ts.port)
	if err != nil || !strings.HasPrefix(greeting, "220 ") {
		t.Fatalf("after garbage: %q, %v", greeting, err)
	}
	if r := command(t, c3, "PORT 127,0,0,1,0,22"); !strings.HasPrefix(r, "5") {
		t.Errorf("PORT before login: %q", r)
	}
}

func TestActiveModeRefused(t *testing.T) {
	ts := startServer(t, nil)
	ts.put(t, "plainbob", "b.pgp", "B")
	c, _, _ := dial(t, ts.port)
	command(t, c, "USER plainbob")
	if r := command(t, c, "PASS plainbob-pw"); !strings.HasPrefix(r, "230") {
		t.Fatalf("login: %q", r)
	}
	for _, cmd := range []string{"PORT 127,0,0,1,0,22", "EPRT |1|127.0.0.1|22|"} {
		if r := command(t, c, cmd); !strings.HasPrefix(r, "5") && !strings.HasPrefix(r, "4") {
			t.Errorf("%s: %q", cmd, r)
		}
	}
	if _, _, code := runCurl(t, "--ftp-port", "-", ts.url("plainbob", "plainbob-pw", "/b.pgp")); code == 0 {
		t.Error("curl in active mode succeeded")
	}
}

func TestLoginGraceTime(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.LoginGraceTime = 500 * time.Millisecond })
	c, _, _ := dial(t, ts.port)
	start := time.Now()
	// NOOPs do not keep an unauthenticated connection open.
	for time.Since(start) < 3*time.Second {
		if r := command(t, c, "NOOP"); !strings.HasPrefix(r, "200") {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("connection open %v after accept without login", d)
	}
	// A client that logs in in time stays past the grace time.
	c2, _, _ := dial(t, ts.port)
	command(t, c2, "USER plainbob")
	if r := command(t, c2, "PASS plainbob-pw"); !strings.HasPrefix(r, "230") {
		t.Fatalf("login: %q", r)
	}
	time.Sleep(800 * time.Millisecond)
	if r := command(t, c2, "NOOP"); !strings.HasPrefix(r, "200") {
		t.Fatalf("logged-in client closed at the grace time: %q", r)
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.IdleTimeout = time.Second })
	c, _, _ := dial(t, ts.port)
	command(t, c, "USER plainbob")
	if r := command(t, c, "PASS plainbob-pw"); !strings.HasPrefix(r, "230") {
		t.Fatalf("login: %q", r)
	}
	start := time.Now()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, _ := io.ReadAll(c)
	if d := time.Since(start); d > 5*time.Second || !strings.HasPrefix(string(rest), "421") {
		t.Fatalf("idle connection: after %v got %q", d, rest)
	}
	ts.audit.waitFor(t, EventLogout, func(a map[string]string) bool { return a["user"] == "plainbob" })
}

func TestMaxConns(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxConns = 2 })
	dial(t, ts.port)
	dial(t, ts.port)
	_, greeting, _ := dial(t, ts.port)
	if !strings.HasPrefix(greeting, "421") {
		t.Fatalf("third connection: %q", greeting)
	}
}

func TestConfigChecks(t *testing.T) {
	dir := newMemDirectory()
	for _, c := range []Config{
		{Directory: dir},
		{Root: t.TempDir()},
		{Root: t.TempDir(), Directory: dir, PassivePorts: [2]int{50100, 50000}},
		{Root: t.TempDir(), Directory: dir, PassivePorts: [2]int{0, 70000}},
		{Root: t.TempDir(), Directory: dir, PublicHost: "example.com"},
		{Root: t.TempDir(), Directory: dir, PublicHost: "::1"},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

// Shutdown lets a running transfer finish; Shutdown with a short deadline
// cuts it, and both leave Serve returning ErrServerClosed.
func TestShutdownDuringTransfer(t *testing.T) {
	for _, graceful := range []bool{true, false} {
		t.Run(fmt.Sprintf("graceful=%v", graceful), func(t *testing.T) {
			ts := startServer(t, nil)
			// The cut transfer is larger than what socket buffers hold, so
			// that it is still running when the server closes.
			size := int64(3 << 20)
			if !graceful {
				size = 256 << 20
			}
			p := ts.put(t, "alice", "big.pgp", "")
			if err := os.Truncate(p, size); err != nil {
				t.Fatal(err)
			}
			bin := needTool(t, "curl")
			out := filepath.Join(t.TempDir(), "big")
			cmd := exec.Command(bin, "-sS", "--ssl-reqd", "-k", "--max-time", "30", "--limit-rate", "1M", "-o", out, ts.url("alice", "alice-pw", "/big.pgp"))
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			// Wait until bytes flow.
			deadline := time.Now().Add(10 * time.Second)
			for {
				if fi, err := os.Stat(out); err == nil && fi.Size() > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("transfer did not start")
				}
				time.Sleep(20 * time.Millisecond)
			}
			timeout := 30 * time.Second
			if !graceful {
				timeout = 100 * time.Millisecond
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			serr := ts.srv.Shutdown(ctx)
			cerr := <-done
			if graceful {
				if serr != nil || cerr != nil {
					t.Fatalf("Shutdown %v, curl %v: %s", serr, cerr, errb.String())
				}
				if fi, _ := os.Stat(out); fi.Size() != size {
					t.Errorf("got %d bytes", fi.Size())
				}
				ts.audit.waitFor(t, EventDownload, func(a map[string]string) bool { return a["result"] == "ok" })
			} else {
				if !errors.Is(serr, context.DeadlineExceeded) || cerr == nil {
					t.Fatalf("Shutdown %v, curl %v", serr, cerr)
				}
				ts.audit.waitFor(t, EventDownload, func(a map[string]string) bool {
					return a["result"] == "interrupted" || a["bytes"] != fmt.Sprint(size)
				})
			}
			ts.audit.waitFor(t, EventLogout, nil)
			select {
			case err := <-ts.done:
				if !errors.Is(err, ErrServerClosed) {
					t.Errorf("Serve: %v", err)
				}
				ts.done <- err // for the cleanup's check
			case <-time.After(5 * time.Second):
				t.Fatal("Serve did not return")
			}
			// No connection is accepted any more.
			if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", ts.port), time.Second); err == nil {
				c.Close()
				t.Error("dial after Shutdown succeeded")
			}
		})
	}
}
