package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secure-login-system/sls/sqlstore/storetest"
)

// Statement delivery as the seed article describes it (SPEC §7): the client
// makes an RSA 2048 key pair with puttygen and sends the public part; the
// operator registers it with slsctl; the client connects with OpenSSH's sftp
// and lists, downloads and uploads; statements arrive through the spool
// and through slsctl, encrypted to the client's gpg key.

func sftpNeed(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
}

func sftpRun(t *testing.T, env []string, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// clientKeys are what a client has after following the article: the .ppk,
// the exports it may send, and (for OpenSSH's sftp) the private key in
// OpenSSH form.
type clientKeys struct {
	PPK, Public, RFC4716, OpenSSH string
	Fingerprint                   string
}

// puttygen's RSA generation is the slowest step, so the pairs are made once
// per run and written out again into each test's own directory.
var sftpKeyCache struct {
	once  sync.Once
	err   error
	files map[string][]byte // name -> content
	fps   map[string]string // key -> fingerprint
}

// puttygenKeys makes, once per run, the client's RSA 2048 pair with a
// passphrase as in the article ("puttygen -t rsa -b 2048 -o
// privatekey.ppk", "puttygen -L privatekey.ppk -o public.key"), another
// person's RSA pair and an Ed25519 pair, with the exports a client may
// send (puttygen -L, puttygen -p) and the private key in OpenSSH form for
// OpenSSH's sftp.
func puttygenKeys(t *testing.T) map[string]clientKeys {
	t.Helper()
	sftpNeed(t, "puttygen")
	c := &sftpKeyCache
	c.once.Do(func() {
		dir, err := os.MkdirTemp("", "sls-e2e-keys")
		if err != nil {
			c.err = err
			return
		}
		defer os.RemoveAll(dir)
		must := func(name string, args ...string) {
			if c.err != nil {
				return
			}
			if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
				c.err = fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
			}
		}
		pass, empty := filepath.Join(dir, "passphrase"), filepath.Join(dir, "empty")
		os.WriteFile(pass, []byte("correct horse battery staple"), 0o600)
		os.WriteFile(empty, nil, 0o600)
		c.files, c.fps = map[string][]byte{}, map[string]string{}
		for name, spec := range map[string][]string{"client": {"-t", "rsa", "-b", "2048"}, "other": {"-t", "rsa", "-b", "2048"}, "ed": {"-t", "ed25519"}} {
			p := func(s string) string { return filepath.Join(dir, name+s) }
			must("puttygen", append(spec, "--new-passphrase", pass, "-o", p(".ppk"))...)
			must("puttygen", "-L", p(".ppk"), "-o", p("-public.key"))
			must("puttygen", "-p", p(".ppk"), "-o", p("-public.rfc4716"))
			must("puttygen", p(".ppk"), "-O", "private-openssh", "--old-passphrase", pass, "--new-passphrase", empty, "-o", p("_openssh"))
			if c.err != nil {
				return
			}
			out, err := exec.Command("puttygen", "-l", p(".ppk")).Output()
			if f := strings.Fields(string(out)); err != nil || len(f) < 3 {
				c.err = fmt.Errorf("puttygen -l: %v %s", err, out)
				return
			}
			c.fps[name] = strings.Fields(string(out))[2]
			for _, suffix := range []string{".ppk", "-public.key", "-public.rfc4716", "_openssh"} {
				if c.files[name+suffix], err = os.ReadFile(p(suffix)); err != nil {
					c.err = err
					return
				}
			}
		}
	})
	if c.err != nil {
		t.Fatalf("puttygen: %v", c.err)
	}
	dir := t.TempDir()
	for name, b := range c.files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	keys := map[string]clientKeys{}
	for name, fp := range c.fps {
		p := func(s string) string { return filepath.Join(dir, name+s) }
		keys[name] = clientKeys{PPK: p(".ppk"), Public: p("-public.key"), RFC4716: p("-public.rfc4716"), OpenSSH: p("_openssh"), Fingerprint: fp}
	}
	return keys
}

// sftpServer is a node's SFTP endpoint as slsctl publishes it.
type sftpServer struct {
	addr, port, fingerprint, hostKey string
	knownHosts                       string
}

var hostkeyLine = regexp.MustCompile(`(?m)^(address|fingerprint|host key)\s+(.+)$`)

func sftpEndpoint(t *testing.T, n *node) sftpServer {
	t.Helper()
	out := n.mustCtl("", "sftp", "hostkey")
	var s sftpServer
	for _, m := range hostkeyLine.FindAllStringSubmatch(out, -1) {
		switch m[1] {
		case "address":
			s.addr = strings.TrimSpace(m[2])
		case "fingerprint":
			s.fingerprint = strings.TrimSpace(m[2])
		case "host key":
			s.hostKey = strings.TrimSpace(m[2])
		}
	}
	i := strings.LastIndex(s.addr, ":")
	if i < 0 || s.fingerprint == "" || s.hostKey == "" {
		t.Fatalf("sftp hostkey output:\n%s", out)
	}
	s.port = s.addr[i+1:]
	// The client pins the published host key: StrictHostKeyChecking=yes
	// below fails if the server shows another.
	s.knownHosts = filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(s.knownHosts, []byte("[127.0.0.1]:"+s.port+" "+s.hostKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The fingerprint published is the one OpenSSH computes from the key.
	if fp := sftpRun(t, nil, "", "ssh-keygen", "-l", "-f", s.knownHosts); !strings.Contains(fp, s.fingerprint) {
		t.Errorf("ssh-keygen -l says %q, slsctl says %s", fp, s.fingerprint)
	}
	return s
}

// sftp runs OpenSSH's sftp in batch mode as the client would.
func (s sftpServer) sftp(t *testing.T, key, user, batch, workdir string, extra ...string) (string, error) {
	t.Helper()
	bf := filepath.Join(t.TempDir(), "batch")
	if err := os.WriteFile(bf, []byte(batch), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"-F", "/dev/null", "-b", bf, "-i", key, "-P", s.port,
		"-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + s.knownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10"}
	args = append(args, extra...)
	args = append(args, user+"@127.0.0.1")
	cmd := exec.Command("sftp", args...)
	cmd.Dir = workdir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// waitUntil polls cond (a state of the system, not the passing of time).
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func auditHas(n *node, event string, parts ...string) bool {
	out, err := n.ctl("", "audit", "list", "--limit", "10000")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, " "+event+" ") {
			continue
		}
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return true
		}
	}
	return false
}

// gpgHome makes a client's OpenPGP key pair in a temporary GNUPGHOME and
// returns the environment for gpg and the armored public key file.
func gpgHome(t *testing.T) (env []string, pubFile string) {
	t.Helper()
	sftpNeed(t, "gpg", "gpgconf")
	home, err := os.MkdirTemp("", "gpg") // short: gpg-agent's socket path is limited
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o700)
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	env = []string{"GNUPGHOME=" + home}
	sftpRun(t, env, "", "gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Acme Reports <reports@acme.example>", "future-default", "default", "never")
	pubFile = filepath.Join(home, "acme.asc")
	sftpRun(t, env, "", "gpg", "--batch", "--armor", "--output", pubFile, "--export", "reports@acme.example")
	return env, pubFile
}

func sftpConfigFile(t *testing.T, cfg string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sftp.json")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func listStatements(t *testing.T, n *node, client string) string {
	t.Helper()
	return n.mustCtl("", "statement", "list", client)
}

func TestSFTPDeliveryJourney(t *testing.T) {
	sftpNeed(t, "puttygen", "sftp", "ssh-keygen", "gpg")
	keys := puttygenKeys(t)
	forEachEngine(t, func(t *testing.T, db string) {
		clockFile := filepath.Join(t.TempDir(), "clock")
		cfg := sftpConfigFile(t, `{"sftp": {"spool_interval": "200ms", "max_statement_bytes": 1000000}}`)
		n := startNode(t, db, withClockFile(clockFile), withArgs("--config", cfg))
		setupUser(t, n, "alice", "U1000001")
		srv := sftpEndpoint(t, n)
		work := t.TempDir()
		good, other, ed := keys["client"], keys["other"], keys["ed"]

		// The operator registers the public key the client sent (puttygen
		// -L), with an allow-list that does not hold the client's address.
		out := n.mustCtl("", "sftp", "register", "acme-stmts", "--user", "alice", "--key", good.Public, "--allow", "127.0.0.2")
		if !strings.Contains(out, good.Fingerprint) || !strings.Contains(out, "sent as openssh") {
			t.Errorf("register output lacks the key %s:\n%s", good.Fingerprint, out)
		}

		// C. "Connection timed out / refused": an address on no list is
		// closed before the SSH version exchange, and audited.
		out, err := srv.sftp(t, good.OpenSSH, "acme-stmts", "ls\n", work)
		if err == nil {
			t.Fatalf("login from an address not on the allow-list succeeded:\n%s", out)
		}
		if !strings.Contains(out, "kex_exchange_identification") || strings.Contains(out, "Permission denied") {
			t.Errorf("refused address: the client should see the connection closed before authentication:\n%s", out)
		}
		waitUntil(t, "sftp.addr_refused in the audit trail", func() bool {
			return auditHas(n, "sftp.addr_refused", `"addr":"127.0.0.1"`, `"reason":"not on allow-list"`)
		})

		out = n.mustCtl("", "sftp", "allow", "acme-stmts", "127.0.0.1", "2001:db8:1::/48")
		if !strings.Contains(out, "allow-list: 127.0.0.1 2001:db8:1::/48") {
			t.Errorf("allow output:\n%s", out)
		}

		// B. "Server refused our key": a key that was never sent.
		out, err = srv.sftp(t, other.OpenSSH, "acme-stmts", "ls\n", work)
		if err == nil || !strings.Contains(out, "Permission denied (publickey)") {
			t.Fatalf("wrong key: %v\n%s", err, out)
		}
		waitUntil(t, "sftp.auth_failed with alice's user id", func() bool {
			return auditHas(n, "sftp.auth_failed", "user=usr_", `"reason":"key not registered"`, `"user":"acme-stmts"`)
		})

		// The same key sent again as RFC 4716 (puttygen -p) is the same key.
		out, err = n.ctl("", "sftp", "key", "add", "acme-stmts", good.RFC4716)
		if err == nil || !strings.Contains(out, "already registered") {
			t.Errorf("RFC 4716 export of the registered key: %v\n%s", err, out)
		}
		// A weak key is refused with sshkey's message.
		weak := filepath.Join(t.TempDir(), "weak")
		sftpRun(t, nil, "", "ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", weak)
		out, err = n.ctl("", "sftp", "key", "add", "acme-stmts", weak+".pub")
		if err == nil || !strings.Contains(out, "invalid_argument") || !strings.Contains(out, "2048") {
			t.Errorf("1024-bit key: %v\n%s", err, out)
		}

		// The client's OpenPGP key: statements are encrypted to it.
		gpgEnv, pgpFile := gpgHome(t)
		out = n.mustCtl("", "sftp", "pgp", "set", "acme-stmts", pgpFile)
		if !strings.Contains(out, "reports@acme.example") {
			t.Errorf("pgp set: %s", out)
		}

		// A statement through the back office's spool (written under a
		// dot-name, then renamed), and one through slsctl.
		spoolStmt := randomBytes(t, 300<<10)
		spoolDir := filepath.Join(n.dataDir, "spool", "acme-stmts")
		if err := os.MkdirAll(spoolDir, 0o700); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(spoolDir, ".U1000001_20260301.pdf")
		if err := os.WriteFile(tmp, spoolStmt, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(spoolDir, "U1000001_20260301.pdf")); err != nil {
			t.Fatal(err)
		}
		ctlStmt := []byte(strings.Repeat("2026-03-02,BUY,100,XYZ,12.34\n", 20000))
		ctlFile := filepath.Join(t.TempDir(), "activity.csv")
		os.WriteFile(ctlFile, ctlStmt, 0o600)
		out = n.mustCtl("", "statement", "deliver", "--to", "acme-stmts", "--name", "U1000001_activity_20260302.csv", ctlFile)
		if !strings.Contains(out, "U1000001_activity_20260302.csv.gpg") || !strings.Contains(out, "encrypted") {
			t.Errorf("statement deliver: %s", out)
		}
		// Over the size cap, whether the size is announced or not (standard
		// input is sent chunked): refused, and nothing is left behind.
		bigFile := filepath.Join(t.TempDir(), "big.pdf")
		os.WriteFile(bigFile, randomBytes(t, 1500000), 0o600)
		out, err = n.ctl("", "statement", "deliver", "--to", "acme-stmts", bigFile)
		if err == nil || !strings.Contains(out, "body_too_large") {
			t.Errorf("statement over max_statement_bytes: %v\n%s", err, out)
		}
		out, err = n.ctl(string(randomBytes(t, 1500000)), "statement", "deliver", "--to", "acme-stmts", "--name", "big2.pdf", "-")
		if err == nil || !strings.Contains(out, "body_too_large") {
			t.Errorf("chunked statement over max_statement_bytes: %v\n%s", err, out)
		}
		entries, _ := os.ReadDir(filepath.Join(n.dataDir, "statements", "acme-stmts"))
		for _, e := range entries {
			// Only the refused uploads' names count: the spool scan may be
			// writing its own temporary file beside them at this moment.
			if strings.Contains(e.Name(), "big") {
				t.Errorf("left in the client's folder by a refused upload: %s", e.Name())
			}
		}
		waitUntil(t, "the spooled statement in the client's folder", func() bool {
			return strings.Contains(listStatements(t, n, "acme-stmts"), "U1000001_20260301.pdf.gpg")
		})
		// The spool file goes once the delivery is durable: a moment after
		// the statement appears in the folder.
		waitUntil(t, "the spooled file removed from the spool", func() bool {
			_, err := os.Stat(filepath.Join(spoolDir, "U1000001_20260301.pdf"))
			return os.IsNotExist(err)
		})
		if _, err := os.Stat(filepath.Join(spoolDir, "U1000001_20260301.pdf")); err == nil {
			t.Error("the spooled file is still in the spool")
		}
		if !auditHas(n, "statement.delivered", `"source":"spool"`, `"encrypted":true`) ||
			!auditHas(n, "statement.delivered", `"source":"operator"`, "operator:"+testOperator) {
			t.Error("deliveries not audited")
		}

		// The client lists, downloads and uploads (read and write access
		// to its own folder).
		upload := randomBytes(t, 50<<10)
		os.WriteFile(filepath.Join(work, "instructions.txt"), upload, 0o600)
		out, err = srv.sftp(t, good.OpenSSH, "acme-stmts", strings.Join([]string{
			"pwd", "ls -l", "get U1000001_20260301.pdf.gpg", "get U1000001_activity_20260302.csv.gpg", "put instructions.txt", "ls",
		}, "\n")+"\n", work)
		if err != nil {
			t.Fatalf("sftp: %v\n%s", err, out)
		}
		if !strings.Contains(out, "Remote working directory: /") || !strings.Contains(out, "U1000001_20260301.pdf.gpg") {
			t.Errorf("listing:\n%s", out)
		}
		for _, c := range []struct {
			file string
			want []byte
		}{{"U1000001_20260301.pdf.gpg", spoolStmt}, {"U1000001_activity_20260302.csv.gpg", ctlStmt}} {
			dec := filepath.Join(work, c.file+".out")
			sftpRun(t, gpgEnv, work, "gpg", "--batch", "--yes", "--output", dec, "--decrypt", c.file)
			if got, err := os.ReadFile(dec); err != nil || !bytes.Equal(got, c.want) {
				t.Errorf("gpg --decrypt %s: %d bytes (%v), want %d", c.file, len(got), err, len(c.want))
			}
		}
		if got, err := os.ReadFile(filepath.Join(n.dataDir, "statements", "acme-stmts", "instructions.txt")); err != nil || !bytes.Equal(got, upload) {
			t.Errorf("upload: %d bytes, %v", len(got), err)
		}
		waitUntil(t, "download and upload audited", func() bool {
			return auditHas(n, "sftp.download", `"file":"/U1000001_20260301.pdf.gpg"`, "user=usr_") &&
				auditHas(n, "sftp.upload", `"file":"/instructions.txt"`, `"result":"ok"`)
		})

		// A second SFTP client of the same user, registered from the RFC
		// 4716 export of another key; and the Ed25519 .ppk handed over by
		// mistake: its public part is taken, with a warning.
		n.mustCtl("", "sftp", "register", "acme-archive", "--user", "alice", "--key", other.RFC4716, "--allow", "127.0.0.0/24")
		n.mustCtl("", "statement", "deliver", "--to", "acme-archive", "--name", "archive-secret.pdf", ctlFile)
		out = n.mustCtl("", "sftp", "key", "add", "acme-stmts", ed.PPK)
		if !strings.Contains(out, "WARNING") || !strings.Contains(out, "private key") || !strings.Contains(out, ed.Fingerprint) {
			t.Errorf(".ppk key add should warn that the client sent its private key:\n%s", out)
		}
		out, err = srv.sftp(t, ed.OpenSSH, "acme-stmts", "pwd\n", work)
		if err != nil {
			t.Errorf("login with the key from the .ppk: %v\n%s", err, out)
		}
		out = n.mustCtl("", "sftp", "key", "remove", "acme-stmts", ed.Fingerprint)
		if !strings.Contains(out, "revoked") {
			t.Errorf("key remove: %s", out)
		}
		out, err = srv.sftp(t, ed.OpenSSH, "acme-stmts", "pwd\n", work)
		if err == nil || !strings.Contains(out, "Permission denied (publickey)") {
			t.Errorf("revoked key still logs in: %v\n%s", err, out)
		}
		out = n.mustCtl("", "sftp", "show", "acme-stmts")
		if !strings.Contains(out, "REVOKED") || !strings.Contains(out, "sent as ppk") {
			t.Errorf("show:\n%s", out)
		}

		// Traversal: nothing outside the client's own folder can be read
		// or written, and "/" is the folder.
		os.WriteFile(filepath.Join(work, "evil.txt"), []byte("evil"), 0o600)
		out, err = srv.sftp(t, good.OpenSSH, "acme-stmts", strings.Join([]string{
			"-get ../acme-archive/archive-secret.pdf a1",
			"-get /../acme-archive/archive-secret.pdf a2",
			"-get ../../seal.key k1",
			"-get ../../../operator.token k2",
			"-get " + filepath.Join(n.dataDir, "seal.key") + " k3",
			"-get /etc/passwd p1",
			"-put evil.txt ../evil.txt",
			"-put evil.txt ../../evil.txt",
			"-put evil.txt ../acme-archive/evil.txt",
			"-rename U1000001_20260301.pdf.gpg ../../moved.gpg",
			"-symlink ../../seal.key key-link",
			"-ln ../acme-archive/archive-secret.pdf hard",
			"cd ../../..",
			"pwd",
		}, "\n")+"\n", work)
		if err != nil {
			t.Fatalf("traversal batch: %v\n%s", err, out)
		}
		for _, f := range []string{"a1", "a2", "k1", "k2", "k3", "p1"} {
			if _, err := os.Stat(filepath.Join(work, f)); err == nil {
				t.Errorf("traversal: %s was downloaded", f)
			}
		}
		for _, p := range []string{"evil.txt", "moved.gpg", "statements/evil.txt", "statements/moved.gpg", "statements/acme-archive/evil.txt",
			"statements/acme-stmts/key-link", "statements/acme-stmts/hard"} {
			if _, err := os.Lstat(filepath.Join(n.dataDir, p)); err == nil {
				t.Errorf("traversal: %s was created", p)
			}
		}
		if !strings.Contains(out, "Remote working directory: /\n") {
			t.Errorf("cd ../../.. left the folder:\n%s", out)
		}
		// The other client's key does not open this folder.
		out, err = srv.sftp(t, other.OpenSSH, "acme-stmts", "ls\n", work)
		if err == nil {
			t.Errorf("another client's key opened the folder:\n%s", out)
		}

		// A disabled client cannot log in; enabled again, it can.
		n.mustCtl("", "sftp", "disable", "acme-stmts")
		if out, err := srv.sftp(t, good.OpenSSH, "acme-stmts", "pwd\n", work); err == nil {
			t.Errorf("disabled client logged in:\n%s", out)
		}
		n.mustCtl("", "sftp", "enable", "acme-stmts")

		// Retention: 100 days after delivery the files are purged by the
		// scheduler; a statement delivered afterwards stays.
		setClock(t, clockFile, 101*24*time.Hour)
		waitUntil(t, "the purge after 100 days", func() bool {
			return !strings.Contains(listStatements(t, n, "acme-stmts"), "U1000001_20260301.pdf.gpg")
		})
		n.mustCtl("", "statement", "deliver", "--to", "acme-stmts", "--name", "U1000001_20260611.pdf", ctlFile)
		// The next daily run (a day later in the system's time) purges a
		// file that is old by then and keeps the one just delivered.
		stale := filepath.Join(n.dataDir, "statements", "acme-stmts", "stale.pdf")
		os.WriteFile(stale, []byte("stale"), 0o600)
		setClock(t, clockFile, 101*24*time.Hour+25*time.Hour)
		waitUntil(t, "the next daily purge", func() bool {
			_, err := os.Stat(stale)
			return os.IsNotExist(err)
		})
		list := listStatements(t, n, "acme-stmts")
		if strings.Contains(list, "U1000001_activity_20260302.csv.gpg") || strings.Contains(list, "instructions.txt") ||
			!strings.Contains(list, "U1000001_20260611.pdf.gpg") {
			t.Errorf("after the purge:\n%s", list)
		}
		if !auditHas(n, "statement.purged", `"retention_days":100`) {
			t.Error("purge not audited")
		}
		out, err = srv.sftp(t, good.OpenSSH, "acme-stmts", "ls\n", work)
		if err != nil || strings.Contains(out, "U1000001_20260301") || !strings.Contains(out, "U1000001_20260611.pdf.gpg") {
			t.Errorf("listing after the purge: %v\n%s", err, out)
		}
		if out := n.mustCtl("", "audit", "verify"); !strings.Contains(out, "audit trail OK") {
			t.Errorf("audit verify: %s", out)
		}
	})
}

// TestSFTPTwoNodes: the SFTP server reads its clients from the database,
// so a client registered through one node logs in on the other at once,
// and a client disabled on one is refused by the other.
func TestSFTPTwoNodes(t *testing.T) {
	sftpNeed(t, "puttygen", "sftp", "ssh-keygen")
	keys := puttygenKeys(t)
	dsn := storetest.PostgresDSN(t)
	dir := t.TempDir()
	a := startNode(t, dsn, withDataDir(dir))
	b := startNode(t, dsn, withDataDir(dir))
	setupUser(t, a, "bob", "U2000002")
	sa, sb := sftpEndpoint(t, a), sftpEndpoint(t, b)
	if sa.fingerprint != sb.fingerprint {
		t.Errorf("nodes sharing a data directory show different host keys: %s and %s", sa.fingerprint, sb.fingerprint)
	}
	a.mustCtl("", "sftp", "register", "bob-stmts", "--user", "bob", "--key", keys["client"].Public, "--allow", "127.0.0.1")
	b.mustCtl("", "statement", "deliver", "--to", "bob-stmts", "--name", "U2000002.pdf", keys["client"].Public)
	work := t.TempDir()
	if out, err := sb.sftp(t, keys["client"].OpenSSH, "bob-stmts", "get U2000002.pdf\n", work); err != nil {
		t.Fatalf("login on node b: %v\n%s", err, out)
	}
	a.mustCtl("", "sftp", "disable", "bob-stmts")
	if out, err := sb.sftp(t, keys["client"].OpenSSH, "bob-stmts", "ls\n", work); err == nil {
		t.Errorf("node b let a client disabled on node a in:\n%s", out)
	} else if !strings.Contains(out, "kex_exchange_identification") {
		// Its address is on no enabled client's list any more.
		t.Errorf("disabled client's address still passes the door:\n%s", out)
	}
}

// TestSFTPSwitchedOff: slsd runs without the SFTP server when the
// configuration says so.
func TestSFTPSwitchedOff(t *testing.T) {
	sftpNeed(t, "puttygen")
	keys := puttygenKeys(t)
	cfg := sftpConfigFile(t, `{"sftp": {"enabled": false}}`)
	n := startNode(t, "", withArgs("--config", cfg))
	setupUser(t, n, "carol", "U3000003")
	if r := call(t, "GET", n.url+"/readyz", "", nil); r.Status != 200 {
		t.Fatalf("readyz with SFTP off: %d %s", r.Status, r.Raw)
	}
	// The login service answers (carol has no device yet).
	r := call(t, "POST", n.url+"/api/v1/login", "", map[string]any{"username": "carol", "password": pw, "platform": "portal"})
	if r.code() != "device_unavailable" {
		t.Errorf("login with SFTP off: %d %s", r.Status, r.Raw)
	}
	out, err := n.ctl("", "sftp", "hostkey")
	if err == nil || !strings.Contains(out, "switched off") {
		t.Errorf("sftp hostkey with SFTP off: %v\n%s", err, out)
	}
	// Clients are database state: they can be prepared on any node.
	n.mustCtl("", "sftp", "register", "carol-stmts", "--user", "carol", "--key", keys["client"].Public, "--allow", "127.0.0.1")
	out, err = n.ctl("", "statement", "deliver", "--to", "carol-stmts", "--name", "x.pdf", keys["client"].Public)
	if err == nil || !strings.Contains(out, "unavailable") {
		t.Errorf("statement deliver with SFTP off: %v\n%s", err, out)
	}
	for _, f := range []string{"sftp_host_ed25519_key", "statements", "spool"} {
		if _, err := os.Stat(filepath.Join(n.dataDir, f)); err == nil {
			t.Errorf("%s created although SFTP is off", f)
		}
	}
	if strings.Contains(n.logs.String(), `"msg":"sftp: statement delivery"`) {
		t.Error("the SFTP server started")
	}
}
