// Package sqlstore implements sls.Store on database/sql for two engines:
// embedded SQLite (pure Go, modernc.org/sqlite, WAL) — the default, so one
// command runs everything — and PostgreSQL (pgx), the engine for several
// nodes. Both run the same queries, written with ? placeholders and
// rewritten for PostgreSQL, and both pass the contract suite in storetest.
//
// Times are stored as BIGINT microseconds since the Unix epoch (UTC) in both
// engines, so comparisons and arithmetic are identical on each.
package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/prometheus/client_golang/prometheus"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	sls "github.com/secure-login-system/sls"
)

//go:embed migrations
var migrations embed.FS

// Engine names a database engine.
type Engine string

// Engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is an open store. It implements sls.Store.
type DB struct {
	engine Engine
	write  *sql.DB // all read-write transactions
	read   *sql.DB // read-only transactions (same as write on PostgreSQL)

	txDuration *prometheus.HistogramVec // nil until Instrument
	txRetries  prometheus.Counter
	statements *prometheus.CounterVec // by mode; nil until Instrument

	// stmts caches prepared statements by query text (SQLite only):
	// preparing is about a third of SQLite's time for the short
	// statements a login runs, and database/sql keeps one prepared copy
	// per connection. PostgreSQL's driver (pgx) already caches prepared
	// statements per connection.
	stmts sync.Map // query → *sql.Stmt on write or read handle (see stmtKey)

	counts counts
	cached atomic.Int64 // statements in stmts

	auditPending chan struct{} // see AuditPending

	wal *walCheckpointer // SQLite's checkpoints; nil on PostgreSQL
}

// uncounted marks a context whose transactions are left out of Counters:
// the audit chainer's, which run after requests, once per batch.
type uncounted struct{}

func withoutCounts(ctx context.Context) context.Context {
	return context.WithValue(ctx, uncounted{}, true)
}

// counts are running totals of the store's work since it was opened:
// what a test or a benchmark divides by the logins it ran to state the
// cost of one (Counters).
type counts struct {
	Transactions atomic.Int64 // begun, read and write
	Writes       atomic.Int64 // read-write transactions committed
	Statements   atomic.Int64 // statements sent (queries and executions)
}

// Counters returns the store's running totals.
func (db *DB) Counters() (transactions, writes, statements int64) {
	return db.counts.Transactions.Load(), db.counts.Writes.Load(), db.counts.Statements.Load()
}

var _ sls.Store = (*DB)(nil)

// IsPostgresURL reports whether dsn names a PostgreSQL database.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the store named by dsn — a postgres:// URL, or else the path
// of a SQLite file (created if missing) — and applies pending migrations.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var db *DB
	var err error
	if IsPostgresURL(dsn) {
		db, err = openPostgres(dsn)
	} else {
		db, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func newDB(e Engine, write, read *sql.DB) *DB {
	return &DB{engine: e, write: write, read: read, auditPending: make(chan struct{}, 1)}
}

// DefaultPostgresConns is how many connections a node holds at most: five
// nodes fit PostgreSQL's default max_connections (100) with room for
// maintenance. Beyond, lower it per node or put a pooler in front
// (docs/operations.md).
const DefaultPostgresConns = 20

func openPostgres(dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open postgres: %w", err)
	}
	db.SetMaxOpenConns(DefaultPostgresConns)
	db.SetMaxIdleConns(DefaultPostgresConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return newDB(Postgres, db, db), nil
}

// SetMaxConns bounds the PostgreSQL connections of this node (1–1000).
// SQLite has one writer and a few readers by design, and refuses.
func (db *DB) SetMaxConns(n int) error {
	if db.engine != Postgres {
		return errors.New("sqlstore: --db-max-conns is for PostgreSQL (SQLite has one writer by design)")
	}
	if n < 1 || n > 1000 {
		return fmt.Errorf("sqlstore: the connection limit %d must be between 1 and 1000", n)
	}
	db.write.SetMaxOpenConns(n)
	db.write.SetMaxIdleConns(n)
	return nil
}

func openSQLite(path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlstore: %w", err)
		}
	}
	// WAL lets readers run beside the single writer; synchronous=FULL makes
	// every commit durable before it is acknowledged; busy_timeout makes
	// another process's writer wait instead of failing.
	pragmas := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		pragmas.Add("_pragma", p)
	}
	base := "file:" + path + "?" + pragmas.Encode()
	// Writers begin IMMEDIATE: the write lock is taken at BEGIN, so a
	// read-then-write transaction can never fail half-way with SQLITE_BUSY.
	// Its checkpoints are a goroutine's (walcheckpoint.go); its own
	// automatic one is only a safety net.
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma="+url.QueryEscape(fmt.Sprintf("wal_autocheckpoint(%d)", walSafetyPages)))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	r.SetMaxOpenConns(4)
	ck, err := sql.Open("sqlite", base)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlstore: open sqlite: %w", err)
	}
	ck.SetMaxOpenConns(1)
	db := newDB(SQLite, w, r)
	db.wal = startWALCheckpointer(ck)
	return db, nil
}

func (db *DB) migrate(ctx context.Context) error {
	dialect, dir := database.DialectSQLite3, "migrations/sqlite"
	if db.engine == Postgres {
		dialect, dir = database.DialectPostgres, "migrations/postgres"
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, db.write, sub)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	if db.engine == Postgres {
		// Several nodes may start at once; one applies the migrations.
		// The lock belongs to a database session, so it is taken and
		// released on one connection held for the purpose (on any pooled
		// connection the release could miss it, and the lock would
		// outlive the migration, blocking the next node to start).
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(7365730001)"); err != nil {
			return fmt.Errorf("sqlstore: migration lock: %w", err)
		}
		defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock(7365730001)")
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// Engine reports which engine the store runs on.
func (db *DB) Engine() Engine { return db.engine }

// Close closes the database handles.
func (db *DB) Close() error {
	db.stmts.Range(func(_, v any) bool {
		if st, ok := v.(*sql.Stmt); ok {
			st.Close()
		}
		return true
	})
	var err error
	if db.wal != nil {
		err = db.wal.close()
	}
	err = errors.Join(err, db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers (health endpoint).
func (db *DB) Ping(ctx context.Context) error { return db.write.PingContext(ctx) }

// Update runs fn in a read-write transaction.
func (db *DB) Update(ctx context.Context, fn func(sls.Tx) error) error {
	return db.run(ctx, db.write, false, fn)
}

// View runs fn in a read-only transaction.
func (db *DB) View(ctx context.Context, fn func(sls.Tx) error) error {
	return db.run(ctx, db.read, true, fn)
}

// Read runs fn's statements without a transaction, each on its own: on
// PostgreSQL that saves the BEGIN and COMMIT round trips of View. For
// reads that need no consistency between their statements; fn must not
// write (on SQLite it cannot: the readers' connections are query-only).
func (db *DB) Read(ctx context.Context, fn func(sls.Tx) error) error {
	return fn(&tx{tx: db.read, engine: db.engine, db: db, handle: db.read, readOnly: true, counted: ctx.Value(uncounted{}) == nil})
}

// maxRetries bounds how often a transaction that lost a serialization or
// deadlock race on PostgreSQL is retried.
const maxRetries = 5

func (db *DB) run(ctx context.Context, h *sql.DB, readOnly bool, fn func(sls.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.runOnce(ctx, h, readOnly, fn)
		if err == nil || !db.retryable(err) || attempt >= maxRetries {
			return err
		}
		if db.txRetries != nil {
			db.txRetries.Inc()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 5 * time.Millisecond):
		}
	}
}

func (db *DB) runOnce(ctx context.Context, h *sql.DB, readOnly bool, fn func(sls.Tx) error) (err error) {
	start := time.Now()
	counted := ctx.Value(uncounted{}) == nil
	if counted {
		db.counts.Transactions.Add(1)
	}
	detached := db.engine == SQLite && !readOnly
	sqlTx, release, err := db.begin(ctx, h, readOnly, detached)
	if err != nil {
		db.observeTx(readOnly, "error", start)
		return fmt.Errorf("sqlstore: begin: %w", err)
	}
	defer release()
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
	}()
	t := &tx{tx: sqlTx, sqlTx: sqlTx, engine: db.engine, db: db, handle: h, readOnly: readOnly, counted: counted, detached: detached}
	if err := fn(t); err != nil {
		_ = sqlTx.Rollback()
		db.observeTx(readOnly, "rollback", start)
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		db.observeTx(readOnly, "error", start)
		return fmt.Errorf("sqlstore: commit: %w", err)
	}
	if !readOnly && counted {
		db.counts.Writes.Add(1)
	}
	if !readOnly && db.wal != nil {
		db.wal.wrote()
	}
	if t.audited {
		select {
		case db.auditPending <- struct{}{}:
		default: // the chainer is already told
		}
	}
	db.observeTx(readOnly, "commit", start)
	return nil
}

// begin starts a transaction on h; release must be called once it has
// ended. A detached transaction (SQLite's writes) does not watch ctx
// once it has begun: its connection is taken with ctx, so that a request
// that ends while it waits for the single writer leaves the queue, and
// each of its statements checks ctx before it starts (tx.stmtContext),
// but neither they nor the COMMIT are interrupted once started.
//
// Why: the SQLite driver starts a goroutine to watch the context of
// every statement, BEGIN and COMMIT whose context can end (to interrupt
// SQLite), and sets and clears a progress handler around each. A write
// transaction's statements take microseconds, and these goroutines and
// the thread wake-ups they cause cost as much as several of them:
// BenchmarkAnswer, whose steps run with a context that can end as a
// request's does, took 9–27 % less time without them (docs/sizing.md).
// (database/sql's own watches stay: one goroutine per transaction, and
// one per query that returns rows.)
// Write transactions are short by design (they hold the one writer), so
// nothing is lost by letting a started statement finish, and a
// transaction whose request ends before its last statement still rolls
// back: that statement is refused. Read transactions, which may scan
// long, keep every watch, and so does PostgreSQL, where a statement may
// wait for another transaction's row lock.
func (db *DB) begin(ctx context.Context, h *sql.DB, readOnly, detached bool) (*sql.Tx, func(), error) {
	opts := &sql.TxOptions{ReadOnly: readOnly && db.engine == Postgres}
	if !detached {
		sqlTx, err := h.BeginTx(ctx, opts)
		return sqlTx, func() {}, err
	}
	conn, err := h.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	sqlTx, err := conn.BeginTx(context.WithoutCancel(ctx), opts)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	// Close waits for the transaction to end, then returns the
	// connection to the pool.
	return sqlTx, func() { conn.Close() }, nil
}

func (db *DB) retryable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "40001" || pgErr.Code == "40P01" // serialization_failure, deadlock_detected
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		return sqErr.Code() == sqlite3.SQLITE_BUSY
	}
	return false
}

// tx implements sls.Tx on one *sql.Tx, or, for Read, on the pool
// itself (each statement on its own).
type tx struct {
	tx       querier
	sqlTx    *sql.Tx // nil for Read
	engine   Engine
	db       *DB
	handle   *sql.DB // the pool tx came from
	readOnly bool
	counted  bool // counted in Counters
	audited  bool // queued audit entries (AppendAudit)
	detached bool // does not watch its context once begun (DB.begin)

	accounts  map[string]sls.Account // read by UserForUpdate, for Account
	loginRead loginDeadline          // the last login read or put, for PutLogin
}

var _ sls.Tx = (*tx)(nil)

// q rewrites ? placeholders for the engine.
func (t *tx) q(query string) string {
	if t.engine != Postgres {
		return query
	}
	if v, ok := pgQueries.Load(query); ok {
		return v.(string)
	}
	out := toDollar(query)
	if pgQueriesCached.Add(1) <= maxCachedStatements {
		pgQueries.Store(query, out)
	}
	return out
}

// pgQueries caches the PostgreSQL form of each query text (bounded: a
// few queries are built with a varying number of placeholders).
var (
	pgQueries       sync.Map
	pgQueriesCached atomic.Int64
)

// toDollar numbers ? placeholders as $1, $2, ….
func toDollar(query string) string {
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// forUpdate is appended to a SELECT that locks its rows on PostgreSQL;
// SQLite already serialises writers (BEGIN IMMEDIATE).
func (t *tx) forUpdate() string {
	if t.engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

func (t *tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.stmtContext(ctx)
	if st := t.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.q(query), args...)
}

// execOnce is exec for a query built for one use (a varying number of
// rows), which is not worth caching.
func (t *tx) execOnce(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.stmtContext(ctx)
	t.countStatement()
	if t.engine == Postgres {
		query = toDollar(query)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *tx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.stmtContext(ctx)
	if st := t.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, t.q(query), args...)
}

func (t *tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.stmtContext(ctx)
	if st := t.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.q(query), args...)
}

// stmtContext is the context a statement of t runs with: ctx itself, or
// in a detached transaction (DB.begin) ctx without its end, once ctx is
// checked: a statement of a request that has ended is refused before it
// starts, one that has started is not interrupted.
func (t *tx) stmtContext(ctx context.Context) context.Context {
	if !t.detached || ctx.Err() != nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// countStatement counts one statement sent, in Counters and the metric.
func (t *tx) countStatement() {
	if t.counted {
		t.db.counts.Statements.Add(1)
	}
	if t.db.statements != nil {
		mode := "write"
		if t.readOnly {
			mode = "read"
		}
		t.db.statements.WithLabelValues(mode).Inc()
	}
}

// maxCachedStatements bounds the statement cache; the store's queries
// are constants, so it only fills up if a caller builds query text.
const maxCachedStatements = 1000

// prepared counts one statement and returns the cached prepared form of
// query bound to this transaction (nil: run it unprepared — PostgreSQL,
// whose driver caches on its own, or a full cache).
func (t *tx) prepared(ctx context.Context, query string) *sql.Stmt {
	t.countStatement()
	if t.engine != SQLite {
		return nil
	}
	key := stmtKey{t.handle, query}
	v, ok := t.db.stmts.Load(key)
	if !ok {
		// Preparing needs a connection of the pool, and this transaction
		// may hold the only one (SQLite's writer): prepare in the
		// background, once the connection is free, and run this one
		// unprepared.
		if t.db.cached.Load() < maxCachedStatements {
			if _, loaded := t.db.stmts.LoadOrStore(key, preparing{}); !loaded {
				t.db.cached.Add(1)
				go func(h *sql.DB) {
					if st, err := h.PrepareContext(context.Background(), query); err == nil {
						t.db.stmts.Store(key, st)
					} // else: the marker stays, and the query always runs unprepared
				}(t.handle)
			}
		}
		return nil
	}
	st, ok := v.(*sql.Stmt)
	if !ok {
		return nil // still preparing, or could not be prepared
	}
	if t.sqlTx == nil {
		return st
	}
	return t.sqlTx.StmtContext(ctx, st)
}

// querier is what *sql.Tx and *sql.DB have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// preparing marks a statement being prepared for the cache.
type preparing struct{}

// stmtKey names a cached statement: its text on one pool.
type stmtKey struct {
	handle *sql.DB
	query  string
}

// isUnique reports whether err is a unique or primary-key violation.
func isUnique(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		c := sqErr.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// wrap turns driver errors into domain errors where they have a meaning.
func wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return sls.ErrNotFound
	case isUnique(err):
		return sls.ErrConflict.Wrap(fmt.Errorf("sqlstore: %s: %w", op, err))
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// mustAffect returns ErrNotFound when an UPDATE touched no row.
func mustAffect(op string, res sql.Result, err error) error {
	if err != nil {
		return wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return wrap(op, err)
	}
	if n == 0 {
		return sls.ErrNotFound
	}
	return nil
}

// ts converts a time to the stored form; the zero time is NULL.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

// nullTime scans a nullable microsecond timestamp.
type nullTime struct{ t *time.Time }

func (n nullTime) Scan(v any) error {
	var ni sql.NullInt64
	if err := ni.Scan(v); err != nil {
		return err
	}
	if ni.Valid {
		*n.t = time.UnixMicro(ni.Int64).UTC()
	} else {
		*n.t = time.Time{}
	}
	return nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// ExecRaw runs a statement as is. It exists for tests that prove the
// database refuses changes to the audit trail; the service never calls it.
func (t *tx) ExecRaw(ctx context.Context, query string) error {
	_, err := t.tx.ExecContext(ctx, query)
	return err
}

// ErrBackupEngine: online backup is for the embedded SQLite database;
// PostgreSQL is backed up with pg_dump (docs/operations.md).
var ErrBackupEngine = errors.New("sqlstore: online backup is for SQLite; back PostgreSQL up with pg_dump")

// Backup writes a consistent copy of the SQLite database to path (which
// must not exist) while the server keeps serving: VACUUM INTO reads one
// snapshot and writes a compact file (https://sqlite.org/lang_vacuum.html).
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.engine != SQLite {
		return ErrBackupEngine
	}
	if _, err := db.write.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	return nil
}
