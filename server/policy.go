package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/lifecycle"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/protect"
)

// policyFeature holds the account-protection and device-lifecycle
// services.
type policyFeature struct {
	protect   *protect.Service
	lifecycle *lifecycle.Service

	factorsOnce sync.Once
	factors     sls.Factors
}

// managed resolves s.Manage when called: the feature is configured before
// Open creates the manage service, and uses it only at run time.
type managed struct{ s *Server }

func (m managed) IssueDSCPlus(ctx context.Context, actor, username, serial, pin string, activate bool) (*manage.IssuedDSCPlus, error) {
	return m.s.Manage.IssueDSCPlus(ctx, actor, username, serial, pin, activate)
}

func (m managed) ActivateInTx(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error {
	return m.s.Manage.ActivateInTx(ctx, tx, actor, u, d, now)
}

// configurePolicy wires withdrawal limits, participation, IP restrictions
// (the login gate), sharing, DSC+ ordering, the lifecycle and its jobs.
func (s *Server) configurePolicy(ctx context.Context) error {
	pcfg, err := s.Config.ProtectConfig()
	if err != nil {
		return err
	}
	lcfg, err := s.Config.LifecycleConfig()
	if err != nil {
		return err
	}
	devices, err := s.Config.DevicesConfig()
	if err != nil {
		return err
	}
	// The kind table is process-wide: the last server opened in a
	// process sets it (one per process outside tests).
	if err := sls.ConfigureProtection(devices.Protection); err != nil {
		return fmt.Errorf("config: devices: %w", err)
	}
	f := &s.policy
	f.protect = &protect.Service{Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, Devices: managed{s}, Log: s.Log, Notifier: s.notifier,
		VerifyMetrics: s.verifyMetrics,
		Factors: func() sls.Factors {
			f.factorsOnce.Do(func() { f.factors, _ = sls.NewFactors(s.factors...) }) // Open already checked the list
			return f.factors
		},
		Config: pcfg}

	if len(lcfg.Returns.Addresses) == 0 {
		s.Log.Warn("lifecycle: no return addresses configured (lifecycle.return_addresses); clients cannot record returns")
	}
	f.lifecycle = &lifecycle.Service{Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, Manage: managed{s}, Protect: f.protect,
		Notifier: s.notifier, Config: lcfg, Log: s.Log, VerifyMetrics: s.verifyMetrics}

	// IP restrictions apply to every trading-platform login, whatever the
	// gates before decided about the second factor.
	s.gate = protect.Gate{Next: s.gate}
	// … and to every use of a trading-platform session afterwards.
	s.sessionGate = protect.SessionGate{}
	s.API.Extra = append(s.API.Extra, f.protect.Routes, f.lifecycle.Routes)
	for _, j := range f.lifecycle.Jobs() {
		s.Scheduler.Add(j)
	}
	return nil
}
