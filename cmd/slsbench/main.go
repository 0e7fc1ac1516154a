// Command slsbench measures an SLS deployment under load, so that
// operators can size their nodes.
//
// It creates its own test users through the operator API (each with a
// Digital Security Card+ it answers like a client would), runs full
// logins (or password steps alone) at a chosen concurrency for a chosen
// time, removes the users, and prints flows per second, p50/p95/p99 of
// every step, the errors, the servers' CPU per login when the nodes run
// on this machine, and the bound every password login is held to: bare
// Argon2id on this machine with the server's parameters, measured in the
// same run, before and after the load. With --metrics it also reads each
// node's Prometheus metrics around the measured window and prints the
// store's transactions, statements and retries per flow.
//
// The operator needs the client-services role (users) and the
// security-team role (cards, the server's parameters). Removing users
// needs a second operator's approval when dual control is on for
// user.delete: give --approver-token-file, or slsbench disables the users
// and prints the command that deletes them.
//
// A deployment's rate limits are made to stop one address from logging
// in many times a minute; run it against nodes whose limits allow the
// load (docs/sizing.md shows a configuration for that).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/version"
)

// options are the command line.
type options struct {
	server            string
	targets           []string
	tokenFile         string
	approverTokenFile string
	flow              string
	concurrency       int
	users             int
	duration          time.Duration
	warmup            time.Duration
	boundTime         time.Duration
	keepUsers         bool
	output            string
	metrics           []string
	idleTime          time.Duration
}

func main() {
	if err := newCommand().Execute(); err != nil {
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func newCommand() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:   "slsbench",
		Short: "measure an SLS deployment under load, to size its nodes",
		Long: `slsbench creates its own test users through the operator API, runs logins
at --concurrency for --duration, removes the users, and prints flows/s,
p50/p95/p99 per step, errors, the server's CPU per login when it runs here,
and the bare Argon2id bound of this machine with the server's parameters.

Flows:
  dscplus    password, then the DSC+ challenge answered, then logout (default)
  login      password, then the DSC+ challenge answered; the session is left
             to expire (a full login, as the sizing figures count it)
  password   the password step alone (the login is left to expire)

With --metrics URL (one per node, e.g. http://127.0.0.1:9090/metrics) it
reads each node's Prometheus metrics before and after the measured window
and prints the store's transactions, statements and retries per flow.`,
		Version:       version.String("slsbench"),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "slsbench:", err)
				return usageError{err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			rep, err := run(ctx, o, cmd.ErrOrStderr())
			if rep != nil {
				if perr := rep.print(cmd.OutOrStdout(), o.output); perr != nil && err == nil {
					err = perr
				}
			}
			if err != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "slsbench:", err)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", envOr("SLS_SERVER", "http://127.0.0.1:8080"), "the deployment's URL (operator API and login API)")
	f.StringSliceVar(&o.targets, "target", nil, "a node the flows are spread over, round robin (repeat for several nodes on one database; default: --server)")
	f.StringVar(&o.tokenFile, "token-file", envOr("SLS_TOKEN_FILE", client.DefaultTokenFile()), "operator token file (slsctl login)")
	f.StringVar(&o.approverTokenFile, "approver-token-file", "", "a second operator's token file, to approve removing the users under dual control")
	f.StringVar(&o.flow, "flow", flowDSCPlus, strings.Join(flows, ", ")+" (see above)")
	f.IntVarP(&o.concurrency, "concurrency", "c", 2, "flows in flight at once")
	f.IntVar(&o.users, "users", 0, "test users (default: one per concurrent flow)")
	f.DurationVarP(&o.duration, "duration", "d", 30*time.Second, "how long to measure")
	f.DurationVar(&o.warmup, "warmup", 3*time.Second, "load before measuring, not counted")
	f.DurationVar(&o.boundTime, "bound-time", 5*time.Second, "how long to measure bare Argon2id, before and after the load (0: not at all)")
	f.BoolVar(&o.keepUsers, "keep-users", false, "leave the test users in place")
	f.StringVarP(&o.output, "output", "o", "text", "text or json")
	f.StringArrayVar(&o.metrics, "metrics", nil, "a node's Prometheus /metrics URL, read before and after the measured window (repeat, one per node)")
	f.DurationVar(&o.idleTime, "idle-time", 2*time.Second, "with --metrics: how long to watch the nodes without load first, to take their own work (timed jobs) out of the per-flow figures (0: not at all)")
	return cmd
}

func (o *options) check() error {
	switch {
	case !slices.Contains(flows, o.flow):
		return fmt.Errorf("--flow must be one of %s, not %q", strings.Join(flows, ", "), o.flow)
	case o.concurrency < 1 || o.concurrency > 4096:
		return errors.New("--concurrency must be between 1 and 4096")
	case o.users < 0 || o.users > 10000:
		return errors.New("--users must be between 1 and 10000")
	case slices.ContainsFunc(o.metrics, func(u string) bool { return !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") }):
		return errors.New("--metrics takes a URL such as http://127.0.0.1:9090/metrics")
	case o.duration <= 0 || o.warmup < 0 || o.boundTime < 0 || o.idleTime < 0:
		return errors.New("--duration must be positive, --warmup, --bound-time and --idle-time not negative")
	case o.output != "text" && o.output != "json":
		return fmt.Errorf("--output must be text or json, not %q", o.output)
	}
	if o.users == 0 {
		o.users = o.concurrency
	}
	if len(o.targets) == 0 {
		o.targets = []string{o.server}
	}
	return nil
}

// run is one measurement: set up, bound, load, bound, tear down. The
// users are removed whatever happened after they were made; a failure to
// remove them is the error when nothing else failed.
func run(ctx context.Context, o options, log io.Writer) (rep *report, err error) {
	token, err := client.ReadTokenFile(o.tokenFile)
	if err != nil {
		return nil, err
	}
	ops := client.New(o.server, token)
	served, err := ops.ServerInfo(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the server's parameters (GET /api/v1/ops/server needs the admin, security-team or auditor role): %w", err)
	}
	info := *served
	if len(o.metrics) > 0 { // a wrong URL fails now, before any user is made
		if _, err := scrapeAll(ctx, http.DefaultClient, o.metrics); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(log, "slsbench: %s, %s, on %s; creating %d test users…\n", info.Version, info.Engine, info.Host, o.users)
	pop, err := createUsers(ctx, ops, o.users, answersCards(o.flow))
	defer func() {
		if o.keepUsers {
			fmt.Fprintf(log, "slsbench: kept %d users named %s*\n", len(pop.users), pop.prefix)
			return
		}
		if rerr := pop.remove(context.WithoutCancel(ctx), ops, o.approverTokenFile, log); rerr != nil && err == nil {
			err = rerr
		}
	}()
	if err != nil {
		return nil, err
	}

	rep = &report{Server: o.server, Targets: o.targets, Info: info, Flow: o.flow, Concurrency: o.concurrency, Users: o.users,
		UserPrefix: pop.prefix, Duration: o.duration.String(), BelowFloor: info.Argon2.Validate() != nil}
	var idle storeWindow
	if len(o.metrics) > 0 && o.idleTime > 0 {
		fmt.Fprintf(log, "slsbench: watching the idle nodes' store for %v…\n", o.idleTime)
		if idle, err = watchIdle(ctx, o.metrics, o.idleTime); err != nil {
			return nil, err
		}
	}
	before := measureBound(ctx, serverHash, info.Argon2, o.concurrency, o.boundTime)
	beforeX := measureBound(ctx, xcryptoHash, info.Argon2, o.concurrency, o.boundTime)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2 * o.concurrency // keep-alive for every flow in flight
	load := &load{users: pop.users, flow: o.flow}
	for _, t := range o.targets {
		api := client.New(t, "")
		api.HTTP = &http.Client{Timeout: client.DefaultTimeout, Transport: tr}
		load.apis = append(load.apis, api)
	}
	if o.warmup > 0 {
		fmt.Fprintf(log, "slsbench: warming up for %v…\n", o.warmup)
		load.run(ctx, o.concurrency, o.warmup, newRecorder())
	}
	var window storeWindow
	if len(o.metrics) > 0 {
		if window.start, err = scrapeAll(ctx, load.apis[0].HTTP, o.metrics); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(log, "slsbench: measuring %d concurrent %s flows for %v…\n", o.concurrency, o.flow, o.duration)
	rec := newRecorder()
	cpu := serverCPU(targetInfo(ctx, o, info, token, log))
	took := load.run(ctx, o.concurrency, o.duration, rec)
	rep.CPUPerFlowMS, rep.CPUPIDs = cpu.perFlow(rec.count(stepFlow)), cpu.pids
	if len(o.metrics) > 0 {
		if window.end, err = scrapeAll(ctx, load.apis[0].HTTP, o.metrics); err != nil {
			return nil, err
		}
		window.took = took
		rep.Store = storeFigures(o.metrics, window, idle, rec.count(stepFlow))
	}
	afterX := measureBound(ctx, xcryptoHash, info.Argon2, o.concurrency, o.boundTime)
	after := measureBound(ctx, serverHash, info.Argon2, o.concurrency, o.boundTime)
	rep.fill(rec, took, [2]float64{before, after}, [2]float64{beforeX, afterX})
	if ctx.Err() != nil {
		return rep, errors.New("interrupted")
	}
	return rep, nil
}

// targetInfo is what every node taking the load says of itself, for
// measuring their CPU; nil when one of them does not answer (its operator
// API may be on another listener), and then no CPU is measured.
func targetInfo(ctx context.Context, o options, served client.ServerInfo, token string, log io.Writer) []client.ServerInfo {
	var out []client.ServerInfo
	for _, t := range o.targets {
		if t == o.server {
			out = append(out, served)
			continue
		}
		info, err := client.New(t, token).ServerInfo(ctx)
		if err != nil {
			fmt.Fprintf(log, "slsbench: no server CPU figure: %s: %v\n", t, err)
			return nil
		}
		out = append(out, *info)
	}
	return out
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
