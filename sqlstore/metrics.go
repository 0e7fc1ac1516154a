package sqlstore

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// txBuckets: a transaction of one login step is a few statements, well
// under a millisecond on SQLite in memory and a few milliseconds with a
// flushed commit or a PostgreSQL round trip each; waits for a lock (the
// single SQLite writer, a row another node holds) show up to a second.
var txBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}

// Instrument registers with reg a histogram of every transaction's time,
// from begin to commit or rollback, by engine, mode (read or write) and
// outcome (commit, rollback — fn's refusals roll back too — or error,
// when begin or commit failed), a counter of transactions retried
// after losing a serialization race, and a counter of statements. Call it once, before serving.
func (db *DB) Instrument(reg prometheus.Registerer) error {
	db.txDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:        "sls_store_tx_duration_seconds",
		Help:        "Time of a store transaction from begin to commit or rollback, by mode and outcome.",
		Buckets:     txBuckets,
		ConstLabels: prometheus.Labels{"engine": string(db.engine)},
	}, []string{"mode", "outcome"})
	db.txRetries = prometheus.NewCounter(prometheus.CounterOpts{
		Name:        "sls_store_tx_retries_total",
		Help:        "Transactions run again after a serialization failure, deadlock or busy database.",
		ConstLabels: prometheus.Labels{"engine": string(db.engine)},
	})
	db.statements = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name:        "sls_store_statements_total",
		Help:        "Statements sent to the database, by the mode (read or write) of their transaction.",
		ConstLabels: prometheus.Labels{"engine": string(db.engine)},
	}, []string{"mode"})
	collectors := []prometheus.Collector{db.txDuration, db.txRetries, db.statements}
	if c := db.wal; c != nil {
		for outcome, n := range map[string]*atomic.Int64{"done": &c.runs, "error": &c.errors} {
			collectors = append(collectors, prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name:        "sls_store_wal_checkpoints_total",
				Help:        "SQLite checkpoints run beside the writer, by outcome.",
				ConstLabels: prometheus.Labels{"engine": string(db.engine), "outcome": outcome},
			}, func() float64 { return float64(n.Load()) }))
		}
		collectors = append(collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "sls_store_wal_backlog_pages",
			Help:        "SQLite log pages the last checkpoint could not copy back yet (a reader still used them).",
			ConstLabels: prometheus.Labels{"engine": string(db.engine)},
		}, func() float64 { return float64(c.backlog.Load()) }))
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("sqlstore: metrics: %w", err)
		}
	}
	return nil
}

func (db *DB) observeTx(readOnly bool, outcome string, start time.Time) {
	if db.txDuration == nil {
		return
	}
	mode := "write"
	if readOnly {
		mode = "read"
	}
	db.txDuration.WithLabelValues(mode, outcome).Observe(time.Since(start).Seconds())
}
