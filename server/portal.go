package server

import (
	"context"
	"net/http"

	sls "github.com/secure-login-system/sls"
	ibkeyfactor "github.com/secure-login-system/sls/factor/ibkey"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/outbox"
	"github.com/secure-login-system/sls/portal"
	"github.com/secure-login-system/sls/takeover"
)

// portalFeature holds the Client Portal's pages.
type portalFeature struct {
	cfg     portal.Config
	pages   *portal.Portal
	handler http.Handler
}

// configurePortal reads the "portal" section (cookie mode, session limits,
// default language); the pages themselves are built by routes, once the
// login and manage services exist.
func (s *Server) configurePortal(ctx context.Context) error {
	var err error
	s.portal.cfg, err = s.Config.PortalConfig()
	if err != nil {
		return err
	}
	// The notices name the same products as the pages.
	b := s.portal.cfg.Branding
	notify.SetBranding(notify.Branding{Product: b.Product, App: b.App, Key: b.Key, Company: b.Company})
	return nil
}

// buildPortal makes the pages once the login and manage services exist.
func (s *Server) buildPortal() error {
	p, err := portal.New(s.portalDeps())
	if err != nil {
		return err
	}
	s.portal.pages, s.portal.handler = p, p.Handler()
	return nil
}

// Portal returns the Client Portal (its declared pages, for the access
// matrix).
func (s *Server) Portal() *portal.Portal { return s.portal.pages }

// routes are the portal's page handlers by ServeMux pattern: everything
// the API, health and metrics do not take.
func (f portalFeature) routes(*Server) map[string]http.Handler {
	if f.handler == nil {
		return nil
	}
	return map[string]http.Handler{"/": f.handler, "/static/": f.handler}
}

func (s *Server) portalDeps() portal.Deps {
	d := portal.Deps{Login: s.Login, Manage: s.Manage, Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, Log: s.Log,
		Config: s.portal.cfg, StepUp: s.Login.StepUps().Steps(), Limiter: s.Limiter}
	if n := &s.notify; n.phone != nil {
		d.Phone, d.Resend, d.Messages = n.phone, n.sms, n.messages
		d.Tickets = n.messages
		d.Prefs = portalPrefs{s}
	}
	if s.ibkey.svc != nil {
		d.IBKey = portalIBKey{s.ibkey.svc}
	}
	if s.policy.protect != nil {
		d.Protect = s.policy.protect
	}
	if s.policy.lifecycle != nil {
		d.Lifecycle = s.policy.lifecycle
	}
	if s.crypto != nil && s.crypto.Config.Enabled {
		d.Crypto = s.crypto
	}
	if s.oidc != nil {
		d.OIDC = s.oidc
	}
	if s.totp != nil {
		d.TOTP = s.totp
	}
	if s.passkey.svc != nil {
		d.Passkeys = s.passkey.svc
	}
	if s.sftp.svc != nil {
		d.Documents = s.sftp.svc
	}
	if s.diagnostics != nil {
		d.Diagnostics = s.diagnostics
	}
	if s.takeover != nil {
		d.Report = s.Report
		d.ReportSelf = func(r *http.Request, u *sls.User) error {
			return s.takeover.ReportUser(r.Context(), u.ID, takeover.Source{Via: "portal", ClientIP: httpapi.ClientIP(r), UserAgent: r.UserAgent()})
		}
	}
	return d
}

// portalIBKey adapts the IB Key service to the portal's needs.
type portalIBKey struct{ svc *ibkeyfactor.Service }

// qrSize is the QR image's width in pixels: large enough for a phone
// camera at arm's length, small enough for a phone screen.
const qrSize = 320

func (a portalIBKey) Activation(ctx context.Context, ss *sls.Session) (*portal.Activation, error) {
	t, code, err := a.svc.Ticket(ctx, ss)
	if err != nil {
		return nil, err
	}
	png, err := ibkeyfactor.QRPNG(code, qrSize)
	if err != nil {
		return nil, err
	}
	return &portal.Activation{Code: t.Code, QRPNG: png, ExpiresAt: t.ExpiresAt, HasIBKey: t.HasIBKey}, nil
}

func (a portalIBKey) Wake(userID string) (<-chan struct{}, func()) {
	return a.svc.Hub().Subscribe1(userID)
}

func (a portalIBKey) Poke(userID string) { a.svc.Hub().Poke(userID) }

// portalPrefs reads and saves message-center preferences as the API does.
type portalPrefs struct{ s *Server }

func (p portalPrefs) Get(ctx context.Context, u *sls.User) (notify.Preferences, error) {
	var pr notify.Preferences
	err := p.s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		pr, err = outbox.Preferences(ctx, tx, u)
		return err
	})
	return pr, err
}

func (p portalPrefs) Save(ctx context.Context, u *sls.User, pr notify.Preferences) error {
	return p.s.savePreferences(ctx, u, pr)
}
