package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var times []time.Duration
	for i := 100; i >= 1; i-- { // unsorted on purpose
		times = append(times, time.Duration(i)*time.Millisecond)
	}
	s := stepStats("password", times)
	if s.Count != 100 || s.P50 != 50 || s.P95 != 95 || s.P99 != 99 || s.Max != 100 {
		t.Fatalf("%+v", s)
	}
	if e := stepStats("x", nil); e.Count != 0 || e.P99 != 0 {
		t.Fatalf("empty: %+v", e)
	}
}

func TestReport(t *testing.T) {
	rec := newRecorder()
	for range 10 {
		rec.add(stepPassword, 30*time.Millisecond)
		rec.add(stepFlow, 40*time.Millisecond)
	}
	rec.fail(stepPassword, "429 rate_limited")
	rep := &report{Flow: "password", Concurrency: 2}
	rep.fill(rec, 2*time.Second, [2]float64{40, 60}, [2]float64{20, 30})
	if rep.Flows != 10 || rep.FlowsPerSec != 5 || rep.Bound.HashesPerSecond != 50 || rep.Ratio != 0.1 || rep.ErrorCount != 1 {
		t.Fatalf("%+v %+v", rep, rep.Bound)
	}
	if rep.BoundXCrypto.HashesPerSecond != 25 || rep.RatioXCrypto != 0.2 {
		t.Fatalf("x/crypto bound %+v, ratio %v", rep.BoundXCrypto, rep.RatioXCrypto)
	}
	var out bytes.Buffer
	rep.print(&out, "text")
	for _, want := range []string{"flows       10 (5.0/s), errors 1", "flows/s ÷ bound = 5.0 ÷ 50.0 = 0.10", "argon2.IDKey here: 25.0 hashes/s (before 20.0, after 30.0); flows/s ÷ it = 0.20", "password", "docs/sizing.md"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("%q missing:\n%s", want, out.String())
		}
	}
}

func TestProcCPU(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	if _, ok := procCPU(os.Getpid()); !ok {
		t.Fatal("own CPU time unreadable")
	}
	if _, ok := procCPU(-1); ok {
		t.Fatal("a missing process has a CPU time")
	}
}

func TestOptions(t *testing.T) {
	for _, o := range []options{{flow: "x", concurrency: 1, duration: time.Second, output: "text"}, {flow: "password", concurrency: 0, duration: time.Second, output: "text"},
		{flow: "password", concurrency: 1, duration: 0, output: "text"}, {flow: "password", concurrency: 1, duration: time.Second, output: "yaml"}} {
		if o.check() == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	bad := options{flow: "login", concurrency: 1, duration: time.Second, output: "text", metrics: []string{"127.0.0.1:9090"}}
	if bad.check() == nil {
		t.Error("--metrics without a scheme accepted")
	}
	o := options{flow: "dscplus", concurrency: 3, duration: time.Second, output: "json"}
	if o.check() != nil || o.users != 3 {
		t.Errorf("users default to the concurrency: %+v", o)
	}
	o = options{flow: "login", concurrency: 1, duration: time.Second, output: "text", metrics: []string{"http://127.0.0.1:9090/metrics"}}
	if o.check() != nil {
		t.Errorf("the login flow with --metrics refused: %+v", o)
	}
}

// A node's /metrics as client_golang writes it (abridged).
const nodeMetrics = `# HELP sls_store_tx_duration_seconds Time of a store transaction.
# TYPE sls_store_tx_duration_seconds histogram
sls_store_tx_duration_seconds_bucket{engine="postgres",mode="read",outcome="commit",le="+Inf"} 40
sls_store_tx_duration_seconds_sum{engine="postgres",mode="read",outcome="commit"} 0.2
sls_store_tx_duration_seconds_count{engine="postgres",mode="read",outcome="commit"} 40
sls_store_tx_duration_seconds_bucket{engine="postgres",mode="write",outcome="rollback",le="+Inf"} 2
sls_store_tx_duration_seconds_sum{engine="postgres",mode="write",outcome="rollback"} 0.01
sls_store_tx_duration_seconds_count{engine="postgres",mode="write",outcome="rollback"} 2
# HELP sls_store_tx_retries_total Retried transactions.
# TYPE sls_store_tx_retries_total counter
sls_store_tx_retries_total{engine="postgres"} 3
`

const statementsMetrics = `# HELP sls_store_statements_total Statements.
# TYPE sls_store_statements_total counter
sls_store_statements_total{engine="postgres",mode="read"} 100
sls_store_statements_total{engine="postgres",mode="write"} 20
`

func TestStoreCounts(t *testing.T) {
	c, err := parseStoreCounts(strings.NewReader(nodeMetrics + statementsMetrics))
	if err != nil || c.tx != 42 || c.retries != 3 || c.statements != 120 || !c.hasStatements {
		t.Fatalf("%+v %v", c, err)
	}
	old, err := parseStoreCounts(strings.NewReader(nodeMetrics))
	if err != nil || old.hasStatements {
		t.Fatalf("a node without the statements counter: %+v %v", old, err)
	}
	if _, err := parseStoreCounts(strings.NewReader("# TYPE go_goroutines gauge\ngo_goroutines 7\n")); err == nil {
		t.Fatal("metrics without the store's accepted")
	}

	load := storeWindow{start: storeCounts{tx: 10, statements: 20, retries: 1, hasStatements: true},
		end: storeCounts{tx: 50, statements: 220, retries: 3, hasStatements: true}, took: 2 * time.Second}
	f := storeFigures([]string{"n1"}, load, storeWindow{}, 10)
	if f.Transactions != 40 || f.TxPerFlow != 4 || *f.Statements != 200 || *f.StatementsPerFlow != 20 || f.RetriesPerFlow != 0.2 || f.IdleSeconds != 0 {
		t.Fatalf("%+v", f)
	}
	// 5 transactions and 10 statements a second without load: over the
	// 2 s window, 10 transactions and 20 statements were not the flows'.
	idle := storeWindow{start: storeCounts{tx: 0, statements: 0, hasStatements: true}, end: storeCounts{tx: 5, statements: 10, hasStatements: true}, took: time.Second}
	f = storeFigures([]string{"n1"}, load, idle, 10)
	if f.IdleTxPerSec != 5 || f.NetTxPerFlow != 3 || *f.NetStatementsPerFlow != 18 {
		t.Fatalf("net of idle: %+v", f)
	}
	if f := storeFigures([]string{"n1"}, storeWindow{start: old, end: old}, storeWindow{}, 0); f.Statements != nil || f.TxPerFlow != 0 {
		t.Fatalf("absent statements or no flows: %+v", f)
	}

	rep := &report{Flow: flowLogin, Concurrency: 1, Store: f}
	var out bytes.Buffer
	rep.print(&out, "text")
	if !strings.Contains(out.String(), "4.00 transactions, 20.00 statements, 0.200 retries") || !strings.Contains(out.String(), "net per flow 3.00 transactions, 18.00 statements") {
		t.Errorf("store figures missing:\n%s", out.String())
	}
}

func TestScrape(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, nodeMetrics)
	}))
	defer srv.Close()
	c, err := scrapeAll(context.Background(), srv.Client(), []string{srv.URL + "/metrics", srv.URL + "/metrics"})
	if err != nil || c.tx != 84 || c.hasStatements {
		t.Fatalf("two nodes: %+v %v", c, err)
	}
	if _, err := scrape(context.Background(), srv.Client(), srv.URL+"/nothing"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("a missing /metrics: %v", err)
	}
}
