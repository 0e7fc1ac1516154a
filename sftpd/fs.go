package sftpd

import (
	"errors"
	"io"
	"log/slog"
	"math"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pkg/sftp"
)

// clientFS serves one client's folder through pkg/sftp's request server.
//
// Confinement rests on two layers. Every SFTP path is cleaned against "/"
// (so "..", "../.." and absolute paths land inside the folder) and made
// relative; then every file-system call goes through an os.Root opened on
// the folder, which refuses any name or symbolic link that resolves outside
// it, atomically with the call (openat-based, no check-then-use race).
// Clients cannot create symbolic or hard links at all, and SETSTAT cannot
// change owners, grant access to group/others, or set special bits.
type clientFS struct {
	root  *os.Root
	user  string
	addr  string
	audit func(event string, attrs map[string]string)
	now   func() time.Time
	log   *slog.Logger
	// quota bounds the bytes in the folder (see quota.go); nil for none.
	quota *quota
	// transferred is Config.Transferred; nil for none.
	transferred func(direction string, bytes int64, took time.Duration)
}

var (
	_ sftp.FileReader           = (*clientFS)(nil)
	_ sftp.OpenFileWriter       = (*clientFS)(nil)
	_ sftp.PosixRenameFileCmder = (*clientFS)(nil)
	_ sftp.LstatFileLister      = (*clientFS)(nil)
	_ sftp.RealPathFileLister   = (*clientFS)(nil)
	_ sftp.ReadlinkFileLister   = (*clientFS)(nil)
)

// serve answers SFTP requests read from rw until the client ends the
// session or the channel fails. It leaves rw open: the caller sends
// exit-status on the channel and closes it.
func (fsys *clientFS) serve(rw io.ReadWriter) error {
	h := sftp.Handlers{FileGet: fsys, FilePut: fsys, FileCmd: fsys, FileList: fsys}
	rs := sftp.NewRequestServer(batchConn{rw, newBatchWriter(rw)}, h)
	err := rs.Serve()
	rs.Close()
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// resolve turns an SFTP path into a name relative to the client's folder.
// The folder is the client's "/": ".." above it stays at it, as on a
// chrooted OpenSSH server.
func resolve(p string) (string, error) {
	if strings.IndexByte(p, 0) >= 0 {
		return "", errBadPath
	}
	c := path.Clean("/" + p)
	if c == "/" {
		return ".", nil
	}
	return c[1:], nil
}

// clientError carries an SFTP status code (through Unwrap, which pkg/sftp
// follows) and a message that never contains a server-side path.
type clientError struct {
	code error
	msg  string
}

func (e *clientError) Error() string { return e.msg }
func (e *clientError) Unwrap() error { return e.code }

var (
	errBadPath      = &clientError{sftp.ErrSSHFxBadMessage, "invalid path"}
	errNoSuchFile   = &clientError{sftp.ErrSSHFxNoSuchFile, "no such file"}
	errDenied       = &clientError{sftp.ErrSSHFxPermissionDenied, "permission denied"}
	errOutside      = &clientError{sftp.ErrSSHFxPermissionDenied, "permission denied: path leaves your folder"}
	errLinks        = &clientError{sftp.ErrSSHFxPermissionDenied, "permission denied: links are not supported"}
	errChown        = &clientError{sftp.ErrSSHFxPermissionDenied, "permission denied: owner cannot be changed"}
	errExists       = &clientError{sftp.ErrSSHFxFailure, "file already exists"}
	errIsDir        = &clientError{sftp.ErrSSHFxFailure, "is a directory"}
	errNotDir       = &clientError{sftp.ErrSSHFxFailure, "not a directory"}
	errNotEmpty     = &clientError{sftp.ErrSSHFxFailure, "directory not empty"}
	errNotRegular   = &clientError{sftp.ErrSSHFxPermissionDenied, "permission denied: not a regular file"}
	errFolderItself = &clientError{sftp.ErrSSHFxPermissionDenied, "permission denied: your folder itself cannot be changed"}
	errUnsupported  = &clientError{sftp.ErrSSHFxOpUnsupported, "operation unsupported"}
	errFailure      = &clientError{sftp.ErrSSHFxFailure, "failure"}
	errBadOffset    = &clientError{sftp.ErrSSHFxFailure, "invalid offset"}
)

// clientErr maps a file-system error to what the client may see; the
// original goes to the log.
func (fsys *clientFS) clientErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var ce *clientError
	if errors.As(err, &ce) {
		return ce
	}
	var qe *QuotaError
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
	if fsys.log != nil {
		fsys.log.Debug("sftpd: file operation refused", "op", op, "file", name, "err", err)
	}
	return out
}

// isEscape recognises os.Root's refusal of a name or link that leaves the
// root. The os package does not export that error, so match its text;
// ELOOP covers a symlink refused by O_NOFOLLOW-style resolution.
func isEscape(err error) bool {
	return errors.Is(err, syscall.ELOOP) || strings.Contains(err.Error(), "escapes from parent")
}

// display is the name written to the audit trail: the client's view.
func display(rel string) string {
	if rel == "." {
		return "/"
	}
	return "/" + rel
}

// Fileread opens a regular file for download. The file is streamed from
// disk by ReadAt; nothing is loaded whole.
func (fsys *clientFS) Fileread(r *sftp.Request) (io.ReaderAt, error) {
	rel, err := resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
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

// Filewrite opens a file for upload, creating it with mode 0600.
func (fsys *clientFS) Filewrite(r *sftp.Request) (io.WriterAt, error) {
	return fsys.openWrite(r, os.O_WRONLY)
}

// OpenFile serves handles opened for reading and writing at once.
func (fsys *clientFS) OpenFile(r *sftp.Request) (sftp.WriterAtReaderAt, error) {
	return fsys.openWrite(r, os.O_RDWR)
}

func (fsys *clientFS) openWrite(r *sftp.Request, mode int) (*transfer, error) {
	rel, err := resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return nil, errIsDir
	}
	pf := r.Pflags()
	flags := mode | syscall.O_NONBLOCK
	if pf.Creat {
		flags |= os.O_CREATE
	}
	if pf.Trunc {
		flags |= os.O_TRUNC
	}
	if pf.Excl {
		flags |= os.O_EXCL
	}
	// pf.Append is ignored on purpose: SFTP writes carry their offsets,
	// and O_APPEND would make pwrite ignore them.

	// A FIFO or device planted in the folder must not be opened (it could
	// block the worker or reach a device); links are never followed at the
	// last component.
	var before int64
	fi, err := fsys.root.Lstat(rel)
	if err == nil {
		if !fi.Mode().IsRegular() {
			if fi.IsDir() {
				return nil, errIsDir
			}
			return nil, errNotRegular
		}
		before = fi.Size()
	}
	creating := pf.Creat && errors.Is(err, os.ErrNotExist)
	if err := fsys.quota.openWriter(fsys.root, creating); err != nil {
		return nil, fsys.clientErr("usage", rel, err)
	}
	f, err := fsys.root.OpenFile(rel, flags, 0o600)
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
	return &transfer{f: f, fsys: fsys, name: rel, event: EventUpload, write: true, size: fi.Size(), opened: time.Now()}, nil
}

// transfer is an open download or upload. It counts the bytes moved so
// that the audit record tells what the client actually got or sent.
type transfer struct {
	f      *os.File
	fsys   *clientFS
	name   string
	event  string
	write  bool
	read   atomic.Int64
	wrote  atomic.Int64
	failed atomic.Value // error
	// size is the file's size as the quota counts it, guarded by the
	// folder's usage mutex; overQuota is the first refusal.
	size      int64
	overQuota atomic.Pointer[QuotaError]

	once   sync.Once
	opened time.Time
}

func (t *transfer) ReadAt(p []byte, off int64) (int, error) {
	n, err := t.f.ReadAt(p, off)
	t.read.Add(int64(n))
	return n, err
}

func (t *transfer) WriteAt(p []byte, off int64) (int, error) {
	if !t.write {
		return 0, errDenied
	}
	end := off + int64(len(p))
	if off < 0 || end < off {
		return 0, errBadOffset
	}
	if err := t.fsys.quota.grow(&t.size, end); err != nil {
		var qe *QuotaError
		if errors.As(err, &qe) && t.overQuota.CompareAndSwap(nil, qe) {
			t.fsys.audit(EventQuotaExceeded, map[string]string{"file": display(t.name),
				"quota": strconv.FormatInt(qe.Quota, 10), "used": strconv.FormatInt(qe.Used, 10),
				"bytes": strconv.FormatInt(t.wrote.Load(), 10)})
		}
		return 0, err
	}
	n, err := t.f.WriteAt(p, off)
	t.wrote.Add(int64(n))
	if err != nil {
		return n, t.fsys.clientErr("write", t.name, err)
	}
	return n, nil
}

// TransferError is called by pkg/sftp when the connection drops with the
// file still open.
func (t *transfer) TransferError(err error) { t.failed.Store(err) }

func (t *transfer) Close() error {
	var err error
	t.once.Do(func() {
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
			// the upload stops counting as open, so that a fresh count
			// cannot see them.
			if t.overQuota.Load() != nil && serr == nil {
				removed = t.removeIfSame(fi)
			}
			t.fsys.quota.closeWriter()
			attrs["bytes"] = strconv.FormatInt(t.wrote.Load(), 10)
		} else {
			attrs["bytes"] = strconv.FormatInt(t.read.Load(), 10)
		}
		switch {
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

// removeIfSame removes the transfer's file if the name still leads to it
// (the client may have renamed it, or put another file there meanwhile).
func (t *transfer) removeIfSame(fi os.FileInfo) bool {
	cur, err := t.fsys.root.Lstat(t.name)
	if err != nil || !os.SameFile(fi, cur) {
		return false
	}
	if err := t.fsys.root.Remove(t.name); err != nil {
		t.fsys.log.Warn("sftpd: partial upload over quota not removed", "file", t.name, "err", err)
		return false
	}
	t.fsys.quota.free(cur.Size())
	t.fsys.quota.freeEntry()
	return true
}

// Filecmd handles the commands that change the tree.
func (fsys *clientFS) Filecmd(r *sftp.Request) error {
	rel, err := resolve(r.Filepath)
	if err != nil {
		return err
	}
	switch r.Method {
	case "Setstat":
		return fsys.setstat(rel, r)
	case "Rename":
		return fsys.rename(rel, r.Target, false)
	case "Mkdir":
		if rel == "." {
			return errExists
		}
		if err := fsys.quota.addEntry(fsys.root); err != nil {
			return fsys.clientErr("mkdir", rel, err)
		}
		if err := fsys.root.Mkdir(rel, 0o700); err != nil {
			fsys.quota.freeEntry()
			return fsys.clientErr("mkdir", rel, err)
		}
		return nil
	case "Rmdir":
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
	case "Remove":
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
	case "Symlink", "Link":
		return errLinks
	}
	return errUnsupported
}

// PosixRename is the posix-rename@openssh.com extension: it replaces an
// existing target, where plain SFTP v3 rename must not.
func (fsys *clientFS) PosixRename(r *sftp.Request) error {
	rel, err := resolve(r.Filepath)
	if err != nil {
		return err
	}
	return fsys.rename(rel, r.Target, true)
}

func (fsys *clientFS) rename(rel, target string, replace bool) error {
	to, err := resolve(target)
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
	if !replace {
		// SFTP v3 (draft-ietf-secsh-filexfer-02 §6.5): renaming onto an
		// existing name is an error. The check can race another rename of
		// the same client, which only costs that client its own file.
		if terr == nil {
			return errExists
		}
	}
	if err := fsys.root.Rename(rel, to); err != nil {
		return fsys.clientErr("rename", rel, err)
	}
	if terr == nil {
		if replaced.Mode().IsRegular() {
			fsys.quota.free(replaced.Size())
		}
		fsys.quota.freeEntry()
	}
	fsys.audit(EventRename, map[string]string{"file": display(rel), "target": display(to)})
	return nil
}

// setstat applies size, permissions and times. Owners cannot change;
// permissions keep only the owner's bits, since the folder is served to
// this client alone and setuid/setgid/sticky bits have no place in it;
// modification times in the future are clamped to now, so that a client
// cannot keep files past the retention purge.
func (fsys *clientFS) setstat(rel string, r *sftp.Request) error {
	fl := r.AttrFlags()
	at := r.Attributes()
	fi, err := fsys.root.Lstat(rel)
	if err != nil {
		return fsys.clientErr("setstat", rel, err)
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		return errLinks
	}
	if fl.UidGid {
		return errChown
	}
	if fl.Size {
		if !fi.Mode().IsRegular() {
			return errNotRegular
		}
		if at.Size > math.MaxInt64 {
			return errBadOffset
		}
		// Growing a file this way counts like writing to it: the size
		// is what the quota counts, sparse or not.
		if err := fsys.quota.resize(fi.Size(), int64(at.Size)); err != nil {
			return err
		}
		f, err := fsys.root.OpenFile(rel, os.O_WRONLY|syscall.O_NOFOLLOW, 0)
		if err != nil {
			fsys.quota.resize(int64(at.Size), fi.Size())
			return fsys.clientErr("truncate", rel, err)
		}
		err = f.Truncate(int64(at.Size))
		f.Close()
		if err != nil {
			fsys.quota.resize(int64(at.Size), fi.Size())
			return fsys.clientErr("truncate", rel, err)
		}
	}
	if fl.Permissions {
		perm := os.FileMode(at.Mode).Perm() & 0o700
		if err := fsys.root.Chmod(rel, perm); err != nil {
			return fsys.clientErr("chmod", rel, err)
		}
	}
	if fl.Acmodtime {
		now := fsys.now()
		atime := time.Unix(int64(at.Atime), 0)
		mtime := time.Unix(int64(at.Mtime), 0)
		if atime.After(now) {
			atime = now
		}
		if mtime.After(now) {
			mtime = now
		}
		if err := fsys.root.Chtimes(rel, atime, mtime); err != nil {
			return fsys.clientErr("chtimes", rel, err)
		}
	}
	return nil
}

// Filelist answers List and Stat.
func (fsys *clientFS) Filelist(r *sftp.Request) (sftp.ListerAt, error) {
	rel, err := resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	switch r.Method {
	case "List":
		return fsys.list(rel)
	case "Stat":
		fi, err := fsys.root.Stat(rel)
		if err != nil {
			return nil, fsys.clientErr("stat", rel, err)
		}
		return listerAt{named{fi, path.Base(display(rel))}}, nil
	}
	return nil, errUnsupported
}

// Lstat describes a link itself rather than its target.
func (fsys *clientFS) Lstat(r *sftp.Request) (sftp.ListerAt, error) {
	rel, err := resolve(r.Filepath)
	if err != nil {
		return nil, err
	}
	fi, err := fsys.root.Lstat(rel)
	if err != nil {
		return nil, fsys.clientErr("lstat", rel, err)
	}
	return listerAt{named{fi, path.Base(display(rel))}}, nil
}

// Readlink is refused: a link's text could name places outside the folder.
func (fsys *clientFS) Readlink(string) (string, error) { return "", errLinks }

// RealPath canonicalises without touching the disk: the client's folder is
// its "/".
func (fsys *clientFS) RealPath(p string) (string, error) {
	rel, err := resolve(p)
	if err != nil {
		return "", err
	}
	return display(rel), nil
}

func (fsys *clientFS) list(rel string) (sftp.ListerAt, error) {
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
	out := make(listerAt, 0, len(names))
	for _, n := range names {
		// Lstat through the root, so that entries are described without
		// following links and without a path walk outside it.
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

type listerAt []os.FileInfo

func (l listerAt) ListAt(buf []os.FileInfo, off int64) (int, error) {
	if off >= int64(len(l)) {
		return 0, io.EOF
	}
	n := copy(buf, l[off:])
	if n+int(off) >= len(l) {
		return n, io.EOF
	}
	return n, nil
}
