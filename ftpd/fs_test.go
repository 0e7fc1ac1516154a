package ftpd

import (
	"errors"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
)

func TestResolve(t *testing.T) {
	for in, want := range map[string]string{
		"":                   ".",
		"/":                  ".",
		".":                  ".",
		"..":                 ".",
		"/../..":             ".",
		"/a/../../b":         "b",
		"a/b/":               "a/b",
		"//a//b":             "a/b",
		`..\..\etc\passwd`:   "etc/passwd",
		"/./a/./b/..":        "a",
		"/../other/file.pgp": "other/file.pgp",
	} {
		got, err := resolve(in)
		if err != nil || got != want {
			t.Errorf("resolve(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := resolve("a\x00b"); err == nil {
		t.Error("NUL accepted")
	}
}

// FuzzResolve checks that whatever path a client sends, the name used
// under the client's os.Root is local: no "..", not absolute, clean.
func FuzzResolve(f *testing.F) {
	for _, s := range []string{"", "/", "..", "../../etc/passwd", `..\..\x`, "/a/./b/../../..", "a\x00b", "//", "...", "a/..../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rel, err := resolve(p)
		if err != nil {
			if !strings.Contains(p, "\x00") {
				t.Fatalf("resolve(%q): %v", p, err)
			}
			return
		}
		if rel != "." && !filepath.IsLocal(rel) {
			t.Fatalf("resolve(%q) = %q is not local", p, rel)
		}
		if path.Clean(rel) != rel || strings.HasPrefix(rel, "/") {
			t.Fatalf("resolve(%q) = %q is not clean and relative", p, rel)
		}
		for _, part := range strings.Split(rel, "/") {
			if part == ".." || part == "" {
				t.Fatalf("resolve(%q) = %q has %q", p, rel, part)
			}
		}
		if display(rel) != path.Clean("/"+rel) {
			t.Fatalf("display(%q) = %q", rel, display(rel))
		}
	})
}

// newTestFS opens a clientFS on a fresh folder, outside any server.
func newTestFS(t *testing.T, q *quota) (*clientFS, string) {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "u")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if q != nil {
		q.root, q.user, q.usage = base, "u", &folderUsage{}
	}
	srv := &Server{conns: map[*trackedConn]struct{}{}}
	srv.active.Add(1)
	tc := &trackedConn{}
	sess := &session{s: srv, conn: tc, refs: 1}
	tc.sess = sess
	fsys := &clientFS{root: r, audit: func(string, map[string]string) {}, log: slog.New(slog.DiscardHandler), quota: q, sess: sess}
	return fsys, dir
}

func TestFSRefusals(t *testing.T) {
	fsys, dir := newTestFS(t, nil)
	os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o600)
	if err := fsys.Chmod("/f", 0o777); !errors.Is(err, os.ErrPermission) {
		t.Errorf("Chmod: %v", err)
	}
	if err := fsys.Chown("/f", 0, 0); !errors.Is(err, os.ErrPermission) {
		t.Errorf("Chown: %v", err)
	}
	future := time.Now().Add(1000 * 24 * time.Hour)
	if err := fsys.Chtimes("/f", future, future); !errors.Is(err, os.ErrPermission) {
		t.Errorf("Chtimes: %v", err)
	}
	if _, err := fsys.OpenFile("/f", os.O_WRONLY, 0); err == nil {
		t.Error("OpenFile for writing bypasses the quota")
	}
	if _, err := fsys.Create("/g"); err == nil {
		t.Error("Create bypasses the quota")
	}
	for _, fn := range []func() error{
		func() error { return fsys.Remove("/") },
		func() error { return fsys.RemoveDir("/..") },
		func() error { return fsys.Rename("/", "/x") },
		func() error { return fsys.RemoveAll("/") },
	} {
		if err := fn(); err == nil {
			t.Error("the folder itself was changed")
		}
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	// Errors never name server paths.
	_, err := fsys.Stat("/missing/file")
	if !errors.Is(err, os.ErrNotExist) || strings.Contains(err.Error(), dir) || strings.Contains(err.Error(), "missing") {
		t.Errorf("Stat error %q", err)
	}
}

func TestFSRenameReplaceFreesQuota(t *testing.T) {
	q := &quota{limit: 100, entries: 10}
	fsys, dir := newTestFS(t, q)
	os.WriteFile(filepath.Join(dir, "a"), make([]byte, 30), 0o600)
	os.WriteFile(filepath.Join(dir, "b"), make([]byte, 50), 0o600)
	h, err := fsys.GetHandle("/c", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// 80 used: 20 fit, 21 do not.
	if _, err := h.Write(make([]byte, 21)); !errors.Is(err, ftpserver.ErrStorageExceeded) {
		t.Fatalf("write past the quota: %v", err)
	}
	h.Close()
	if _, err := os.Stat(filepath.Join(dir, "c")); !os.IsNotExist(err) {
		t.Fatalf("partial file left: %v", err)
	}
	if err := fsys.Rename("/a", "/b"); err != nil {
		t.Fatal(err)
	}
	h, err = fsys.GetHandle("/c", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := h.Write(make([]byte, 70)); err != nil || n != 70 {
		t.Fatalf("write within the quota after a replacing rename: %d, %v", n, err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}
