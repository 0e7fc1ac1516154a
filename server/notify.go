package server

import "context"

// notifyFeature holds what the notify feature keeps while the server runs.
type notifyFeature struct{}

// configureNotify registers the feature's factors, hooks, routes and jobs.
func (s *Server) configureNotify(ctx context.Context) error { return nil }
