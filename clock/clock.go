// Package clock provides the clocks that tests and test deployments use
// instead of the system clock: a Fake that tests set and move, and an
// Offset clock that adds an offset read from a file, so that an
// end-to-end test can move the time of real server processes (several at
// once) without restarting them. Production uses sls.SystemClock.
package clock

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Fake is a clock that only moves when told to. Safe for concurrent use.
type Fake struct {
	mu  sync.Mutex
	now time.Time
}

// NewFake returns a Fake set to t.
func NewFake(t time.Time) *Fake { return &Fake{now: t.UTC()} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Set sets the clock to t.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	f.now = t.UTC()
	f.mu.Unlock()
}

// Offset is the system clock plus an offset kept in a file (a Go duration
// such as "504h"). The file is re-read at most every refresh interval; a
// missing file means no offset. Never enable it in production: whoever
// writes the file moves the server's time.
type Offset struct {
	Path    string
	Refresh time.Duration // zero: 100ms

	mu      sync.Mutex
	offset  time.Duration
	checked time.Time
}

// Now returns the system time plus the current offset.
func (o *Offset) Now() time.Time {
	real := time.Now().UTC()
	refresh := o.Refresh
	if refresh <= 0 {
		refresh = 100 * time.Millisecond
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if real.Sub(o.checked) >= refresh {
		o.checked = real
		if d, err := ReadOffset(o.Path); err == nil {
			o.offset = d
		}
	}
	return real.Add(o.offset)
}

// ReadOffset reads an offset file; a missing file is a zero offset.
func ReadOffset(path string) (time.Duration, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("clock: offset file %s: %w", path, err)
	}
	return d, nil
}

// WriteOffset sets the offset in the file atomically.
func WriteOffset(path string, d time.Duration) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(d.String()+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
