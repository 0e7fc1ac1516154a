package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// SQLite writes every commit to its write-ahead log (WAL) and copies the
// log back into the database file in a checkpoint. Left to itself, the
// connection whose commit takes the log past 1,000 pages runs that
// checkpoint right after its commit, before its caller gets its answer:
// the request pays for copying and flushing about a thousand pages, and
// since the store has one writer connection, every other write waits
// behind it too.
//
// Here a goroutine with a connection of its own checkpoints instead, a
// short while after writes: a PASSIVE checkpoint, which takes no lock
// that a writer or a reader needs (it copies what no reader still
// reads, and the rest at the next one). The writer's automatic
// checkpoint stays, at a much higher mark, as a safety net should this
// goroutine fall behind.
const (
	// walCheckpointAfter is how long the checkpointer lets writes gather
	// after the first one it is told of: under load one checkpoint
	// copies the pages of many commits, at about the log size SQLite's
	// own default would reach.
	walCheckpointAfter = 250 * time.Millisecond
	// walSafetyPages is the writer's own automatic checkpoint mark
	// (PRAGMA wal_autocheckpoint): 40 MiB of log at 4 KiB pages.
	walSafetyPages = 10000
)

// walCheckpointer runs the checkpoints of one SQLite store.
type walCheckpointer struct {
	conn  *sql.DB       // its own connection, beside the writer and the readers
	dirty chan struct{} // a commit since the last checkpoint
	stop  context.CancelFunc
	done  sync.WaitGroup

	// For the metrics (DB.Instrument) and tests.
	runs    atomic.Int64 // checkpoints run
	errors  atomic.Int64 // checkpoints that failed
	backlog atomic.Int64 // log pages the last one could not copy back yet
}

func startWALCheckpointer(conn *sql.DB) *walCheckpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &walCheckpointer{conn: conn, dirty: make(chan struct{}, 1), stop: cancel}
	c.done.Go(func() { c.run(ctx) })
	return c
}

// wrote tells the checkpointer of a commit; it never blocks.
func (c *walCheckpointer) wrote() {
	select {
	case c.dirty <- struct{}{}:
	default: // already told
	}
}

func (c *walCheckpointer) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.dirty:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(walCheckpointAfter):
		}
		// An error (the database busy with another process's
		// checkpoint, say) leaves the pages for the next one, or for
		// the writer's safety net; the metrics show it.
		var busy, logPages, copied int64
		err := c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logPages, &copied)
		switch {
		case err != nil && ctx.Err() == nil:
			c.errors.Add(1)
		case err == nil:
			c.runs.Add(1)
			c.backlog.Store(max(logPages-copied, 0))
		}
	}
}

// close stops the checkpointer and closes its connection.
func (c *walCheckpointer) close() error {
	c.stop()
	c.done.Wait()
	return c.conn.Close()
}
