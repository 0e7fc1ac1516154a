package server

import (
	"context"
	"path/filepath"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/config"
	"github.com/secure-login-system/sls/operators"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/scheduler"
)

// operatorsConfig is the "operators" section.
type operatorsConfig struct {
	// TokenTTL is how long an operator token lasts (default 8h).
	TokenTTL config.Duration `json:"token_ttl,omitempty"`
	// ApprovalWindow is how long a dual-control request waits (default
	// 30m).
	ApprovalWindow config.Duration `json:"approval_window,omitempty"`
	// DualControl turns dual control on or off per action; every action
	// is on unless listed here as false.
	DualControl map[string]bool `json:"dual_control,omitempty"`
	// CardOutput is the card personalisation output directory (default
	// DATA/cards): DSC+ card files and printable code cards go there.
	CardOutput string `json:"card_output,omitempty"`
}

// configureOperators builds the operators service and checks its section.
func (s *Server) configureOperators(argon passhash.Params) error {
	var oc operatorsConfig
	if err := s.Config.Section("operators", &oc); err != nil {
		return err
	}
	cfg, err := operators.Config{TokenTTL: oc.TokenTTL.D(), ApprovalWindow: oc.ApprovalWindow.D(), DualControl: oc.DualControl}.WithDefaults()
	if err != nil {
		return err
	}
	s.Operators = &operators.Service{Store: s.Store, Clock: s.Clock, Argon: argon, Config: cfg, Keys: s.Sealer,
		EndSession: func(ctx context.Context, tx sls.Tx, ses *sls.Session, now time.Time) error {
			_, err := sls.EndSessions(ctx, tx, sls.SessionFilter{UserID: ses.UserID, SessionID: ses.ID}, sls.EndOperatorToken, sls.ActorSystem, now)
			return err
		}}
	s.API.Operators, s.API.DataDir = s.Operators, s.Opts.DataDir
	s.API.Cards.Path = oc.CardOutput
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
