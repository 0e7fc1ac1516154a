package sftpd

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
)

// quotaFixture is a client folder with a quota, served to any number of
// sessions that share the folder's usage, as sessions of one client on
// one node do.
type quotaFixture struct {
	dir     string
	limit   int64
	entries int64
	book    quotaBook
	audit   *memAuditor
}

func newQuotaFixture(t *testing.T, limit int64) *quotaFixture {
	t.Helper()
	fx := &quotaFixture{dir: filepath.Join(t.TempDir(), "alice"), limit: limit, audit: &memAuditor{}}
	if err := os.Mkdir(fx.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return fx
}

// session opens one more SFTP session on the folder.
func (fx *quotaFixture) session(t *testing.T) *sftp.Client {
	t.Helper()
	r, err := os.OpenRoot(fx.dir)
	if err != nil {
		t.Fatal(err)
	}
	fsys := &clientFS{
		root: r, user: "alice", addr: "127.0.0.1",
		audit: func(ev string, a map[string]string) { fx.audit.Audit(t.Context(), ev, a) },
		now:   time.Now,
		log:   slog.New(slog.NewTextHandler(&testLogWriter{t: t}, nil)),
		quota: &quota{limit: fx.limit, entries: fx.entries, usage: fx.book.acquire("alice")},
	}
	t.Cleanup(func() { fx.book.release("alice") }) // runs after servePipe's cleanup
	return servePipe(t, fsys)
}

func (fx *quotaFixture) plant(t *testing.T, name string, size int) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(fx.dir, name), make([]byte, size), 0o600); err != nil {
		t.Fatal(err)
	}
}

// upload writes size bytes to name in chunks and closes the file,
// returning the first error.
func upload(c *sftp.Client, name string, size int) error {
	f, err := c.Create(name)
	if err != nil {
		return err
	}
	chunk := bytes.Repeat([]byte("s"), 8<<10)
	for left := size; left > 0; left -= len(chunk) {
		if _, err := f.Write(chunk[:min(left, len(chunk))]); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

func wantQuotaError(t *testing.T, err error) {
	t.Helper()
	var se *sftp.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("upload past the quota: %v, want an SFTP status error", err)
	}
	if se.FxCode() != sftp.ErrSSHFxFailure || !strings.Contains(se.Error(), "quota exceeded:") {
		t.Fatalf("upload past the quota: code %v, %q; want SSH_FX_FAILURE with a quota message", se.FxCode(), se.Error())
	}
}

func TestQuotaExactFitThenRefused(t *testing.T) {
	fx := newQuotaFixture(t, 100_000)
	fx.plant(t, "delivered.pdf", 40_000) // a statement the server delivered counts too
	c := fx.session(t)

	if err := upload(c, "fits.bin", 60_000); err != nil {
		t.Fatalf("upload filling the quota exactly: %v", err)
	}
	err := upload(c, "one-more.bin", 1)
	wantQuotaError(t, err)
	if !strings.Contains(err.Error(), "98 KiB allowed, 98 KiB used (100000 of 100000 bytes)") {
		t.Errorf("message %q does not give the quota and the usage", err)
	}
	ev := fx.audit.waitFor(t, EventUpload, func(a map[string]string) bool { return a["file"] == "/one-more.bin" })
	if ev["result"] != "quota exceeded, partial file removed" {
		t.Errorf("upload audited as %q", ev["result"])
	}
	q := fx.audit.waitFor(t, EventQuotaExceeded, nil)
	if q["quota"] != "100000" || q["used"] != "100000" || q["file"] != "/one-more.bin" {
		t.Errorf("quota event %v", q)
	}
	if _, err := os.Stat(filepath.Join(fx.dir, "one-more.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refused upload left a file: %v", err)
	}
}

func TestQuotaPartialUploadRemoved(t *testing.T) {
	fx := newQuotaFixture(t, 50_000)
	c := fx.session(t)
	wantQuotaError(t, upload(c, "big.bin", 200_000))
	fx.audit.waitFor(t, EventUpload, func(a map[string]string) bool { return a["file"] == "/big.bin" })
	if _, err := os.Stat(filepath.Join(fx.dir, "big.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial upload left on disk: %v", err)
	}
	// Its bytes went back: the whole quota is there again.
	if err := upload(c, "whole.bin", 50_000); err != nil {
		t.Fatalf("upload after the refused one: %v", err)
	}
}

func TestQuotaFreedByRemoveAndOverwrite(t *testing.T) {
	fx := newQuotaFixture(t, 30_000)
	c := fx.session(t)
	must(t, upload(c, "a.bin", 30_000))
	// Replacing a file with one of the same size fits: the old bytes go.
	must(t, upload(c, "a.bin", 30_000))
	must(t, c.Remove("a.bin"))
	must(t, upload(c, "b.bin", 20_000))
	must(t, upload(c, "c.bin", 10_000))
	// posix-rename over an existing file frees the one replaced.
	must(t, c.PosixRename("c.bin", "b.bin"))
	must(t, upload(c, "d.bin", 20_000))
}

func TestQuotaSetstatGrowthRefused(t *testing.T) {
	fx := newQuotaFixture(t, 10_000)
	c := fx.session(t)
	must(t, upload(c, "a.bin", 5_000))
	wantQuotaError(t, c.Truncate("a.bin", 1<<30)) // a sparse file is counted at its size
	must(t, c.Truncate("a.bin", 10_000))
	must(t, c.Truncate("a.bin", 0))
	must(t, upload(c, "b.bin", 10_000))
}

// Uploads of one client running at once cannot together pass the quota:
// bytes are reserved as they are written, under the folder's mutex.
func TestQuotaConcurrentUploads(t *testing.T) {
	const limit, each, n = 256 << 10, 100 << 10, 4
	fx := newQuotaFixture(t, limit)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		c := fx.session(t)
		wg.Go(func() { errs[i] = upload(c, "f"+string(rune('0'+i))+".bin", each) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		wantQuotaError(t, err)
	}
	// Reserving as bytes arrive may refuse them all (each got part of the
	// room); what must never happen is more than the quota in whole files.
	if ok == n || ok > limit/each {
		t.Fatalf("%d uploads of %d bytes succeeded under a quota of %d", ok, each, limit)
	}
	// Wait until every upload is closed (and its partial file gone).
	deadline := time.Now().Add(5 * time.Second)
	for len(fx.audit.find(EventUpload)) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	used, err := FolderUsage(filepath.Dir(fx.dir), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if used.Bytes != int64(ok*each) || used.Entries != int64(ok) {
		t.Fatalf("folder holds %d bytes; want the %d whole uploads (%d bytes) and no partial file", used, ok, ok*each)
	}
}

func TestFolderUsage(t *testing.T) {
	base := t.TempDir()
	if n, err := FolderUsage(base, "nobody"); err != nil || n != (Usage{}) {
		t.Fatalf("missing folder: %d, %v", n, err)
	}
	dir := filepath.Join(base, "bob")
	must(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o700))
	must(t, os.WriteFile(filepath.Join(dir, "a"), make([]byte, 100), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "sub", "b"), make([]byte, 50), 0o600))
	must(t, os.WriteFile(filepath.Join(base, "outside"), make([]byte, 1000), 0o600))
	must(t, os.Symlink(filepath.Join(base, "outside"), filepath.Join(dir, "link"))) // not followed
	if n, err := FolderUsage(base, "bob"); err != nil || n != (Usage{Bytes: 150, Entries: 4}) {
		t.Fatalf("usage %+v, %v; want 150 bytes in 4 entries (a, sub, sub/b, link)", n, err)
	}
	if _, err := FolderUsage(base, "../x"); err == nil {
		t.Fatal("a username that leaves the root was accepted")
	}
}

// A write far past the end counts up to its end, sparse or not, and an
// offset near 2^63 cannot overflow the count.
func TestQuotaFarOffset(t *testing.T) {
	fx := newQuotaFixture(t, 10_000)
	c := fx.session(t)
	f, err := c.Create("sparse.bin")
	must(t, err)
	for _, off := range []int64{20_000, 1 << 62, 1<<63 - 2} {
		if _, err := f.WriteAt([]byte("xyz"), off); err == nil {
			t.Errorf("write at %d accepted under a quota of 10000", off)
		}
	}
	f.Close()
	must(t, upload(c, "whole.bin", 10_000))
}

// The number of files and folders is bounded too: empty files would
// otherwise fill the disk's inode table under any byte quota.
func TestQuotaEntries(t *testing.T) {
	fx := newQuotaFixture(t, 1<<20)
	fx.entries = 3
	fx.plant(t, "delivered.pdf", 10)
	c := fx.session(t)
	must(t, c.Mkdir("sub"))
	must(t, upload(c, "sub/a.bin", 0))
	err := upload(c, "b.bin", 0)
	var se *sftp.StatusError
	if !errors.As(err, &se) || se.FxCode() != sftp.ErrSSHFxFailure || !strings.Contains(err.Error(), "quota exceeded: 3 files and folders allowed, 3 present") {
		t.Fatalf("a fourth entry: %v", err)
	}
	if err := c.Mkdir("other"); err == nil || !strings.Contains(err.Error(), "files and folders allowed") {
		t.Fatalf("a fourth entry as a folder: %v", err)
	}
	// Writing to an existing file adds no entry; removing one frees it.
	must(t, upload(c, "sub/a.bin", 100))
	must(t, c.Remove("sub/a.bin"))
	must(t, upload(c, "b.bin", 0))
	must(t, c.PosixRename("b.bin", "delivered.pdf"))
	must(t, c.Mkdir("other"))
	if _, err := os.Stat(filepath.Join(fx.dir, "b.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("b.bin: %v", err)
	}
}
