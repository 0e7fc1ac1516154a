// Package delivery is statement delivery (SPEC §6, §7): the clients who
// receive reports by SFTP or FTP, their keys, passwords and allow-lists,
// the OpenPGP key their files are encrypted to, the folders statements
// are delivered into, the spool that feeds them, the retention purge, the
// audit trail of what the file servers report, and the operator API over
// all of it.
//
// The file servers themselves (sftpd, ftpd) know nothing of the store:
// they see clients through the small Directory interfaces this package
// implements and report events to its Auditor. The server package only
// wires them together, so that both protocols share one set of folders,
// allow-lists, quotas, purge and audit.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/dustin/go-humanize"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/ssh"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/sftpd"
	"github.com/secure-login-system/sls/statement"
)

// refusalAuditWindow: an address refused at the door is audited once per
// window, with the count of the refusals folded into the next entry, so
// that a port scan cannot flood the hash-chained trail.
const refusalAuditWindow = time.Minute

// Deps is what a Service needs from the program that runs it.
type Deps struct {
	Store sls.Store
	Clock sls.Clock
	Log   *slog.Logger
	// Registry receives the service's metrics; nil keeps them unexported.
	Registry prometheus.Registerer
	// Config is the sftp section with its paths resolved (Root, Spool).
	Config config.SFTP
	// FTP is how FTP passwords are checked and hashed.
	FTP FTPGuard
}

// Service is statement delivery on one node. Create it with New.
type Service struct {
	Store sls.Store
	Clock sls.Clock
	Log   *slog.Logger

	enabled   bool
	cfg       config.SFTP
	retention time.Duration
	events    *prometheus.CounterVec
	refusals  *refusalLimiter
	ftpGuard  FTPGuard
	// dummyHash is checked for unknown FTP usernames, so that they cost
	// what a real one costs.
	dummyHash string

	// servers describe the file servers running on this node, for the
	// operator's "server" view; set by the wiring before the node serves.
	servers []ServerInfo

	spoolMu      sync.Mutex
	lastSpoolErr string
	lastSpoolLog time.Time
}

// ServerInfo describes one file server of this node to operators.
type ServerInfo struct {
	// Protocol is "sftp" or "ftp".
	Protocol string
	// Listen is the address the server is bound to.
	Listen string
	// HostKey is the SFTP server's key; nil for FTP.
	HostKey ssh.Signer
	// Extra holds protocol-specific facts (FTP: tls, passive ports).
	Extra map[string]any
}

// New returns the delivery service. When the section is enabled it
// creates the folders; the metrics are registered in either case, so that
// dashboards see the same series on every node.
func New(d Deps) (*Service, error) {
	s := &Service{Store: d.Store, Clock: d.Clock, Log: d.Log, cfg: d.Config, ftpGuard: d.FTP}
	if s.ftpGuard.Argon == (passhash.Params{}) {
		s.ftpGuard.Argon = passhash.Default
	}
	s.dummyHash = passhash.Dummy(s.ftpGuard.Argon)
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	s.enabled = d.Config.Enabled != nil && *d.Config.Enabled
	s.retention = time.Duration(d.Config.RetentionDays) * 24 * time.Hour
	s.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "sls_sftp_events_total",
		Help: "Statement delivery events (SFTP and FTP) by event name.",
	}, []string{"event"})
	if d.Registry != nil {
		if err := d.Registry.Register(s.events); err != nil {
			return nil, fmt.Errorf("delivery: metrics: %w", err)
		}
	}
	s.refusals = &refusalLimiter{window: refusalAuditWindow, last: map[netip.Addr]*refusal{}}
	if !s.enabled {
		return s, nil
	}
	for _, dir := range []string{s.cfg.Root, s.cfg.Spool} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("delivery: %w", err)
		}
	}
	return s, nil
}

// Enabled reports whether statement delivery runs on this node.
func (s *Service) Enabled() bool { return s.enabled }

// Retention is how long a delivered file is kept.
func (s *Service) Retention() time.Duration { return s.retention }

// Root is the folder holding the clients' folders.
func (s *Service) Root() string { return s.cfg.Root }

// AddServer records a file server running on this node.
func (s *Service) AddServer(info ServerInfo) { s.servers = append(s.servers, info) }

// FTPDirectory is what the FTP server sees of the clients: the
// allow-lists at the door, and the password check.
func (s *Service) FTPDirectory() *FTPDirectory { return &FTPDirectory{s: s} }

// FTPDirectory admits FTP connections and logins.
type FTPDirectory struct{ s *Service }

// AddrAllowed reports whether addr is on any client's allow-list.
func (d *FTPDirectory) AddrAllowed(ctx context.Context, addr netip.Addr) (bool, error) {
	return d.s.Directory().AddrAllowed(ctx, addr)
}

// Authenticate is Service.AuthenticateFTP.
func (d *FTPDirectory) Authenticate(ctx context.Context, username, password string, addr netip.Addr) (*FTPAccess, error) {
	return d.s.AuthenticateFTP(ctx, username, password, addr)
}

// Directory is what sftpd sees of the clients.
func (s *Service) Directory() sftpd.Directory {
	return &storeDirectory{store: s.Store, defaultQuota: s.cfg.DefaultQuotaBytes, quotaEntries: s.cfg.QuotaFiles}
}

// SpoolLoop scans this node's spool directory. It is a loop on every node
// rather than a shared scheduler job because the spool may be a local
// directory of each node, which only that node can drain; when several
// nodes share it, a file two of them pick up at once is delivered twice
// to the same name, which leaves one copy.
func (s *Service) SpoolLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.SpoolInterval.D())
	defer t.Stop()
	for {
		s.scanSpool(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Service) scanSpool(ctx context.Context) {
	f := s
	n, err := statement.ScanSpool(f.cfg.Spool, func(username, name string, r io.Reader) error {
		_, err := s.Deliver(ctx, sls.ActorSystem, "spool", username, name, sls.DocStatement, r, -1)
		return err
	})
	if n > 0 {
		s.Log.Info("sftp: spool delivered", "files", n)
	}
	f.spoolMu.Lock()
	defer f.spoolMu.Unlock()
	if err == nil {
		f.lastSpoolErr = ""
		return
	}
	// A file that cannot be delivered stays and fails again at every scan;
	// say so when it changes and every ten minutes, not every few seconds.
	msg := err.Error()
	if msg != f.lastSpoolErr || time.Since(f.lastSpoolLog) > 10*time.Minute {
		s.Log.Warn("sftp: spool files left undelivered; they are retried at every scan", "err", msg)
		f.lastSpoolErr, f.lastSpoolLog = msg, time.Now()
	}
}

// PurgeStatements removes statements older than the retention period.
func (s *Service) PurgeStatements(ctx context.Context, now time.Time) error {
	f := s
	before := now.Add(-f.retention)
	n, err := sftpd.Purge(f.cfg.Root, before)
	// The documents' rows go with their files (by delivery time, which
	// is the files' modification time unless a client touched them).
	forgotten := 0
	if derr := s.Store.Update(ctx, func(tx sls.Tx) error {
		var err error
		forgotten, err = tx.DeleteDocumentsBefore(ctx, before)
		return err
	}); derr != nil {
		err = errors.Join(err, derr)
	}
	if n > 0 || forgotten > 0 {
		f.events.WithLabelValues(sls.EventStatementsPurged).Add(float64(n))
		aerr := s.Store.Update(ctx, func(tx sls.Tx) error {
			return sls.Audit(ctx, tx, now, sls.ActorSystem, sls.EventStatementsPurged, "", "",
				map[string]any{"files": n, "documents": forgotten, "older_than": before, "retention_days": int(f.retention / (24 * time.Hour))})
		})
		err = errors.Join(err, aerr)
	}
	return err
}

// Delivered is what a delivery reports.
type Delivered struct {
	Client    string           `json:"client"`
	File      string           `json:"file"`
	Type      sls.DocumentKind `json:"type"`
	Bytes     int64            `json:"bytes"`
	Encrypted bool             `json:"encrypted"`
	// Document is the id under which the client finds it (portal, API).
	Document string `json:"document,omitempty"`
}

// metricQuotaRefused counts the deliveries refused by a client's quota
// (sls_sftp_events_total), next to sftpd's sftp.quota_exceeded for
// uploads. A metric only: the spool retries a refused file at every scan,
// which would flood the audit trail.
const metricQuotaRefused = "statement.quota_exceeded"

// quotaOf is the quota in force for a client: its own, or the default.
func (f *Service) quotaOf(c *sls.SFTPClient) int64 {
	return effectiveQuota(c, f.cfg.DefaultQuotaBytes)
}

func effectiveQuota(c *sls.SFTPClient, def int64) int64 {
	if c.QuotaBytes > 0 {
		return c.QuotaBytes
	}
	return def
}

// errQuota refuses a delivery that does not fit in the client's folder.
// limit_exceeded is the closest stable code: a request over an applicable
// limit, which the operator can raise.
func errQuota(client string, quota, used, size int64) *sls.Error {
	msg := fmt.Sprintf("The statement does not fit in the storage quota of %s: %s allowed, %s used", client,
		humanize.IBytes(uint64(quota)), humanize.IBytes(uint64(max(used, 0))))
	if size >= 0 {
		msg += fmt.Sprintf(", %s more needed", humanize.IBytes(uint64(size)))
	}
	e := sls.Errorf(sls.CodeLimitExceeded, "%s. Nothing was delivered. Remove files from the folder or raise the quota (slsctl sftp quota).", msg)
	return e.WithDetail("reason", "sftp_quota").WithDetail("quota_bytes", quota).WithDetail("used_bytes", used)
}

// errNoClient says a statement names no registered SFTP client.
func errNoClient(username string) error {
	return sls.Errorf(sls.CodeNotFound, "There is no SFTP client %q.", username)
}

// Deliver puts one statement into a client's folder, encrypted
// to the client's OpenPGP key when one is registered, records it among
// the documents of the client's user (as kind), and audits it.
// size is the statement's length when known in advance, or -1.
//
// The client's quota bounds the file written: the room is the quota less
// the bytes in the folder now, plus the statement of the same name that
// this one replaces. Uploads in flight on this node count only for what
// they have written so far.
func (s *Service) Deliver(ctx context.Context, actor, source, username, name string, kind sls.DocumentKind, r io.Reader, size int64) (*Delivered, error) {
	f := s
	var c *sls.SFTPClient
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		c, err = tx.SFTPClient(ctx, username)
		return err
	})
	if errors.Is(err, sls.ErrNotFound) {
		return nil, errNoClient(username)
	}
	if err != nil {
		return nil, err
	}
	now := s.Clock.Now()
	var to *openpgp.Entity
	if c.PGPKey != "" {
		// Checked again at each delivery: a key valid at registration may
		// have expired since, and a statement must never go out in clear
		// instead.
		if to, err = statement.ParseRecipientAt([]byte(c.PGPKey), now); err != nil {
			return nil, sls.Errorf(sls.CodeConflict, "The client's OpenPGP key cannot be used: %s. Register a new one (slsctl sftp pgp set).",
				strings.TrimPrefix(err.Error(), "statement: ")).Wrap(err)
		}
	}
	quota := f.quotaOf(c)
	used, err := sftpd.FolderUsage(f.cfg.Root, c.Username)
	if err != nil {
		return nil, err
	}
	final := name
	if to != nil {
		final += statement.EncryptedSuffix
	}
	// The statement this one replaces, if any (-1: none) frees its room.
	// A name DeliverWithin will refuse is not looked up.
	var replaced int64 = -1
	if statement.ValidateName(name) == nil {
		if fi, err := os.Lstat(filepath.Join(f.cfg.Root, c.Username, final)); err == nil && fi.Mode().IsRegular() {
			replaced = fi.Size()
		}
	}
	if limit := f.cfg.QuotaFiles; replaced < 0 && used.Entries >= limit {
		f.events.WithLabelValues(metricQuotaRefused).Inc()
		e := sls.Errorf(sls.CodeLimitExceeded, "The statement does not fit in the folder of %s: it holds %d files and folders, the most allowed (sftp.quota_files). Nothing was delivered. Remove files from the folder or raise sftp.quota_files.",
			c.Username, used.Entries)
		return nil, e.WithDetail("reason", "sftp_quota_files").WithDetail("quota_files", limit).WithDetail("used_files", used.Entries)
	}
	room := quota - used.Bytes + max(replaced, 0)
	if room <= 0 || size > room {
		f.events.WithLabelValues(metricQuotaRefused).Inc()
		return nil, errQuota(c.Username, quota, used.Bytes, size)
	}
	cr := &countingReader{r: r}
	path, err := statement.DeliverWithin(f.cfg.Root, c.Username, name, cr, to, now, room)
	if err != nil {
		if errors.Is(err, statement.ErrNoRoom) {
			f.events.WithLabelValues(metricQuotaRefused).Inc()
			return nil, errQuota(c.Username, quota, used.Bytes, -1).Wrap(err)
		}
		if errors.Is(err, statement.ErrInvalidName) {
			return nil, sls.Errorf(sls.CodeInvalidArgument, "The statement name is refused: %s.",
				strings.TrimPrefix(err.Error(), "statement: ")).Wrap(err)
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, sls.Errorf(sls.CodeBodyTooLarge, "The statement is larger than %d bytes (sftp.max_statement_bytes).", tooBig.Limit)
		}
		return nil, err
	}
	out := &Delivered{Client: c.Username, File: filepath.Base(path), Type: kind, Bytes: cr.n, Encrypted: to != nil}
	f.events.WithLabelValues(sls.EventStatementDelivered).Inc()
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		doc := &sls.Document{ID: sls.NewID("doc"), UserID: c.UserID, Client: c.Username, File: out.File, Kind: kind,
			Bytes: out.Bytes, Encrypted: out.Encrypted, DeliveredAt: now}
		if err := tx.PutDocument(ctx, doc); err != nil {
			return err
		}
		out.Document = doc.ID
		d := map[string]any{"client": c.Username, "file": out.File, "type": kind, "bytes": out.Bytes, "encrypted": out.Encrypted, "source": source}
		if to != nil {
			d["pgp_fingerprint"] = c.PGPFingerprint
		}
		return sls.Audit(ctx, tx, now, actor, sls.EventStatementDelivered, c.UserID, "", d)
	})
	if err != nil {
		// The file is in place; the trail must not miss it silently.
		s.Log.ErrorContext(ctx, "sftp: statement delivered but not audited", "client", c.Username, "file", out.File, "err", err)
	}
	return out, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// storeDirectory is sftpd's view of the clients: it reads the store at
// every connection and login, so a change made through any node applies
// at once on every node.
type storeDirectory struct {
	store sls.Store
	// defaultQuota is sftp.default_quota_bytes, for the clients without
	// a quota of their own; quotaEntries is sftp.quota_files.
	defaultQuota int64
	quotaEntries int64
}

var _ sftpd.Directory = (*storeDirectory)(nil)

func (d *storeDirectory) AddrAllowed(ctx context.Context, addr netip.Addr) (ok bool, err error) {
	err = d.store.View(ctx, func(tx sls.Tx) error {
		ok, err = tx.SFTPAddrAllowed(ctx, addr)
		return err
	})
	return ok, err
}

// Client returns an enabled client's unrevoked keys and allow-list. A
// disabled client is unknown to the SSH server. A closed account keeps
// its client: after closure the client may still read its statements
// (SPEC §6), until an operator disables it.
func (d *storeDirectory) Client(ctx context.Context, username string) (*sftpd.Client, error) {
	var c *sls.SFTPClient
	var keys []*sls.SFTPKey
	var nets []netip.Prefix
	err := d.store.View(ctx, func(tx sls.Tx) error {
		var err error
		if c, err = tx.SFTPClient(ctx, username); err != nil {
			return err
		}
		if keys, err = tx.SFTPKeys(ctx, username, false); err != nil {
			return err
		}
		nets, err = tx.SFTPNetworks(ctx, username)
		return err
	})
	if errors.Is(err, sls.ErrNotFound) {
		return nil, fmt.Errorf("server: sftp client %q: %w", username, sftpd.ErrUnknownClient)
	}
	if err != nil {
		return nil, err
	}
	if !c.Enabled {
		return nil, fmt.Errorf("server: sftp client %q is disabled: %w", username, sftpd.ErrUnknownClient)
	}
	out := &sftpd.Client{Username: c.Username, Allowed: nets, QuotaBytes: effectiveQuota(c, d.defaultQuota), QuotaEntries: d.quotaEntries}
	for _, k := range keys {
		pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.AuthorizedKey))
		if err != nil {
			// Stored by us in canonical form; unreadable means damage.
			// Skipping it fails closed for that key only.
			continue
		}
		out.Keys = append(out.Keys, pk)
	}
	return out, nil
}

// Auditor writes the file servers' events to the audit trail, with the
// user the client belongs to when the username is a registered client.
// One Auditor serves every file server of a node.
//
// Events are queued and appended in batches by one goroutine: a client
// that downloads a thousand statements would otherwise wait for a thousand
// commits, each one a disk sync (0.7 ms each with SQLite on the test
// machine, against 0.14 ms per entry in one batch). The queue is bounded
// (when it is full the session waits) and drained before the node stops.
// Authentication events (refused addresses, failed and successful logins)
// wait until their batch is committed, so a crash cannot lose them; only
// transfer events may be lost in a crash, and only the milliseconds of
// them still queued.
type Auditor struct {
	s    *Service
	q    chan auditItem
	done chan struct{}
}

type auditItem struct {
	at     time.Time
	event  string
	user   string // SFTP username, if any
	detail map[string]any
	// written, when set, is closed once the batch holding the item is
	// committed (or given up on).
	written chan struct{}
}

// durable reports whether Audit waits for event to be committed: the
// events about who got in or was refused, never the transfers.
// Both servers name their events "<protocol>.<what>" with the same
// <what>s (sftp.download, ftp.download…).
func durable(event string) bool {
	switch eventKind(event) {
	case "download", "upload", "remove", "rename", "quota_exceeded":
		return false
	}
	return true
}

// eventKind is an event's name without its protocol.
func eventKind(event string) string {
	_, kind, _ := strings.Cut(event, ".")
	return kind
}

// Sizes of the audit queue and of one batch.
const (
	auditQueueLen = 4096
	auditBatchMax = 256
)

// NewAuditor returns an Auditor; Run it before the file servers start
// and Stop it after they have stopped.
func (s *Service) NewAuditor() *Auditor {
	return &Auditor{s: s, q: make(chan auditItem, auditQueueLen), done: make(chan struct{})}
}

var _ sftpd.Auditor = (*Auditor)(nil)

// Audit records one event; see the type's doc for when it waits.
func (a *Auditor) Audit(ctx context.Context, event string, attrs map[string]string) {
	s := a.s
	s.events.WithLabelValues(event).Inc()
	now := s.Clock.Now()
	detail := make(map[string]any, len(attrs)+1)
	for k, v := range attrs {
		detail[k] = v
	}
	if eventKind(event) == eventKind(sftpd.EventAddrRefused) {
		addr, _ := netip.ParseAddr(attrs["addr"])
		audit, folded := s.refusals.admit(addr, now)
		if !audit {
			return
		}
		if folded > 0 {
			detail["refused_since_last_entry"] = folded
		}
	}
	it := auditItem{at: now, event: event, user: attrs["user"], detail: detail}
	if durable(event) {
		it.written = make(chan struct{})
	}
	a.q <- it
	if it.written != nil {
		<-it.written
	}
}

// Run appends queued events until stop.
func (a *Auditor) Run() {
	defer close(a.done)
	for it := range a.q {
		batch := []auditItem{it}
	fill:
		for len(batch) < auditBatchMax {
			select {
			case it, ok := <-a.q:
				if !ok {
					break fill
				}
				batch = append(batch, it)
			default:
				break fill
			}
		}
		a.write(batch)
	}
}

// Stop drains the queue. No Audit call may come after it: the SFTP
// server must have stopped.
func (a *Auditor) Stop() {
	close(a.q)
	<-a.done
}

func (a *Auditor) write(batch []auditItem) {
	defer func() {
		for _, it := range batch {
			if it.written != nil {
				close(it.written)
			}
		}
	}()
	ctx := context.Background() // written even while the node stops
	s := a.s
	var err error
	for attempt := range 2 {
		if attempt > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		err = s.Store.Update(ctx, func(tx sls.Tx) error {
			users := map[string]string{}
			for _, it := range batch {
				userID, seen := users[it.user]
				if !seen && it.user != "" {
					c, err := tx.SFTPClient(ctx, it.user)
					switch {
					case err == nil:
						userID = c.UserID
					case !errors.Is(err, sls.ErrNotFound):
						return err
					}
					users[it.user] = userID
				}
				if err := sls.Audit(ctx, tx, it.at, sls.ActorSystem, it.event, userID, "", it.detail); err != nil {
					return err
				}
			}
			return nil
		})
		if err == nil {
			return
		}
	}
	events := make([]string, len(batch))
	for i, it := range batch {
		events[i] = it.event
	}
	s.Log.Error("sftp: audit entries not written", "events", events, "err", err)
}

// refusalLimiter lets one audit entry per address and window through.
type refusalLimiter struct {
	window time.Duration
	mu     sync.Mutex
	last   map[netip.Addr]*refusal
}

type refusal struct {
	at     time.Time
	folded int
}

// maxRefusalAddrs bounds the limiter's memory under a scan from many
// addresses; past it, old entries are dropped (and audited again).
const maxRefusalAddrs = 10000

func (l *refusalLimiter) admit(addr netip.Addr, now time.Time) (audit bool, folded int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.last[addr]
	if r != nil && now.Sub(r.at) < l.window && !now.Before(r.at) {
		r.folded++
		return false, 0
	}
	if r != nil {
		folded = r.folded
	}
	if len(l.last) >= maxRefusalAddrs {
		for a, e := range l.last {
			if now.Sub(e.at) >= l.window || now.Before(e.at) {
				delete(l.last, a)
			}
		}
		if len(l.last) >= maxRefusalAddrs {
			clear(l.last)
		}
	}
	l.last[addr] = &refusal{at: now}
	return true, folded
}
