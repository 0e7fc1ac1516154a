package server

import "context"

// policyFeature holds what the policy feature keeps while the server runs.
type policyFeature struct{}

// configurePolicy registers the feature's factors, hooks, routes and jobs.
func (s *Server) configurePolicy(ctx context.Context) error { return nil }
