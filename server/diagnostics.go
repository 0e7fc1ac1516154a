package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/diagnostics"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/scheduler"
)

// configureDiagnostics wires diagnostics uploads (package diagnostics,
// config section "diagnostics"), the Message Center tickets that cite
// them, and the purge after the retention. It runs after configureNotify,
// whose message center the tickets belong to.
func (s *Server) configureDiagnostics(context.Context) error {
	cfg, err := s.Config.DiagnosticsConfig()
	if err != nil {
		return err
	}
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(s.Opts.DataDir, "diagnostics")
	}
	// Outside any served folder, readable by the server's user only
	// (ASVS V12.4.1).
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("server: diagnostics folder: %w", err)
	}
	s.diagnostics = &diagnostics.Service{Store: s.Store, Clock: s.Clock, Config: cfg, Limiter: s.Limiter, Log: s.Log}
	s.API.Extra = append(s.API.Extra, s.diagnostics.Routes, s.ticketRoutes)
	s.Scheduler.Add(scheduler.Job{Name: "purge-diagnostics", Every: time.Hour, Run: s.diagnostics.Purge})
	return nil
}

// ticketRoutes: a client opens and lists Message Center tickets.
func (s *Server) ticketRoutes(a *httpapi.API) []httpapi.Route {
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/tickets", sls.ForSession, func(w http.ResponseWriter, r *http.Request) {
			list, err := s.notify.messages.Tickets(r.Context(), httpapi.UserOf(r).ID)
			a.Reply(w, r, http.StatusOK, map[string]any{"tickets": list}, err)
		}),
		httpapi.Declare("POST /api/v1/tickets", sls.ForSession, func(w http.ResponseWriter, r *http.Request) {
			var b struct {
				Subject       string `json:"subject" required:"true"`
				Body          string `json:"body" required:"true"`
				DiagnosticRef string `json:"diagnostic_ref"`
			}
			if err := httpapi.Decode(w, r, &b); err != nil {
				httpapi.WriteError(w, r, a.Log, err)
				return
			}
			t, err := s.notify.messages.OpenTicket(r.Context(), httpapi.UserOf(r), b.Subject, b.Body, b.DiagnosticRef)
			a.Reply(w, r, http.StatusCreated, t, err)
		}),
	}
}
