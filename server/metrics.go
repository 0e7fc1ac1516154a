package server

import (
	"context"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sls "github.com/secure-login-system/sls"
)

// configureGauges registers the gauges read at scrape time: logins
// waiting for their second step (from the database, so every node shows
// the deployment's figure), and the IB Key apps and push waits held open
// on this node.
func (s *Server) configureGauges(context.Context) error {
	pending := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sls_logins_pending",
		Help: "Logins past the password step and waiting for a device to be chosen or answered, in the whole deployment.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var n int64
		err := s.Store.View(ctx, func(tx sls.Tx) error {
			var err error
			n, err = tx.PendingLogins(ctx, s.Clock.Now())
			return err
		})
		if err != nil {
			s.Log.Warn("metrics: counting pending logins", "err", err)
			return math.NaN() // unknown, rather than a figure that looks real
		}
		return float64(n)
	})
	if err := s.Registry.Register(pending); err != nil {
		return err
	}
	if s.ibkey.svc == nil {
		return nil
	}
	svc := s.ibkey.svc
	return s.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "sls_ibkey_connected_apps",
		Help: "SLS Key app instances (device kind ibkey) holding an event stream open to this node.",
	}, func() float64 { return float64(svc.ConnectedApps()) }))
}
