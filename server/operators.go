package server

import (
	"context"
	"path/filepath"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/scheduler"
)

// configureOperators builds the operators service and checks its section.
func (s *Server) configureOperators(argon passhash.Params) error {
	cfg, err := s.Config.OperatorsConfig()
	if err != nil {
		return err
	}
	s.Operators = &operators.Service{Store: s.Store, Clock: s.Clock, Argon: argon, Hashing: s.Hashing, Config: cfg, Keys: s.Sealer,
		EndSession: func(ctx context.Context, tx sls.Tx, ses *sls.Session, now time.Time) error {
			_, err := sls.EndSessions(ctx, tx, sls.SessionFilter{UserID: ses.UserID, SessionID: ses.ID}, sls.EndOperatorToken, sls.ActorSystem, now)
			return err
		}}
	s.API.Operators, s.API.DataDir = s.Operators, s.Opts.DataDir
	s.API.Cards.Path = s.Config.Operators.CardOutput
	if s.API.Cards.Path == "" {
		s.API.Cards.Path = filepath.Join(s.Opts.DataDir, "cards")
	}
	s.Scheduler.Add(scheduler.Job{Name: "purge-operator-tokens", Every: time.Hour, Run: func(ctx context.Context, _ time.Time) error { return s.Operators.PurgeTokens(ctx) }})
	return nil
}

// ensureBootstrap makes the one-time secret that creates the first
// operator, while there is none, and says where it is.
func (s *Server) ensureBootstrap(ctx context.Context) error {
	path, err := s.Operators.EnsureBootstrap(ctx, s.Opts.DataDir)
	if err != nil {
		return err
	}
	s.BootstrapFile = path
	if path != "" {
		s.Log.Warn("no operator yet: create the first one with the one-time bootstrap secret (slsctl bootstrap)", "file", path)
	}
	return nil
}
