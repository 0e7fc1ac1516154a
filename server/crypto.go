package server

import (
	"context"

	"github.com/secure-login-system/sls/cryptotrade"
)

// configureCrypto wires cryptocurrency trading for the Hong Kong entity
// (package cryptotrade, config section "crypto"): its routes answer
// not_eligible and its job does nothing unless crypto.enabled is set.
func (s *Server) configureCrypto(context.Context) error {
	cfg, err := s.Config.CryptoConfig()
	if err != nil {
		return err
	}
	s.crypto = &cryptotrade.Service{Store: s.Store, Clock: s.Clock, Config: cfg, Log: s.Log}
	s.API.Extra = append(s.API.Extra, s.crypto.Routes)
	for _, j := range s.crypto.Jobs() {
		s.Scheduler.Add(j)
	}
	return nil
}
