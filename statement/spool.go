package statement

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
)

// ScanSpool delivers the complete files of a back-office spool directory
// laid out as spoolDir/<username>/<file>, and returns how many it
// delivered.
//
// The back office writes a file under a name starting with "." or ending
// in ".part" and renames it when complete; such names are skipped, so
// nothing half-written is delivered. Each file is passed to deliver and
// removed from the spool only when deliver returns nil; a failure leaves
// it for the next scan and the scan goes on with the other files. The
// errors are returned joined.
//
// Only regular files directly inside a user's folder are taken. Symbolic
// links are never followed: a link planted in the spool could otherwise
// hand any file the server can read to a client.
func ScanSpool(spoolDir string, deliver func(username, name string, r io.Reader) error) (delivered int, err error) {
	root, err := os.OpenRoot(spoolDir)
	if err != nil {
		return 0, fmt.Errorf("statement: spool: %w", err)
	}
	defer root.Close()
	users, err := readDir(root, ".")
	if err != nil {
		return 0, fmt.Errorf("statement: spool: %w", err)
	}
	var errs []error
	for _, u := range users {
		if !u.IsDir() || skipped(u.Name()) {
			continue
		}
		if err := ValidateUsername(u.Name()); err != nil {
			errs = append(errs, fmt.Errorf("statement: spool %s: %w", u.Name(), err))
			continue
		}
		files, err := readDir(root, u.Name())
		if err != nil {
			errs = append(errs, fmt.Errorf("statement: spool %s: %w", u.Name(), err))
			continue
		}
		for _, f := range files {
			if skipped(f.Name()) || f.IsDir() {
				continue
			}
			p := path.Join(u.Name(), f.Name())
			if !f.Type().IsRegular() {
				errs = append(errs, fmt.Errorf("statement: spool %s: not a regular file", p))
				continue
			}
			if err := ValidateName(f.Name()); err != nil {
				errs = append(errs, fmt.Errorf("statement: spool %s: %w", p, err))
				continue
			}
			if err := deliverOne(root, p, u.Name(), f.Name(), deliver); err != nil {
				errs = append(errs, err)
				continue
			}
			delivered++
		}
	}
	return delivered, errors.Join(errs...)
}

func deliverOne(root *os.Root, p, user, name string, deliver func(username, name string, r io.Reader) error) error {
	// O_NOFOLLOW: the entry was a regular file when listed; if it has been
	// swapped for a link since, refuse rather than follow it.
	f, err := root.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("statement: spool %s: %w", p, err)
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("statement: spool %s: not a regular file", p)
	}
	err = deliver(user, name, f)
	f.Close()
	if err != nil {
		return fmt.Errorf("statement: spool %s: deliver: %w", p, err)
	}
	if err := root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		// Delivered but still in the spool: the next scan delivers it
		// again, which replaces the same file; better twice than never.
		return fmt.Errorf("statement: spool %s: delivered but not removed: %w", p, err)
	}
	return nil
}

func skipped(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".part")
}

func readDir(root *os.Root, name string) ([]fs.DirEntry, error) {
	d, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	es, err := d.ReadDir(-1)
	slices.SortFunc(es, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return es, err
}
