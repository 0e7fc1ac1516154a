package ftpd

import (
	"errors"
	"io"
	"log/slog"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
	"github.com/spf13/afero"
)

// clientFS is the afero.Fs the library sees for one logged-in client: its
// folder, as the client's "/".
//
// Confinement rests on two layers, as in sftpd. Every FTP path is cleaned
// against "/" (so "..", "../.." and absolute paths land inside the folder)
// and made relative; then every file-system call goes through an os.Root
// opened on the folder, which refuses any name or symbolic link that
// resolves outside it, atomically with the call (openat-based, no
// check-then-use race). afero's BasePathFs would only do the first: it
// follows a symbolic link planted in the folder wherever it points.
// Clients cannot create links, change modes or owners, or set times.
type clientFS struct {
	root  *os.Root
	audit func(event string, attrs map[string]string)
	log   *slog.Logger
	// quota bounds the folder (see quota.go); nil for none.
	quota *quota
	// transferred is Config.Transferred; nil for none.
	transferred func(direction string, bytes int64, took time.Duration)
	// sess keeps the session's resources until the last transfer closes.
	sess *session
}

var (
	_ afero.Fs                                    = (*clientFS)(nil)
	_ ftpserver.ClientDriverExtentionFileTransfer = (*clientFS)(nil)
	_ ftpserver.ClientDriverExtensionFileList     = (*clientFS)(nil)
	_ ftpserver.ClientDriverExtensionRemoveDir    = (*clientFS)(nil)
	_ ftpserver.FileTransferError                 = (*transfer)(nil)
)

// resolve turns an FTP path into a name relative to the client's folder.
// The folder is the client's "/": ".." above it stays at it. A NUL byte,
// which no file name may hold, is refused rather than cut.
func resolve(p string) (string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", errBadPath
	}
	// Some clients send Windows separators; they are not separators on
	// this server, but treating them as such keeps the client's intent
	// and cannot widen what the client reaches.
	p = strings.ReplaceAll(p, `\`, "/")
	c := path.Clean("/" + p)
	if c == "/" {
		return ".", nil
	}
	return c[1:], nil
}

// display is the name written to the audit trail: the client's view.
func display(rel string) string {
	if rel == "." {
		return "/"
	}
	return "/" + rel
}

// clientError carries the os error class (through Unwrap, which the
// library and afero callers test) and a message that never contains a
// server-side path.
type clientError struct {
	code error
	msg  string
}

func (e *clientError) Error() string { return e.msg }
func (e *clientError) Unwrap() error { return e.code }

var (
	errBadPath      = &clientError{os.ErrInvalid, "invalid path"}
	errNoSuchFile   = &clientError{os.ErrNotExist, "no such file or directory"}
	errDenied       = &clientError{os.ErrPermission, "permission denied"}
	errOutside      = &clientError{os.ErrPermission, "permission denied: path leaves your folder"}
	errLinks        = &clientError{os.ErrPermission, "permission denied: links are not supported"}
	errChmod        = &clientError{os.ErrPermission, "permission denied: modes and owners cannot be changed"}
	errChtimes      = &clientError{os.ErrPermission, "permission denied: times cannot be changed"}
	errExists       = &clientError{os.ErrExist, "file already exists"}
	errIsDir        = &clientError{syscall.EISDIR, "is a directory"}
	errNotDir       = &clientError{syscall.ENOTDIR, "not a directory"}
	errNotEmpty     = &clientError{syscall.ENOTEMPTY, "directory not empty"}
	errNotRegular   = &clientError{os.ErrPermission, "permission denied: not a regular file"}
	errFolderItself = &clientError{os.ErrPermission, "permission denied: your folder itself cannot be changed"}
	errUnsupported  = &clientError{errors.ErrUnsupported, "operation not supported"}
	errFailure      = &clientError{os.ErrInvalid, "failure"}
	errBadOffset    = &clientError{os.ErrInvalid, "invalid offset"}
	errClosed       = &clientError{os.ErrClosed, "session closed"}
)

// clientErr maps a file-system error to what the client may see; the
// original, which may name server paths, goes to the log.
func (fsys *clientFS) clientErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var ce *clientError
	if errors.As(err, &ce) {
		return ce
	}
	var qe *quotaError
	if errors.As(err, &qe) {
		return qe
	}
	var out error
	switch {
	case errors.Is(err, os.ErrNotExist):
		out = errNoSuchFile
	case errors.Is(err, os.ErrExist):
		out = errExists
	case errors.Is(err, syscall.ENOTEMPTY):
		out = errNotEmpty
	case errors.Is(err, syscall.EISDIR):
		out = errIsDir
	case errors.Is(err, syscall.ENOTDIR):
		out = errNotDir
	case errors.Is(err, os.ErrPermission):
		out = errDenied
	case isEscape(err):
		out = errOutside
	default:
		out = errFailure
	}
	fsys.log.Debug("ftpd: file operation refused", "op", op, "file", name, "err", err)
	return out
}

// isEscape recognises os.Root's refusal of a name or link that leaves the
// root. The os package does not export that error, so match its text;
// ELOOP covers a symlink refused by O_NOFOLLOW-style resolution.
func isEscape(err error) bool {
	return errors.Is(err, syscall.ELOOP) || strings.Contains(err.Error(), "escapes from parent")
}

// Name is afero's name for the file system.
func (fsys *clientFS) Name() string { return "ftpd" }

// Create is not used by the library (uploads go through GetHandle); it is
// refused so that no write can bypass the quota.
func (fsys *clientFS) Create(string) (afero.File, error) { return nil, errUnsupported }

// Open opens a file or folder for reading.
func (fsys *clientFS) Open(name string) (afero.File, error) {
	return fsys.OpenFile(name, os.O_RDONLY, 0)
}

// OpenFile opens for reading only; uploads go through GetHandle, which
// counts them against the quota.
func (fsys *clientFS) OpenFile(name string, flag int, _ os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) != 0 {
		return nil, errUnsupported
	}
	rel, err := resolve(name)
	if err != nil {
		return nil, err
	}
	f, err := fsys.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fsys.clientErr("open", rel, err)
	}
	return f, nil
}

// Mkdir makes a folder, mode 0700 whatever the client asks.
func (fsys *clientFS) Mkdir(name string, _ os.FileMode) error {
	rel, err := resolve(name)
	if err != nil {
		return err
	}
	if rel == "." {
		return errExists
	}
	if err := fsys.quota.addEntry(); err != nil {
		fsys.quotaRefused(rel, err, 0)
		return fsys.clientErr("mkdir", rel, err)
	}
	if err := fsys.root.Mkdir(rel, 0o700); err != nil {
		fsys.quota.freeEntry()
		return fsys.clientErr("mkdir", rel, err)
	}
	return nil
}

// MkdirAll is refused: the library uses it only for the SITE MKDIR
// command, which is disabled.
func (fsys *clientFS) MkdirAll(string, os.FileMode) error { return errUnsupported }

// Remove deletes a file (DELE); folders go through RemoveDir (RMD).
func (fsys *clientFS) Remove(name string) error {
	rel, err := resolve(name)
	if err != nil {
		return err
	}
	if rel == "." {
		return errFolderItself
	}
	fi, err := fsys.root.Lstat(rel)
	if err != nil {
		return fsys.clientErr("remove", rel, err)
	}
	if fi.IsDir() {
		return errIsDir
	}
	if err := fsys.root.Remove(rel); err != nil {
		return fsys.clientErr("remove", rel, err)
	}
	if fi.Mode().IsRegular() {
		fsys.quota.free(fi.Size())
	}
	fsys.quota.freeEntry()
	fsys.audit(EventRemove, map[string]string{"file": display(rel)})
	return nil
}

// RemoveDir deletes an empty folder (RMD).
func (fsys *clientFS) RemoveDir(name string) error {
	rel, err := resolve(name)
	if err != nil {
		return err
	}
	if rel == "." {
		return errFolderItself
	}
	fi, err := fsys.root.Lstat(rel)
	if err != nil {
		return fsys.clientErr("rmdir", rel, err)
	}
	if !fi.IsDir() {
		return errNotDir
	}
	if err := fsys.root.Remove(rel); err != nil {
		return fsys.clientErr("rmdir", rel, err)
	}
	fsys.quota.freeEntry()
	fsys.audit(EventRemove, map[string]string{"file": display(rel)})
	return nil
}

// RemoveAll is refused: the library uses it only for SITE RMDIR, which is
// disabled, and a recursive delete is not something a client needs.
func (fsys *clientFS) RemoveAll(string) error { return errUnsupported }

// Rename moves a file or folder (RNFR/RNTO), replacing an existing file
// as FTP servers on Unix do.
func (fsys *clientFS) Rename(oldname, newname string) error {
	rel, err := resolve(oldname)
	if err != nil {
		return err
	}
	to, err := resolve(newname)
	if err != nil {
		return err
	}
	if rel == "." || to == "." {
		return errFolderItself
	}
	if _, err := fsys.root.Lstat(rel); err != nil {
		return fsys.clientErr("rename", rel, err)
	}
	replaced, terr := fsys.root.Lstat(to)
	if err := fsys.root.Rename(rel, to); err != nil {
		return fsys.clientErr("rename", rel, err)
	}
	if terr == nil && !os.SameFile(replaced, mustLstat(fsys.root, to)) {
		if replaced.Mode().IsRegular() {
			fsys.quota.free(replaced.Size())
		}
		fsys.quota.freeEntry()
	}
	fsys.audit(EventRename, map[string]string{"file": display(rel), "target": display(to)})
	return nil
}

// mustLstat returns the FileInfo of name, or nil.
func mustLstat(r *os.Root, name string) os.FileInfo {
	fi, err := r.Lstat(name)
	if err != nil {
		return nil
	}
	return fi
}

// Stat describes a file or folder, following links that stay inside the
// folder (os.Root refuses the others).
func (fsys *clientFS) Stat(name string) (os.FileInfo, error) {
	rel, err := resolve(name)
	if err != nil {
		return nil, err
	}
	fi, err := fsys.root.Stat(rel)
	if err != nil {
		return nil, fsys.clientErr("stat", rel, err)
	}
	return named{fi, path.Base(display(rel))}, nil
}

// Chmod is refused: the folder is served to this client alone, modes are
// the server's (SITE CHMOD is disabled too).
func (fsys *clientFS) Chmod(string, os.FileMode) error { return errChmod }

// Chown is refused: owners are the server's.
func (fsys *clientFS) Chown(string, int, int) error { return errChmod }

// Chtimes is refused (MFMT is disabled too): a client must not date its
// files into the future to keep them past the 100-day purge. Unlike SFTP
// clients, FTP clients do not set times after an upload unless asked to,
// so refusing costs nothing, where sftpd clamps times to now.
func (fsys *clientFS) Chtimes(string, time.Time, time.Time) error { return errChtimes }

// ReadDir lists a folder (LIST, NLST, MLSD), describing entries without
// following links.
func (fsys *clientFS) ReadDir(name string) ([]os.FileInfo, error) {
	rel, err := resolve(name)
	if err != nil {
		return nil, err
	}
	d, err := fsys.root.Open(rel)
	if err != nil {
		return nil, fsys.clientErr("opendir", rel, err)
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return nil, fsys.clientErr("opendir", rel, err)
	}
	if !fi.IsDir() {
		return nil, errNotDir
	}
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fsys.clientErr("readdir", rel, err)
	}
	slices.Sort(names)
	out := make([]os.FileInfo, 0, len(names))
	for _, n := range names {
		fi, err := fsys.root.Lstat(path.Join(rel, n))
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, fi)
	}
	return out, nil
}

// named gives a FileInfo the name the client asked for ("/" for the
// folder itself, rather than the folder's name on the server).
type named struct {
	os.FileInfo
	name string
}

func (n named) Name() string { return n.name }

// GetHandle opens a file for a transfer: os.O_RDONLY for RETR, os.O_WRONLY
// with O_CREATE and O_TRUNC (STOR), without O_TRUNC (STOR after REST) or
// with O_APPEND (APPE). The library then seeks to the REST offset.
func (fsys *clientFS) GetHandle(name string, flags int, _ int64) (ftpserver.FileTransfer, error) {
	rel, err := resolve(name)
	if err != nil {
		return nil, err
	}
	if !fsys.sess.acquire() {
		return nil, errClosed
	}
	var t *transfer
	if flags&(os.O_WRONLY|os.O_RDWR) == 0 {
		t, err = fsys.openRead(rel)
	} else {
		t, err = fsys.openWrite(rel, flags)
	}
	if err != nil {
		fsys.sess.release()
		return nil, err
	}
	return t, nil
}

func (fsys *clientFS) openRead(rel string) (*transfer, error) {
	// O_NONBLOCK: a FIFO planted in the folder must not block the worker.
	f, err := fsys.root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fsys.clientErr("open", rel, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fsys.clientErr("stat", rel, err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, errIsDir
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, errNotRegular
	}
	return &transfer{f: f, fsys: fsys, name: rel, event: EventDownload, opened: time.Now()}, nil
}

func (fsys *clientFS) openWrite(rel string, flags int) (*transfer, error) {
	if rel == "." {
		return nil, errIsDir
	}
	// A FIFO, device or link planted in the folder must not be written
	// through: only regular files, and links are never followed at the
	// last component.
	var before int64
	fi, err := fsys.root.Lstat(rel)
	if err == nil {
		switch {
		case fi.IsDir():
			return nil, errIsDir
		case fi.Mode()&os.ModeSymlink != 0:
			return nil, errLinks
		case !fi.Mode().IsRegular():
			return nil, errNotRegular
		}
		before = fi.Size()
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fsys.clientErr("lstat", rel, err)
	}
	creating := flags&os.O_CREATE != 0 && errors.Is(err, os.ErrNotExist)
	if err := fsys.quota.openWriter(creating); err != nil {
		fsys.quotaRefused(rel, err, 0)
		return nil, fsys.clientErr("usage", rel, err)
	}
	// O_APPEND is left out on purpose: the transfer keeps its own offset
	// (see transfer.Write), starting at the end for APPE.
	open := os.O_WRONLY | syscall.O_NONBLOCK | syscall.O_NOFOLLOW | flags&(os.O_CREATE|os.O_TRUNC)
	f, err := fsys.root.OpenFile(rel, open, 0o600)
	if err != nil {
		fsys.quota.closeWriter()
		if creating {
			fsys.quota.freeEntry()
		}
		return nil, fsys.clientErr("open", rel, err)
	}
	fi, err = f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		fsys.quota.closeWriter()
		return nil, errNotRegular
	}
	fsys.quota.free(before - fi.Size()) // truncated on open
	t := &transfer{f: f, fsys: fsys, name: rel, event: EventUpload, write: true, size: fi.Size(), opened: time.Now(),
		fresh: creating || flags&os.O_TRUNC != 0, appendFrom: -1}
	if flags&os.O_APPEND != 0 {
		t.pos, t.appendFrom = fi.Size(), fi.Size()
	}
	return t, nil
}

// quotaRefused audits a refusal by the quota.
func (fsys *clientFS) quotaRefused(rel string, err error, wrote int64) {
	var qe *quotaError
	if !errors.As(err, &qe) {
		return
	}
	fsys.audit(EventQuotaExceeded, map[string]string{"file": display(rel),
		"quota": strconv.FormatInt(qe.q.Quota, 10), "used": strconv.FormatInt(qe.q.Used, 10),
		"bytes": strconv.FormatInt(wrote, 10)})
}

// transfer is an open download or upload. It counts the bytes moved so
// that the audit record tells what the client actually got or sent.
type transfer struct {
	f     *os.File
	fsys  *clientFS
	name  string
	event string
	write bool
	// pos is the upload's offset; the library writes from one goroutine.
	pos    int64
	read   atomic.Int64
	wrote  atomic.Int64
	failed atomic.Value // error
	// size is the file's size as the quota counts it, guarded by the
	// folder's usage mutex; overQuota is the first refusal.
	size      int64
	overQuota atomic.Pointer[quotaError]
	// fresh: the upload created or truncated the file, so a partial one
	// is removed on refusal; appendFrom (APPE, else -1) is the size it is
	// cut back to, so that a refused append leaves the file as it was.
	fresh      bool
	appendFrom int64

	once   sync.Once
	opened time.Time
}

func (t *transfer) Read(p []byte) (int, error) {
	if t.write {
		return 0, errDenied
	}
	n, err := t.f.Read(p)
	t.read.Add(int64(n))
	return n, err
}

// Write writes at the transfer's offset after reserving what the file
// grows by, so that an upload stops at the quota rather than after it.
func (t *transfer) Write(p []byte) (int, error) {
	if !t.write {
		return 0, errDenied
	}
	end := t.pos + int64(len(p))
	if end < t.pos {
		return 0, errBadOffset
	}
	if err := t.fsys.quota.grow(&t.size, end); err != nil {
		var qe *quotaError
		if errors.As(err, &qe) && t.overQuota.CompareAndSwap(nil, qe) {
			t.fsys.quotaRefused(t.name, err, t.wrote.Load())
		}
		return 0, err
	}
	n, err := t.f.WriteAt(p, t.pos)
	t.pos += int64(n)
	t.wrote.Add(int64(n))
	if err != nil {
		return n, t.fsys.clientErr("write", t.name, err)
	}
	return n, nil
}

// Seek serves REST: downloads seek the file, uploads move their offset.
func (t *transfer) Seek(off int64, whence int) (int64, error) {
	if !t.write {
		return t.f.Seek(off, whence)
	}
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = t.pos
	case io.SeekEnd:
		fi, err := t.f.Stat()
		if err != nil {
			return 0, t.fsys.clientErr("stat", t.name, err)
		}
		base = fi.Size()
	default:
		return 0, errBadOffset
	}
	n := base + off
	if n < 0 || (off > 0 && n < base) {
		return 0, errBadOffset
	}
	t.pos = n
	return n, nil
}

// TransferError is called by the library when the transfer is aborted or
// the data connection fails.
func (t *transfer) TransferError(err error) { t.failed.Store(err) }

func (t *transfer) Close() error {
	var err error
	t.once.Do(func() {
		defer t.fsys.sess.release()
		var size int64 = -1
		fi, serr := t.f.Stat()
		if serr == nil {
			size = fi.Size()
		}
		err = t.f.Close()
		attrs := map[string]string{"file": display(t.name), "size": strconv.FormatInt(size, 10)}
		removed := false
		if t.write {
			// An upload cut by the quota leaves no partial file that could
			// pass for a whole one; its bytes go back to the quota before
			// the upload stops counting as open.
			if t.overQuota.Load() != nil && serr == nil {
				removed = t.undo(fi)
			}
			t.fsys.quota.closeWriter()
			attrs["bytes"] = strconv.FormatInt(t.wrote.Load(), 10)
		} else {
			attrs["bytes"] = strconv.FormatInt(t.read.Load(), 10)
		}
		switch {
		case t.overQuota.Load() != nil && removed && !t.fresh:
			attrs["result"] = "quota exceeded, append undone"
		case t.overQuota.Load() != nil && removed:
			attrs["result"] = "quota exceeded, partial file removed"
		case t.overQuota.Load() != nil:
			attrs["result"] = "quota exceeded"
		case err != nil:
			attrs["result"] = "close failed"
		case t.failed.Load() != nil:
			attrs["result"] = "interrupted"
		default:
			attrs["result"] = "ok"
		}
		t.fsys.audit(t.event, attrs)
		if t.fsys.transferred != nil {
			direction, n := "download", t.read.Load()
			if t.write {
				direction, n = "upload", t.wrote.Load()
			}
			t.fsys.transferred(direction, n, time.Since(t.opened))
		}
	})
	if err != nil {
		return t.fsys.clientErr("close", t.name, err)
	}
	return nil
}

// undo takes back an upload refused by the quota: a file it created or
// truncated is removed, an append is cut back to where it started; a
// resumed upload (REST) is left as it is, since what it overwrote is gone
// anyway. Only if the name still leads to the transfer's file (the client
// may have renamed it, or put another file there meanwhile).
func (t *transfer) undo(fi os.FileInfo) bool {
	cur, err := t.fsys.root.Lstat(t.name)
	if err != nil || !os.SameFile(fi, cur) {
		return false
	}
	if !t.fresh {
		if t.appendFrom >= 0 && cur.Size() > t.appendFrom {
			f, err := t.fsys.root.OpenFile(t.name, os.O_WRONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
			if err == nil {
				err = f.Truncate(t.appendFrom)
				f.Close()
			}
			if err != nil {
				t.fsys.log.Warn("ftpd: append over quota not cut back", "file", t.name, "err", err)
				return false
			}
			t.fsys.quota.free(cur.Size() - t.appendFrom)
			return true
		}
		return false
	}
	if err := t.fsys.root.Remove(t.name); err != nil {
		t.fsys.log.Warn("ftpd: partial upload over quota not removed", "file", t.name, "err", err)
		return false
	}
	t.fsys.quota.free(cur.Size())
	t.fsys.quota.freeEntry()
	return true
}
