package ftpd

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// curl exit codes (curl(1), "EXIT CODES").
const (
	curlLoginDenied = 67
)

func TestCurlListDownloadUpload(t *testing.T) {
	var mu sync.Mutex
	moved := map[string]int64{}
	ts := startServer(t, func(c *Config) {
		c.Transferred = func(direction string, n int64, _ time.Duration) {
			mu.Lock()
			moved[direction] += n
			mu.Unlock()
		}
	})
	ts.put(t, "alice", "statement-2026-11.pdf.pgp", "-----BEGIN PGP MESSAGE-----\nstatement\n")
	ts.put(t, "alice", "tax/1099.pdf.pgp", "tax form")

	out, errs, code := tlsCurl(t, ts.url("alice", "alice-pw", "/"))
	if code != 0 {
		t.Fatalf("list: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "statement-2026-11.pdf.pgp") || !strings.Contains(out, "tax") {
		t.Fatalf("list lacks the files:\n%s", out)
	}
	login := ts.audit.waitFor(t, EventLogin, nil)
	if login["user"] != "alice" || login["tls"] != "yes" || login["addr"] != "127.0.0.1" {
		t.Errorf("login event %v", login)
	}

	out, errs, code = tlsCurl(t, ts.url("alice", "alice-pw", "/tax/1099.pdf.pgp"))
	if code != 0 || out != "tax form" {
		t.Fatalf("download: exit %d, %q: %s", code, out, errs)
	}
	ts.audit.waitFor(t, EventDownload, func(a map[string]string) bool {
		return a["file"] == "/tax/1099.pdf.pgp" && a["bytes"] == "8" && a["result"] == "ok"
	})

	local := filepath.Join(t.TempDir(), "upload.csv")
	if err := os.WriteFile(local, []byte("a,b,c\n1,2,3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs, code = tlsCurl(t, "-T", local, ts.url("alice", "alice-pw", "/in/"), "--ftp-create-dirs")
	if code != 0 {
		t.Fatalf("upload: exit %d: %s", code, errs)
	}
	got, err := os.ReadFile(filepath.Join(ts.root, "alice", "in", "upload.csv"))
	if err != nil || string(got) != "a,b,c\n1,2,3\n" {
		t.Fatalf("uploaded file: %q, %v", got, err)
	}
	fi, err := os.Stat(filepath.Join(ts.root, "alice", "in", "upload.csv"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("uploaded file mode %v, %v; want 0600", fi.Mode(), err)
	}
	ts.audit.waitFor(t, EventUpload, func(a map[string]string) bool {
		return a["file"] == "/in/upload.csv" && a["result"] == "ok" && a["bytes"] == "12"
	})
	ts.audit.waitFor(t, EventLogout, func(a map[string]string) bool { return a["user"] == "alice" })

	// Delete and rename through curl's -Q (raw commands after the login).
	_, errs, code = tlsCurl(t, ts.url("alice", "alice-pw", "/"), "-Q", "RNFR /in/upload.csv", "-Q", "RNTO /in/renamed.csv", "-Q", "DELE /statement-2026-11.pdf.pgp")
	if code != 0 {
		t.Fatalf("rename/delete: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(ts.root, "alice", "in", "renamed.csv")); err != nil {
		t.Errorf("renamed file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(ts.root, "alice", "statement-2026-11.pdf.pgp")); !os.IsNotExist(err) {
		t.Errorf("deleted file still there: %v", err)
	}
	ts.audit.waitFor(t, EventRename, func(a map[string]string) bool {
		return a["file"] == "/in/upload.csv" && a["target"] == "/in/renamed.csv"
	})
	ts.audit.waitFor(t, EventRemove, func(a map[string]string) bool { return a["file"] == "/statement-2026-11.pdf.pgp" })

	mu.Lock()
	if moved["download"] != 8 || moved["upload"] != 12 {
		t.Errorf("Transferred saw %v", moved)
	}
	mu.Unlock()

	// The client's folder was made 0700.
	fi, err = os.Stat(filepath.Join(ts.root, "alice"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("client folder mode %v, %v", fi.Mode(), err)
	}
}

func TestCurlWrongPassword(t *testing.T) {
	ts := startServer(t, nil)
	for _, c := range []struct{ user, pass string }{
		{"alice", "wrong-pw"},
		{"nobody", "wrong-pw"},
		{"%2E%2E%2Falice", "alice-pw"},
	} {
		_, errs, code := tlsCurl(t, ts.url(c.user, c.pass, "/"))
		if code != curlLoginDenied {
			t.Errorf("%s: exit %d, want %d: %s", c.user, code, curlLoginDenied, errs)
		}
	}
	ev := ts.audit.waitFor(t, EventAuthFailed, func(a map[string]string) bool { return a["user"] == "alice" })
	if ev["addr"] != "127.0.0.1" || !strings.Contains(ev["reason"], "wrong password") {
		t.Errorf("auth_failed %v", ev)
	}
	ts.audit.waitFor(t, EventAuthFailed, func(a map[string]string) bool { return a["user"] == "nobody" })
	if n := len(ts.audit.find(EventLogin)); n != 0 {
		t.Errorf("%d logins", n)
	}
}

func TestCurlPlainFTP(t *testing.T) {
	ts := startServer(t, nil)
	ts.put(t, "alice", "a.pgp", "A")
	ts.put(t, "plainbob", "b.pgp", "B")

	// A TLS-only client is told so, after its password was checked.
	_, errs, code := runCurl(t, "-v", ts.url("alice", "alice-pw", "/"))
	if code != curlLoginDenied {
		t.Fatalf("plain login of a TLS client: exit %d: %s", code, errs)
	}
	if !strings.Contains(errs, "530 TLS required") {
		t.Errorf("reply lacks the TLS message:\n%s", errs)
	}
	ts.audit.waitFor(t, EventAuthFailed, func(a map[string]string) bool {
		return a["user"] == "alice" && a["reason"] == "TLS required"
	})
	// A wrong password gets the same reply as an unknown user, TLS or not.
	_, errs, _ = runCurl(t, "-v", ts.url("alice", "wrong-pw", "/"))
	if !strings.Contains(errs, "530 Login incorrect.") || strings.Contains(errs, "TLS required") {
		t.Errorf("wrong password over plain FTP:\n%s", errs)
	}

	// A PlainAllowed client logs in without TLS.
	out, errs, code := runCurl(t, ts.url("plainbob", "plainbob-pw", "/b.pgp"))
	if code != 0 || out != "B" {
		t.Fatalf("plain download: exit %d, %q: %s", code, out, errs)
	}
	ts.audit.waitFor(t, EventLogin, func(a map[string]string) bool { return a["user"] == "plainbob" && a["tls"] == "no" })
	// and with TLS too.
	out, errs, code = tlsCurl(t, ts.url("plainbob", "plainbob-pw", "/b.pgp"))
	if code != 0 || out != "B" {
		t.Fatalf("TLS download by a plain client: exit %d, %q: %s", code, out, errs)
	}
}

func TestCurlClearDataChannelRefused(t *testing.T) {
	ts := startServer(t, nil)
	ts.put(t, "alice", "a.pgp", "secret statement")
	// --ftp-ssl-control: TLS for the login, clear data channel (no PROT P).
	out, errs, code := runCurl(t, "-v", "--ftp-ssl-control", "-k", ts.url("alice", "alice-pw", "/a.pgp"))
	if code == 0 || strings.Contains(out, "secret") {
		t.Fatalf("clear data channel after AUTH TLS: exit %d, %q: %s", code, out, errs)
	}
	if !strings.Contains(errs, "421") || !strings.Contains(strings.ToLower(errs), "tls") {
		t.Errorf("refusal does not say TLS is required:\n%s", errs)
	}
}

func TestCurlNoTLSConfigured(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.TLS = nil })
	ts.put(t, "plainbob", "b.pgp", "B")
	_, _, code := tlsCurl(t, ts.url("alice", "alice-pw", "/"))
	if code == 0 {
		t.Fatal("FTPS without a TLS config succeeded")
	}
	_, _, code = runCurl(t, ts.url("alice", "alice-pw", "/"))
	if code != curlLoginDenied {
		t.Fatalf("plain login of a TLS client: exit %d", code)
	}
	out, errs, code := runCurl(t, ts.url("plainbob", "plainbob-pw", "/b.pgp"))
	if code != 0 || out != "B" {
		t.Fatalf("plain download: exit %d, %q: %s", code, out, errs)
	}
}

func TestCurlTraversal(t *testing.T) {
	ts := startServer(t, nil)
	ts.put(t, "alice", "mine.pgp", "mine")
	ts.put(t, "other", "theirs.pgp", "THEIRS")
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "passwd"), []byte("OUTSIDE"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ts.root, "root-secret"), []byte("ROOTSECRET"), 0o600); err != nil {
		t.Fatal(err)
	}
	adir := filepath.Join(ts.root, "alice")
	for name, target := range map[string]string{
		"abs-link":    filepath.Join(outside, "passwd"),
		"rel-link":    "../other/theirs.pgp",
		"dir-link":    outside,
		"reldir-link": "../other",
	} {
		if err := os.Symlink(target, filepath.Join(adir, name)); err != nil {
			t.Fatal(err)
		}
	}

	for _, c := range []struct {
		path string
		args []string
	}{
		{"/../other/theirs.pgp", nil},
		{"/../other/theirs.pgp", []string{"--path-as-is"}},
		{"/../other/theirs.pgp", []string{"--path-as-is", "--ftp-method", "nocwd"}},
		{"/../other/theirs.pgp", []string{"--path-as-is", "--ftp-method", "singlecwd"}},
		{"/%2e%2e/other/theirs.pgp", []string{"--path-as-is"}},
		{"/%2e%2e/root-secret", []string{"--path-as-is", "--ftp-method", "nocwd"}},
		{"/..%2f..%2froot-secret", []string{"--path-as-is", "--ftp-method", "nocwd"}},
		{"/%2F" + strings.TrimPrefix(filepath.Join(outside, "passwd"), "/"), []string{"--ftp-method", "nocwd"}},
		{"/abs-link", nil},
		{"/rel-link", nil},
		{"/dir-link/passwd", nil},
		{"/dir-link/", nil},
		{"/reldir-link/theirs.pgp", nil},
		{"/reldir-link/", nil},
	} {
		args := append(append([]string{}, c.args...), ts.url("alice", "alice-pw", c.path))
		out, errs, code := tlsCurl(t, args...)
		if code == 0 || strings.Contains(out, "THEIRS") || strings.Contains(out, "OUTSIDE") || strings.Contains(out, "ROOTSECRET") || strings.Contains(out, "passwd") {
			t.Errorf("%s %v: exit %d, got %q: %s", c.path, c.args, code, out, errs)
		}
	}

	// Uploads through a link pointing outside must not write there.
	local := filepath.Join(t.TempDir(), "x")
	os.WriteFile(local, []byte("PWNED"), 0o600)
	for _, p := range []string{"/abs-link", "/dir-link/new", "/../escaped", "/reldir-link/new"} {
		_, _, code := tlsCurl(t, "--path-as-is", "-T", local, ts.url("alice", "alice-pw", p))
		if b, _ := os.ReadFile(filepath.Join(outside, "passwd")); string(b) != "OUTSIDE" {
			t.Fatalf("upload to %s wrote outside the folder", p)
		}
		if _, err := os.Stat(filepath.Join(outside, "new")); err == nil {
			t.Fatalf("upload to %s created a file outside the folder", p)
		}
		if _, err := os.Stat(filepath.Join(ts.root, "other", "new")); err == nil {
			t.Fatalf("upload to %s created a file in another folder", p)
		}
		if p == "/../escaped" {
			// Lands in the client's own folder: ".." stops at its "/".
			if code != 0 {
				t.Errorf("upload to %s: exit %d", p, code)
			}
			if _, err := os.Stat(filepath.Join(ts.root, "escaped")); err == nil {
				t.Fatal("upload escaped to the root folder")
			}
		}
	}
	// The listing shows the links, not what they point to, and CWD above
	// "/" stays at "/".
	out, errs, code := tlsCurl(t, "-Q", "CWD ..", ts.url("alice", "alice-pw", "/"))
	if code != 0 || !strings.Contains(out, "mine.pgp") || strings.Contains(out, "theirs") {
		t.Errorf("list after CWD ..: exit %d, %q: %s", code, out, errs)
	}

	// Renames and folders stay inside the folder too.
	if _, _, code := tlsCurl(t, "-Q", "RNFR mine.pgp", "-Q", "RNTO ../other/stolen.pgp", ts.url("alice", "alice-pw", "/")); code == 0 {
		t.Error("rename into a folder the client does not have succeeded")
	}
	tlsCurl(t, "-Q", "MKD ../../made", ts.url("alice", "alice-pw", "/"))
	for _, p := range []string{filepath.Join(ts.root, "other", "stolen.pgp"), filepath.Join(ts.root, "made"), filepath.Join(filepath.Dir(ts.root), "made")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was made outside the client's folder", p)
		}
	}
	if _, err := os.Stat(filepath.Join(adir, "made")); err != nil {
		t.Errorf("MKD ../../made: %v", err)
	}

	// A FIFO planted in the folder is neither read nor written (it would
	// block the worker).
	if err := syscall.Mkfifo(filepath.Join(adir, "fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, code := tlsCurl(t, ts.url("alice", "alice-pw", "/fifo")); code == 0 {
		t.Error("download of a FIFO succeeded")
	}
	if _, _, code := tlsCurl(t, "-T", local, ts.url("alice", "alice-pw", "/fifo")); code == 0 {
		t.Error("upload to a FIFO succeeded")
	}

	// SITE CHMOD, MFMT and symlinks are refused.
	for _, cmd := range []string{"SITE CHMOD 777 mine.pgp", "MFMT 20990101000000 mine.pgp", "SITE SYMLINK /etc/passwd x"} {
		_, errs, code := tlsCurl(t, "-Q", cmd, ts.url("alice", "alice-pw", "/"))
		if code == 0 {
			t.Errorf("%s accepted: %s", cmd, errs)
		}
	}
	fi, err := os.Stat(filepath.Join(adir, "mine.pgp"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mine.pgp mode %v, %v", fi.Mode(), err)
	}
}

func TestCurlQuota(t *testing.T) {
	ts := startServer(t, nil)
	ts.put(t, "quotaq", "delivered.pgp", strings.Repeat("d", 400))
	local := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(local, []byte(strings.Repeat("x", 5000)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs, code := tlsCurl(t, "-v", "-T", local, ts.url("quotaq", "quotaq-pw", "/big"))
	if code == 0 {
		t.Fatalf("upload over quota succeeded: %s", errs)
	}
	if !strings.Contains(errs, "552") || !strings.Contains(errs, "exceeded storage allocation") {
		t.Errorf("reply lacks 552:\n%s", errs)
	}
	ev := ts.audit.waitFor(t, EventQuotaExceeded, nil)
	if ev["user"] != "quotaq" || ev["file"] != "/big" || ev["quota"] != "1000" {
		t.Errorf("quota event %v", ev)
	}
	ts.audit.waitFor(t, EventUpload, func(a map[string]string) bool {
		return a["file"] == "/big" && strings.HasPrefix(a["result"], "quota exceeded")
	})
	if _, err := os.Stat(filepath.Join(ts.root, "quotaq", "big")); !os.IsNotExist(err) {
		t.Errorf("partial upload left: %v", err)
	}

	// Up to the quota is fine.
	small := filepath.Join(t.TempDir(), "small")
	os.WriteFile(small, []byte(strings.Repeat("s", 600)), 0o600)
	if _, errs, code := tlsCurl(t, "-T", small, ts.url("quotaq", "quotaq-pw", "/small")); code != 0 {
		t.Fatalf("upload within quota: exit %d: %s", code, errs)
	}
	// One byte more is not, even appended.
	one := filepath.Join(t.TempDir(), "one")
	os.WriteFile(one, []byte("1"), 0o600)
	if _, _, code := tlsCurl(t, "--append", "-T", one, ts.url("quotaq", "quotaq-pw", "/small")); code == 0 {
		t.Fatal("append over quota succeeded")
	}
	// A refused append leaves the file as it was.
	if b, err := os.ReadFile(filepath.Join(ts.root, "quotaq", "small")); len(b) != 600 {
		t.Errorf("small is %d bytes after a refused append, %v", len(b), err)
	}

	// Entries: 5 allowed, 2 or fewer present; folders count.
	for i, d := range []string{"d1", "d2", "d3", "d4", "d5"} {
		_, _, code := tlsCurl(t, "-Q", "MKD "+d, ts.url("quotaq", "quotaq-pw", "/"))
		n, _ := os.ReadDir(filepath.Join(ts.root, "quotaq"))
		if len(n) > 5 {
			t.Fatalf("MKD %s (#%d): %d entries, exit %d", d, i, len(n), code)
		}
	}
}
