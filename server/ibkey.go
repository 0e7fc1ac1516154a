package server

import "context"

// ibkeyFeature holds what the ibkey feature keeps while the server runs.
type ibkeyFeature struct{}

// configureIBKey registers the feature's factors, hooks, routes and jobs.
func (s *Server) configureIBKey(ctx context.Context) error { return nil }
