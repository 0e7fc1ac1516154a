package server

import (
	"context"
	"net/http"
)

// portalFeature holds the Client Portal's pages.
type portalFeature struct{}

// configurePortal registers the portal.
func (s *Server) configurePortal(ctx context.Context) error { return nil }

// routes are the portal's page handlers by ServeMux pattern.
func (portalFeature) routes(s *Server) map[string]http.Handler { return nil }
