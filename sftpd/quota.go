package sftpd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"

	"github.com/dustin/go-humanize"
	"github.com/pkg/sftp"
)

// Storage quotas.
//
// A client's usage is the apparent size of every regular file in its
// folder, at any depth, whoever put it there: the statements the server
// delivered count as much as the client's uploads, because the quota
// protects a disk shared with the database, not a service level.
// Apparent size rather than allocated blocks, so that a sparse file cannot
// slip past the quota and the figure is the one the client's tools show.
//
// Each node keeps, per client folder, the bytes used and reserves the
// bytes an upload adds before writing them, under one mutex, so that
// concurrent uploads of one client on one node cannot together pass the
// quota. The count is read again from disk whenever an upload opens while
// no other upload of that client is open on this node, which takes in
// what changed meanwhile (deliveries, the purge, other nodes). Across
// nodes the bound is therefore per node: uploads of one client running at
// the same moment on two nodes may together pass the quota by what they
// write at that moment.

// A second quota bounds the number of entries (files, folders, anything
// else) in the folder, at any depth: the byte quota alone would let a
// client fill the disk's inode table with empty files. It is counted the
// same way, an entry being reserved before it is created.

// QuotaError is the error a write that would pass the client's quota gets.
// It reaches the client as SSH_FX_FAILURE with Error's text as the message:
// SFTP v3 (draft-ietf-secsh-filexfer-02 §7) has no quota status code, and
// the codes of later drafts (SSH_FX_QUOTA_EXCEEDED) mean nothing to a
// v3 client. WinSCP, FileZilla and PuTTY show the message; OpenSSH's sftp
// shows only "Failure".
type QuotaError struct {
	Quota, Used int64
	// Entries says the quota passed is the one on the number of entries,
	// not on bytes.
	Entries bool
}

func (e *QuotaError) Error() string {
	used := max(e.Used, 0)
	if e.Entries {
		return fmt.Sprintf("quota exceeded: %d files and folders allowed, %d present; remove files to make room", e.Quota, used)
	}
	return fmt.Sprintf("quota exceeded: %s allowed, %s used (%d of %d bytes); remove files to make room",
		humanize.IBytes(uint64(e.Quota)), humanize.IBytes(uint64(used)), used, e.Quota)
}

// Unwrap gives pkg/sftp the status code.
func (e *QuotaError) Unwrap() error { return sftp.ErrSSHFxFailure }

// Usage is what a client's folder holds.
type Usage struct {
	// Bytes is the sum of the sizes of the regular files, at any depth.
	Bytes int64
	// Entries counts the files, folders and other entries, at any depth,
	// the folder itself aside.
	Entries int64
}

// FolderUsage returns what root/username holds; zero when the folder does
// not exist yet. Links are not followed, and the walk cannot leave the
// folder.
func FolderUsage(root, username string) (Usage, error) {
	if err := validUsername(username); err != nil {
		return Usage{}, err
	}
	r, err := os.OpenRoot(root)
	if err != nil {
		return Usage{}, fmt.Errorf("sftpd: usage: %w", err)
	}
	defer r.Close()
	dir, err := r.OpenRoot(username)
	if errors.Is(err, fs.ErrNotExist) {
		return Usage{}, nil
	}
	if err != nil {
		return Usage{}, fmt.Errorf("sftpd: usage: %w", err)
	}
	defer dir.Close()
	return usageOf(dir)
}

// usageOf counts what is under r. Entries that vanish during the walk are
// skipped; other errors end it, since an undercount would let the quota be
// passed.
func usageOf(r *os.Root) (Usage, error) {
	var total Usage
	err := fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if p != "." {
			total.Entries++
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		total.Bytes += fi.Size()
		return nil
	})
	if err != nil {
		return Usage{}, fmt.Errorf("sftpd: usage: %w", err)
	}
	return total, nil
}

// folderUsage is one client folder's usage as this node counts it.
type folderUsage struct {
	mu      sync.Mutex
	used    int64 // bytes, including what open uploads reserved
	entries int64 // files and folders, including those reserved
	writers int   // open uploads on this node
	refs    int   // sessions holding it; guarded by quotaBook.mu
}

// quotaBook holds the usage of the folders of the clients connected to
// this node.
type quotaBook struct {
	mu      sync.Mutex
	folders map[string]*folderUsage
}

func (b *quotaBook) acquire(user string) *folderUsage {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.folders == nil {
		b.folders = map[string]*folderUsage{}
	}
	u := b.folders[user]
	if u == nil {
		u = &folderUsage{}
		b.folders[user] = u
	}
	u.refs++
	return u
}

func (b *quotaBook) release(user string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if u := b.folders[user]; u != nil {
		if u.refs--; u.refs <= 0 {
			delete(b.folders, user)
		}
	}
}

// quota is what a session enforces: the client's quotas in bytes and in
// entries (0: none) and its folder's usage on this node.
type quota struct {
	limit   int64
	entries int64
	usage   *folderUsage
}

func (q *quota) on() bool { return q != nil }

// refresh reads the usage from disk when no upload of the client is open
// on this node (nothing is then reserved but not yet on disk). u.mu held.
func (q *quota) refresh(r *os.Root) error {
	u := q.usage
	if u.writers > 0 {
		return nil
	}
	now, err := usageOf(r)
	if err != nil {
		return err
	}
	u.used, u.entries = now.Bytes, now.Entries
	return nil
}

// reserveEntry counts one more entry, refusing with a *QuotaError past
// the quota. u.mu held.
func (q *quota) reserveEntry() error {
	u := q.usage
	if q.entries > 0 && u.entries >= q.entries {
		return &QuotaError{Quota: q.entries, Used: u.entries, Entries: true}
	}
	u.entries++
	return nil
}

// openWriter registers an upload, reading the usage from disk when no
// other upload of the client is open here; creating reserves the entry
// of a file that does not exist yet.
func (q *quota) openWriter(r *os.Root, creating bool) error {
	return q.refreshed(r, func() error {
		if creating {
			if err := q.reserveEntry(); err != nil {
				return err
			}
		}
		q.usage.writers++
		return nil
	})
}

// addEntry reserves the entry of a folder about to be made.
func (q *quota) addEntry(r *os.Root) error { return q.refreshed(r, q.reserveEntry) }

// refreshed runs fn under the folder's usage lock, after refresh.
func (q *quota) refreshed(r *os.Root, fn func() error) error {
	if !q.on() {
		return nil
	}
	q.usage.mu.Lock()
	defer q.usage.mu.Unlock()
	if err := q.refresh(r); err != nil {
		return err
	}
	return fn()
}

// freeEntry gives back an entry: removed, replaced, or never created.
func (q *quota) freeEntry() {
	if !q.on() {
		return
	}
	u := q.usage
	u.mu.Lock()
	u.entries = max(u.entries-1, 0)
	u.mu.Unlock()
}

func (q *quota) closeWriter() {
	if !q.on() {
		return
	}
	q.usage.mu.Lock()
	q.usage.writers--
	q.usage.mu.Unlock()
}

// grow reserves the bytes that take a file from size *cur to end, and
// moves *cur to end; *cur is guarded by the folder's mutex (and unused
// without a quota). It refuses
// with a *QuotaError, reserving nothing, when the quota would be passed.
// A file filled exactly to the quota is accepted.
func (q *quota) grow(cur *int64, end int64) error {
	if !q.on() || q.limit <= 0 {
		return nil
	}
	u := q.usage
	u.mu.Lock()
	defer u.mu.Unlock()
	d := end - *cur
	if d <= 0 {
		return nil
	}
	// Compared as a difference: a client's offset near 2^63 must not
	// overflow the sum. used may be above limit (a lowered quota).
	if d > q.limit-u.used {
		return &QuotaError{Quota: q.limit, Used: u.used}
	}
	u.used += d
	*cur = end
	return nil
}

// free gives back n bytes: a file removed, truncated or replaced.
func (q *quota) free(n int64) {
	if !q.on() || n <= 0 {
		return
	}
	u := q.usage
	u.mu.Lock()
	u.used = max(u.used-n, 0)
	u.mu.Unlock()
}

// resize accounts for a file set from size from to size to (SETSTAT
// size), refusing growth past the quota.
func (q *quota) resize(from, to int64) error {
	if to <= from {
		q.free(from - to)
		return nil
	}
	cur := from
	return q.grow(&cur, to)
}
