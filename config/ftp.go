package config

import (
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/secure-login-system/sls/config/field"
)

// FTP is the "ftp" section: report access over FTP and FTPS (the seed's
// "How to Access Your Reports Using FTP"), on the same folders, clients,
// allow-lists, quotas, purge and audit as SFTP delivery. It is off unless
// switched on, because an FTP port is one more door.
type FTP struct {
	// Enabled runs the FTP server on this node (default false). It needs
	// the sftp section's delivery (sftp.enabled) for its folders.
	Enabled bool `json:"enabled,omitempty"`
	// Listen is the control connection's address (default
	// 127.0.0.1:2121; FTP's own port 21 needs root or
	// CAP_NET_BIND_SERVICE). The --ftp-listen flag overrides it.
	Listen string `json:"listen,omitempty"`
	// PassivePorts is the range data connections use, "first-last"
	// (default 50000-50099): a firewall in front opens exactly these.
	// Passive mode only: active mode lets a client make the server
	// connect anywhere (FTP bounce, RFC 2577).
	PassivePorts string `json:"passive_ports,omitempty"`
	// PublicHost is the address announced in passive replies when the
	// node is behind NAT (default: the address the client connected to).
	PublicHost string `json:"public_host,omitempty"`
	// CertFile and KeyFile are the FTPS certificate (PEM). Default: the
	// server's own (--tls-cert/--tls-key), else a self-signed one in the
	// data directory, which FTP clients must be told to accept.
	CertFile string `json:"cert_file,omitempty"`
	KeyFile  string `json:"key_file,omitempty"`
	// RequireTLS refuses logins that did not first secure the control
	// connection with AUTH TLS (RFC 4217) and transfers without PROT P,
	// except for clients an operator allowed plain FTP (default true).
	RequireTLS *bool `json:"require_tls,omitempty"`
	// MaxConns, IdleTimeout and LoginGraceTime tune the server as in the
	// sftp section.
	MaxConns       int      `json:"max_conns,omitempty"`
	IdleTimeout    Duration `json:"idle_timeout,omitempty"`
	LoginGraceTime Duration `json:"login_grace_time,omitempty"`
}

// Defaults of the ftp section.
const (
	DefaultFTPListen       = "127.0.0.1:2121"
	DefaultFTPPassivePorts = "50000-50099"
	// DefaultFTPMaxConns: each connection may hold a data port too, so
	// the cap stays below the passive range's size.
	DefaultFTPMaxConns       = 64
	DefaultFTPIdleTimeout    = 15 * time.Minute
	DefaultFTPLoginGraceTime = time.Minute
)

// PassiveRange returns the first and last passive port.
func (c FTP) PassiveRange() (first, last int, ok bool) {
	a, b, found := strings.Cut(c.PassivePorts, "-")
	if !found {
		return 0, 0, false
	}
	first, err1 := strconv.Atoi(strings.TrimSpace(a))
	last, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || first < 1024 || last > 65535 || first > last {
		return 0, 0, false
	}
	return first, last, true
}

// FTPConfig returns the "ftp" section checked, with its defaults.
func (f *File) FTPConfig() (FTP, error) {
	c := f.FTP
	var errs field.Errors
	if c.Listen == "" {
		c.Listen = DefaultFTPListen
	} else if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs.Addf("listen", "%q is not host:port", c.Listen)
	}
	if c.PassivePorts == "" {
		c.PassivePorts = DefaultFTPPassivePorts
	}
	if _, _, ok := c.PassiveRange(); !ok {
		errs.Addf("passive_ports", "%q must be \"first-last\" with 1024 <= first <= last <= 65535", c.PassivePorts)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		errs.Addf("cert_file", "cert_file and key_file go together")
	}
	if c.RequireTLS == nil {
		on := true
		c.RequireTLS = &on
	}
	switch {
	case c.MaxConns == 0:
		c.MaxConns = DefaultFTPMaxConns
	case c.MaxConns < 0:
		errs.Addf("max_conns", "must not be negative")
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = Duration(DefaultFTPIdleTimeout)
	} else if c.IdleTimeout < 0 {
		errs.Addf("idle_timeout", "must not be negative")
	}
	if c.LoginGraceTime == 0 {
		c.LoginGraceTime = Duration(DefaultFTPLoginGraceTime)
	} else if c.LoginGraceTime < 0 {
		errs.Addf("login_grace_time", "must not be negative")
	}
	return c, field.Within("ftp", errs.Err())
}
