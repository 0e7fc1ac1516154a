package server

import (
	"context"
	"time"

	sls "github.com/secure-login-system/sls"
	totpfactor "github.com/secure-login-system/sls/factor/totp"
	"github.com/secure-login-system/sls/verify"
)

// configureTOTP offers authenticator apps (RFC 6238): the factor, the
// enrolment routes, and the portal's pages.
func (s *Server) configureTOTP(context.Context) error {
	issuer := s.portal.cfg.Brand
	if issuer == "" {
		issuer = "SLS"
	}
	s.totp = &totpfactor.Service{Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, Issuer: issuer,
		Verifier: func() *verify.Verifier { return s.Login.Verifier() },
		Activate: func(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error {
			return s.Manage.ActivateInTx(ctx, tx, actor, u, d, now)
		}}
	s.factors = append(s.factors, &totpfactor.Factor{Sealer: s.Sealer})
	s.API.Extra = append(s.API.Extra, s.totp.Routes)
	return nil
}
