package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The store's metrics (sqlstore/metrics.go, docs/observability.md) that
// slsbench reads from every node before and after the measured window.
const (
	metricTx         = "sls_store_tx_duration_seconds" // histogram: its count is the transactions
	metricStatements = "sls_store_statements_total"    // counter, labels engine and mode
	metricRetries    = "sls_store_tx_retries_total"    // counter
)

// storeCounts are a node's store counters at one moment, summed over
// every label (engine, mode, outcome).
type storeCounts struct {
	tx, statements, retries float64
	// hasStatements is false when the node does not export the
	// statements counter (an older build): its figure is then absent,
	// not zero.
	hasStatements bool
}

// StoreFigures are the store's work during the measured window, over
// every node scraped, in total and per completed flow. Statements are
// nil when a node does not count them. The Idle figures are the nodes'
// own work without load (timed jobs, each node's polling), watched for
// IdleSeconds before the load; the Net figures per flow are the totals
// less that rate over the measured window.
type StoreFigures struct {
	Nodes             []string `json:"nodes"`
	Transactions      float64  `json:"transactions"`
	Statements        *float64 `json:"statements,omitempty"`
	Retries           float64  `json:"retries"`
	TxPerFlow         float64  `json:"transactions_per_flow"`
	StatementsPerFlow *float64 `json:"statements_per_flow,omitempty"`
	RetriesPerFlow    float64  `json:"retries_per_flow"`

	IdleSeconds          float64  `json:"idle_seconds,omitempty"`
	IdleTxPerSec         float64  `json:"idle_transactions_per_second,omitempty"`
	IdleStatementsPerSec *float64 `json:"idle_statements_per_second,omitempty"`
	NetTxPerFlow         float64  `json:"net_transactions_per_flow,omitempty"`
	NetStatementsPerFlow *float64 `json:"net_statements_per_flow,omitempty"`
}

// storeWindow is the counters at the start and end of a window.
type storeWindow struct {
	start, end storeCounts
	took       time.Duration
}

func (w storeWindow) tx() float64 { return w.end.tx - w.start.tx }

// statements is nil when a node does not count them.
func (w storeWindow) statements() *float64 {
	if !w.start.hasStatements || !w.end.hasStatements {
		return nil
	}
	n := w.end.statements - w.start.statements
	return &n
}

// scrape reads url (a node's /metrics) and sums the store's counters.
func scrape(ctx context.Context, hc *http.Client, url string) (storeCounts, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return storeCounts{}, fmt.Errorf("--metrics %s: %w", url, err)
	}
	// Ask for the classic text format: it is what expfmt's text parser reads.
	req.Header.Set("Accept", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	resp, err := hc.Do(req)
	if err != nil {
		return storeCounts{}, fmt.Errorf("--metrics %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return storeCounts{}, fmt.Errorf("--metrics %s: %s (is /metrics served on another listener? see docs/observability.md)", url, resp.Status)
	}
	c, err := parseStoreCounts(resp.Body)
	if err != nil {
		return storeCounts{}, fmt.Errorf("--metrics %s: %w", url, err)
	}
	return c, nil
}

// parseStoreCounts reads Prometheus text and sums the store's counters.
func parseStoreCounts(r io.Reader) (storeCounts, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(r)
	if err != nil {
		return storeCounts{}, err
	}
	tx, ok := families[metricTx]
	if !ok {
		return storeCounts{}, fmt.Errorf("no %s: not an SLS node's /metrics", metricTx)
	}
	var c storeCounts
	for _, m := range tx.GetMetric() {
		c.tx += float64(m.GetHistogram().GetSampleCount())
	}
	c.retries = sumCounter(families[metricRetries])
	if f, ok := families[metricStatements]; ok {
		c.statements, c.hasStatements = sumCounter(f), true
	}
	return c, nil
}

func sumCounter(f *dto.MetricFamily) float64 {
	var n float64
	for _, m := range f.GetMetric() {
		n += m.GetCounter().GetValue()
	}
	return n
}

// scrapeAll reads every node; the counts are summed over the nodes.
func scrapeAll(ctx context.Context, hc *http.Client, urls []string) (storeCounts, error) {
	var sum storeCounts
	sum.hasStatements = true
	for _, u := range urls {
		c, err := scrape(ctx, hc, u)
		if err != nil {
			return storeCounts{}, err
		}
		sum.tx += c.tx
		sum.retries += c.retries
		sum.statements += c.statements
		sum.hasStatements = sum.hasStatements && c.hasStatements
	}
	return sum, nil
}

// storeFigures is the work of the measured window, per flow; idle,
// when watched (took > 0), is subtracted at its rate for the net figures.
func storeFigures(nodes []string, load, idle storeWindow, flows int) *StoreFigures {
	per := func(n float64) float64 {
		if flows == 0 {
			return 0
		}
		return n / float64(flows)
	}
	f := &StoreFigures{Nodes: nodes, Transactions: load.tx(), Retries: load.end.retries - load.start.retries}
	f.TxPerFlow, f.RetriesPerFlow = per(f.Transactions), per(f.Retries)
	if n := load.statements(); n != nil {
		p := per(*n)
		f.Statements, f.StatementsPerFlow = n, &p
	}
	if idle.took <= 0 {
		return f
	}
	secs := idle.took.Seconds()
	f.IdleSeconds = secs
	f.IdleTxPerSec = idle.tx() / secs
	f.NetTxPerFlow = per(f.Transactions - f.IdleTxPerSec*load.took.Seconds())
	if n, i := load.statements(), idle.statements(); n != nil && i != nil {
		rate := *i / secs
		net := per(*n - rate*load.took.Seconds())
		f.IdleStatementsPerSec, f.NetStatementsPerFlow = &rate, &net
	}
	return f
}

// watchIdle reads the nodes' counters d apart, with no load from here.
func watchIdle(ctx context.Context, urls []string, d time.Duration) (storeWindow, error) {
	var w storeWindow
	var err error
	if w.start, err = scrapeAll(ctx, http.DefaultClient, urls); err != nil {
		return w, err
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return w, ctx.Err()
	case <-time.After(d):
	}
	if w.end, err = scrapeAll(ctx, http.DefaultClient, urls); err != nil {
		return w, err
	}
	w.took = time.Since(t0)
	return w, nil
}
