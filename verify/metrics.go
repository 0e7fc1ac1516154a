package verify

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sls "github.com/secure-login-system/sls"
)

// Metrics times the factors' checks of answers (Factor.Verify), by device
// kind and result. A nil *Metrics records nothing.
type Metrics struct {
	duration *prometheus.HistogramVec
}

// verifyBuckets: a factor's check is one OCRA or HMAC computation and a
// replay lookup (tens of microseconds to a millisecond), a WebAuthn
// signature check (about a millisecond), or a PIN hash for the IB Key
// (up to tens of milliseconds).
var verifyBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1}

// NewMetrics registers the factor-check histogram with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "sls_factor_verify_duration_seconds",
		Help:    "Time a device kind's check of an answer took, by kind and result (ok, bad_response, other).",
		Buckets: verifyBuckets,
	}, []string{"kind", "result"})}
	if err := reg.Register(m.duration); err != nil {
		return nil, fmt.Errorf("verify: metrics: %w", err)
	}
	return m, nil
}

func (m *Metrics) observe(kind sls.DeviceKind, err error, start time.Time) {
	if m == nil {
		return
	}
	result := "ok"
	switch {
	case err == nil:
	case errorIsBadResponse(err):
		result = "bad_response"
	default:
		result = "other"
	}
	m.duration.WithLabelValues(string(kind), result).Observe(time.Since(start).Seconds())
}
