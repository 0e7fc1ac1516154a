package sftpd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"
	"time"
)

// DefaultRetention is how long files stay in a client's folder: "the
// retention policy for the files is 100 days" (SPEC §7, from the seed
// article).
const DefaultRetention = 100 * 24 * time.Hour

// Purge removes the regular files whose modification time is before
// olderThan from every client folder under root, at any depth, and returns
// how many it removed. Folders are kept (a client may have made them);
// symbolic links and other special files are neither followed nor removed.
// Each client folder is walked through an os.Root, so a link planted in a
// folder cannot make Purge delete anything outside it. Errors are collected
// and the walk goes on, so one unreadable folder does not stop retention
// for the others.
func Purge(root string, olderThan time.Time) (removed int, err error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return 0, fmt.Errorf("sftpd: purge: %w", err)
	}
	base, err := os.OpenRoot(root)
	if err != nil {
		return 0, fmt.Errorf("sftpd: purge: %w", err)
	}
	defer base.Close()
	var errs []error
	for _, e := range entries {
		if !e.IsDir() { // also skips symlinks: DirEntry reports the link itself
			continue
		}
		n, err := purgeClient(base, e.Name(), olderThan)
		removed += n
		if err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}

// writingFor is how long, by the machine's own clock, a delivery's
// temporary file is taken for one being written; a leftover of a crash is
// older and goes with the others.
const writingFor = time.Hour

// inProgress reports a delivery's temporary file (statement.Deliver
// writes ".NAME.RANDOM.part" and renames it when complete). Its time is
// set to the delivery's only at the end, so a purge meanwhile must not
// take it for an old statement and fail the delivery.
func inProgress(name string) bool {
	return strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".part")
}

func purgeClient(base *os.Root, user string, olderThan time.Time) (int, error) {
	r, err := base.OpenRoot(user)
	if err != nil {
		return 0, fmt.Errorf("sftpd: purge %s: %w", user, err)
	}
	defer r.Close()
	removed := 0
	var errs []error
	walkErr := fs.WalkDir(r.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fmt.Errorf("sftpd: purge %s: %w", path.Join(user, p), err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		fi, err := r.Lstat(p)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("sftpd: purge %s: %w", path.Join(user, p), err))
			}
			return nil
		}
		if !fi.Mode().IsRegular() || !fi.ModTime().Before(olderThan) {
			return nil
		}
		if inProgress(d.Name()) && time.Since(fi.ModTime()) < writingFor {
			return nil // being written now, whatever the system's clock says
		}
		if err := r.Remove(p); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("sftpd: purge %s: %w", path.Join(user, p), err))
			}
			return nil
		}
		removed++
		return nil
	})
	if walkErr != nil {
		errs = append(errs, walkErr)
	}
	return removed, errors.Join(errs...)
}
