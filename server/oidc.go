package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/oidcprovider"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/scheduler"
)

// configureOIDC builds the OpenID Connect provider: its endpoints (mounted
// by Handler), the operators' client and key routes, and the job that
// keeps keys on schedule and purges what expired.
func (s *Server) configureOIDC(context.Context) error {
	if s.Config.OIDC.Disabled {
		return nil
	}
	c, err := s.Config.OIDCConfig()
	if err != nil {
		return err
	}
	p, err := oidcprovider.New(oidcprovider.Deps{Store: s.Store, Sealer: s.Sealer, Clock: s.Clock, Log: s.Log, Config: c})
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	s.oidc = p
	s.API.Extra = append(s.API.Extra, s.oidcRoutes)
	s.Scheduler.Add(scheduler.Job{Name: "oidc-maintain", Every: 10 * time.Minute, Run: p.Maintain})
	return nil
}

// setOIDCIssuer gives the provider the server's own URL when the
// configuration names no issuer (a fresh slsd --demo answers discovery).
func (s *Server) setOIDCIssuer(base string) {
	if s.oidc == nil || s.oidc.Issuer() != "" {
		return
	}
	s.oidc.SetIssuer(base)
	s.Log.Info("OpenID Connect issuer taken from the listening address; set oidc.issuer to the public URL", "issuer", s.oidc.Issuer())
}

// limitOIDCAuthorize applies the per-address limit to authorization
// requests, which anyone can make and the database keeps for a while.
// The token, userinfo and revocation endpoints are called by the
// applications' servers, whose one address serves all their users.
func (s *Server) limitOIDCAuthorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == oidcprovider.PathPrefix+"authorize" {
			if err := s.Limiter.Take(r.Context(), ratelimit.OIDCAuthorizeAddress, ratelimit.AddressKey(httpapi.ClientIP(r))); err != nil {
				httpapi.WriteError(w, r, s.Log, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) oidcRoutes(*httpapi.API) []httpapi.Route {
	admin := sls.ForRoles(sls.RoleAdmin)
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/ops/oidc/clients", sls.ForRoles(sls.RoleAdmin, sls.RoleSecurityTeam, sls.RoleAuditor), s.opOIDCClients),
		httpapi.Declare("POST /api/v1/ops/oidc/clients", admin.WithApproval(operators.ActionOIDCClient), s.opAddOIDCClient),
		httpapi.Declare("DELETE /api/v1/ops/oidc/clients/{id}", sls.ForRoles(sls.RoleAdmin, sls.RoleSecurityTeam), s.opRemoveOIDCClient),
		httpapi.Declare("GET /api/v1/ops/oidc/keys", sls.ForRoles(sls.RoleAdmin, sls.RoleSecurityTeam, sls.RoleAuditor), s.opOIDCKeys),
		httpapi.Declare("POST /api/v1/ops/oidc/keys/rotate", admin, s.opRotateOIDCKeys),
	}
}

func (s *Server) opOIDCClients(w http.ResponseWriter, r *http.Request) {
	list, err := s.oidc.Clients(r.Context())
	if list == nil {
		list = []*sls.OIDCClient{}
	}
	s.API.Reply(w, r, http.StatusOK, map[string]any{"clients": list, "issuer": s.oidc.Issuer()}, err)
}

func (s *Server) opAddOIDCClient(w http.ResponseWriter, r *http.Request) {
	var spec oidcprovider.ClientSpec
	if err := httpapi.Decode(w, r, &spec); err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	c, secret, err := s.oidc.AddClient(r.Context(), httpapi.OperatorActor(r), spec)
	out := map[string]any{"client": c, "issuer": s.oidc.Issuer()}
	if secret != "" {
		out["client_secret"] = secret // shown once
	}
	s.API.Reply(w, r, http.StatusCreated, out, err)
}

func (s *Server) opRemoveOIDCClient(w http.ResponseWriter, r *http.Request) {
	if err := httpapi.NoBody(w, r); err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	err := s.oidc.RemoveClient(r.Context(), httpapi.OperatorActor(r), r.PathValue("id"))
	s.API.Reply(w, r, http.StatusOK, map[string]string{"removed": r.PathValue("id")}, err)
}

func (s *Server) opOIDCKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.oidc.Keys(r.Context())
	s.API.Reply(w, r, http.StatusOK, map[string]any{"keys": keys}, err)
}

func (s *Server) opRotateOIDCKeys(w http.ResponseWriter, r *http.Request) {
	if err := httpapi.NoBody(w, r); err != nil {
		httpapi.WriteError(w, r, s.Log, err)
		return
	}
	err := s.oidc.RotateKeys(r.Context(), httpapi.OperatorActor(r), true)
	var keys []oidcprovider.KeyInfo
	if err == nil {
		keys, err = s.oidc.Keys(r.Context())
	}
	s.API.Reply(w, r, http.StatusOK, map[string]any{"keys": keys}, err)
}

// OIDC returns the OpenID Connect provider (nil when disabled).
func (s *Server) OIDC() *oidcprovider.Provider { return s.oidc }
