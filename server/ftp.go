package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/secure-login-system/sls/delivery"
	"github.com/secure-login-system/sls/ftpd"
)

// configureFTP wires the FTP server (report access over FTP/FTPS) to the
// delivery service that statement delivery built, when the ftp section
// switches it on. It shares the SFTP server's folders, auditor and
// shutdown.
func (s *Server) configureFTP() error {
	c, err := s.Config.FTPConfig()
	if err != nil {
		return err
	}
	if s.Opts.FTPListen != "" {
		c.Listen = s.Opts.FTPListen
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return fmt.Errorf("--ftp-listen %q: %w", c.Listen, err)
		}
	}
	if !c.Enabled {
		return nil
	}
	f := &s.sftp
	if !f.svc.Enabled() {
		return errors.New("server: ftp: ftp.enabled needs statement delivery (sftp.enabled) for its folders")
	}
	tlsCfg, err := s.ftpTLS(c.CertFile, c.KeyFile)
	if err != nil {
		return err
	}
	first, last, _ := c.PassiveRange()
	transferred, err := s.transferMetrics(
		prometheus.HistogramOpts{Name: "sls_ftp_transfer_duration_seconds", Help: "Time from open to close of an FTP file transfer, by direction (upload, download)."},
		prometheus.CounterOpts{Name: "sls_ftp_transfer_bytes_total", Help: "Bytes moved by FTP file transfers, by direction (upload, download)."})
	if err != nil {
		return err
	}
	srv, err := ftpd.New(ftpd.Config{
		Addr:           c.Listen,
		Root:           f.svc.Root(),
		Directory:      ftpDirectory{f.svc.FTPDirectory()},
		Auditor:        f.auditor,
		Logger:         s.Log,
		Clock:          s.Clock.Now,
		TLS:            tlsCfg,
		RequireTLS:     *c.RequireTLS,
		PassivePorts:   [2]int{first, last},
		PublicHost:     c.PublicHost,
		MaxConns:       c.MaxConns,
		IdleTimeout:    c.IdleTimeout.D(),
		LoginGraceTime: c.LoginGraceTime.D(),
		Transferred:    transferred,
	})
	if err != nil {
		return fmt.Errorf("server: ftp: %w", err)
	}
	ln, err := listenFor("ftp", c.Listen, "set ftp.listen in the configuration or --ftp-listen, or switch FTP off (\"ftp\": {\"enabled\": false})")
	if err != nil {
		return err
	}
	f.servers = append(f.servers, fileServer{name: "ftp", srv: srv, ln: ln, closed: ftpd.ErrServerClosed})
	f.svc.AddServer(delivery.ServerInfo{Protocol: "ftp", Listen: ln.Addr().String(),
		Extra: map[string]any{"tls": tlsCfg != nil, "require_tls": *c.RequireTLS, "passive_ports": c.PassivePorts}})
	s.Log.Info("ftp: report access", "addr", ln.Addr().String(), "passive_ports", c.PassivePorts, "require_tls", *c.RequireTLS)
	if !*c.RequireTLS {
		s.Log.Warn("ftp: TLS is not required (ftp.require_tls is false): passwords and files may cross the network in clear text")
	}
	return nil
}

// ftpTLS is the FTPS certificate: the section's, else the server's own,
// else the self-signed one in the data directory (which FTP clients must
// be told to accept, or given).
func (s *Server) ftpTLS(certFile, keyFile string) (*tls.Config, error) {
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("server: ftp: %w", err)
		}
		// TLS 1.2 at least (NIST SP 800-52r2 §3.1).
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	}
	cfg, err := s.tlsConfig()
	if err != nil || cfg != nil {
		return cfg, err
	}
	cert, err := SelfSigned(s.Opts.DataDir, time.Now())
	if err != nil {
		return nil, fmt.Errorf("server: ftp: %w", err)
	}
	s.Log.Warn("ftp: FTPS uses the self-signed certificate of the data directory; set ftp.cert_file and ftp.key_file for clients to verify it")
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// ftpDirectory is ftpd's view of the delivery clients.
type ftpDirectory struct{ d *delivery.FTPDirectory }

func (f ftpDirectory) AddrAllowed(ctx context.Context, addr netip.Addr) (bool, error) {
	return f.d.AddrAllowed(ctx, addr)
}

func (f ftpDirectory) Authenticate(ctx context.Context, username, password string, addr netip.Addr) (*ftpd.Client, error) {
	a, err := f.d.Authenticate(ctx, username, password, addr)
	if errors.Is(err, delivery.ErrFTPRefused) {
		return nil, fmt.Errorf("%w: %w", ftpd.ErrAuthFailed, err)
	}
	if err != nil {
		return nil, err
	}
	return &ftpd.Client{Username: a.Username, Allowed: a.Allowed, QuotaBytes: a.QuotaBytes, QuotaEntries: a.QuotaEntries, PlainAllowed: a.PlainAllowed}, nil
}
