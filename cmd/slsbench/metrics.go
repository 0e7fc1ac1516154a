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
// nil when a node does not count them.
type StoreFigures struct {
	Nodes             []string `json:"nodes"`
	Transactions      float64  `json:"transactions"`
	Statements        *float64 `json:"statements,omitempty"`
	Retries           float64  `json:"retries"`
	TxPerFlow         float64  `json:"transactions_per_flow"`
	StatementsPerFlow *float64 `json:"statements_per_flow,omitempty"`
	RetriesPerFlow    float64  `json:"retries_per_flow"`
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

// storeFigures is the work between before and after, per flow. The
// counters include whatever else the nodes did meanwhile (timed jobs,
// other clients), so run it on nodes that serve only the load.
func storeFigures(nodes []string, before, after storeCounts, flows int) *StoreFigures {
	f := &StoreFigures{Nodes: nodes, Transactions: after.tx - before.tx, Retries: after.retries - before.retries}
	per := func(n float64) float64 {
		if flows == 0 {
			return 0
		}
		return n / float64(flows)
	}
	f.TxPerFlow, f.RetriesPerFlow = per(f.Transactions), per(f.Retries)
	if before.hasStatements && after.hasStatements {
		n, p := after.statements-before.statements, per(after.statements-before.statements)
		f.Statements, f.StatementsPerFlow = &n, &p
	}
	return f
}
