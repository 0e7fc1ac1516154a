package sftpd

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/secure-login-system/sls/statement"
)

// These tests drive the server with the tools the seed article names: keys
// from puttygen, transfers with OpenSSH's sftp (and PuTTY's psftp where
// installed).

func aliceDirectory(key ssh.PublicKey, allowed ...string) *memDirectory {
	c := &Client{Username: "alice", Keys: []ssh.PublicKey{key}}
	for _, a := range allowed {
		c.Allowed = append(c.Allowed, mustPrefix(a))
	}
	return newMemDirectory(c)
}

func TestE2EListDownloadUpload(t *testing.T) {
	good, _ := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), nil)
	now := time.Now()
	if _, err := statement.Deliver(ts.root, "alice", "U1234567_20260301.pdf", strings.NewReader("%PDF-1.7 statement"), nil, now); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	upload := bytes.Repeat([]byte("upload "), 1000)
	if err := os.WriteFile(filepath.Join(work, "note.txt"), upload, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := sftpBatch(t, ts.port, good.OpenSSH, "alice", strings.Join([]string{
		"pwd",
		"ls -l",
		"get U1234567_20260301.pdf",
		"put note.txt",
		"mkdir inbox",
		"rename note.txt inbox/note.txt",
		"ls inbox",
	}, "\n")+"\n", work)
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}
	for _, want := range []string{"Remote working directory: /", "U1234567_20260301.pdf", "inbox/note.txt"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if b, err := os.ReadFile(filepath.Join(work, "U1234567_20260301.pdf")); err != nil || string(b) != "%PDF-1.7 statement" {
		t.Errorf("downloaded %q, %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(ts.root, "alice", "inbox", "note.txt")); err != nil || !bytes.Equal(b, upload) {
		t.Errorf("uploaded file: %d bytes, %v", len(b), err)
	}
	if fi, err := os.Stat(filepath.Join(ts.root, "alice")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("client folder: %v, %v", fi, err)
	}

	fp := ssh.FingerprintSHA256(good.Pub)
	login := ts.audit.waitFor(t, EventLogin, nil)
	if login["user"] != "alice" || login["addr"] != "127.0.0.1" || login["fingerprint"] != fp || login["key_type"] != "ssh-rsa" {
		t.Errorf("login audit = %v", login)
	}
	ts.audit.waitFor(t, EventDownload, func(a map[string]string) bool {
		return a["file"] == "/U1234567_20260301.pdf" && a["size"] == "18" && a["bytes"] == "18" && a["user"] == "alice"
	})
	ts.audit.waitFor(t, EventUpload, func(a map[string]string) bool {
		return a["file"] == "/note.txt" && a["size"] == strconv.Itoa(len(upload)) && a["result"] == "ok"
	})
	ts.audit.waitFor(t, EventRename, func(a map[string]string) bool { return a["target"] == "/inbox/note.txt" })
	ts.audit.waitFor(t, EventLogout, nil)
	if ev := ts.audit.find(EventAuthFailed); len(ev) != 0 {
		t.Errorf("unexpected auth failures: %v", ev)
	}
}

func TestE2EWrongKeyRefused(t *testing.T) {
	good, evil := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), nil)
	out, err := sftpBatch(t, ts.port, evil.OpenSSH, "alice", "ls\n", t.TempDir())
	if err == nil {
		t.Fatalf("login with an unregistered key succeeded:\n%s", out)
	}
	t.Logf("client sees: %s", out)
	if !strings.Contains(out, "Permission denied (publickey)") {
		t.Errorf("output lacks Permission denied (publickey):\n%s", out)
	}
	a := ts.audit.waitFor(t, EventAuthFailed, nil)
	if a["fingerprint"] != ssh.FingerprintSHA256(evil.Pub) || a["reason"] != "key not registered" || a["user"] != "alice" {
		t.Errorf("auth_failed audit = %v", a)
	}
	if len(ts.audit.find(EventLogin)) != 0 {
		t.Error("login audited")
	}

	// An unknown user looks the same to the client.
	out, err = sftpBatch(t, ts.port, good.OpenSSH, "mallory", "ls\n", t.TempDir())
	if err == nil || !strings.Contains(out, "Permission denied (publickey)") {
		t.Errorf("unknown user: %v\n%s", err, out)
	}
	ts.audit.waitFor(t, EventAuthFailed, func(a map[string]string) bool {
		return a["user"] == "mallory" && a["reason"] == "unknown user"
	})
	if _, err := os.Stat(filepath.Join(ts.root, "mallory")); err == nil {
		t.Error("a folder was created for an unknown user")
	}
}

func TestE2EPasswordNotOffered(t *testing.T) {
	good, _ := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), nil)
	needTools(t, "ssh")
	// Ask for password and keyboard-interactive only: the server offers
	// neither, so the client has nothing to try.
	cmd := exec.Command("ssh", "-p", strconv.Itoa(ts.port), "-o", "StrictHostKeyChecking=no",
		"-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		"-o", "PreferredAuthentications=password,keyboard-interactive", "-o", "PubkeyAuthentication=no",
		"-s", "alice@127.0.0.1", "sftp")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Permission denied (publickey)") {
		t.Errorf("ssh without a key: %v\n%s", err, out)
	}
}

func TestE2EAddressNotAllowListed(t *testing.T) {
	good, _ := testKeys(t)
	// Only 127.0.0.2 is allowed; the client connects from 127.0.0.1.
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.2/32"), nil)
	out, err := sftpBatch(t, ts.port, good.OpenSSH, "alice", "ls\n", t.TempDir())
	if err == nil {
		t.Fatalf("login from a refused address succeeded:\n%s", out)
	}
	t.Logf("client sees: %s", out)
	// OpenSSH reports the failure at the version exchange, the first step.
	if !strings.Contains(out, "kex_exchange_identification") ||
		!strings.Contains(out, "Connection closed") && !strings.Contains(out, "reset") {
		t.Errorf("output lacks a connection closed before the version exchange:\n%s", out)
	}
	if strings.Contains(out, "Permission denied") {
		t.Errorf("refused address reached authentication:\n%s", out)
	}
	a := ts.audit.waitFor(t, EventAddrRefused, nil)
	if a["addr"] != "127.0.0.1" {
		t.Errorf("addr_refused audit = %v", a)
	}
	if len(ts.audit.find(EventAuthFailed)) != 0 {
		t.Error("authentication was attempted")
	}

	// The server sends nothing at all: not even its SSH version line.
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ts.port))
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var buf [64]byte
	n, rerr := c.Read(buf[:])
	c.Close()
	if n != 0 || rerr == nil {
		t.Errorf("refused connection got %q, %v", buf[:n], rerr)
	}

	// From the allowed address the same key logs in.
	if !canBind(t, "127.0.0.2") {
		t.Skip("cannot bind 127.0.0.2 on this host")
	}
	out, err = sftpBatch(t, ts.port, good.OpenSSH, "alice", "pwd\n", t.TempDir(), "-o", "BindAddress=127.0.0.2")
	if err != nil {
		t.Fatalf("login from 127.0.0.2: %v\n%s", err, out)
	}
	ts.audit.waitFor(t, EventLogin, func(a map[string]string) bool { return a["addr"] == "127.0.0.2" })
}

// TestE2EAddressNotOnUsersList: the address is on some client's list (so
// it passes the accept check) but not on this user's.
func TestE2EAddressNotOnUsersList(t *testing.T) {
	good, evil := testKeys(t)
	dir := aliceDirectory(good.Pub, "127.0.0.2/32")
	dir.put(&Client{Username: "bob", Keys: []ssh.PublicKey{evil.Pub}, Allowed: []netip.Prefix{mustPrefix("127.0.0.0/24")}})
	ts := startServer(t, dir, nil)
	out, err := sftpBatch(t, ts.port, good.OpenSSH, "alice", "ls\n", t.TempDir())
	if err == nil || !strings.Contains(out, "Permission denied (publickey)") {
		t.Fatalf("alice from 127.0.0.1: %v\n%s", err, out)
	}
	ts.audit.waitFor(t, EventAuthFailed, func(a map[string]string) bool {
		return a["user"] == "alice" && a["reason"] == "address not on the user's allow-list"
	})
	// Bob cannot use his allow-list entry to reach alice's folder with his
	// own key either.
	out, err = sftpBatch(t, ts.port, evil.OpenSSH, "alice", "ls\n", t.TempDir())
	if err == nil {
		t.Fatalf("bob's key opened alice's folder:\n%s", out)
	}
	// Bob logs into his own folder, which does not show alice's files.
	if _, err := statement.Deliver(ts.root, "alice", "alice-only.pdf", strings.NewReader("x"), nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	out, err = sftpBatch(t, ts.port, evil.OpenSSH, "bob", "ls -a\n-get ../alice/alice-only.pdf\n-get /alice/alice-only.pdf\n", t.TempDir())
	if err != nil {
		t.Fatalf("bob: %v\n%s", err, out)
	}
	if strings.Contains(out, "alice-only") && !strings.Contains(out, "not found") {
		t.Errorf("bob sees alice's file:\n%s", out)
	}
}

func TestE2ETraversalFromSFTPClient(t *testing.T) {
	good, _ := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), nil)
	// A neighbour's folder and a file next to the client folders.
	must(t, os.MkdirAll(filepath.Join(ts.root, "bob"), 0o700))
	must(t, os.WriteFile(filepath.Join(ts.root, "bob", "bob.pdf"), []byte("bob"), 0o600))
	must(t, os.WriteFile(filepath.Join(ts.root, "top.txt"), []byte("top"), 0o600))
	must(t, os.MkdirAll(filepath.Join(ts.root, "alice"), 0o700))
	must(t, os.Symlink(filepath.Join(ts.root, "bob"), filepath.Join(ts.root, "alice", "tobob")))
	work := t.TempDir()
	must(t, os.WriteFile(filepath.Join(work, "evil.txt"), []byte("evil"), 0o600))
	// "-" lets the batch go on after a failing command.
	out, err := sftpBatch(t, ts.port, good.OpenSSH, "alice", strings.Join([]string{
		"-get ../bob/bob.pdf b1",
		"-get ../../bob/bob.pdf b2",
		"-get /../top.txt t1",
		"-get " + filepath.Join(ts.root, "top.txt") + " t2",
		"-get /etc/passwd p1",
		"-get tobob/bob.pdf b3",
		"-ls tobob",
		"-put evil.txt ../evil.txt",
		"-put evil.txt ../bob/evil.txt",
		"-put evil.txt tobob/evil.txt",
		"-rename tobob/bob.pdf mine.pdf",
		"-symlink /etc/passwd pw",
		"-ln ../bob/bob.pdf hard",
		"cd ../../..",
		"pwd",
		"ls -la",
	}, "\n")+"\n", work)
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}
	t.Logf("sftp output:\n%s", out)
	for _, f := range []string{"b1", "b2", "b3", "t1", "t2", "p1"} {
		if _, err := os.Stat(filepath.Join(work, f)); err == nil {
			t.Errorf("downloaded %s", f)
		}
	}
	if !strings.Contains(out, "Remote working directory: /\n") {
		t.Errorf("cd ../../.. left the folder:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(ts.root, "bob", "bob.pdf")); err != nil || string(b) != "bob" {
		t.Errorf("bob.pdf: %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(ts.root, "bob", "evil.txt")); err == nil {
		t.Error("upload reached bob's folder")
	}
	if _, err := os.Stat(filepath.Join(ts.root, "evil.txt")); err == nil {
		t.Error("upload reached the base folder")
	}
	// "../evil.txt" is the client's own /evil.txt.
	if _, err := os.Stat(filepath.Join(ts.root, "alice", "evil.txt")); err != nil {
		t.Errorf("../evil.txt did not land in alice's folder: %v", err)
	}
	for _, f := range []string{"pw", "hard", "mine.pdf"} {
		if _, err := os.Lstat(filepath.Join(ts.root, "alice", f)); err == nil {
			t.Errorf("%s was created", f)
		}
	}
}

func TestE2EPuTTYRefusedKey(t *testing.T) {
	needTools(t, "psftp")
	good, evil := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), nil)
	hostFP := Fingerprint(ts.srv.cfg.HostKey)
	psftp := func(ppk string) (string, error) {
		bf := filepath.Join(t.TempDir(), "batch")
		must(t, os.WriteFile(bf, []byte("pwd\n"), 0o600))
		cmd := exec.Command("psftp", "-batch", "-hostkey", hostFP, "-noagent", "-i", ppk,
			"-P", strconv.Itoa(ts.port), "-b", bf, "alice@127.0.0.1")
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := psftp(evil.PPK)
	if err == nil {
		t.Fatalf("psftp with an unregistered key succeeded:\n%s", out)
	}
	t.Logf("psftp says: %s", out)
	if !strings.Contains(strings.ToLower(out), "server refused our key") {
		t.Errorf("psftp output lacks \"Server refused our key\":\n%s", out)
	}
	out, err = psftp(good.PPK)
	if err != nil || !strings.Contains(out, "Remote directory is /") {
		t.Errorf("psftp with the registered .ppk: %v\n%s", err, out)
	}
}

func TestE2EEncryptedStatementDecryptsWithGPG(t *testing.T) {
	needTools(t, "gpg", "gpgconf")
	good, _ := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), nil)

	home, err := os.MkdirTemp("", "gpg") // short: gpg-agent's socket path is limited
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o700)
	env := []string{"GNUPGHOME=" + home}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	run(t, env, "gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Alice Client <alice@example.com>", "future-default", "default", "never")
	armored := run(t, env, "gpg", "--batch", "--armor", "--export", "alice@example.com")
	recipient, err := statement.ParseRecipient([]byte(armored))
	if err != nil {
		t.Fatal(err)
	}
	plain := bytes.Repeat([]byte("Trade confirmation 2026-03-01 BUY 100 XYZ @ 12.34\n"), 5000)
	p, err := statement.Deliver(ts.root, "alice", "U1234567_20260301.csv", bytes.NewReader(plain), recipient, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "U1234567_20260301.csv.gpg" {
		t.Errorf("delivered as %s", p)
	}
	work := t.TempDir()
	out, err := sftpBatch(t, ts.port, good.OpenSSH, "alice", "get U1234567_20260301.csv.gpg\n", work)
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}
	dec := filepath.Join(work, "out.csv")
	run(t, env, "gpg", "--batch", "--yes", "--output", dec, "--decrypt", filepath.Join(work, "U1234567_20260301.csv.gpg"))
	got, err := os.ReadFile(dec)
	if err != nil || !bytes.Equal(got, plain) {
		t.Errorf("decrypted %d bytes, want %d (%v)", len(got), len(plain), err)
	}
}

func TestE2EPurgeAfterRetention(t *testing.T) {
	good, _ := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), nil)
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	if _, err := statement.Deliver(ts.root, "alice", "old.pdf", strings.NewReader("old"), nil, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := statement.Deliver(ts.root, "alice", "new.pdf", strings.NewReader("new"), nil, t0.Add(50*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The scheduler runs Purge(root, now-DefaultRetention). Exactly 100
	// days after delivery the file stays; a second later it goes.
	if n, err := Purge(ts.root, t0.Add(DefaultRetention).Add(-DefaultRetention)); err != nil || n != 0 {
		t.Fatalf("purge at 100 days: %d, %v", n, err)
	}
	now := t0.Add(DefaultRetention + time.Second)
	if n, err := Purge(ts.root, now.Add(-DefaultRetention)); err != nil || n != 1 {
		t.Fatalf("purge after 100 days: %d, %v", n, err)
	}
	out, err := sftpBatch(t, ts.port, good.OpenSSH, "alice", "ls\n", t.TempDir())
	if err != nil {
		t.Fatalf("sftp: %v\n%s", err, out)
	}
	if strings.Contains(out, "old.pdf") || !strings.Contains(out, "new.pdf") {
		t.Errorf("listing after purge:\n%s", out)
	}
}

func TestE2EConcurrentClients(t *testing.T) {
	good, evil := testKeys(t)
	dir := aliceDirectory(good.Pub, "127.0.0.1/32")
	dir.put(&Client{Username: "bob", Keys: []ssh.PublicKey{evil.Pub}, Allowed: []netip.Prefix{mustPrefix("127.0.0.1/32")}})
	ts := startServer(t, dir, nil)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for _, u := range []string{"alice", "bob"} {
		if _, err := statement.Deliver(ts.root, u, "big.bin", bytes.NewReader(big), nil, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	type result struct {
		out string
		err error
	}
	res := make(chan result, 4)
	for i := range 4 {
		key, user := good.OpenSSH, "alice"
		if i%2 == 1 {
			key, user = evil.OpenSSH, "bob"
		}
		work := t.TempDir()
		go func() {
			out, err := sftpBatch(t, ts.port, key, user, "get big.bin\n", work)
			if err == nil {
				if b, rerr := os.ReadFile(filepath.Join(work, "big.bin")); rerr != nil || !bytes.Equal(b, big) {
					err = fmt.Errorf("downloaded file differs (%d bytes, %v)", len(b), rerr)
				}
			}
			res <- result{out, err}
		}()
	}
	for range 4 {
		if r := <-res; r.err != nil {
			t.Errorf("concurrent download: %v\n%s", r.err, r.out)
		}
	}
}

func TestShutdownClosesIdleSessions(t *testing.T) {
	good, _ := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), nil)
	signer := loadOpenSSHKey(t, good.OpenSSH)
	c, err := ssh.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ts.port), &ssh.ClientConfig{
		User: "alice", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(ts.srv.cfg.HostKey.PublicKey()),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ts.srv.Addr() == nil {
		t.Error("Addr() is nil while serving")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// The session stays open, so the grace period runs out and Shutdown
	// closes it.
	if err := ts.srv.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Errorf("Shutdown = %v, want deadline exceeded", err)
	}
	if err := c.Wait(); err == nil {
		t.Error("client connection still open")
	}
	if _, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ts.port)); err == nil {
		t.Error("still accepting after Shutdown")
	}
}

func TestIdleTimeoutAndLoginGrace(t *testing.T) {
	good, _ := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), func(c *Config) {
		c.IdleTimeout = 200 * time.Millisecond
		c.LoginGraceTime = 200 * time.Millisecond
	})
	// A client that connects and says nothing is dropped after the grace
	// time, and an authenticated one that goes silent after the idle
	// timeout. Network deadlines are wall-clock by nature, so this test
	// waits on the connection rather than on an injected clock.
	raw, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ts.port))
	if err != nil {
		t.Fatal(err)
	}
	raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 256)
	for {
		if _, err := raw.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("silent client not dropped by the login grace time")
			}
			break
		}
	}
	raw.Close()

	signer := loadOpenSSHKey(t, good.OpenSSH)
	c, err := ssh.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ts.port), &ssh.ClientConfig{
		User: "alice", Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback: ssh.FixedHostKey(ts.srv.cfg.HostKey.PublicKey()),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("idle session not closed")
	}
}

func TestMaxConns(t *testing.T) {
	good, _ := testKeys(t)
	ts := startServer(t, aliceDirectory(good.Pub, "127.0.0.1/32"), func(c *Config) { c.MaxConns = 1 })
	first, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ts.port))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	first.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 8)
	if _, err := first.Read(buf); err != nil || string(buf[:4]) != "SSH-" {
		t.Fatalf("first connection: %q, %v", buf, err)
	}
	second, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(ts.port))
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := second.Read(buf); err == nil {
		t.Errorf("second connection over MaxConns got %q", buf[:n])
	}
}

func loadOpenSSHKey(t *testing.T, path string) ssh.Signer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.ParsePrivateKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func canBind(t *testing.T, ip string) bool {
	t.Helper()
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}
