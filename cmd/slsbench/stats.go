package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/secure-login-system/sls/client"
)

// recorder keeps every step's duration and every failure of a run.
type recorder struct {
	mu      sync.Mutex
	times   map[string][]time.Duration
	errors  map[string]int // "step: reason" → count
	samples map[string]string
}

func newRecorder() *recorder {
	return &recorder{times: map[string][]time.Duration{}, errors: map[string]int{}, samples: map[string]string{}}
}

func (r *recorder) add(step string, d time.Duration) {
	r.mu.Lock()
	r.times[step] = append(r.times[step], d)
	r.mu.Unlock()
}

func (r *recorder) fail(step, reason string) {
	r.mu.Lock()
	r.errors[step+": "+reason]++
	r.mu.Unlock()
}

func (r *recorder) count(step string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.times[step])
}

// StepStats are one step's latencies, in milliseconds.
type StepStats struct {
	Step  string  `json:"step"`
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func stepStats(step string, times []time.Duration) StepStats {
	s := slices.Clone(times)
	slices.Sort(s)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	st := StepStats{Step: step, Count: len(s)}
	if len(s) > 0 {
		st.P50, st.P95, st.P99, st.Max = ms(percentile(s, 50)), ms(percentile(s, 95)), ms(percentile(s, 99)), ms(s[len(s)-1])
	}
	return st
}

// Bound is bare Argon2id on this machine with the server's parameters.
type Bound struct {
	HashesPerSecond float64 `json:"hashes_per_second"`
	Before          float64 `json:"before"`
	After           float64 `json:"after"`
	Concurrency     int     `json:"concurrency"`
}

// report is a run's figures.
type report struct {
	Server      string            `json:"server"`
	Targets     []string          `json:"targets"`
	Info        client.ServerInfo `json:"server_info"`
	Flow        string            `json:"flow"`
	Concurrency int               `json:"concurrency"`
	Users       int               `json:"users"`
	UserPrefix  string            `json:"user_prefix"`
	Duration    string            `json:"duration"`
	Flows       int               `json:"flows"`
	FlowsPerSec float64           `json:"flows_per_second"`
	Bound       *Bound            `json:"bound,omitempty"`
	Ratio       float64           `json:"ratio_to_bound,omitempty"` // flows/s ÷ bound hashes/s
	// BoundXCrypto is the bound with golang.org/x/crypto/argon2.IDKey,
	// which allocates its memory on every call (Bound is measured with
	// the implementation the server uses, which reuses it).
	BoundXCrypto *Bound         `json:"bound_xcrypto,omitempty"`
	RatioXCrypto float64        `json:"ratio_to_bound_xcrypto,omitempty"`
	Steps        []StepStats    `json:"steps"`
	Errors       map[string]int `json:"errors"`
	ErrorCount   int            `json:"error_count"`
	CPUPerFlowMS float64        `json:"server_cpu_ms_per_flow,omitempty"`
	CPUPIDs      []int          `json:"server_cpu_pids,omitempty"`
	Store        *StoreFigures  `json:"store,omitempty"`
	// BelowFloor is set when the server's hash parameters are below what
	// a production build accepts: a -tags slsbench_cheaphash node, whose
	// flows/s is the ceiling without the hash, not a login rate.
	BelowFloor bool `json:"hash_below_floor,omitempty"`
}

// fill sets the figures from rec; bound and boundXCrypto are the hashes/s
// measured before and after the load.
func (rep *report) fill(rec *recorder, took time.Duration, bound, boundXCrypto [2]float64) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rep.Flows = len(rec.times[stepFlow])
	rep.FlowsPerSec = float64(rep.Flows) / took.Seconds()
	for _, s := range []string{stepPassword, stepSelect, stepAnswer, stepLogout, stepFlow} {
		if t, ok := rec.times[s]; ok {
			rep.Steps = append(rep.Steps, stepStats(s, t))
		}
	}
	rep.Errors = rec.errors
	for _, n := range rec.errors {
		rep.ErrorCount += n
	}
	rep.Bound, rep.Ratio = rep.bound(bound)
	rep.BoundXCrypto, rep.RatioXCrypto = rep.bound(boundXCrypto)
}

// bound is the Bound of hashes/s measured before and after the load, and
// flows/s ÷ its mean; nil when either was not measured.
func (rep *report) bound(m [2]float64) (*Bound, float64) {
	if m[0] <= 0 || m[1] <= 0 {
		return nil, 0
	}
	b := &Bound{HashesPerSecond: (m[0] + m[1]) / 2, Before: m[0], After: m[1], Concurrency: rep.Concurrency}
	return b, rep.FlowsPerSec / b.HashesPerSecond
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

func (rep *report) print(w io.Writer, format string) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	a := rep.Info.Argon2
	fmt.Fprintf(w, "server      %s — %s, %s on %s (%d CPUs, %d hashing slots, Argon2id m=%d KiB t=%d p=%d)\n",
		rep.Server, rep.Info.Version, rep.Info.Engine, rep.Info.Host, rep.Info.CPUs, rep.Info.HashSlots, a.MemoryKiB, a.Iterations, a.Parallelism)
	if rep.BelowFloor {
		fmt.Fprintln(w, "hash        BELOW OWASP's MINIMUM: a measurement build (-tags slsbench_cheaphash); flows/s is the ceiling without the hash, not a login rate")
	}
	fmt.Fprintf(w, "load        %s flows, concurrency %d, %d users, %s, on %s\n", rep.Flow, rep.Concurrency, rep.Users, rep.Duration, strings.Join(rep.Targets, " "))
	fmt.Fprintf(w, "flows       %d (%.1f/s), errors %d\n", rep.Flows, rep.FlowsPerSec, rep.ErrorCount)
	if b := rep.Bound; b != nil {
		fmt.Fprintf(w, "bound       bare Argon2id here, as the server computes it: %.1f hashes/s at concurrency %d (before %.1f, after %.1f)\n", b.HashesPerSecond, b.Concurrency, b.Before, b.After)
		fmt.Fprintf(w, "ratio       flows/s ÷ bound = %.1f ÷ %.1f = %.2f\n", rep.FlowsPerSec, b.HashesPerSecond, rep.Ratio)
	}
	if b := rep.BoundXCrypto; b != nil {
		fmt.Fprintf(w, "x/crypto    bare golang.org/x/crypto/argon2.IDKey here: %.1f hashes/s (before %.1f, after %.1f); flows/s ÷ it = %.2f\n",
			b.HashesPerSecond, b.Before, b.After, rep.RatioXCrypto)
	}
	if rep.CPUPerFlowMS > 0 {
		fmt.Fprintf(w, "server CPU  %.1f ms per flow (slsd pid %s on this machine)\n", rep.CPUPerFlowMS, joinInts(rep.CPUPIDs))
	}
	if st := rep.Store; st != nil {
		stmts, perFlow := "statements not counted by these nodes", ""
		if st.Statements != nil {
			stmts, perFlow = fmt.Sprintf("%.0f statements", *st.Statements), fmt.Sprintf(", %.2f statements", *st.StatementsPerFlow)
		}
		fmt.Fprintf(w, "store       %.0f transactions, %s, %.0f retries on %d nodes\n", st.Transactions, stmts, st.Retries, len(st.Nodes))
		fmt.Fprintf(w, "per flow    %.2f transactions%s, %.3f retries\n", st.TxPerFlow, perFlow, st.RetriesPerFlow)
		if st.IdleSeconds > 0 {
			idle, net := "", ""
			if st.NetStatementsPerFlow != nil {
				idle, net = fmt.Sprintf(", %.1f statements", *st.IdleStatementsPerSec), fmt.Sprintf(", %.2f statements", *st.NetStatementsPerFlow)
			}
			fmt.Fprintf(w, "idle        %.1f transactions/s%s without load (watched %.1fs): net per flow %.2f transactions%s\n",
				st.IdleTxPerSec, idle, st.IdleSeconds, st.NetTxPerFlow, net)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "step\tcount\tp50 ms\tp95 ms\tp99 ms\tmax ms\t")
	for _, s := range rep.Steps {
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t\n", s.Step, s.Count, s.P50, s.P95, s.P99, s.Max)
	}
	tw.Flush()
	if len(rep.Errors) > 0 {
		keys := make([]string, 0, len(rep.Errors))
		for k := range rep.Errors {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintln(w, "errors:")
		limited := false
		for _, k := range keys {
			fmt.Fprintf(w, "  %6d  %s\n", rep.Errors[k], k)
			limited = limited || strings.Contains(k, "rate_limited")
		}
		if limited {
			fmt.Fprintln(w, "  the deployment's rate limits refused the load; see docs/sizing.md for limits that allow a load test")
		}
	}
	return nil
}
