// Package ftpd delivers statements over FTP with explicit TLS (FTPS), the
// counterpart of package sftpd for the clients that chose FTP (SPEC §7,
// "How to Access Your Reports Using FTP"): username and password, passive
// mode, read and write access to the client's own folder Root/<username>,
// which the 100-day purge (sftpd.Purge) keeps trimmed.
//
// The FTP protocol itself is github.com/fclairamb/ftpserverlib: FTP has
// decades of client quirks (EPSV, REST, MLSD, ASCII mode, TLS
// on data channels) that a maintained library gets right and a
// hand-written one would learn the hard way. This package supplies what
// the library leaves to its driver: who may connect and log in, what a
// client sees of the disk, quotas, limits and the audit trail.
//
// Security choices:
//   - TLS is required by default (Config.RequireTLS): the client sends
//     "AUTH TLS" (RFC 4217) before its password, and once the control
//     channel is protected its data channels must be too ("PROT P"), or
//     transfers are refused. Plain FTP would send the password and the
//     statements in the clear; it is accepted only for a client the
//     directory marks PlainAllowed, which the operators grant only when
//     every file delivered to it is PGP-encrypted (SPEC §7).
//   - Only passive mode is served, within Config.PassivePorts. Active mode
//     (PORT, EPRT) is disabled: it has the server open a connection to any
//     address and port the client names, the "FTP bounce" attack of RFC
//     2577 §3. Passive data connections must come from the control
//     connection's address (RFC 2577 §5, against connection theft).
//     ftpserverlib cannot require the data channel's TLS session to resume
//     the control channel's (as vsftpd's require_ssl_reuse does), so the
//     address check is the defence there.
//   - An address on no allow-list is closed on accept, before the greeting,
//     as sftpd does; every login failure (unknown user, wrong password,
//     locked account, address not on that client's list) gets the same
//     "530 Login incorrect." so that a prober learns nothing. A client that
//     may not use plain FTP learns that TLS is required only after its
//     password was checked, so that reply does not reveal which usernames
//     exist either. Such a client has by then sent its password in the
//     clear: FTP gives the server no way to refuse USER/PASS without TLS
//     for some accounts only, before knowing the account. Client
//     instructions must say "Require explicit FTP over TLS".
//   - A client's folder is its "/", and every file access goes through an
//     os.Root opened on it, so "..", absolute paths and symbolic links
//     cannot reach outside (see fs.go). SITE commands (CHMOD, CHOWN,
//     SYMLINK), MFMT and setting times are refused: modes and owners are
//     the server's, and a client must not move its files out of the
//     retention window.
//   - Uploads are bounded by the client's quotas (see quota.go), refused
//     with "552 exceeded storage allocation" (RFC 959).
//
// The server reads its clients through the small Directory interface and
// reports security events through Auditor; the program that wires it
// decides where those live. Passwords are neither logged nor audited.
package ftpd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
)

// ErrAuthFailed is what Directory.Authenticate wraps for any refused login.
var ErrAuthFailed = errors.New("ftpd: authentication failed")

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or
// Close, or once their context is cancelled.
var ErrServerClosed = errors.New("ftpd: server closed")

// Client is one FTP delivery account as registered by an operator.
type Client struct {
	Username string
	// Allowed are the addresses the client connects from. An empty list
	// admits nobody: the allow-list is not optional (SPEC §7).
	Allowed []netip.Prefix
	// QuotaBytes bounds the bytes in the client's folder and QuotaEntries
	// the files and folders in it (counted as sftpd.FolderUsage does); 0
	// sets no bound. They are read at login.
	QuotaBytes   int64
	QuotaEntries int64
	// PlainAllowed lets the client log in without TLS. Operators enable it
	// only when every file delivered to the client is PGP-encrypted; the
	// directory decides.
	PlainAllowed bool
}

// Directory is where the server looks clients up. Implementations must be
// safe for concurrent use.
type Directory interface {
	// AddrAllowed reports whether addr is on any client's allow-list. It is
	// asked on accept, before the greeting; an error refuses the
	// connection (fail closed).
	AddrAllowed(ctx context.Context, addr netip.Addr) (bool, error)
	// Authenticate checks a password (hashing, lock-out and rate limits
	// are the directory's job) and returns the client, or an error
	// wrapping ErrAuthFailed for any reason the login is refused: unknown
	// user, wrong password, locked, rate-limited, address not on this
	// client's list. Its text goes to the audit trail as the reason and
	// must not hold the password. Any other error refuses the login too,
	// and so does a client whose Username is not exactly username (the
	// folder is named after it).
	Authenticate(ctx context.Context, username, password string, addr netip.Addr) (*Client, error)
}

// Auditor records security events. attrs never hold passwords.
type Auditor interface {
	Audit(ctx context.Context, event string, attrs map[string]string)
}

// Audit event names.
const (
	EventAddrRefused = "ftp.addr_refused" // attrs: addr, reason
	EventAuthFailed  = "ftp.auth_failed"  // attrs: addr, user, reason
	EventLogin       = "ftp.login"        // attrs: addr, user, tls (yes/no)
	EventLogout      = "ftp.logout"       // attrs: addr, user, duration
	EventDownload    = "ftp.download"     // attrs: addr, user, file, size, bytes, result
	EventUpload      = "ftp.upload"       // attrs: addr, user, file, size, bytes, result
	EventRemove      = "ftp.remove"       // attrs: addr, user, file
	EventRename      = "ftp.rename"       // attrs: addr, user, file, target
	// EventQuotaExceeded: an upload or folder refused by the client's
	// quota; attrs: addr, user, file, quota, used, bytes (written before
	// the refusal).
	EventQuotaExceeded = "ftp.quota_exceeded"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxConns = 64
	// DefaultIdleTimeout closes a control connection that sent nothing for
	// this long (a transfer in progress keeps it open).
	DefaultIdleTimeout = 15 * time.Minute
	// DefaultLoginGraceTime bounds the time from accept to a successful
	// login, AUTH TLS included.
	DefaultLoginGraceTime = 60 * time.Second
	// DefaultLookupTimeout bounds one Directory call.
	DefaultLookupTimeout = 10 * time.Second
	// dataConnTimeout bounds the wait for a client to open a passive data
	// connection.
	dataConnTimeout = 30 * time.Second
)

// Config configures a Server. Root and Directory are required.
type Config struct {
	// Addr is the TCP address ListenAndServe listens on, e.g. ":21".
	Addr string
	// Root is the base folder; a client's folder is Root/<username>,
	// created with mode 0700 on its first login. It may be the same as
	// sftpd's, so that a client finds the same files either way.
	Root      string
	Directory Directory
	// Auditor receives the security events; nil records them only in the
	// log.
	Auditor Auditor
	// Logger defaults to a logger that discards.
	Logger *slog.Logger
	// Clock defaults to time.Now; it stamps session durations.
	Clock func() time.Time
	// TLS enables explicit FTPS (AUTH TLS). nil offers no TLS: then only
	// PlainAllowed clients can log in (when RequireTLS is set).
	TLS *tls.Config
	// RequireTLS refuses a login over a clear control connection unless
	// the client is PlainAllowed. The wiring sets it (true) by default;
	// false lets every client log in without TLS, for tests and closed
	// networks only.
	RequireTLS bool
	// PassivePorts is the inclusive range of passive data ports, e.g.
	// {50000, 50100}, which the firewall must let through; {0, 0} takes
	// any free port.
	PassivePorts [2]int
	// PublicHost is the IPv4 address announced in PASV replies when the
	// server is behind NAT; empty announces the control connection's
	// local address.
	PublicHost string
	// MaxConns caps simultaneous control connections (DefaultMaxConns if
	// 0); the ones over it get "421" and are closed.
	MaxConns int
	// IdleTimeout closes a control connection that sent nothing for that
	// long (DefaultIdleTimeout if 0); FTP counts it in whole seconds.
	IdleTimeout time.Duration
	// LoginGraceTime bounds the time from accept to a successful login
	// (DefaultLoginGraceTime if 0).
	LoginGraceTime time.Duration
	// Transferred, when set, is told of every file transfer when it is
	// closed: "upload" or "download", the bytes moved and the time from
	// open to close (metrics).
	Transferred func(direction string, bytes int64, took time.Duration)
}

// Server is an FTP/FTPS server. Create it with New.
type Server struct {
	cfg Config
	log *slog.Logger
	now func() time.Time
	tls *tls.Config // cfg.TLS with a floor on the version; nil for none

	mu       sync.Mutex
	ln       net.Listener
	lib      *ftpserver.FtpServer
	libDone  chan struct{} // closed when the library's Serve returns
	handoff  *handoffListener
	rootDir  *os.Root
	conns    map[*trackedConn]struct{}
	sessions map[string]*session // by remote address, until ClientConnected
	closed   bool
	shutdown chan struct{} // closed by Shutdown/Close
	active   sync.WaitGroup
	nconns   atomic.Int64
	quotas   quotaBook
}

// New checks cfg and returns a server that is not yet listening.
func New(cfg Config) (*Server, error) {
	if cfg.Root == "" {
		return nil, errors.New("ftpd: config: no root folder")
	}
	if cfg.Directory == nil {
		return nil, errors.New("ftpd: config: no directory")
	}
	lo, hi := cfg.PassivePorts[0], cfg.PassivePorts[1]
	if (lo != 0 || hi != 0) && (lo < 1 || hi > 65535 || lo > hi) {
		return nil, fmt.Errorf("ftpd: config: bad passive port range %d-%d", lo, hi)
	}
	if cfg.PublicHost != "" {
		if a, err := netip.ParseAddr(cfg.PublicHost); err != nil || !a.Is4() {
			// The library announces PASV replies in the IPv4-only format of
			// RFC 959; EPSV replies carry no address at all.
			return nil, fmt.Errorf("ftpd: config: public host %q is not an IPv4 address", cfg.PublicHost)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.LoginGraceTime <= 0 {
		cfg.LoginGraceTime = DefaultLoginGraceTime
	}
	var tc *tls.Config
	if cfg.TLS != nil {
		tc = cfg.TLS.Clone()
		// TLS 1.0 and 1.1 are deprecated (RFC 8996).
		if tc.MinVersion < tls.VersionTLS12 {
			tc.MinVersion = tls.VersionTLS12
		}
	}
	return &Server{
		cfg:      cfg,
		tls:      tc,
		log:      cfg.Logger,
		now:      cfg.Clock,
		conns:    make(map[*trackedConn]struct{}),
		sessions: make(map[string]*session),
		shutdown: make(chan struct{}),
		libDone:  make(chan struct{}),
	}, nil
}

// ListenAndServe listens on Config.Addr and serves until ctx is cancelled
// or the server is shut down.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("ftpd: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// Addr returns the address the server listens on, or nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Serve accepts connections on ln until ctx is cancelled or Shutdown or
// Close is called, and then returns ErrServerClosed. Cancelling ctx stops
// the server at once, like Close; call Shutdown for a graceful stop. ln is
// closed on return.
//
// Connections are accepted here rather than by the library so that the
// allow-list and the connection limit are applied before the library
// writes its greeting; the admitted ones are handed to it through an
// in-memory listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := os.MkdirAll(s.cfg.Root, 0o700); err != nil {
		ln.Close()
		return fmt.Errorf("ftpd: root folder: %w", err)
	}
	rootDir, err := os.OpenRoot(s.cfg.Root)
	if err != nil {
		ln.Close()
		return fmt.Errorf("ftpd: root folder: %w", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		rootDir.Close()
		return ErrServerClosed
	}
	if s.ln != nil {
		s.mu.Unlock()
		ln.Close()
		rootDir.Close()
		return errors.New("ftpd: serve: already serving")
	}
	s.ln = ln
	s.rootDir = rootDir
	s.handoff = newHandoffListener(ln.Addr())
	s.lib = ftpserver.NewFtpServer(&driver{s: s})
	// The library logs little, and never a command's argument unless
	// debugging is turned on for a connection (it never is here); keep
	// only its errors.
	s.lib.Logger = slog.New(minLevel{s.log.Handler(), slog.LevelError}).With("component", "ftpserverlib")
	if err := s.lib.Listen(); err != nil {
		s.ln, s.lib, s.handoff, s.rootDir = nil, nil, nil, nil
		s.mu.Unlock()
		ln.Close()
		rootDir.Close()
		return fmt.Errorf("ftpd: %w", err)
	}
	lib := s.lib
	s.mu.Unlock()

	go func() {
		defer close(s.libDone)
		if err := lib.Serve(); err != nil {
			s.log.Error("ftpd: ftp server", "err", err)
		}
	}()

	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()

	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.shutdown:
				return ErrServerClosed
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Back off on resource exhaustion as net/http does, rather
				// than spin or stop serving.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.log.Warn("ftpd: accept", "err", err, "retry_in", delay)
				time.Sleep(delay)
				continue
			}
			s.Close()
			return fmt.Errorf("ftpd: accept: %w", err)
		}
		delay = 0
		tc := s.track(nc)
		if tc == nil {
			nc.Close()
			continue
		}
		go s.admit(ctx, tc)
	}
}

// track registers nc, or returns nil when the server is closing. The
// connection counts as active until it is closed and its last transfer
// has ended (see session.release).
func (s *Server) track(nc net.Conn) *trackedConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	tc := &trackedConn{Conn: nc}
	tc.sess = &session{s: s, conn: tc, refs: 1}
	s.conns[tc] = struct{}{}
	s.active.Add(1)
	s.nconns.Add(1)
	return tc
}

func (s *Server) untrack(tc *trackedConn) {
	s.mu.Lock()
	delete(s.conns, tc)
	s.mu.Unlock()
	s.nconns.Add(-1)
	s.active.Done()
}

// admit applies the connection limit and the allow-list, then hands the
// connection to the library, which greets it.
func (s *Server) admit(ctx context.Context, tc *trackedConn) {
	// Audit records must be written even while the server stops.
	ctx = context.WithoutCancel(ctx)
	addr, ok := remoteAddr(tc.RemoteAddr())
	if !ok {
		s.log.Warn("ftpd: unparsable peer address", "addr", tc.RemoteAddr().String())
		tc.Close()
		return
	}
	as := addr.String()
	if n := s.nconns.Load(); n > int64(s.cfg.MaxConns) {
		s.log.Warn("ftpd: connection limit reached", "addr", as, "max", s.cfg.MaxConns)
		// RFC 959 §4.2: 421 is the reply of a server that must close the
		// control connection; clients show it and may retry later.
		tc.SetWriteDeadline(time.Now().Add(time.Second))
		tc.Write([]byte("421 Too many connections, try again later.\r\n"))
		tc.Close()
		return
	}
	lctx, cancel := context.WithTimeout(ctx, DefaultLookupTimeout)
	allowed, err := s.cfg.Directory.AddrAllowed(lctx, addr)
	cancel()
	if err != nil {
		s.log.Error("ftpd: allow-list lookup", "addr", as, "err", err)
		s.audit(ctx, EventAddrRefused, map[string]string{"addr": as, "reason": "lookup failed"})
		tc.Close()
		return
	}
	if !allowed {
		// Closed before the greeting, as sftpd does: the client sees the
		// connection closed, which the article tells it to read as "my
		// address is not registered".
		s.audit(ctx, EventAddrRefused, map[string]string{"addr": as, "reason": "not on allow-list"})
		tc.Close()
		return
	}
	sess := tc.sess
	sess.addr, sess.addrStr, sess.ctx = addr, as, ctx
	// The login grace deadline caps every deadline the library sets until
	// the client has logged in (see trackedConn.SetDeadline).
	tc.graceUntil.Store(time.Now().Add(s.cfg.LoginGraceTime).UnixNano())
	tc.Conn.SetDeadline(time.Now().Add(s.cfg.LoginGraceTime))

	key := tc.RemoteAddr().String()
	s.mu.Lock()
	s.sessions[key] = sess
	s.mu.Unlock()
	if !s.handoff.give(tc, s.shutdown) {
		s.mu.Lock()
		delete(s.sessions, key)
		s.mu.Unlock()
		tc.Close()
	}
}

// takeSession returns the session admit registered for the library's
// client, matched by its remote address (unique among live connections).
func (s *Server) takeSession(cc ftpserver.ClientContext) *session {
	key := cc.RemoteAddr().String()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.sessions[key]
	delete(s.sessions, key)
	return sess
}

// Shutdown stops accepting connections and waits for the open sessions to
// end. When ctx ends first, it closes them, which cuts the transfers in
// progress (an upload cut so is audited as "interrupted"), and returns
// ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	done := make(chan struct{})
	go func() {
		s.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.finish()
		return nil
	case <-ctx.Done():
		s.closeConns()
		<-done
		s.finish()
		return ctx.Err()
	}
}

// Close stops the server at once, closing every connection.
func (s *Server) Close() error {
	s.stopAccepting()
	s.closeConns()
	s.active.Wait()
	s.finish()
	return nil
}

func (s *Server) stopAccepting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	close(s.shutdown)
	if s.ln != nil {
		s.ln.Close()
	}
	if s.lib != nil {
		// Closes the hand-off listener, so the library's Serve returns, and
		// any shared passive listener.
		s.lib.Stop()
	}
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Conn.Close()
	}
}

// finish waits for the library's accept loop and closes the root folder.
func (s *Server) finish() {
	s.mu.Lock()
	started := s.lib != nil
	s.mu.Unlock()
	if started {
		<-s.libDone
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rootDir != nil {
		s.rootDir.Close()
		s.rootDir = nil
	}
}

func (s *Server) root() *os.Root {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rootDir
}

func (s *Server) audit(ctx context.Context, event string, attrs map[string]string) {
	args := make([]any, 0, 2*len(attrs)+2)
	args = append(args, "event", event)
	for k, v := range attrs {
		args = append(args, k, v)
	}
	s.log.Info("ftpd: audit", args...)
	if s.cfg.Auditor != nil {
		s.cfg.Auditor.Audit(ctx, event, attrs)
	}
}

// openClientFolder creates Root/<user> on first login and opens it as an
// os.Root, which keeps every later access inside it.
func (s *Server) openClientFolder(user string) (*os.Root, error) {
	if err := validUsername(user); err != nil {
		return nil, err
	}
	rd := s.root()
	if rd == nil {
		return nil, ErrServerClosed
	}
	if err := rd.Mkdir(user, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("ftpd: mkdir: %w", err)
	}
	r, err := rd.OpenRoot(user)
	if err != nil {
		return nil, fmt.Errorf("ftpd: open client folder: %w", err)
	}
	fi, err := r.Stat(".")
	if err != nil || !fi.IsDir() {
		r.Close()
		return nil, fmt.Errorf("ftpd: client folder %s is not a directory", filepath.Join(s.cfg.Root, user))
	}
	return r, nil
}

// remoteAddr returns the peer's IP with IPv4-mapped IPv6 addresses unmapped,
// so that an IPv4 allow-list entry matches a dual-stack listener's peer.
func remoteAddr(a net.Addr) (netip.Addr, bool) {
	if ta, ok := a.(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		return ap.Addr().Unmap(), ap.Addr().IsValid()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}

func addrListed(allowed []netip.Prefix, addr netip.Addr) bool {
	for _, p := range allowed {
		if p.IsValid() && p.Contains(addr) {
			return true
		}
	}
	return false
}

// validUsername keeps usernames usable as one path component, with the
// rules of sftpd: 1 to 64 characters from [A-Za-z0-9._-], not starting
// with "." or "-".
func validUsername(u string) error {
	if len(u) == 0 || len(u) > 64 {
		return errors.New("ftpd: username must have 1 to 64 characters")
	}
	if u[0] == '.' || u[0] == '-' {
		return errors.New("ftpd: username must not start with '.' or '-'")
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("ftpd: username has a forbidden character %q", c)
		}
	}
	return nil
}

// trackedConn is a control connection as the server tracks it.
type trackedConn struct {
	net.Conn
	sess *session
	// graceUntil (Unix nanoseconds) caps the deadlines the library sets
	// until login; 0 once logged in.
	graceUntil atomic.Int64
	closeOnce  sync.Once
}

// Close closes the connection; the session ends when its last transfer
// has ended too.
func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(c.sess.release)
	return err
}

// SetDeadline is how the library applies its idle timeout before each
// command; before login the grace deadline caps it, so that a client
// cannot stay unauthenticated by sending NOOPs.
func (c *trackedConn) SetDeadline(t time.Time) error {
	return c.Conn.SetDeadline(c.capped(t))
}

func (c *trackedConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.capped(t))
}

func (c *trackedConn) capped(t time.Time) time.Time {
	if g := c.graceUntil.Load(); g != 0 {
		if gt := time.Unix(0, g); t.IsZero() || t.After(gt) {
			return gt
		}
	}
	return t
}

// handoffListener is the listener the library accepts from: the
// connections admit let through.
type handoffListener struct {
	addr   net.Addr
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

func newHandoffListener(addr net.Addr) *handoffListener {
	return &handoffListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// give hands c over, or returns false when the listener or the server
// closes first.
func (l *handoffListener) give(c net.Conn, shutdown <-chan struct{}) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	case <-shutdown:
		return false
	}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		// The library recognises this error as its listener being closed.
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
}

func (l *handoffListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// minLevel drops the records below level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
