// Package sftpd delivers statements over SFTP (SPEC §7): an SSH server that
// accepts public-key authentication only, admits connections only from
// allow-listed addresses, and confines each client to its own folder
// Root/<username>, where it may list, download, upload, rename, remove and
// create folders.
//
// The failures a client can meet are kept apart on purpose, because the
// knowledge-base article tells clients to diagnose them from what their tool
// shows:
//   - an address on no allow-list is closed on accept, before the SSH
//     version exchange, so the client sees the connection closed or reset;
//   - an unknown user, a key that is not registered or an address that is not
//     on that user's allow-list is refused at public-key authentication, so
//     OpenSSH prints "Permission denied (publickey)" and PuTTY "Server
//     refused our key".
//
// Each folder may have a storage quota (Client.QuotaBytes), counted over
// everything in it and enforced as uploads are written (see FolderUsage and
// QuotaError).
//
// The server reads its clients through the small Directory interface and
// reports security events through Auditor; the program that wires it decides
// where those live.
package sftpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"
)

// ErrUnknownClient is returned by Directory.Client when no SFTP client has
// that username.
var ErrUnknownClient = errors.New("sftpd: unknown client")

// ErrServerClosed is returned by Serve and ListenAndServe after Shutdown or
// Close, or once their context is cancelled.
var ErrServerClosed = errors.New("sftpd: server closed")

// Client is one SFTP delivery account as registered by an operator.
type Client struct {
	Username string
	// Keys are the public keys the client sent; any one of them logs in.
	Keys []ssh.PublicKey
	// Allowed are the addresses the client connects from. An empty list
	// admits nobody: the allow-list is not optional (SPEC §7).
	Allowed []netip.Prefix
	// QuotaBytes bounds the bytes in the client's folder and QuotaEntries
	// the files and folders in it (see FolderUsage); 0 sets no bound. They
	// are read at login: a change applies from the client's next
	// connection.
	QuotaBytes   int64
	QuotaEntries int64
}

// Directory is where the server looks clients up. Implementations must be
// safe for concurrent use.
type Directory interface {
	// AddrAllowed reports whether addr is on any client's allow-list. It is
	// asked on accept, before the SSH handshake; an error refuses the
	// connection (fail closed).
	AddrAllowed(ctx context.Context, addr netip.Addr) (bool, error)
	// Client returns the client with that username, or an error wrapping
	// ErrUnknownClient. Any other error refuses the login.
	Client(ctx context.Context, username string) (*Client, error)
}

// Auditor records security events. attrs never hold secrets: keys appear
// only as fingerprints.
type Auditor interface {
	Audit(ctx context.Context, event string, attrs map[string]string)
}

// Audit event names.
const (
	EventAddrRefused = "sftp.addr_refused" // attrs: addr, reason
	EventAuthFailed  = "sftp.auth_failed"  // attrs: addr, user, fingerprint, key_type, reason
	EventLogin       = "sftp.login"        // attrs: addr, user, fingerprint, key_type
	EventLogout      = "sftp.logout"       // attrs: addr, user, duration
	EventDownload    = "sftp.download"     // attrs: addr, user, file, size, bytes
	EventUpload      = "sftp.upload"       // attrs: addr, user, file, size, bytes, result
	EventRemove      = "sftp.remove"       // attrs: addr, user, file
	EventRename      = "sftp.rename"       // attrs: addr, user, file, target
	// EventQuotaExceeded: an upload refused by the client's quota, once
	// per upload; attrs: addr, user, file, quota, used, bytes (written
	// before the refusal).
	EventQuotaExceeded = "sftp.quota_exceeded"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxConns = 64
	// DefaultIdleTimeout closes a connection that sent nothing for this long.
	DefaultIdleTimeout = 15 * time.Minute
	// DefaultLoginGraceTime bounds the handshake and authentication, like
	// OpenSSH's LoginGraceTime (whose default is 120 s; a machine client
	// needs far less).
	DefaultLoginGraceTime = 60 * time.Second
	// DefaultLookupTimeout bounds one Directory call.
	DefaultLookupTimeout = 10 * time.Second
)

// DefaultCiphers are the ciphers the server offers unless Config.Ciphers
// says otherwise: AES-GCM and AES-CTR, without chacha20-poly1305@openssh.com.
//
// In SSH the client's order decides (RFC 4253 §7.1: the first cipher on
// the client's list that the server also offers), so the server steers a
// client only by what it offers. OpenSSH clients list
// chacha20-poly1305@openssh.com first, then aes128-ctr; this package's
// ChaCha20 has no assembly on amd64 and costs several times what hardware
// AES does (see docs/sftp.md, Throughput), while OpenSSH's own server uses
// OpenSSL's. Without ChaCha20 on offer, a default OpenSSH client
// negotiates aes128-ctr with hmac-sha2-256-etm@openssh.com, and every SSH
// client can: RFC 4344 §4 recommends aes128-ctr to every implementation,
// and it is what clients without AES-GCM (Paramiko, older JSch and PuTTY
// releases) use. Both are
// NIST-approved (SP 800-38A, SP 800-38D, FIPS 198-1), which ChaCha20 is
// not. Operators who prefer ChaCha20 put it back through Config.Ciphers.
var DefaultCiphers = []string{
	ssh.CipherAES128GCM, ssh.CipherAES256GCM,
	ssh.CipherAES128CTR, ssh.CipherAES192CTR, ssh.CipherAES256CTR,
}

// CheckCiphers returns an error naming the first cipher of list that the
// server does not implement or that has known weaknesses (CBC, RC4,
// 3DES), and an error for an empty list. Its messages carry no prefix, for
// the caller to say which setting it checked.
func CheckCiphers(list []string) error {
	if len(list) == 0 {
		return errors.New("no cipher")
	}
	supported := ssh.SupportedAlgorithms().Ciphers
	for _, c := range list {
		if !slices.Contains(supported, c) {
			return fmt.Errorf("cipher %q is not supported (supported: %s)", c, strings.Join(supported, ", "))
		}
	}
	return nil
}

// Config configures a Server. HostKey, Root and Directory are required.
type Config struct {
	// Addr is the TCP address ListenAndServe listens on, e.g. ":32" as in
	// the seed articles, or "127.0.0.1:0".
	Addr string
	// HostKey identifies the server; see LoadOrCreateHostKey.
	HostKey ssh.Signer
	// Root is the base folder; a client's folder is Root/<username>,
	// created with mode 0700 on its first login.
	Root      string
	Directory Directory
	// Auditor receives the security events; nil records them only in the
	// log.
	Auditor Auditor
	// Logger defaults to a logger that discards.
	Logger *slog.Logger
	// Clock defaults to time.Now. It stamps session durations and bounds
	// the modification times a client may set, so that a client cannot move
	// its files out of the retention window.
	Clock func() time.Time
	// MaxConns caps simultaneous connections (DefaultMaxConns if 0); the
	// ones over it are closed on accept.
	MaxConns int
	// IdleTimeout closes a connection that sent nothing for that long
	// (DefaultIdleTimeout if 0).
	IdleTimeout time.Duration
	// LoginGraceTime bounds the time from accept to successful
	// authentication (DefaultLoginGraceTime if 0).
	LoginGraceTime time.Duration
	// Transferred, when set, is told of every file transfer when it is
	// closed: "upload" or "download", the bytes moved and the time from
	// open to close (metrics).
	Transferred func(direction string, bytes int64, took time.Duration)
	// Ciphers are the SSH ciphers offered, from those CheckCiphers
	// accepts (DefaultCiphers if empty). The client's order decides among
	// them.
	Ciphers []string
}

// Server is an SFTP server. Create it with New.
type Server struct {
	cfg    Config
	sshCfg *ssh.ServerConfig
	log    *slog.Logger
	now    func() time.Time

	mu       sync.Mutex
	ln       net.Listener
	rootDir  *os.Root
	conns    map[net.Conn]struct{}
	closed   bool
	shutdown chan struct{} // closed by Shutdown/Close
	active   sync.WaitGroup
	nconns   atomic.Int64
	quotas   quotaBook
}

// New checks cfg and returns a server that is not yet listening.
func New(cfg Config) (*Server, error) {
	if cfg.HostKey == nil {
		return nil, errors.New("sftpd: config: no host key")
	}
	if cfg.Root == "" {
		return nil, errors.New("sftpd: config: no root folder")
	}
	if cfg.Directory == nil {
		return nil, errors.New("sftpd: config: no directory")
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
	if len(cfg.Ciphers) == 0 {
		cfg.Ciphers = DefaultCiphers
	}
	if err := CheckCiphers(cfg.Ciphers); err != nil {
		return nil, fmt.Errorf("sftpd: config: ciphers: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		now:      cfg.Clock,
		conns:    make(map[net.Conn]struct{}),
		shutdown: make(chan struct{}),
	}
	s.sshCfg = &ssh.ServerConfig{
		// Public key only: no PasswordCallback, no
		// KeyboardInteractiveCallback, so "publickey" is the only method
		// the server advertises (RFC 4252 §5.1).
		PublicKeyCallback: s.checkKey,
		ServerVersion:     "SSH-2.0-SLS_sftpd",
	}
	s.sshCfg.Ciphers = slices.Clone(cfg.Ciphers)
	s.sshCfg.AddHostKey(cfg.HostKey)
	return s, nil
}

// ListenAndServe listens on Config.Addr and serves until ctx is cancelled
// or the server is shut down.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("sftpd: listen: %w", err)
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
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := os.MkdirAll(s.cfg.Root, 0o700); err != nil {
		ln.Close()
		return fmt.Errorf("sftpd: root folder: %w", err)
	}
	rootDir, err := os.OpenRoot(s.cfg.Root)
	if err != nil {
		ln.Close()
		return fmt.Errorf("sftpd: root folder: %w", err)
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
		return errors.New("sftpd: serve: already serving")
	}
	s.ln = ln
	s.rootDir = rootDir
	s.mu.Unlock()

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
				s.log.Warn("sftpd: accept", "err", err, "retry_in", delay)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("sftpd: accept: %w", err)
		}
		delay = 0
		if !s.track(nc) {
			nc.Close()
			continue
		}
		go func() {
			defer s.untrack(nc)
			s.handleConn(ctx, nc)
		}()
	}
}

// track registers nc, or returns false when the server is closing.
func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[nc] = struct{}{}
	s.active.Add(1)
	s.nconns.Add(1)
	return true
}

func (s *Server) untrack(nc net.Conn) {
	nc.Close()
	s.mu.Lock()
	delete(s.conns, nc)
	s.mu.Unlock()
	s.nconns.Add(-1)
	s.active.Done()
}

// Shutdown stops accepting connections and waits for the open sessions to
// end. When ctx ends first, it closes them and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	done := make(chan struct{})
	go func() {
		s.active.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.closeRoot()
		return nil
	case <-ctx.Done():
		s.closeConns()
		<-done
		s.closeRoot()
		return ctx.Err()
	}
}

// Close stops the server at once, closing every connection.
func (s *Server) Close() error {
	s.stopAccepting()
	s.closeConns()
	s.active.Wait()
	s.closeRoot()
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
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.Close()
	}
}

func (s *Server) closeRoot() {
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
	s.log.Info("sftpd: audit", args...)
	if s.cfg.Auditor != nil {
		s.cfg.Auditor.Audit(ctx, event, attrs)
	}
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

func (s *Server) handleConn(ctx context.Context, nc net.Conn) {
	// Audit records must be written even while the server stops.
	ctx = context.WithoutCancel(ctx)
	addr, ok := remoteAddr(nc.RemoteAddr())
	if !ok {
		s.log.Warn("sftpd: unparsable peer address", "addr", nc.RemoteAddr().String())
		return
	}
	as := addr.String()
	if n := s.nconns.Load(); n > int64(s.cfg.MaxConns) {
		s.log.Warn("sftpd: connection limit reached", "addr", as, "max", s.cfg.MaxConns)
		return
	}
	lctx, cancel := context.WithTimeout(ctx, DefaultLookupTimeout)
	allowed, err := s.cfg.Directory.AddrAllowed(lctx, addr)
	cancel()
	if err != nil {
		s.log.Error("sftpd: allow-list lookup", "addr", as, "err", err)
		s.audit(ctx, EventAddrRefused, map[string]string{"addr": as, "reason": "lookup failed"})
		return
	}
	if !allowed {
		// Closed before the version exchange: the client learns nothing
		// about the server, and its error differs from a refused key.
		s.audit(ctx, EventAddrRefused, map[string]string{"addr": as, "reason": "not on allow-list"})
		return
	}

	ic := &idleConn{Conn: nc, idle: s.cfg.IdleTimeout}
	nc.SetDeadline(time.Now().Add(s.cfg.LoginGraceTime))
	sconn, chans, reqs, err := ssh.NewServerConn(ic, s.sshCfg)
	if err != nil {
		s.log.Debug("sftpd: handshake", "addr", as, "err", err)
		return
	}
	defer sconn.Close()
	// The SSH reader is already blocked in Read under the grace deadline;
	// replace that deadline rather than clear it, or an idle client would
	// never time out.
	nc.SetWriteDeadline(time.Time{})
	nc.SetReadDeadline(time.Now().Add(s.cfg.IdleTimeout))
	ic.armed.Store(true)

	user := sconn.User()
	ext := sconn.Permissions.Extensions
	start := s.now()
	s.audit(ctx, EventLogin, map[string]string{
		"addr": as, "user": user, "fingerprint": ext[extFingerprint], "key_type": ext[extKeyType],
	})
	defer func() {
		s.audit(ctx, EventLogout, map[string]string{
			"addr": as, "user": user, "duration": s.now().Sub(start).Round(time.Millisecond).String(),
		})
	}()

	fsys, err := s.openClientFolder(user)
	if err != nil {
		s.log.Error("sftpd: client folder", "user", user, "err", err)
		return
	}
	defer fsys.root.Close()
	fsys.user, fsys.addr = user, as
	fsys.audit = func(event string, attrs map[string]string) {
		attrs["addr"], attrs["user"] = as, user
		s.audit(ctx, event, attrs)
	}
	fsys.now = s.now
	fsys.transferred = s.cfg.Transferred
	fsys.log = s.log.With("user", user, "addr", as)
	limit, _ := strconv.ParseInt(ext[extQuota], 10, 64)
	entries, _ := strconv.ParseInt(ext[extQuotaEntries], 10, 64)
	if limit > 0 || entries > 0 {
		fsys.quota = &quota{limit: limit, entries: entries, usage: s.quotas.acquire(user)}
		defer s.quotas.release(user)
	}

	go ssh.DiscardRequests(reqs)
	var sessions sync.WaitGroup
	for nch := range chans {
		if nch.ChannelType() != "session" {
			// No port forwarding, no agent, nothing but the SFTP session.
			nch.Reject(ssh.Prohibited, "only sftp sessions are served")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		sessions.Add(1)
		go func() {
			defer sessions.Done()
			s.session(ch, creqs, fsys)
		}()
	}
	sessions.Wait()
}

// openClientFolder creates Root/<user> on first login and opens it as an
// os.Root, which keeps every later access inside it.
func (s *Server) openClientFolder(user string) (*clientFS, error) {
	if err := validUsername(user); err != nil {
		return nil, err
	}
	rd := s.root()
	if rd == nil {
		return nil, ErrServerClosed
	}
	if err := rd.Mkdir(user, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("sftpd: mkdir: %w", err)
	}
	r, err := rd.OpenRoot(user)
	if err != nil {
		return nil, fmt.Errorf("sftpd: open client folder: %w", err)
	}
	fi, err := r.Stat(".")
	if err != nil || !fi.IsDir() {
		r.Close()
		return nil, fmt.Errorf("sftpd: client folder %s is not a directory", filepath.Join(s.cfg.Root, user))
	}
	return &clientFS{root: r}, nil
}

// session serves one "session" channel: the only request it grants is the
// "sftp" subsystem (RFC 4254 §6.5); shells, commands, ptys and environment
// variables are refused.
func (s *Server) session(ch ssh.Channel, reqs <-chan *ssh.Request, fsys *clientFS) {
	defer ch.Close()
	started := false
	done := make(chan struct{})
	for {
		select {
		case req, ok := <-reqs:
			if !ok {
				if started {
					<-done
				}
				return
			}
			if req.Type == "subsystem" && !started {
				var p struct{ Name string }
				if ssh.Unmarshal(req.Payload, &p) == nil && p.Name == "sftp" {
					started = true
					req.Reply(true, nil)
					go func() {
						defer close(done)
						fsys.serve(ch)
						// RFC 4254 §6.10: exit-status, then the close.
						// OpenSSH clients ignore it for sftp; others
						// (a Go ssh.Session's Wait) report its absence.
						ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
						ch.Close()
					}()
					continue
				}
			}
			if req.WantReply {
				req.Reply(false, nil)
			}
		case <-done:
			// Drain the remaining requests until the channel closes.
			for req := range reqs {
				if req.WantReply {
					req.Reply(false, nil)
				}
			}
			return
		}
	}
}

// Permissions.Extensions keys carried from authentication to the session.
const (
	extFingerprint  = "sls-fingerprint"
	extKeyType      = "sls-key-type"
	extQuota        = "sls-quota"
	extQuotaEntries = "sls-quota-entries"
)

// errRefused is what the SSH layer gets for every refusal; the reason goes
// only to the audit trail so that a prober learns nothing.
var errRefused = errors.New("sftpd: public key refused")

func (s *Server) checkKey(conn ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultLookupTimeout)
	defer cancel()
	fp := ssh.FingerprintSHA256(key)
	user := conn.User()
	addr, _ := remoteAddr(conn.RemoteAddr())
	fail := func(reason string) (*ssh.Permissions, error) {
		s.audit(ctx, EventAuthFailed, map[string]string{
			"addr": addr.String(), "user": user, "fingerprint": fp, "key_type": key.Type(), "reason": reason,
		})
		return nil, errRefused
	}
	if validUsername(user) != nil {
		return fail("invalid username")
	}
	c, err := s.cfg.Directory.Client(ctx, user)
	if errors.Is(err, ErrUnknownClient) {
		return fail("unknown user")
	}
	if err != nil {
		s.log.Error("sftpd: client lookup", "user", user, "err", err)
		return fail("lookup failed")
	}
	if !keyListed(c.Keys, key) {
		return fail("key not registered")
	}
	if !addrListed(c.Allowed, addr) {
		return fail("address not on the user's allow-list")
	}
	return &ssh.Permissions{Extensions: map[string]string{
		extFingerprint:  fp,
		extKeyType:      key.Type(),
		extQuota:        strconv.FormatInt(c.QuotaBytes, 10),
		extQuotaEntries: strconv.FormatInt(c.QuotaEntries, 10),
	}}, nil
}

func keyListed(keys []ssh.PublicKey, key ssh.PublicKey) bool {
	want := key.Marshal()
	for _, k := range keys {
		if k != nil && string(k.Marshal()) == string(want) {
			return true
		}
	}
	return false
}

func addrListed(allowed []netip.Prefix, addr netip.Addr) bool {
	for _, p := range allowed {
		if p.IsValid() && p.Contains(addr) {
			return true
		}
	}
	return false
}

// validUsername keeps usernames usable as one path component: 1 to 64
// characters from [A-Za-z0-9._-], not starting with "." or "-".
func validUsername(u string) error {
	if len(u) == 0 || len(u) > 64 {
		return errors.New("sftpd: username must have 1 to 64 characters")
	}
	if u[0] == '.' || u[0] == '-' {
		return errors.New("sftpd: username must not start with '.' or '-'")
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("sftpd: username has a forbidden character %q", c)
		}
	}
	return nil
}

// idleConn closes a connection that sent nothing for idle, once armed after
// authentication (before that the login grace deadline applies). The
// deadline is pushed at most once a second to keep reads cheap.
type idleConn struct {
	net.Conn
	idle  time.Duration
	armed atomic.Bool
	last  time.Time // only touched by the single reader goroutine
}

func (c *idleConn) Read(p []byte) (int, error) {
	if c.armed.Load() {
		if now := time.Now(); now.Sub(c.last) > time.Second {
			c.last = now
			c.Conn.SetReadDeadline(now.Add(c.idle))
		}
	}
	return c.Conn.Read(p)
}

var _ io.ReadWriteCloser = (*idleConn)(nil)
