package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/delivery"
	"github.com/secure-login-system/sls/scheduler"
	"github.com/secure-login-system/sls/sftpd"
)

// sftpShutdownGrace is how long a stopping node lets file transfers
// finish before closing the connections; clients resume (reget).
const sftpShutdownGrace = 10 * time.Second

// sftpFeature holds what statement delivery keeps while the server runs.
type sftpFeature struct {
	cfg     config.SFTP
	svc     *delivery.Service
	auditor *delivery.Auditor
	// servers are the file servers of this node (SFTP, FTP), which share
	// the auditor.
	servers []fileServer
}

// fileServer is one protocol's server and its bound socket.
type fileServer struct {
	name string
	srv  interface {
		Serve(ctx context.Context, ln net.Listener) error
		Shutdown(ctx context.Context) error
		Close() error
	}
	ln net.Listener
	// closed is the error Serve returns once Shutdown or Close was called.
	closed error
}

// configureSFTP reads the sftp section, builds the delivery service and,
// when enabled, binds the SFTP port (a failure to bind stops the start,
// so that a misconfigured port is seen at once) and registers the server,
// the spool scan and the retention purge. The operator routes are
// registered in every case.
func (s *Server) configureSFTP(ctx context.Context) error {
	f := &s.sftp
	var err error
	if f.cfg, err = s.Config.SFTPConfig(); err != nil {
		return err
	}
	c := &f.cfg
	if s.Opts.SFTPListen != "" {
		c.Listen = s.Opts.SFTPListen
	}
	if c.Root == "" {
		c.Root = filepath.Join(s.Opts.DataDir, "statements")
	}
	if c.Spool == "" {
		c.Spool = filepath.Join(s.Opts.DataDir, "spool")
	}
	if c.HostKeyFile == "" {
		c.HostKeyFile = filepath.Join(s.Opts.DataDir, "sftp_host_ed25519_key")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil { // --sftp-listen
		return fmt.Errorf("--sftp-listen %q: %w", c.Listen, err)
	}
	lc, err := s.Config.LoginConfig()
	if err != nil {
		return err
	}
	lc = lc.WithDefaults()
	// FTP passwords are checked under the password login's rules.
	guard := delivery.FTPGuard{Limiter: s.Limiter, Hashing: s.Hashing, Argon: lc.Argon,
		Burst: lc.UntrustedBurst, HoldOff: lc.UntrustedHoldOff, MaxFailures: lc.MaxPasswordFailures}
	if f.svc, err = delivery.New(delivery.Deps{Store: s.Store, Clock: s.Clock, Log: s.Log, Registry: s.Registry, Config: *c, FTP: guard}); err != nil {
		return err
	}
	s.API.Extra = append(s.API.Extra, f.svc.Routes)
	if !f.svc.Enabled() {
		s.Log.Info("sftp: statement delivery server switched off (sftp.enabled is false)")
		return s.configureFTP() // refuses ftp.enabled
	}
	hk, err := sftpd.LoadOrCreateHostKey(c.HostKeyFile)
	if err != nil {
		return err
	}
	f.auditor = f.svc.NewAuditor()
	transferred, err := s.transferMetrics(
		prometheus.HistogramOpts{Name: "sls_sftp_transfer_duration_seconds", Help: "Time from open to close of an SFTP file transfer, by direction (upload, download)."},
		prometheus.CounterOpts{Name: "sls_sftp_transfer_bytes_total", Help: "Bytes moved by SFTP file transfers, by direction (upload, download)."})
	if err != nil {
		return err
	}
	srv, err := sftpd.New(sftpd.Config{
		Addr:           c.Listen,
		HostKey:        hk,
		Root:           c.Root,
		Directory:      f.svc.Directory(),
		Auditor:        f.auditor,
		Logger:         s.Log,
		Clock:          s.Clock.Now,
		MaxConns:       c.MaxConns,
		IdleTimeout:    c.IdleTimeout.D(),
		LoginGraceTime: c.LoginGraceTime.D(),
		Transferred:    transferred,
		Ciphers:        c.Ciphers,
	})
	if err != nil {
		return err
	}
	// Bound here rather than in the background loop, so that a port that
	// cannot be had stops the start with a clear message. (If a later
	// step of Open fails, the process exits and the socket with it.)
	ln, err := listenFor("sftp", c.Listen, "set sftp.listen in the configuration or --sftp-listen, or switch SFTP off with \"sftp\": {\"enabled\": false}")
	if err != nil {
		return err
	}
	f.servers = append(f.servers, fileServer{name: "sftp", srv: srv, ln: ln, closed: sftpd.ErrServerClosed})
	f.svc.AddServer(delivery.ServerInfo{Protocol: "sftp", Listen: ln.Addr().String(), HostKey: hk})
	if err := s.configureFTP(); err != nil {
		ln.Close()
		return err
	}
	s.Log.Info("sftp: statement delivery", "addr", ln.Addr().String(), "host_key", sftpd.Fingerprint(hk),
		"root", c.Root, "spool", c.Spool, "retention_days", int(f.svc.Retention()/(24*time.Hour)))

	s.OnStart(s.serveFiles)
	s.OnStart(f.svc.SpoolLoop)
	// The purge is a shared job: the folders are shared, and one node
	// purging them is enough. It counts in the system's time, so a test
	// that moves the clock 100 days sees it happen.
	s.Scheduler.Add(scheduler.Job{Name: "sftp-purge", Every: 24 * time.Hour, Run: f.svc.PurgeStatements})
	return nil
}

// listenFor binds a file server's port, with a hint when it cannot.
func listenFor(what, addr, hint string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EACCES) {
			hint = "ports below 1024 (such as 32 or 21) need root or CAP_NET_BIND_SERVICE (setcap cap_net_bind_service=+ep slsd); or " + hint
		}
		return nil, fmt.Errorf("server: %s: listen on %s: %w (%s)", what, addr, err, hint)
	}
	return ln, nil
}

// serveFiles runs the file servers until ctx ends, then lets transfers in
// flight finish for a while before closing what is left. The auditor
// runs before the first server starts and stops after the last has
// stopped, so that no event is lost.
func (s *Server) serveFiles(ctx context.Context) {
	f := &s.sftp
	go f.auditor.Run()
	defer f.auditor.Stop()
	var wg sync.WaitGroup
	for _, fs := range f.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan error, 1)
			// Not ctx: cancelling Serve's context closes every connection at once.
			go func() { done <- fs.srv.Serve(context.WithoutCancel(ctx), fs.ln) }()
			select {
			case err := <-done:
				if !errors.Is(err, fs.closed) {
					s.Log.Error(fs.name+": server stopped", "err", err)
				}
				fs.srv.Close() // waits for the sessions still open
			case <-ctx.Done():
				sctx, cancel := context.WithTimeout(context.Background(), sftpShutdownGrace)
				if err := fs.srv.Shutdown(sctx); err != nil {
					s.Log.Warn(fs.name+": transfers still running were cut at shutdown", "err", err)
				}
				cancel()
				<-done
			}
		}()
	}
	wg.Wait()
}

// transferMetrics registers a file server's transfer histogram and byte
// counter (each metric's name stays a literal in its Opts, where the
// dashboard test finds it) and returns the callback that feeds them.
// Buckets: statements are kilobytes to a few hundred megabytes; moving
// them takes milliseconds to minutes.
func (s *Server) transferMetrics(duration prometheus.HistogramOpts, bytes prometheus.CounterOpts) (func(direction string, bytes int64, took time.Duration), error) {
	duration.Buckets = []float64{.001, .01, .05, .1, .5, 1, 5, 10, 30, 60, 300}
	took := prometheus.NewHistogramVec(duration, []string{"direction"})
	moved := prometheus.NewCounterVec(bytes, []string{"direction"})
	if err := errors.Join(s.Registry.Register(took), s.Registry.Register(moved)); err != nil {
		return nil, err
	}
	return func(direction string, n int64, d time.Duration) {
		took.WithLabelValues(direction).Observe(d.Seconds())
		moved.WithLabelValues(direction).Add(float64(n))
	}, nil
}
