package ftpd

import (
	"sync"

	ftpserver "github.com/fclairamb/ftpserverlib"

	"github.com/secure-login-system/sls/sftpd"
)

// Storage quotas, enforced as sftpd enforces them (see sftpd/quota.go for
// the reasoning): a client's usage is what sftpd.FolderUsage counts in its
// folder (apparent bytes of regular files, and entries, at any depth,
// whoever put them there); each node keeps per folder the usage and
// reserves what an upload adds before writing it, under one mutex; the
// count is read again from disk whenever an upload opens while no other
// upload of that client is open on this node.
//
// The book is this server's: an SFTP upload and an FTP upload of the same
// client running at the same moment on one node may together pass the
// quota by what they write at that moment, as two nodes may.

// quotaError is a refusal by the quota. The library replies "552" to an
// error that is ftpserver.ErrStorageExceeded ("Requested file action
// aborted. Exceeded storage allocation", RFC 959 §4.2); the text is
// sftpd.QuotaError's, so that both protocols tell the client the same.
type quotaError struct {
	q *sftpd.QuotaError
}

func (e *quotaError) Error() string { return "exceeded storage allocation: " + e.q.Error() }

// Unwrap gives the library its 552 and callers the sftpd.QuotaError.
func (e *quotaError) Unwrap() []error { return []error{ftpserver.ErrStorageExceeded, e.q} }

// folderUsage is one client folder's usage as this server counts it.
type folderUsage struct {
	mu      sync.Mutex
	used    int64 // bytes, including what open uploads reserved
	entries int64 // files and folders, including those reserved
	writers int   // open uploads on this node
	refs    int   // sessions holding it; guarded by quotaBook.mu
}

// quotaBook holds the usage of the folders of the clients connected.
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
// entries (0: none) and its folder's usage on this node. A nil *quota
// enforces nothing.
type quota struct {
	limit   int64
	entries int64
	usage   *folderUsage
	// root and user locate the folder for sftpd.FolderUsage.
	root, user string
}

func (q *quota) on() bool { return q != nil }

// refresh reads the usage from disk when no upload of the client is open
// on this node. u.mu held.
func (q *quota) refresh() error {
	u := q.usage
	if u.writers > 0 {
		return nil
	}
	now, err := sftpd.FolderUsage(q.root, q.user)
	if err != nil {
		return err
	}
	u.used, u.entries = now.Bytes, now.Entries
	return nil
}

// reserveEntry counts one more entry, refusing past the quota. u.mu held.
func (q *quota) reserveEntry() error {
	u := q.usage
	if q.entries > 0 && u.entries >= q.entries {
		return &quotaError{&sftpd.QuotaError{Quota: q.entries, Used: u.entries, Entries: true}}
	}
	u.entries++
	return nil
}

// openWriter registers an upload; creating reserves the entry of a file
// that does not exist yet.
func (q *quota) openWriter(creating bool) error {
	return q.refreshed(func() error {
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
func (q *quota) addEntry() error { return q.refreshed(q.reserveEntry) }

func (q *quota) refreshed(fn func() error) error {
	if !q.on() {
		return nil
	}
	q.usage.mu.Lock()
	defer q.usage.mu.Unlock()
	if err := q.refresh(); err != nil {
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
// moves *cur to end; *cur is guarded by the folder's mutex. It refuses,
// reserving nothing, when the quota would be passed; a file filled
// exactly to the quota is accepted.
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
	// Compared as a difference so that an offset near 2^63 cannot
	// overflow; used may be above limit (a lowered quota).
	if d > q.limit-u.used {
		return &quotaError{&sftpd.QuotaError{Quota: q.limit, Used: u.used}}
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
