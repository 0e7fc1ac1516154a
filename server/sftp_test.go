package server

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestOpenSFTP: the section's defaults and checks, and a clear failure
// when the port cannot be had.
func TestOpenSFTP(t *testing.T) {
	open := func(cfg string, o Options) (*Server, error) {
		dir := t.TempDir()
		o.DataDir = dir
		if cfg != "" {
			o.ConfigFile = filepath.Join(dir, "cfg.json")
			if err := os.WriteFile(o.ConfigFile, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return Open(context.Background(), o)
	}
	for cfg, part := range map[string]string{
		`{"sftp": {"retention_days": 0.5}}`:       "retention_days",
		`{"sftp": {"retention_days": 4000}}`:      "retention_days",
		`{"sftp": {"spool_interval": "1ms"}}`:     "spool_interval",
		`{"sftp": {"listen": "nonsense"}}`:        "listen",
		`{"sftp": {"max_statement_bytes": -1}}`:   "max_statement_bytes",
		`{"sftp": {"port": 32}}`:                  "port",
		`{"sftp": {"enabled": "yes", "x": true}}`: "sftp",
	} {
		if _, err := open(cfg, Options{}); err == nil || !strings.Contains(err.Error(), part) {
			t.Errorf("config %s: %v, want an error naming %s", cfg, err, part)
		}
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := open("", Options{SFTPListen: busy.Addr().String()}); err == nil || !strings.Contains(err.Error(), "--sftp-listen") {
		t.Errorf("busy port: %v", err)
	}

	s, err := open(`{"sftp": {"retention_days": 30, "listen": "127.0.0.1:1"}}`, Options{SFTPListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Store.Close()
	defer s.sftp.servers[0].ln.Close()
	if d := s.sftp.svc; !d.Enabled() || d.Retention() != 30*24*time.Hour || d.Root() != filepath.Join(s.Opts.DataDir, "statements") {
		t.Errorf("feature: enabled %v, retention %v, root %s", d.Enabled(), d.Retention(), d.Root())
	}
	if _, err := os.Stat(filepath.Join(s.Opts.DataDir, "sftp_host_ed25519_key")); err != nil {
		t.Errorf("host key: %v", err)
	}
	names := []string{}
	for _, j := range s.Scheduler.Jobs() {
		names = append(names, j.Name)
	}
	if !slices.Contains(names, "sftp-purge") {
		t.Errorf("jobs %v lack sftp-purge", names)
	}
}
