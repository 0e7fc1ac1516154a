package e2e

import (
	"bytes"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Report access over FTP as the seed's "How to Access Your Reports Using
// FTP" describes it: username and password from the Reporting
// Integration Team, passive mode, read and write access to the client's
// own folder; driven with Debian's curl and lftp.

// ftpServer is what an operator tells the client.
type ftpServer struct{ host, port string }

var ftpAddrLine = regexp.MustCompile(`(?m)^ftp address\s+(\S+):(\d+)$`)

func ftpEndpoint(t *testing.T, n *node) ftpServer {
	t.Helper()
	out := n.mustCtl("", "sftp", "hostkey")
	m := ftpAddrLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("sftp hostkey shows no FTP server:\n%s", out)
	}
	return ftpServer{host: m[1], port: m[2]}
}

// ftpPassword reads the password slsctl shows once.
var ftpPasswordLine = regexp.MustCompile(`(?m)^FTP password for (\S+) \(shown once.*\n(\S+)$`)

func ftpPasswordOf(t *testing.T, out string) string {
	t.Helper()
	m := ftpPasswordLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no FTP password in:\n%s", out)
	}
	return m[2]
}

// curl runs curl as the client would and returns its output and exit code.
func (f ftpServer) curl(t *testing.T, workdir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command("curl", append([]string{"--silent", "--show-error", "--max-time", "20"}, args...)...)
	cmd.Dir = workdir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

func (f ftpServer) url(user, password, path string) string {
	return fmt.Sprintf("ftp://%s:%s@%s:%s%s", user, password, f.host, f.port, path)
}

// lftp runs a script with FTPS forced on the control and data channels.
func (f ftpServer) lftp(t *testing.T, workdir, user, password, script string) (string, error) {
	t.Helper()
	full := "set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:verify-certificate no; set net:max-retries 1; set net:timeout 10; " +
		fmt.Sprintf("open -u %s,%s -p %s ftp://%s; ", user, password, f.port, f.host) + script
	cmd := exec.Command("lftp", "-c", full)
	cmd.Dir = workdir
	cmd.Env = append(os.Environ(), "HOME="+workdir) // no user rc file
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestFTPReportAccess(t *testing.T) {
	sftpNeed(t, "curl", "lftp", "gpg")
	forEachEngine(t, func(t *testing.T, db string) {
		// A passive range of its own, so that parallel runs do not meet.
		first := 30000 + mrand.IntN(20000)
		cfg := sftpConfigFile(t, fmt.Sprintf(`{"sftp": {"spool_interval": "200ms"},
			"ftp": {"enabled": true, "passive_ports": "%d-%d"},
			"login": {"untrusted_burst": 3}}`, first, first+19))
		n := startNode(t, db, withArgs("--config", cfg, "--ftp-listen", "127.0.0.1:0"))
		setupUser(t, n, "alice", "U1000001")
		srv := ftpEndpoint(t, n)
		work := t.TempDir()

		// The Reporting Integration Team registers the client with FTP
		// access: no SSH key, a generated password shown once.
		out := n.mustCtl("", "sftp", "register", "acme-ftp", "--user", "alice", "--ftp", "--allow", "127.0.0.2")
		pw := ftpPasswordOf(t, out)
		if len(pw) < 20 || !strings.Contains(out, "FTP: password set; FTPS only") {
			t.Fatalf("register --ftp:\n%s", out)
		}

		// An address on no allow-list is closed before the greeting.
		if out, code := srv.curl(t, work, "--ssl-reqd", "-k", srv.url("acme-ftp", pw, "/")); code == 0 {
			t.Fatalf("listing from an address off the list succeeded:\n%s", out)
		}
		waitUntil(t, "ftp.addr_refused in the audit trail", func() bool {
			return auditHas(n, "ftp.addr_refused", `"addr":"127.0.0.1"`)
		})
		n.mustCtl("", "sftp", "allow", "acme-ftp", "127.0.0.1")

		// A statement and a tax form are delivered into the folder.
		stmt := filepath.Join(work, "U1000001_2026-11.pdf")
		if err := os.WriteFile(stmt, []byte("%PDF-1.4 November statement\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		n.mustCtl("", "statement", "deliver", "--to", "acme-ftp", stmt)

		// FTPS (AUTH TLS, PROT P): list, download, upload, list again.
		out, code := srv.curl(t, work, "--ssl-reqd", "-k", "--list-only", srv.url("acme-ftp", pw, "/"))
		if code != 0 || !strings.Contains(out, "U1000001_2026-11.pdf") {
			t.Fatalf("curl --ssl-reqd list: exit %d\n%s", code, out)
		}
		got := filepath.Join(work, "got.pdf")
		if out, code := srv.curl(t, work, "--ssl-reqd", "-k", "-o", got, srv.url("acme-ftp", pw, "/U1000001_2026-11.pdf")); code != 0 {
			t.Fatalf("curl download: exit %d\n%s", code, out)
		}
		if b, _ := os.ReadFile(got); string(b) != "%PDF-1.4 November statement\n" {
			t.Errorf("downloaded %q", b)
		}
		up := filepath.Join(work, "instructions.csv")
		os.WriteFile(up, []byte("account,report\nU1000001,daily\n"), 0o600)
		if out, code := srv.curl(t, work, "--ssl-reqd", "-k", "-T", up, srv.url("acme-ftp", pw, "/")); code != 0 {
			t.Fatalf("curl upload: exit %d\n%s", code, out)
		}
		if out := listStatements(t, n, "acme-ftp"); !strings.Contains(out, "instructions.csv") {
			t.Errorf("the upload is not in the folder:\n%s", out)
		}
		waitUntil(t, "ftp.login and ftp.upload in the audit trail", func() bool {
			return auditHas(n, "ftp.login", `"user":"acme-ftp"`) && auditHas(n, "ftp.upload", `"file":"/instructions.csv"`)
		})

		// lftp, as a client following the article with FTPS forced.
		out, err := srv.lftp(t, work, "acme-ftp", pw, "ls; get U1000001_2026-11.pdf -o lftp.pdf; put instructions.csv -o from-lftp.csv; rm from-lftp.csv; ls")
		if err != nil || !strings.Contains(out, "U1000001_2026-11.pdf") {
			t.Fatalf("lftp: %v\n%s", err, out)
		}
		if b, _ := os.ReadFile(filepath.Join(work, "lftp.pdf")); string(b) != "%PDF-1.4 November statement\n" {
			t.Errorf("lftp downloaded %q", b)
		}

		// Traversal: the folder is the client's "/", and nothing leads out.
		for _, p := range []string{"/../", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2fspool/"} {
			out, code := srv.curl(t, work, "--ssl-reqd", "-k", "--path-as-is", srv.url("acme-ftp", pw, p))
			if code == 0 && (strings.Contains(out, "root:") || strings.Contains(out, "statements")) {
				t.Errorf("%s left the folder:\n%s", p, out)
			}
		}

		// Plain FTP is refused: the password was right, but TLS is
		// required for this client (it has no OpenPGP key).
		if out, code := srv.curl(t, work, "--list-only", srv.url("acme-ftp", pw, "/")); code == 0 {
			t.Fatalf("plain FTP accepted for a client without an OpenPGP key:\n%s", out)
		}
		// Allowing plain FTP needs the client's key first.
		if out, err := n.ctl("", "sftp", "ftp", "plain", "acme-ftp", "on"); err == nil || !strings.Contains(out, "OpenPGP key") {
			t.Errorf("plain FTP allowed without a key: %v\n%s", err, out)
		}
		env, pub := gpgHome(t)
		n.mustCtl("", "sftp", "pgp", "set", "acme-ftp", pub)
		n.mustCtl("", "sftp", "ftp", "plain", "acme-ftp", "on")
		n.mustCtl("", "statement", "deliver", "--to", "acme-ftp", "--type", "tax_form", "--name", "1099-2025.pdf", stmt)
		out, code = srv.curl(t, work, "--list-only", srv.url("acme-ftp", pw, "/"))
		if code != 0 || !strings.Contains(out, "1099-2025.pdf.gpg") {
			t.Fatalf("plain FTP for a client whose files are encrypted: exit %d\n%s\n%s", code, out, listStatements(t, n, "acme-ftp"))
		}
		enc := filepath.Join(work, "1099.gpg")
		if out, code := srv.curl(t, work, "-o", enc, srv.url("acme-ftp", pw, "/1099-2025.pdf.gpg")); code != 0 {
			t.Fatalf("plain download: exit %d\n%s", code, out)
		}
		if dec := sftpRun(t, env, work, "gpg", "--batch", "--decrypt", enc); !strings.Contains(dec, "November statement") {
			t.Errorf("the tax form does not decrypt with the client's key:\n%s", dec)
		}

		// Wrong passwords: curl's "login denied" (67), and after the
		// burst the right password is held off too, until the operator
		// gives a new one.
		for range 3 {
			if _, code := srv.curl(t, work, "--ssl-reqd", "-k", "--list-only", srv.url("acme-ftp", "not-the-password", "/")); code != 67 {
				t.Fatalf("wrong password: curl exit %d, want 67 (login denied)", code)
			}
		}
		if _, code := srv.curl(t, work, "--ssl-reqd", "-k", "--list-only", srv.url("acme-ftp", pw, "/")); code != 67 {
			t.Fatalf("right password while held off: curl exit %d, want 67", code)
		}
		waitUntil(t, "ftp.held_off in the audit trail", func() bool { return auditHas(n, "ftp.held_off", `"client":"acme-ftp"`) })
		if out := n.mustCtl("", "sftp", "show", "acme-ftp"); !strings.Contains(out, "held off") {
			t.Errorf("sftp show does not say the client is held off:\n%s", out)
		}
		pw2 := ftpPasswordOf(t, n.mustCtl("", "sftp", "ftp", "password", "acme-ftp"))
		if _, code := srv.curl(t, work, "--ssl-reqd", "-k", "--list-only", srv.url("acme-ftp", pw, "/")); code != 67 {
			t.Errorf("the replaced password still logs in (curl exit %d)", code)
		}
		if out, code := srv.curl(t, work, "--ssl-reqd", "-k", "--list-only", srv.url("acme-ftp", pw2, "/")); code != 0 {
			t.Fatalf("new password: exit %d\n%s", code, out)
		}
		// Unknown users get the same answer as wrong passwords.
		if _, code := srv.curl(t, work, "--ssl-reqd", "-k", "--list-only", srv.url("nobody", pw2, "/")); code != 67 {
			t.Errorf("unknown user: curl exit %d, want 67", code)
		}
		// The password is in no audit entry.
		audit := n.mustCtl("", "audit", "list", "--limit", "10000")
		for _, secret := range []string{pw, pw2} {
			if strings.Contains(audit, secret) {
				t.Errorf("an FTP password is in the audit trail")
			}
		}

		// Removing FTP access ends it; SFTP and the folder stay.
		n.mustCtl("", "sftp", "ftp", "remove", "acme-ftp")
		if _, code := srv.curl(t, work, "--ssl-reqd", "-k", "--list-only", srv.url("acme-ftp", pw2, "/")); code != 67 {
			t.Errorf("after ftp remove: curl exit %d, want 67", code)
		}
	})
}
