// Package server wires the whole system from its configuration: the store,
// the sealing key, the factors (the one explicit list of device kinds),
// the services, the HTTP handlers and the background work. cmd/slsd is a
// thin main around it; end-to-end tests and benchmarks start the same
// wiring.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/clock"
	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/cryptotrade"
	"github.com/secure-login-system/sls/diagnostics"
	"github.com/secure-login-system/sls/factor/cards"
	"github.com/secure-login-system/sls/factor/dscplus"
	"github.com/secure-login-system/sls/factor/temppass"
	totpfactor "github.com/secure-login-system/sls/factor/totp"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/oidcprovider"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/passrules"
	"github.com/secure-login-system/sls/portal"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/scheduler"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore"
	"github.com/secure-login-system/sls/takeover"
	"github.com/secure-login-system/sls/verify"
)

// Options say where and how the server runs (command-line flags).
type Options struct {
	Listen  string // "127.0.0.1:8080"
	DataDir string // "./sls-data"
	// DB is a postgres:// URL, or empty for the SQLite file in DataDir.
	DB string
	// DBMaxConns is how many PostgreSQL connections this node may hold
	// (0: sqlstore.DefaultPostgresConns).
	DBMaxConns int
	// SealKeyFile holds the hex sealing key; default DataDir/seal.key.
	// Several nodes on one PostgreSQL must share it.
	SealKeyFile string
	// ConfigFile is the optional rules file (package config).
	ConfigFile string
	// AddrFile, when set, receives the listening address once the server
	// listens (useful with Listen ":0").
	AddrFile string
	// SFTPListen, when set, overrides the sftp section's listen address.
	SFTPListen string
	// FTPListen, when set, overrides the ftp section's listen address.
	FTPListen string
	// AdminListen, when set, serves the operator API (/api/v1/ops/) on
	// this address only: the public listener answers 404 there. In
	// production, bind it to a management network or loopback.
	AdminListen string
	// AdminAddrFile, when set, receives the admin listener's address.
	AdminAddrFile string
	// MetricsListen, when set, serves /metrics on this address only (plain
	// HTTP: bind it to loopback or a management network). Empty: /metrics
	// is on the admin listener when there is one, else on the public one.
	MetricsListen string
	// MetricsAddrFile, when set, receives the metrics listener's address.
	MetricsAddrFile string
	// Translations, when set, is a folder whose portal/ and notify/
	// subfolders hold catalogs (active.<lang>.toml) that replace the
	// built-in wording (docs/translations.md). It changes the whole
	// process's texts.
	Translations string
	// TrustedProxies, when set, replaces limits.trusted_proxies of the
	// rules file: the reverse proxies (CIDRs or addresses) whose
	// Forwarded / X-Forwarded-For / X-Forwarded-Proto headers are believed.
	TrustedProxies []string
	// Demo turns on the local message sink (as notify.sink does).
	Demo bool
	// AuditKeyFile holds the audit trail's Ed25519 signing key (default:
	// the audit section's, else DATA/audit-signing.key).
	AuditKeyFile string
	// TLSCert and TLSKey are PEM files: when set, HTTPS is served instead
	// of HTTP. TLSSelfSigned instead makes (once, in DataDir) and uses a
	// self-signed certificate for localhost, for local use.
	TLSCert, TLSKey string
	TLSSelfSigned   bool
	// TestClockFile switches to clock.Offset reading this file. For
	// end-to-end tests only: never in production.
	TestClockFile string
	// SchedulerTick is how often timed jobs are looked for (default 1s).
	SchedulerTick time.Duration
	Logger        *slog.Logger
}

// Server is the wired system.
type Server struct {
	Opts      Options
	Store     *sqlstore.DB
	Sealer    *seal.Sealer
	Clock     sls.Clock
	Config    *config.File
	Login     *login.Service
	Manage    *manage.Service
	API       *httpapi.API
	Registry  *prometheus.Registry
	Scheduler *scheduler.Scheduler
	Log       *slog.Logger
	// Limiter holds the rate limits shared by every node (config section
	// "limits"); Hashing bounds concurrent password hashing on this node.
	Limiter *ratelimit.Limiter
	Hashing *passhash.Gate

	// Operators manages operators, their tokens and dual control.
	Operators *operators.Service
	// BootstrapFile holds the one-time secret that creates the first
	// operator ("" once an operator exists or another node made it).
	BootstrapFile string

	handler http.Handler
	bg      []func(ctx context.Context)
	proxies httpapi.Proxies
	// verifyMetrics times factor checks in every verifier (login, step-up,
	// confirmations).
	verifyMetrics *verify.Metrics

	// Filled by the features while Open runs.
	// notifier queues notifications in the outbox (set by configureNotify,
	// which runs first, so later features can use it).
	notifier    sls.Notifier
	factors     []sls.Factor
	gate        login.Gate
	sessionGate login.SessionGate // nil: none
	loginHooks  []login.Hooks
	manageHooks []manage.Hooks

	notify notifyFeature
	ibkey  ibkeyFeature
	policy policyFeature
	oidc   *oidcprovider.Provider // nil when the "oidc" section disables it
	// takeover is account-takeover protection (cool-downs, reports).
	takeover *takeover.Service
	totp     *totpfactor.Service
	passkey  passkeyFeature
	sftp     sftpFeature
	portal   portalFeature
	// diagnostics keeps uploaded diagnostics bundles.
	diagnostics *diagnostics.Service

	// crypto is cryptocurrency trading (configureCrypto).
	crypto *cryptotrade.Service

	evidence evidenceFeature
	seal     sealFeature
}

// Open wires the server: opens (and migrates) the store, loads or creates
// the sealing key and the operator token, and builds the services.
func Open(ctx context.Context, o Options) (*Server, error) {
	if o.DataDir == "" {
		o.DataDir = "./sls-data"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("server: data directory: %w", err)
	}
	cfg, err := config.Load(o.ConfigFile)
	if err != nil {
		return nil, err
	}
	loginCfg, err := cfg.LoginConfig()
	if err != nil {
		return nil, err
	}
	// Every line logged with a request's context names its request id.
	s := &Server{Opts: o, Config: cfg, Log: slog.New(httpapi.LogHandler(o.Logger.Handler())), Clock: sls.SystemClock{}}
	if o.TestClockFile != "" {
		s.Log.Warn("test clock enabled: the server's time follows an offset file", "file", o.TestClockFile)
		s.Clock = &clock.Offset{Path: o.TestClockFile}
	}
	keyFile := o.SealKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(o.DataDir, "seal.key")
	}
	key, err := seal.LoadOrCreateKeyFile(keyFile)
	if err != nil {
		return nil, err
	}
	if s.Sealer, err = seal.New(key); err != nil {
		return nil, err
	}
	s.seal.root = key
	dsn := o.DB
	if dsn == "" {
		dsn = filepath.Join(o.DataDir, "sls.db")
	}
	if s.Store, err = sqlstore.Open(ctx, dsn); err != nil {
		return nil, err
	}
	if o.DBMaxConns != 0 {
		if err := s.Store.SetMaxConns(o.DBMaxConns); err != nil {
			s.Store.Close()
			return nil, err
		}
	}
	ok := false
	defer func() {
		if !ok {
			s.Store.Close()
		}
	}()

	if err := loadTranslations(o.Translations); err != nil {
		return nil, err
	}

	s.Registry = prometheus.NewRegistry()
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := s.Store.Instrument(s.Registry); err != nil {
		return nil, err
	}
	if s.verifyMetrics, err = verify.NewMetrics(s.Registry); err != nil {
		return nil, err
	}

	s.Scheduler = &scheduler.Scheduler{Store: s.Store, Clock: s.Clock, Log: s.Log, Tick: o.SchedulerTick}
	limits, err := cfg.LimitsConfig()
	if err != nil {
		return nil, err
	}
	if s.Limiter, err = ratelimit.New(s.Store, s.Clock, limits.Rules); err != nil {
		return nil, err
	}
	s.Hashing = passhash.NewGate(limits.HashSlots, limits.HashQueue, limits.HashWait)
	s.proxies = limits.Proxies
	if len(o.TrustedProxies) > 0 {
		if s.proxies, err = httpapi.ParseProxies(o.TrustedProxies); err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %w", err)
		}
	}
	s.API = &httpapi.API{Store: s.Store, Log: s.Log, Limiter: s.Limiter}
	s.API.Extra = append(s.API.Extra, s.infoRoutes)
	if err := s.configureOperators(loginCfg.Argon); err != nil {
		return nil, err
	}

	// The one explicit list of device kinds this server offers; features
	// below add theirs (SMS, IB Key).
	s.factors = []sls.Factor{
		&dscplus.Factor{Sealer: s.Sealer, ChallengeTTL: time.Duration(cfg.Login.DSCPlusChallenge)},
		&cards.Factor{CardKind: sls.KindCodeCard, Sealer: s.Sealer},
		&cards.Factor{CardKind: sls.KindOnlineCard, Sealer: s.Sealer},
		&temppass.Factor{Sealer: s.Sealer},
	}
	s.gate = login.BasicGate{}
	// Each feature registers its factors, hooks, routes and jobs. Handlers
	// reach s.Login and s.Manage at request time, once Open has finished.
	for _, configure := range []func(context.Context) error{
		s.configureSeal, s.configureNotify, s.configureIBKey, s.configurePolicy, s.configureSFTP, s.configurePortal, s.configureAudit,
		s.configureOIDC, s.configureTOTP, s.configurePasskey, s.configureCrypto, s.configureGauges,
		s.configureDiagnostics,
	} {
		if err := configure(ctx); err != nil {
			return nil, err
		}
	}
	factors, err := sls.NewFactors(s.factors...)
	if err != nil {
		return nil, err
	}
	s.Manage = &manage.Service{Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, Argon: loginCfg.Argon, Hashing: s.Hashing, Hooks: manageHooks(s.manageHooks),
		Notifier: s.notifier, PasswordRules: passrules.Check,
		PasswordReset: func(ctx context.Context, tx sls.Tx, u *sls.User, now time.Time) error {
			return s.takeover.StartCoolDown(ctx, tx, u.ID, sls.ChangePasswordReset, now)
		}}
	if s.policy.lifecycle != nil {
		s.Manage.DSCPlus = s.policy.lifecycle // the order form's eligibility rule, for operator issuance too
	}
	if s.Login, err = login.New(login.Deps{Store: s.Store, Factors: factors, Clock: s.Clock, Config: loginCfg, Gate: s.gate,
		Session: s.sessionGate, Hooks: loginHooks(s.loginHooks), Notifier: s.notifier, Logger: s.Log, Metrics: s.Registry, VerifyMetrics: s.verifyMetrics,
		Limiter: s.Limiter, Hashing: s.Hashing}); err != nil {
		return nil, err
	}
	s.API.Login, s.API.Manage = s.Login, s.Manage
	s.API.Extra = append(s.API.Extra, s.backupRoutes)
	// Every route declares who may call it; a route that declares
	// nothing stops the server here (deny by default).
	if err := s.API.Build(); err != nil {
		return nil, err
	}
	if err := s.buildPortal(); err != nil {
		return nil, err
	}
	s.Scheduler.Add(scheduler.Job{Name: "purge-logins", Every: time.Hour, Run: s.purgeLogins})
	s.Scheduler.Add(scheduler.Job{Name: "purge-sessions", Every: time.Hour, Run: s.purgeSessions})
	s.Scheduler.Add(scheduler.Job{Name: "purge-used-responses", Every: time.Hour, Run: s.purgeUsedResponses})
	s.Scheduler.Add(scheduler.Job{Name: "purge-rate-limits", Every: 10 * time.Minute, Run: s.Limiter.Purge})
	s.OnStart(s.Scheduler.Run)
	s.OnStart(s.chainAudit)
	if err := s.ensureBootstrap(ctx); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// OnStart registers background work that runs while the server runs
// (outbox workers, scheduler…); each function returns when ctx ends.
func (s *Server) OnStart(fn func(ctx context.Context)) { s.bg = append(s.bg, fn) }

// Handler returns the root HTTP handler: API, health and metrics.
func (s *Server) Handler() http.Handler {
	if s.handler != nil {
		return s.handler
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", s.API.Handler())
	if s.Opts.AdminListen != "" {
		// The operator API lives on the admin listener only.
		mux.HandleFunc("/api/v1/ops/", func(w http.ResponseWriter, r *http.Request) {
			httpapi.WriteError(w, r, s.Log, sls.Errorf(sls.CodeNotFound, "No such API endpoint: %s %s.", r.Method, r.URL.Path))
		})
	}
	for pattern, h := range s.portal.routes(s) {
		mux.Handle(pattern, h)
	}
	if s.oidc != nil {
		mux.Handle(oidcprovider.PathDiscovery, s.oidc.Handler())
		mux.Handle(oidcprovider.PathPrefix, s.limitOIDCAuthorize(s.oidc.Handler()))
	}
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.Store.Ping(ctx); err != nil {
			s.Log.ErrorContext(r.Context(), "readiness: database", "err", err)
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	if s.Opts.MetricsListen == "" && s.Opts.AdminListen == "" {
		mux.Handle("GET /metrics", s.metricsHandler())
	}
	s.handler = s.wrap(mux)
	return s.handler
}

// wrap puts the layers every listener has around h. The client address
// is decided once, before anything logs or limits by it (trusted
// proxies, config section "limits"); then the request gets its id, so
// every log line below names it; the access log sees the 500 a recovered
// panic answers.
func (s *Server) wrap(h http.Handler) http.Handler {
	return httpapi.TrustProxies(s.proxies, httpapi.RequestID(httpapi.Logging(s.Log, httpapi.Recover(s.Log, securityHeaders(h)))))
}

// healthz answers that the process serves (liveness; /readyz also asks
// the database).
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}

// metricsHandler serves the Prometheus exposition of s.Registry.
func (s *Server) metricsHandler() http.Handler {
	return promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn)})
}

// MetricsHandler serves /metrics and health checks: the handler of the
// metrics listener (Options.MetricsListen). Metrics are kept off the
// public listener when it is set: they describe the load and the
// failures of the whole deployment.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler())
	mux.HandleFunc("GET /healthz", healthz)
	return s.wrap(mux)
}

// AdminHandler serves the operator API, the login steps operators log in
// with, and health checks: the admin listener's handler when
// Options.AdminListen is set.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/v1/ops/", s.API.Handler())
	// Operators log in here too (slsctl login): the login steps, which
	// give an operator's account a session that only trades for a token.
	mux.Handle("/api/v1/login", s.API.Handler())
	mux.Handle("/api/v1/login/", s.API.Handler())
	mux.HandleFunc("GET /healthz", healthz)
	if s.Opts.MetricsListen == "" {
		mux.Handle("GET /metrics", s.metricsHandler())
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteError(w, r, s.Log, sls.Errorf(sls.CodeNotFound, "The admin listener serves only the operator API (/api/v1/ops/)."))
	})
	return s.wrap(mux)
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		httpapi.SetHSTS(w, r)
		next.ServeHTTP(w, r)
	})
}

// Run serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting connections, lets requests in flight finish (their writes are
// committed before they answer), stops background work and closes the
// store.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.Opts.Listen)
	if err != nil {
		return fmt.Errorf("server: listen: %w", err)
	}
	return s.Serve(ctx, ln)
}

// loadTranslations applies an operator's catalogs (Options.Translations)
// over the built-in ones; a folder that is missing is skipped, a file that
// is wrong stops the start.
func loadTranslations(dir string) error {
	if dir == "" {
		return nil
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("--translations %s: not a folder", dir)
	}
	for sub, override := range map[string]func(string) error{"portal": portal.Override, "notify": notify.Override} {
		d := filepath.Join(dir, sub)
		if _, err := os.Stat(d); errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err := override(d); err != nil {
			return err
		}
	}
	return nil
}

// listenTo listens on addr and, when addrFile is set, writes the address
// it got there (for ":0" in tests and scripts).
func listenTo(addr, addrFile string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if err := writeAddrFile(addrFile, l.Addr().String()); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// writeAddrFile writes the address a listener got to path, when set.
func writeAddrFile(path, addr string) error {
	if path == "" {
		return nil
	}
	if err := os.WriteFile(path, []byte(addr+"\n"), 0o600); err != nil {
		return fmt.Errorf("address file: %w", err)
	}
	return nil
}

// Serve is Run on an existing listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	tlsCfg, err := s.tlsConfig()
	if err != nil {
		ln.Close()
		return err
	}
	addr := ln.Addr().String()
	base := "http://" + addr
	if tlsCfg != nil {
		base = "https://" + addr
	}
	s.setOIDCIssuer(base)
	s.setPasskeyOrigin(addr, tlsCfg != nil)
	s.setReportBase(base)
	if err := writeAddrFile(s.Opts.AddrFile, addr); err != nil {
		ln.Close()
		return fmt.Errorf("server: %w", err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
	bgCtx, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, fn := range s.bg {
		wg.Add(1)
		go func() { defer wg.Done(); fn(bgCtx) }()
	}
	errc := make(chan error, 3)
	fail := func(err error, open ...net.Listener) error {
		for _, l := range open {
			if l != nil {
				l.Close()
			}
		}
		ln.Close()
		stopBG()
		wg.Wait()
		return err
	}
	aux := func(h http.Handler) *http.Server {
		return &http.Server{Handler: h, ReadHeaderTimeout: srv.ReadHeaderTimeout, ReadTimeout: srv.ReadTimeout,
			IdleTimeout: srv.IdleTimeout, MaxHeaderBytes: srv.MaxHeaderBytes, ErrorLog: srv.ErrorLog}
	}
	var admin, metrics *http.Server
	var aln net.Listener
	if s.Opts.AdminListen != "" {
		if aln, err = listenTo(s.Opts.AdminListen, s.Opts.AdminAddrFile); err != nil {
			return fail(fmt.Errorf("server: admin listener: %w", err))
		}
		admin = aux(s.AdminHandler())
		s.Log.Info("operator API on the admin listener only", "addr", aln.Addr().String())
	}
	if s.Opts.MetricsListen != "" {
		mln, err := listenTo(s.Opts.MetricsListen, s.Opts.MetricsAddrFile)
		if err != nil {
			return fail(fmt.Errorf("server: metrics listener: %w", err), aln)
		}
		metrics = aux(s.MetricsHandler())
		s.Log.Info("metrics on their own listener", "addr", mln.Addr().String())
		go func() { errc <- metrics.Serve(mln) }()
	} else if admin == nil {
		s.Log.Warn("metrics are served on the public listener: set --metrics-listen (or --admin-listen) to keep them off it")
	}
	if admin != nil {
		go func() {
			if tlsCfg != nil {
				admin.TLSConfig = tlsCfg.Clone()
				errc <- admin.ServeTLS(aln, "", "")
				return
			}
			errc <- admin.Serve(aln)
		}()
	}
	if tlsCfg != nil {
		srv.TLSConfig = tlsCfg
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	s.Log.Info("listening", "addr", addr, "engine", s.Store.Engine())

	var serveErr error
	select {
	case <-ctx.Done():
		s.Log.Info("shutting down")
	case serveErr = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		s.Log.Error("shutdown", "err", err)
	}
	for name, aux := range map[string]*http.Server{"admin": admin, "metrics": metrics} {
		if aux != nil {
			if err := aux.Shutdown(shutCtx); err != nil {
				s.Log.Error("shutdown of the "+name+" listener", "err", err)
			}
		}
	}
	stopBG()
	wg.Wait()
	// Sign the head as it stands, so that entries written after the last
	// periodic checkpoint are covered too (and kept outside the database).
	if _, err := s.Checkpoint(shutCtx, true); err != nil {
		s.Log.Error("audit checkpoint at shutdown", "err", err)
	}
	if err := s.Store.Close(); err != nil {
		s.Log.Error("closing store", "err", err)
	}
	if errors.Is(serveErr, http.ErrServerClosed) {
		serveErr = nil
	}
	s.Log.Info("stopped")
	return serveErr
}
