package login

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// stepMetrics counts and times every login and step-up step by step,
// outcome (ok or the stable error code) and device kind: bounded labels,
// never a user.
type stepMetrics struct {
	total    *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// loginStepBuckets bracket a step's time: a second-factor answer takes
// well under a millisecond to a few (a DSC+ or code card check and one
// transaction), a password step is dominated by Argon2id (tens of
// milliseconds at OWASP's m=19 MiB, t=2) and stretches to seconds only
// when hashing queues under load (limits.hash_wait caps that wait).
var loginStepBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

func newStepMetrics(reg prometheus.Registerer) (*stepMetrics, error) {
	m := &stepMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sls_login_steps_total",
			Help: "Login steps by step, outcome and device kind.",
		}, []string{"step", "outcome", "kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sls_login_step_duration_seconds",
			Help:    "Time the server spent on a login or step-up step, by step, outcome and device kind.",
			Buckets: loginStepBuckets,
		}, []string{"step", "outcome", "kind"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.total, m.duration} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("login: metrics: %w", err)
			}
		}
	}
	return m, nil
}

// done records a step that began at start.
func (m *stepMetrics) done(start time.Time, step, outcome, kind string) {
	m.total.WithLabelValues(step, outcome, kind).Inc()
	m.duration.WithLabelValues(step, outcome, kind).Observe(time.Since(start).Seconds())
}
