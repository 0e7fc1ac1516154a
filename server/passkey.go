package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/passkey"
	"github.com/secure-login-system/sls/login"
)

// passkeyConfig is the "passkey" section: the WebAuthn relying party.
// RPID is the registrable domain passkeys are bound to (e.g.
// "broker.example"); Origins are the exact origins pages that use them
// are served from (e.g. "https://login.broker.example"). Left out, a
// server listening on a loopback address uses "localhost" and
// http(s)://localhost:PORT, for local use.
type passkeyConfig struct {
	RPID        string   `json:"rp_id,omitempty"`
	Origins     []string `json:"origins,omitempty"`
	DisplayName string   `json:"display_name,omitempty"`
}

// passkeyFeature holds the relying party, known at start from the
// configuration or once the server listens.
type passkeyFeature struct {
	cfg passkeyConfig
	rp  atomic.Pointer[webauthn.WebAuthn]
	svc *passkey.Service
}

func (f *passkeyFeature) relyingParty() (*webauthn.WebAuthn, error) {
	if rp := f.rp.Load(); rp != nil {
		return rp, nil
	}
	return nil, errors.New("passkey: the relying party is not configured (passkey.rp_id, passkey.origins)")
}

func (f *passkeyFeature) set(rpID string, origins []string) error {
	for _, o := range origins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" {
			return fmt.Errorf("config: passkey: origin %q must be scheme://host[:port]", o)
		}
		if h := u.Hostname(); h != rpID && !strings.HasSuffix(h, "."+rpID) {
			return fmt.Errorf("config: passkey: origin %q is not on rp_id %q (WebAuthn §5.1.4.1)", o, rpID)
		}
	}
	name := f.cfg.DisplayName
	if name == "" {
		name = "SLS"
	}
	rp, err := webauthn.New(&webauthn.Config{RPID: rpID, RPDisplayName: name, RPOrigins: origins,
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: passkey.CeremonyTimeout},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: passkey.CeremonyTimeout}}})
	if err != nil {
		return fmt.Errorf("config: passkey: %w", err)
	}
	f.rp.Store(rp)
	return nil
}

// configurePasskey offers passkeys: the factor, the registration routes
// and the portal's pages.
func (s *Server) configurePasskey(context.Context) error {
	f := &s.passkey
	if err := s.Config.Section("passkey", &f.cfg); err != nil {
		return err
	}
	if (f.cfg.RPID == "") != (len(f.cfg.Origins) == 0) {
		return errors.New("config: passkey: give rp_id and origins together")
	}
	if f.cfg.RPID != "" {
		if err := f.set(f.cfg.RPID, f.cfg.Origins); err != nil {
			return err
		}
	}
	f.svc = &passkey.Service{Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, RP: f.relyingParty,
		Activate: func(ctx context.Context, tx sls.Tx, actor string, u *sls.User, d *sls.Device, now time.Time) error {
			return s.Manage.ActivateInTx(ctx, tx, actor, u, d, now)
		},
		Revoke: func(ctx context.Context, actor, deviceID, reason string) (*sls.Device, error) {
			return s.Manage.Revoke(ctx, actor, deviceID, reason)
		},
		Login: func() *login.Service { return s.Login }}
	s.factors = append(s.factors, &passkey.Factor{Sealer: s.Sealer, RP: f.relyingParty})
	s.API.Extra = append(s.API.Extra, f.svc.Routes)
	return nil
}

// setPasskeyOrigin gives a server with no configured relying party one
// for local use once it listens on a loopback address.
func (s *Server) setPasskeyOrigin(addr string, tls bool) {
	f := &s.passkey
	if f.svc == nil || f.rp.Load() != nil {
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		s.Log.Warn("passkeys are off until passkey.rp_id and passkey.origins name this server's public site")
		return
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	if err := f.set("localhost", []string{scheme + "://localhost:" + port}); err != nil {
		s.Log.Error("passkey", "err", err)
		return
	}
	s.Log.Info("passkeys for local use: open the portal as http(s)://localhost:" + port)
}

// SetPasskeyRelyingParty sets the relying party (tests that serve the
// handler without Serve).
func (s *Server) SetPasskeyRelyingParty(rpID string, origins []string) error {
	return s.passkey.set(rpID, origins)
}
