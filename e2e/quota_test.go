package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSFTPQuota fills a client's folder to its storage quota with a
// delivered statement and an upload over OpenSSH's sftp, and sees what
// passes it refused: the upload with a failure and no partial file left,
// the delivery with limit_exceeded and nothing delivered.
func TestSFTPQuota(t *testing.T) {
	sftpNeed(t, "sftp", "ssh-keygen")
	keyFile := filepath.Join(t.TempDir(), "id_ed25519")
	sftpRun(t, nil, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyFile)
	forEachEngine(t, func(t *testing.T, db string) {
		cfg := sftpConfigFile(t, `{"sftp": {"default_quota_bytes": 200000, "quota_files": 3}}`)
		n := startNode(t, db, withArgs("--config", cfg))
		setupUser(t, n, "quinn", "U4000004")
		srv := sftpEndpoint(t, n)
		n.mustCtl("", "sftp", "register", "quinn-stmts", "--user", "quinn", "--key", keyFile+".pub", "--allow", "127.0.0.1")
		if out := n.mustCtl("", "sftp", "show", "quinn-stmts"); !strings.Contains(out, "storage: 0 B/195 KiB used of the default quota") {
			t.Errorf("sftp show of an empty folder:\n%s", out)
		}

		work := t.TempDir()
		file := func(name string, size int) string {
			p := filepath.Join(work, name)
			if err := os.WriteFile(p, randomBytes(t, size), 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}

		// A delivered statement counts against the quota.
		n.mustCtl("", "statement", "deliver", "--to", "quinn-stmts", file("U4000004_20260301.pdf", 120000))
		out, err := n.ctl("", "statement", "deliver", "--to", "quinn-stmts", file("U4000004_20260302.pdf", 100000))
		if err == nil || !strings.Contains(out, "limit_exceeded") || !strings.Contains(out, "does not fit in the storage quota of quinn-stmts: 195 KiB allowed, 117 KiB used") {
			t.Fatalf("delivery past the quota: %v\n%s", err, out)
		}
		if list := listStatements(t, n, "quinn-stmts"); strings.Contains(list, "U4000004_20260302.pdf") {
			t.Errorf("a refused delivery left a file:\n%s", list)
		}

		// An upload that fills the folder exactly is accepted.
		file("fill.bin", 80000)
		if out, err := srv.sftp(t, keyFile, "quinn-stmts", "put fill.bin\n", work); err != nil {
			t.Fatalf("upload filling the quota exactly: %v\n%s", err, out)
		}
		if out := n.mustCtl("", "sftp", "list"); !strings.Contains(out, "195 KiB/195 KiB") {
			t.Errorf("sftp list does not show the full folder:\n%s", out)
		}

		// One more byte is refused. OpenSSH's sftp shows only the status
		// ("Failure"), not the server's message; the trail has the reason.
		file("one.bin", 1)
		out, err = srv.sftp(t, keyFile, "quinn-stmts", "put one.bin\n", work)
		if err == nil || !strings.Contains(out, `write remote "/one.bin": Failure`) {
			t.Fatalf("upload past the quota: %v\n%s", err, out)
		}
		waitUntil(t, "sftp.quota_exceeded in the audit trail", func() bool {
			return auditHas(n, "sftp.quota_exceeded", `"file":"/one.bin"`, `"quota":"200000"`, `"used":"200000"`)
		})
		waitUntil(t, "the refused upload audited with its partial file removed", func() bool {
			return auditHas(n, "sftp.upload", `"file":"/one.bin"`, `"result":"quota exceeded, partial file removed"`)
		})

		// A larger quota; an upload far past it is cut and leaves nothing.
		if out := n.mustCtl("", "sftp", "quota", "quinn-stmts", "300000"); !strings.Contains(out, "195 KiB/293 KiB used of its own quota") {
			t.Errorf("sftp quota output:\n%s", out)
		}
		file("big.bin", 1<<20)
		out, err = srv.sftp(t, keyFile, "quinn-stmts", "put big.bin\nls -l\n", work)
		if err == nil {
			t.Fatalf("upload of 1 MiB under a 300000-byte quota succeeded:\n%s", out)
		}
		waitUntil(t, "the cut upload audited", func() bool {
			return auditHas(n, "sftp.upload", `"file":"/big.bin"`, `"result":"quota exceeded, partial file removed"`)
		})
		out, err = srv.sftp(t, keyFile, "quinn-stmts", "ls -1\n", work)
		if err != nil || strings.Contains(out, "big.bin") || strings.Contains(out, "one.bin") || !strings.Contains(out, "fill.bin") {
			t.Errorf("folder after the refused uploads: %v\n%s", err, out)
		}
		if out := n.mustCtl("", "sftp", "show", "quinn-stmts"); !strings.Contains(out, "storage: 195 KiB/293 KiB") {
			t.Errorf("usage after the refused uploads:\n%s", out)
		}

		// The folder holds two files; a third entry fits, a fourth does not.
		out, err = srv.sftp(t, keyFile, "quinn-stmts", "mkdir reports\nmkdir more\n", work)
		if err == nil || !strings.Contains(out, `remote mkdir "/more": Failure`) {
			t.Fatalf("a fourth entry under quota_files 3: %v\n%s", err, out)
		}
		if out := n.mustCtl("", "sftp", "show", "quinn-stmts"); !strings.Contains(out, "; 3 files and folders") {
			t.Errorf("sftp show does not count the entries:\n%s", out)
		}
		file("U4000004_20260303.pdf", 10)
		out, err = n.ctl("", "statement", "deliver", "--to", "quinn-stmts", filepath.Join(work, "U4000004_20260303.pdf"))
		if err == nil || !strings.Contains(out, "limit_exceeded") || !strings.Contains(out, "holds 3 files and folders") {
			t.Errorf("a delivery into a folder with quota_files entries: %v\n%s", err, out)
		}

		// Back to the default: the folder is full again, and said so.
		out = n.mustCtl("", "sftp", "quota", "quinn-stmts", "default")
		if !strings.Contains(out, "195 KiB/195 KiB used of the default quota") || !strings.Contains(out, "The folder is full") {
			t.Errorf("sftp quota default:\n%s", out)
		}
		if !auditHas(n, "sftp.quota_set", `"quota_bytes":0`, `"before":300000`) {
			t.Error("quota changes are not audited")
		}
	})
}
