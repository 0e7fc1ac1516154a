package server

import (
	"context"
	"time"

	sls "github.com/secure-login-system/sls"
	ibkeyfactor "github.com/secure-login-system/sls/factor/ibkey"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/scheduler"
	"github.com/secure-login-system/sls/takeover"
)

// ibkeyFeature holds what the ibkey feature keeps while the server runs.
type ibkeyFeature struct {
	svc *ibkeyfactor.Service
}

// configureIBKey registers the IB Key factor, its endpoints (activation,
// the app's push connection and answers, the login page's wait), the jobs
// that expire and purge pushes, and the node's push watcher. Config
// section "ibkey" (package factor/ibkey Config).
func (s *Server) configureIBKey(ctx context.Context) error {
	cfg, err := s.Config.IBKeyConfig()
	if err != nil {
		return err
	}
	loginCfg, err := s.Config.LoginConfig()
	if err != nil {
		return err
	}
	svc, err := ibkeyfactor.New(ibkeyfactor.Deps{
		Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, Notifier: s.notifier, Codes: s.notify.sms.Codes, Log: s.Log, Argon: loginCfg.Argon, Config: cfg,
		Activate: func(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error {
			return s.Manage.ActivateInTx(ctx, tx, actor, u, d, now)
		},
		Login:   func() *login.Service { return s.Login },
		Limiter: s.Limiter,
		Report: func(ctx context.Context, tx sls.Tx, u *sls.User, clientIP string, now time.Time) error {
			// clientIP is the login's, which the user disowns; the
			// report itself came from the user's own app.
			return s.takeover.ReportInTx(ctx, tx, u, takeover.Source{Via: "ibkey", ClientIP: clientIP}, sls.NotePushDenied, now)
		},
	})
	if err != nil {
		return err
	}
	s.ibkey.svc = svc
	s.factors = append(s.factors, svc.Factor())
	s.API.Extra = append(s.API.Extra, svc.Routes)
	s.Scheduler.Add(scheduler.Job{Name: "ibkey-expire-pushes", Every: time.Second, Run: svc.ExpirePushes})
	s.Scheduler.Add(scheduler.Job{Name: "ibkey-purge", Every: time.Hour, Run: svc.Purge})
	s.OnStart(svc.Run)
	return nil
}
