package ftpd

import (
	"context"
	"crypto/tls"
	"errors"
	"net/netip"
	"sync"
	"time"

	ftpserver "github.com/fclairamb/ftpserverlib"
)

// driver is the server as ftpserverlib's MainDriver.
type driver struct{ s *Server }

var (
	_ ftpserver.MainDriver                         = (*driver)(nil)
	_ ftpserver.MainDriverExtensionPostAuthMessage = (*driver)(nil)
)

// Replies to PASS. One text for every refused login, so that a prober
// cannot tell an unknown user from a wrong password or a locked account.
const (
	msgLoginIncorrect = "Login incorrect."
	msgTLSRequired    = "TLS required: use AUTH TLS (FTPS)"
)

var (
	errLoginIncorrect = errors.New("ftpd: login incorrect")
	errTLSRequired    = errors.New("ftpd: TLS required")
)

// GetSettings is read once, by Serve (through the library's Listen).
func (d *driver) GetSettings() (*ftpserver.Settings, error) {
	s := d.s
	st := &ftpserver.Settings{
		Listener:   s.handoff,
		PublicHost: s.cfg.PublicHost,
		// Shown by STAT; says nothing of the software or its version.
		Banner:            "SLS statement delivery",
		IdleTimeout:       max(1, int((s.cfg.IdleTimeout+time.Second-1)/time.Second)),
		ConnectionTimeout: int(dataConnTimeout / time.Second),
		// Checked per client in AuthUser, since PlainAllowed clients may
		// log in without TLS.
		TLSRequired: ftpserver.ClearOrEncrypted,
		// RFC 2577 §3: PORT/EPRT would let a client have the server
		// connect anywhere.
		DisableActiveMode: true,
		// A passive data connection must come from the control
		// connection's address, or another host could take the transfer.
		PasvConnectionsCheck:   ftpserver.IPMatchRequired,
		ActiveConnectionsCheck: ftpserver.IPMatchRequired,
		// SITE CHMOD/CHOWN/SYMLINK/MKDIR/RMDIR and MFMT would change
		// modes, owners, links or times; the client needs none of them.
		DisableSite: true,
		DisableMFMT: true,
		// PGP files must arrive byte for byte when a client forgets TYPE I.
		DefaultTransferType: ftpserver.TransferTypeBinary,
	}
	if lo, hi := s.cfg.PassivePorts[0], s.cfg.PassivePorts[1]; lo != 0 {
		st.PassiveTransferPortRange = ftpserver.PortRange{Start: lo, End: hi}
	}
	return st, nil
}

// ClientConnected greets a connection that admit let through.
func (d *driver) ClientConnected(cc ftpserver.ClientContext) (string, error) {
	sess := d.s.takeSession(cc)
	if sess == nil {
		return "Service not available", errors.New("ftpd: unknown connection")
	}
	cc.SetExtra(sess)
	return "SLS statement delivery ready", nil
}

// ClientDisconnected ends the session; its folder stays open until its
// last transfer has closed (the library closes transfers after this call).
func (d *driver) ClientDisconnected(cc ftpserver.ClientContext) {
	sess, _ := cc.Extra().(*session)
	if sess == nil {
		return
	}
	sess.mu.Lock()
	user, start, logged := sess.user, sess.start, sess.fs != nil
	sess.mu.Unlock()
	if logged {
		d.s.audit(sess.ctx, EventLogout, map[string]string{
			"addr": sess.addrStr, "user": user, "duration": d.s.now().Sub(start).Round(time.Millisecond).String(),
		})
	}
}

// GetTLSConfig answers AUTH TLS and protects the data channels.
func (d *driver) GetTLSConfig() (*tls.Config, error) {
	if d.s.tls == nil {
		// The library then answers AUTH with an error and leaves AUTH TLS
		// out of FEAT.
		return nil, errors.New("TLS is not offered")
	}
	return d.s.tls, nil
}

// AuthUser checks USER/PASS.
func (d *driver) AuthUser(cc ftpserver.ClientContext, user, pass string) (ftpserver.ClientDriver, error) {
	s := d.s
	sess, _ := cc.Extra().(*session)
	if sess == nil {
		return nil, errLoginIncorrect
	}
	ctx := sess.ctx
	tlsOn := cc.HasTLSForControl()
	fail := func(reason string, err error) (ftpserver.ClientDriver, error) {
		s.audit(ctx, EventAuthFailed, map[string]string{"addr": sess.addrStr, "user": user, "reason": reason})
		return nil, err
	}
	sess.mu.Lock()
	already := sess.fs != nil
	sess.mu.Unlock()
	if already {
		// A second PASS would open a second folder for the same session.
		return fail("already logged in", errLoginIncorrect)
	}
	if validUsername(user) != nil {
		return fail("invalid username", errLoginIncorrect)
	}
	lctx, cancel := context.WithTimeout(ctx, DefaultLookupTimeout)
	c, err := s.cfg.Directory.Authenticate(lctx, user, pass, sess.addr)
	cancel()
	if err != nil {
		if errors.Is(err, ErrAuthFailed) {
			return fail(err.Error(), errLoginIncorrect)
		}
		s.log.Error("ftpd: authentication", "user", user, "addr", sess.addrStr, "err", err)
		return fail("lookup failed", errLoginIncorrect)
	}
	if c == nil || c.Username != user || validUsername(c.Username) != nil {
		return fail("directory returned another client", errLoginIncorrect)
	}
	// The directory checks the client's list too; checked again here so
	// that a directory that forgets cannot open the folder to anyone.
	if !addrListed(c.Allowed, sess.addr) {
		return fail("address not on the user's allow-list", errLoginIncorrect)
	}
	// Only now, with the password checked, may the reply differ.
	if !tlsOn && s.cfg.RequireTLS && !c.PlainAllowed {
		return fail("TLS required", errTLSRequired)
	}
	if tlsOn {
		// A client that protected its password protects its statements
		// too: transfers over clear data channels (no PROT P) are refused.
		if err := cc.SetTLSRequirement(ftpserver.MandatoryEncryption); err != nil {
			return fail("internal error", errLoginIncorrect)
		}
	}
	root, err := s.openClientFolder(c.Username)
	if err != nil {
		s.log.Error("ftpd: client folder", "user", user, "err", err)
		return fail("client folder unavailable", errLoginIncorrect)
	}
	fsys := &clientFS{
		root:        root,
		log:         s.log.With("user", user, "addr", sess.addrStr),
		transferred: s.cfg.Transferred,
		sess:        sess,
	}
	fsys.audit = func(event string, attrs map[string]string) {
		attrs["addr"], attrs["user"] = sess.addrStr, user
		s.audit(ctx, event, attrs)
	}
	if c.QuotaBytes > 0 || c.QuotaEntries > 0 {
		fsys.quota = &quota{limit: c.QuotaBytes, entries: c.QuotaEntries,
			usage: s.quotas.acquire(user), root: s.cfg.Root, user: user}
	}
	sess.mu.Lock()
	sess.user, sess.fs, sess.start = user, fsys, s.now()
	sess.mu.Unlock()
	// Logged in: the library's idle timeout now applies, uncapped.
	sess.conn.graceUntil.Store(0)
	yes := "no"
	if tlsOn {
		yes = "yes"
	}
	s.audit(ctx, EventLogin, map[string]string{"addr": sess.addrStr, "user": user, "tls": yes})
	return fsys, nil
}

// PostAuthMessage words the reply to PASS; the library sends it with 230
// on success and 530 on failure.
func (d *driver) PostAuthMessage(_ ftpserver.ClientContext, _ string, authErr error) string {
	switch {
	case authErr == nil:
		return "Logged in."
	case errors.Is(authErr, errTLSRequired):
		return msgTLSRequired
	default:
		return msgLoginIncorrect
	}
}

// session is one control connection, from accept to the close of its
// last transfer.
type session struct {
	s    *Server
	conn *trackedConn
	// Set by admit before the library sees the connection.
	addr    netip.Addr
	addrStr string
	ctx     context.Context

	mu    sync.Mutex
	refs  int // the connection, and each open transfer
	user  string
	fs    *clientFS
	start time.Time
}

// acquire holds the session for a transfer; false once it has ended.
func (se *session) acquire() bool {
	se.mu.Lock()
	defer se.mu.Unlock()
	if se.refs == 0 {
		return false
	}
	se.refs++
	return true
}

// release drops a hold; the last one closes the client's folder, gives
// back its quota book entry and lets Shutdown return.
func (se *session) release() {
	se.mu.Lock()
	se.refs--
	last := se.refs == 0
	fsys, user := se.fs, se.user
	se.mu.Unlock()
	if !last {
		return
	}
	if fsys != nil {
		fsys.root.Close()
		if fsys.quota != nil {
			se.s.quotas.release(user)
		}
	}
	se.s.untrack(se.conn)
}
