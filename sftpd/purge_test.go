package sftpd

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestPurge(t *testing.T) {
	root := t.TempDir()
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	cut := now.Add(-DefaultRetention)
	outside := t.TempDir()
	outsideFile := filepath.Join(outside, "keep-me")
	files := map[string]time.Time{
		"alice/old.pdf":      cut.Add(-time.Hour),
		"alice/new.pdf":      cut.Add(time.Hour),
		"alice/edge.pdf":     cut, // exactly at the cut-off: kept
		"alice/sub/old.csv":  cut.Add(-48 * time.Hour),
		"bob/old.pdf.gpg":    cut.Add(-time.Second),
		"bob/new.pdf.gpg":    now,
		"carol/.hidden.part": cut.Add(-time.Hour),
		"loose-file-in-root": cut.Add(-time.Hour), // not in a client folder
	}
	for name, mt := range files {
		p := filepath.Join(root, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o700))
		must(t, os.WriteFile(p, []byte(name), 0o600))
		must(t, os.Chtimes(p, mt, mt))
	}
	must(t, os.WriteFile(outsideFile, []byte("x"), 0o600))
	old := cut.Add(-1000 * time.Hour)
	must(t, os.Chtimes(outsideFile, old, old))
	// Links must not lead the purge outside.
	must(t, os.Symlink(outside, filepath.Join(root, "alice", "linkdir")))
	must(t, os.Symlink(outsideFile, filepath.Join(root, "bob", "linkfile")))
	must(t, os.Symlink(outside, filepath.Join(root, "linkclient")))

	n, err := Purge(root, cut)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Errorf("removed %d, want 4", n)
	}
	for name := range files {
		_, err := os.Stat(filepath.Join(root, name))
		gone := os.IsNotExist(err)
		want := map[string]bool{"alice/old.pdf": true, "alice/sub/old.csv": true, "bob/old.pdf.gpg": true, "carol/.hidden.part": true}[name]
		if gone != want {
			t.Errorf("%s: removed=%v, want %v", name, gone, want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "alice", "sub")); err != nil {
		t.Error("purge removed a folder")
	}
	if _, err := os.Stat(outsideFile); err != nil {
		t.Errorf("purge followed a link outside: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(root, "bob", "linkfile")); err != nil {
		t.Error("purge removed a link")
	}
	if _, err := Purge(filepath.Join(root, "missing"), cut); err == nil {
		t.Error("purge of a missing root succeeded")
	}
}

// TestPurgeSparesDeliveryInProgress: a delivery's temporary file written
// just now is kept even when the system's time (a test clock, a clock
// set forward) makes it look old.
func TestPurgeSparesDeliveryInProgress(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "dave", ".s.pdf.0123456789abcdef.part")
	must(t, os.MkdirAll(filepath.Dir(p), 0o700))
	must(t, os.WriteFile(p, []byte("half"), 0o600))
	if n, err := Purge(root, time.Now().Add(101*24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("purged %d, %v", n, err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("a delivery in progress was removed: %v", err)
	}
}
