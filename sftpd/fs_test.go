package sftpd

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
)

func TestResolve(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "."},
		{"", "."},
		{".", "."},
		{"..", "."},
		{"../..", "."},
		{"/../../etc/passwd", "etc/passwd"},
		{"../outside/secret", "outside/secret"},
		{"a/b/../../../c", "c"},
		{"/a//b/./c/", "a/b/c"},
		{"a/..", "."},
		{`..\..\x`, `..\..\x`}, // a backslash is an ordinary character on Unix
	} {
		got, err := resolve(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("resolve(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := resolve("a\x00b"); err == nil {
		t.Error("resolve accepted a NUL byte")
	}
}

func FuzzResolve(f *testing.F) {
	for _, s := range []string{"/", "..", "../../etc/passwd", "a/../../b", "/a/./b//c", "\x00", "...", "a/.../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rel, err := resolve(p)
		if err != nil {
			return
		}
		if rel != "." && !filepath.IsLocal(rel) {
			t.Fatalf("resolve(%q) = %q is not local", p, rel)
		}
		for _, part := range strings.Split(rel, "/") {
			if part == ".." || part == "" {
				t.Fatalf("resolve(%q) = %q has component %q", p, rel, part)
			}
		}
	})
}

// fsFixture is a client folder with an "outside" sibling holding a secret,
// served over an in-process pipe to pkg/sftp's client.
type fsFixture struct {
	base, dir, outside string
	client             *sftp.Client
	audit              *memAuditor
	now                time.Time
}

func newFSFixture(t *testing.T) *fsFixture {
	t.Helper()
	fx := &fsFixture{base: t.TempDir(), audit: &memAuditor{}, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	fx.dir = filepath.Join(fx.base, "alice")
	fx.outside = filepath.Join(fx.base, "outside")
	for _, d := range []string{fx.dir, fx.outside} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(fx.outside, "secret"), []byte("top secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenRoot(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	fsys := &clientFS{
		root: r, user: "alice", addr: "127.0.0.1",
		audit: func(ev string, a map[string]string) { fx.audit.Audit(t.Context(), ev, a) },
		now:   func() time.Time { return fx.now },
		log:   slog.New(slog.NewTextHandler(&testLogWriter{t: t}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	fx.client = servePipe(t, fsys)
	return fx
}

// servePipe serves fsys over an in-memory pipe and returns a client of
// it; both end, and fsys's root is closed, with the test.
func servePipe(t *testing.T, fsys *clientFS) *sftp.Client {
	t.Helper()
	c1, c2 := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fsys.serve(c2)
		c2.Close()
	}()
	client, err := sftp.NewClientPipe(c1, c1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		c1.Close()
		<-done
		fsys.root.Close()
	})
	return client
}

func (fx *fsFixture) write(t *testing.T, name, content string) {
	t.Helper()
	p := filepath.Join(fx.dir, name)
	os.MkdirAll(filepath.Dir(p), 0o700)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func (fx *fsFixture) secretIntact(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fx.outside, "secret"))
	if err != nil || string(b) != "top secret" {
		t.Fatalf("outside secret changed: %q, %v", b, err)
	}
	es, _ := os.ReadDir(fx.base)
	for _, e := range es {
		if e.Name() != "alice" && e.Name() != "outside" {
			t.Fatalf("file %s appeared outside the client folder", e.Name())
		}
	}
	es, _ = os.ReadDir(fx.outside)
	if len(es) != 1 {
		t.Fatalf("outside folder changed: %v", es)
	}
}

func readAll(c *sftp.Client, p string) (string, error) {
	f, err := c.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}

func TestConfinementTraversal(t *testing.T) {
	fx := newFSFixture(t)
	fx.write(t, "stmt.pdf", "statement")
	// Paths that leave the folder on a plain file system land inside it
	// here: the folder is the client's "/".
	for _, p := range []string{
		"../outside/secret", "../../outside/secret", "/../outside/secret",
		"/etc/passwd", "../../../../etc/passwd", "a/../../outside/secret",
		fx.outside + "/secret", // the real absolute path
	} {
		if got, err := readAll(fx.client, p); err == nil {
			t.Errorf("read %q succeeded: %q", p, got)
		} else if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("read %q: %v, want no such file", p, err)
		}
	}
	// And they resolve to the client's own files when those exist.
	if got, err := readAll(fx.client, "../../../stmt.pdf"); err != nil || got != "statement" {
		t.Errorf("read ../../../stmt.pdf = %q, %v", got, err)
	}
	// Listing ".." shows the client's folder, not the base.
	infos, err := fx.client.ReadDir("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Name() != "stmt.pdf" {
		t.Errorf("ReadDir(../..) = %v", names(infos))
	}
	if rp, err := fx.client.RealPath("../../.."); err != nil || rp != "/" {
		t.Errorf("RealPath(../../..) = %q, %v", rp, err)
	}
	// Writes to escaping paths stay inside too.
	for _, p := range []string{"../escape1", "/../../escape2", "../outside/escape3"} {
		f, err := fx.client.Create(p)
		if err == nil {
			f.Write([]byte("x"))
			f.Close()
		}
	}
	if _, err := os.Stat(filepath.Join(fx.dir, "escape1")); err != nil {
		t.Errorf("../escape1 did not land in the folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(fx.dir, "escape2")); err != nil {
		t.Errorf("/../../escape2 did not land in the folder: %v", err)
	}
	fx.secretIntact(t)
}

func names(fis []os.FileInfo) []string {
	var out []string
	for _, fi := range fis {
		out = append(out, fi.Name())
	}
	return out
}

func TestConfinementPlantedSymlinks(t *testing.T) {
	fx := newFSFixture(t)
	fx.write(t, "inner.txt", "inner")
	// Links planted by someone with access to the server's disk.
	must(t, os.Symlink(fx.outside, filepath.Join(fx.dir, "outdir")))                           // relative access to a dir outside
	must(t, os.Symlink(filepath.Join(fx.outside, "secret"), filepath.Join(fx.dir, "abslink"))) // absolute
	must(t, os.Symlink("../outside/secret", filepath.Join(fx.dir, "rellink")))                 // relative, escaping
	must(t, os.Symlink("inner.txt", filepath.Join(fx.dir, "innerlink")))                       // stays inside

	for _, p := range []string{"outdir/secret", "abslink", "rellink", "/outdir/secret"} {
		if got, err := readAll(fx.client, p); err == nil {
			t.Errorf("read %q through a link succeeded: %q", p, got)
		} else if !errors.Is(err, os.ErrPermission) {
			t.Errorf("read %q: %v, want permission denied", p, err)
		}
		if _, err := fx.client.Stat(p); err == nil {
			t.Errorf("stat %q through a link succeeded", p)
		}
	}
	if _, err := fx.client.ReadDir("outdir"); err == nil {
		t.Error("listing a linked outside folder succeeded")
	}
	for _, p := range []string{"outdir/new", "abslink", "rellink"} {
		if f, err := fx.client.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC); err == nil {
			f.Write([]byte("overwritten"))
			f.Close()
			t.Errorf("write to %q through a link succeeded", p)
		}
	}
	if err := fx.client.Rename("inner.txt", "outdir/stolen"); err == nil {
		t.Error("rename into a linked outside folder succeeded")
	}
	if err := fx.client.Mkdir("outdir/sub"); err == nil {
		t.Error("mkdir through a link succeeded")
	}
	if err := fx.client.Chmod("abslink", 0o777); err == nil {
		t.Error("chmod on a link succeeded")
	}
	if err := fx.client.Remove("outdir/secret"); err == nil {
		t.Error("remove through a link succeeded")
	}
	// The error the client sees names no server path.
	_, err := readAll(fx.client, "abslink")
	if err != nil && strings.Contains(err.Error(), fx.base) {
		t.Errorf("error leaks a server path: %v", err)
	}
	// A link that stays inside the folder is harmless and works.
	if got, err := readAll(fx.client, "innerlink"); err != nil || got != "inner" {
		t.Errorf("read innerlink = %q, %v", got, err)
	}
	// Lstat shows links as links; Readlink is refused.
	if fi, err := fx.client.Lstat("abslink"); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("lstat abslink = %v, %v", fi, err)
	}
	if _, err := fx.client.ReadLink("abslink"); err == nil {
		t.Error("readlink succeeded")
	}
	// Removing the link itself removes only the link.
	if err := fx.client.Remove("abslink"); err != nil {
		t.Errorf("remove abslink: %v", err)
	}
	fx.secretIntact(t)
}

func TestConfinementClientCannotCreateLinks(t *testing.T) {
	fx := newFSFixture(t)
	fx.write(t, "a", "a")
	if err := fx.client.Symlink(filepath.Join(fx.outside, "secret"), "s1"); err == nil {
		t.Error("absolute symlink created")
	}
	if err := fx.client.Symlink("../outside/secret", "s2"); err == nil {
		t.Error("relative symlink created")
	}
	if err := fx.client.Symlink("a", "s3"); err == nil {
		t.Error("inner symlink created")
	}
	if err := fx.client.Link("a", "h1"); err == nil {
		t.Error("hard link created")
	}
	es, _ := os.ReadDir(fx.dir)
	if len(es) != 1 {
		t.Errorf("folder has %d entries, want 1", len(es))
	}
	fx.secretIntact(t)
}

func TestConfinementRename(t *testing.T) {
	fx := newFSFixture(t)
	fx.write(t, "a.txt", "A")
	fx.write(t, "b.txt", "B")
	// ".." in the target is cleaned against the folder's "/".
	if err := fx.client.Rename("a.txt", "../../../moved.txt"); err != nil {
		t.Fatalf("rename: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(fx.dir, "moved.txt")); err != nil || string(b) != "A" {
		t.Errorf("moved.txt = %q, %v", b, err)
	}
	if err := fx.client.Rename("moved.txt", "../outside/secret"); err == nil {
		t.Error("rename onto ../outside/secret succeeded")
	}
	if err := fx.client.Rename("../outside/secret", "stolen"); err == nil {
		t.Error("rename from ../outside/secret succeeded")
	}
	// SFTP v3 rename does not overwrite; posix-rename does.
	if err := fx.client.Rename("moved.txt", "b.txt"); err == nil {
		t.Error("rename onto an existing file succeeded")
	}
	if err := fx.client.PosixRename("moved.txt", "b.txt"); err != nil {
		t.Errorf("posix-rename: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(fx.dir, "b.txt")); string(b) != "A" {
		t.Errorf("b.txt = %q after posix-rename", b)
	}
	if err := fx.client.Rename("/", "x"); err == nil {
		t.Error("renaming the folder itself succeeded")
	}
	if err := fx.client.Rename("b.txt", "/"); err == nil {
		t.Error("renaming onto the folder itself succeeded")
	}
	if ev := fx.audit.find(EventRename); len(ev) != 2 || ev[0].Attrs["file"] != "/a.txt" || ev[0].Attrs["target"] != "/moved.txt" {
		t.Errorf("rename audit = %+v", ev)
	}
	fx.secretIntact(t)
}

func TestClientOperations(t *testing.T) {
	fx := newFSFixture(t)
	c := fx.client
	if err := c.Mkdir("sub"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(fx.dir, "sub")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("sub: %v, %v", fi, err)
	}
	content := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	f, err := c.Create("sub/up.bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFrom(bytes.NewReader(content)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(fx.dir, "sub/up.bin")); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != int64(len(content)) {
		t.Errorf("uploaded file: %v, %v", fi, err)
	}
	got, err := readAll(c, "/sub/up.bin")
	if err != nil || got != string(content) {
		t.Errorf("download mismatch: %d bytes, %v", len(got), err)
	}
	up := fx.audit.find(EventUpload)
	if len(up) != 1 || up[0].Attrs["file"] != "/sub/up.bin" || up[0].Attrs["size"] != "160000" || up[0].Attrs["result"] != "ok" {
		t.Errorf("upload audit = %+v", up)
	}
	down := fx.audit.find(EventDownload)
	if len(down) != 1 || down[0].Attrs["file"] != "/sub/up.bin" || down[0].Attrs["bytes"] != "160000" {
		t.Errorf("download audit = %+v", down)
	}
	// Directories cannot be downloaded or removed as files.
	if _, err := c.Open("sub"); err == nil {
		t.Error("opened a directory as a file")
	}
	if err := c.Remove("sub"); err == nil {
		t.Error("Remove removed a directory")
	}
	if err := c.RemoveDirectory("sub"); err == nil {
		t.Error("rmdir removed a non-empty directory")
	}
	if err := c.RemoveDirectory("sub/up.bin"); err == nil {
		t.Error("rmdir removed a file")
	}
	if err := c.Remove("sub/up.bin"); err != nil {
		t.Error(err)
	}
	if err := c.RemoveDirectory("sub"); err != nil {
		t.Error(err)
	}
	if err := c.RemoveDirectory("/"); err == nil {
		t.Error("removed the folder itself")
	}
	if err := c.Remove("/"); err == nil {
		t.Error("removed the folder itself")
	}
	if _, err := os.Stat(fx.dir); err != nil {
		t.Fatal(err)
	}
	if n := len(fx.audit.find(EventRemove)); n != 2 {
		t.Errorf("%d remove events, want 2", n)
	}
	// Exclusive create fails on an existing file.
	fx.write(t, "exists", "x")
	if _, err := c.OpenFile("exists", os.O_WRONLY|os.O_CREATE|os.O_EXCL); err == nil {
		t.Error("O_EXCL create of an existing file succeeded")
	}
	// Stat of "/" answers for the folder.
	if fi, err := c.Stat("/"); err != nil || !fi.IsDir() {
		t.Errorf("stat / = %v, %v", fi, err)
	}
}

func TestSetstatRestrictions(t *testing.T) {
	fx := newFSFixture(t)
	fx.write(t, "f", "0123456789")
	p := filepath.Join(fx.dir, "f")
	if err := fx.client.Chmod("f", 0o4777); err != nil {
		t.Fatalf("chmod: %v", err)
	}
	if fi, _ := os.Stat(p); fi.Mode() != 0o700 {
		t.Errorf("mode after chmod 4777 = %v, want -rwx------", fi.Mode())
	}
	if err := fx.client.Chown("f", 0, 0); err == nil {
		t.Error("chown succeeded")
	}
	if err := fx.client.Truncate("f", 4); err != nil {
		t.Errorf("truncate: %v", err)
	}
	if fi, _ := os.Stat(p); fi.Size() != 4 {
		t.Errorf("size after truncate = %d", fi.Size())
	}
	past := fx.now.Add(-24 * time.Hour)
	if err := fx.client.Chtimes("f", past, past); err != nil {
		t.Errorf("chtimes: %v", err)
	}
	if fi, _ := os.Stat(p); !fi.ModTime().Equal(past) {
		t.Errorf("mtime = %v, want %v", fi.ModTime(), past)
	}
	// A future time would keep the file out of the retention purge.
	future := fx.now.Add(365 * 24 * time.Hour)
	if err := fx.client.Chtimes("f", future, future); err != nil {
		t.Errorf("chtimes: %v", err)
	}
	if fi, _ := os.Stat(p); !fi.ModTime().Equal(fx.now) {
		t.Errorf("mtime = %v, want clamped to %v", fi.ModTime(), fx.now)
	}
}

func TestPlantedFIFONotOpened(t *testing.T) {
	fx := newFSFixture(t)
	if err := syscall.Mkfifo(filepath.Join(fx.dir, "fifo"), 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 2)
	go func() { _, err := readAll(fx.client, "fifo"); done <- err }()
	go func() { _, err := fx.client.OpenFile("fifo", os.O_WRONLY); done <- err }()
	for range 2 {
		select {
		case err := <-done:
			if err == nil {
				t.Error("opened a FIFO")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("opening a FIFO blocked")
		}
	}
}

func TestListLargeFolder(t *testing.T) {
	fx := newFSFixture(t)
	want := make([]string, 250) // more than pkg/sftp's batch of 100
	for i := range want {
		want[i] = path.Base(filepath.Join("x", strings.Repeat("f", 1+i%7)+string(rune('a'+i%26))+string(rune('a'+i/26))))
		fx.write(t, want[i], "x")
	}
	infos, err := fx.client.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != len(want) {
		t.Errorf("listed %d entries, want %d", len(infos), len(want))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
