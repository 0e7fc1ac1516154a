package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/factor/passkey"
	"github.com/secure-login-system/sls/login"
)

// passkeyFeature holds the relying party, known at start from the
// configuration or once the server listens.
type passkeyFeature struct {
	cfg config.Passkey
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
	rp, err := webauthn.New(&webauthn.Config{RPID: rpID, RPDisplayName: f.cfg.DisplayName, RPOrigins: origins,
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
	var err error
	if f.cfg, err = s.Config.PasskeyConfig(); err != nil {
		return err
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
