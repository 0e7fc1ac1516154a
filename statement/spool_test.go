package statement

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestScanSpool(t *testing.T) {
	spool := t.TempDir()
	outside := t.TempDir()
	must(t, os.WriteFile(filepath.Join(outside, "shadow"), []byte("secret"), 0o600))
	files := map[string]string{
		"alice/a.pdf":        "A",
		"alice/b.csv":        "B",
		"alice/.writing":     "partial",
		"alice/c.pdf.part":   "partial",
		"bob/fails.pdf":      "F",
		".staging/x.pdf":     "x",
		"bad user/y.pdf":     "y",
		"alice/nested/z.pdf": "z",
	}
	for name, content := range files {
		p := filepath.Join(spool, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o700))
		must(t, os.WriteFile(p, []byte(content), 0o600))
	}
	must(t, os.Symlink(filepath.Join(outside, "shadow"), filepath.Join(spool, "alice", "link.pdf")))
	must(t, os.Symlink(outside, filepath.Join(spool, "mallory")))
	must(t, os.WriteFile(filepath.Join(spool, "loose.pdf"), []byte("l"), 0o600))

	got := map[string]string{}
	deliver := func(user, name string, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		if user == "bob" {
			return errors.New("client folder full")
		}
		got[user+"/"+name] = string(b)
		return nil
	}
	n, err := ScanSpool(spool, deliver)
	if n != 2 {
		t.Errorf("delivered %d, want 2", n)
	}
	if err == nil {
		t.Error("no error for bob's failure, the link and the bad username")
	} else {
		t.Logf("errors: %v", err)
	}
	if len(got) != 2 || got["alice/a.pdf"] != "A" || got["alice/b.csv"] != "B" {
		t.Errorf("delivered %v", got)
	}
	gone := func(p string) bool {
		_, err := os.Lstat(filepath.Join(spool, p))
		return os.IsNotExist(err)
	}
	for _, p := range []string{"alice/a.pdf", "alice/b.csv"} {
		if !gone(p) {
			t.Errorf("%s still in the spool", p)
		}
	}
	for _, p := range []string{"alice/.writing", "alice/c.pdf.part", "bob/fails.pdf", ".staging/x.pdf", "bad user/y.pdf", "alice/nested/z.pdf", "alice/link.pdf", "loose.pdf"} {
		if gone(p) {
			t.Errorf("%s removed from the spool", p)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "shadow")); err != nil {
		t.Error("file behind a link was touched")
	}

	// Next scan: bob's folder works again; his file goes now.
	n, _ = ScanSpool(spool, func(user, name string, r io.Reader) error { return nil })
	if n != 1 || !gone("bob/fails.pdf") {
		t.Errorf("second scan delivered %d", n)
	}
}

// TestScanSpoolIntoDeliver wires the spool to Deliver, as the scheduler does.
func TestScanSpoolIntoDeliver(t *testing.T) {
	spool, root := t.TempDir(), t.TempDir()
	must(t, os.MkdirAll(filepath.Join(spool, "alice"), 0o700))
	must(t, os.WriteFile(filepath.Join(spool, "alice", "s.pdf"), []byte("statement"), 0o600))
	n, err := ScanSpool(spool, func(user, name string, r io.Reader) error {
		_, err := Deliver(root, user, name, r, nil, testNow)
		return err
	})
	if n != 1 || err != nil {
		t.Fatalf("ScanSpool = %d, %v", n, err)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "alice", "s.pdf")); string(b) != "statement" {
		t.Errorf("delivered %q", b)
	}
	if _, err := ScanSpool(filepath.Join(spool, "missing"), nil); err == nil {
		t.Error("missing spool accepted")
	}
}
