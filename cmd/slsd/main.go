// Command slsd is the Secure Login System server.
//
//	slsd [--listen 127.0.0.1:8080] [--data ./sls-data] [--db postgres://…] [--demo]
//
// Every flag has an SLS_* environment variable (SLS_LISTEN, SLS_DATA,
// SLS_DB, …); a flag given on the command line wins. On first start it
// creates the data directory with the sealing key (seal.key) and the
// one-time bootstrap secret (bootstrap.secret) that creates the first
// operator (slsctl bootstrap).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/server"
	"github.com/secure-login-system/sls/version"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "slsd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("slsd", flag.ContinueOnError)
	var o server.Options
	var demo bool
	var logFormat, logLevel string
	fs.StringVar(&o.Listen, "listen", "127.0.0.1:8080", "address to serve HTTP on")
	fs.StringVar(&o.DataDir, "data", "./sls-data", "data directory (SQLite file, keys, bootstrap secret, card output)")
	fs.StringVar(&o.DB, "db", "", "postgres:// URL; empty means the SQLite file in the data directory")
	fs.IntVar(&o.DBMaxConns, "db-max-conns", 0, "PostgreSQL connections this node may hold (default 20; nodes × this must stay under the server's max_connections, see docs/operations.md)")
	fs.StringVar(&o.SealKeyFile, "seal-key", "", "sealing key file (default DATA/seal.key); nodes sharing a database must share it")
	fs.StringVar(&o.AuditKeyFile, "audit-key", "", "audit trail signing key file (default DATA/audit-signing.key, made on first start); keep it off the database host")
	fs.StringVar(&o.ConfigFile, "config", "", "rules file (JSON, see docs/configuration.md)")
	fs.StringVar(&o.AddrFile, "addr-file", "", "write the listening address to this file once listening")
	fs.StringVar(&o.AdminListen, "admin-listen", "", "serve the operator API (/api/v1/ops/) only on this address, e.g. 127.0.0.1:8081 (production: a management network)")
	fs.StringVar(&o.AdminAddrFile, "admin-addr-file", "", "write the admin listener's address to this file once listening")
	fs.Func("trusted-proxies", "comma-separated CIDRs or addresses of reverse proxies whose Forwarded/X-Forwarded-For/X-Forwarded-Proto headers are believed (replaces limits.trusted_proxies in --config)", func(v string) error {
		o.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				o.TrustedProxies = append(o.TrustedProxies, p)
			}
		}
		if _, err := httpapi.ParseProxies(o.TrustedProxies); err != nil {
			return err
		}
		return nil
	})
	fs.StringVar(&o.MetricsListen, "metrics-listen", "", "serve Prometheus /metrics only on this address, e.g. 127.0.0.1:9090 (default: on the admin listener if any, else the public one)")
	fs.StringVar(&o.MetricsAddrFile, "metrics-addr-file", "", "write the metrics listener's address to this file once listening")
	fs.StringVar(&o.Translations, "translations", "", "folder whose portal/ and notify/ subfolders hold catalogs (active.<lang>.toml) replacing the built-in wording, see docs/translations.md")
	fs.StringVar(&o.SFTPListen, "sftp-listen", "", "SFTP statement delivery address (overrides sftp.listen in --config; default 127.0.0.1:2222)")
	fs.StringVar(&o.FTPListen, "ftp-listen", "", "FTP/FTPS report access address, when ftp.enabled (overrides ftp.listen in --config; default 127.0.0.1:2121)")
	fs.StringVar(&o.TLSCert, "tls-cert", "", "serve HTTPS with this PEM certificate (chain) file; needs --tls-key")
	fs.StringVar(&o.TLSKey, "tls-key", "", "PEM private key of --tls-cert")
	fs.BoolVar(&o.TLSSelfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate for localhost, made once in the data directory (local use)")
	fs.DurationVar(&o.SchedulerTick, "scheduler-tick", time.Second, "how often timed jobs are looked for")
	fs.StringVar(&o.TestClockFile, "test-clock-file", "", "TESTS ONLY: follow a time offset read from this file")
	fs.BoolVar(&demo, "demo", false, "create a demo user with a DSC+ card file and a Security Code Card on first start; turns on the test message sink")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	showVersion := fs.Bool("version", false, "print the version and exit")
	checkConfig := fs.Bool("check-config", false, "check the --config file, print every problem with its path, and exit (status 1 if any)")
	exampleConfig := fs.Bool("example-config", false, "print a rules file holding every key with its default, and exit")
	if err := applyEnv(fs); err != nil {
		return err
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case *showVersion:
		fmt.Println(version.String("slsd"))
		return nil
	case *exampleConfig:
		_, err := os.Stdout.Write(config.ExampleJSON())
		return err
	case *checkConfig:
		if o.ConfigFile == "" {
			return errors.New("--check-config needs --config FILE")
		}
		if _, err := config.Load(o.ConfigFile); err != nil {
			return err
		}
		fmt.Printf("%s: no problems\n", o.ConfigFile)
		return nil
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch logFormat {
	case "text":
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, hopts))
	case "json":
		o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, hopts))
	default:
		return fmt.Errorf("--log-format must be text or json, not %q", logFormat)
	}
	slog.SetDefault(o.Logger)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.Demo = demo
	srv, err := server.Open(ctx, o)
	if err != nil {
		return err
	}
	// Pace the collector for the password hashes (docs/operations.md,
	// "Memory and the garbage collector"); GOGC or GOMEMLIMIT in the
	// environment keep the runtime's own pacing.
	if gc := passhash.PaceGC(srv.Hashing.Slots(), srv.Login.Config().Argon); gc.Reason == "" {
		o.Logger.Info("garbage collector paced for password hashing", "headroom_mib", gc.Headroom>>20)
	} else {
		o.Logger.Info("garbage collector left to the runtime", "reason", gc.Reason)
	}
	if demo {
		if err := srv.Demo(ctx, os.Stdout); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	if srv.BootstrapFile != "" {
		fmt.Fprintf(os.Stdout, "No operator yet. Create the first one (once) with:\n  slsctl --server http://%s bootstrap --secret-file %s --name NAME --pin PIN --roles all\n", o.Listen, srv.BootstrapFile)
	}
	return srv.Run(ctx)
}

// applyEnv sets each flag from SLS_<NAME> (dashes become underscores) when
// that variable is set; flags on the command line are parsed afterwards
// and win.
func applyEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := "SLS_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s: %w", name, e)
			}
		}
	})
	return err
}
