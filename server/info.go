package server

import (
	"net/http"
	"os"
	"runtime"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/passhash"
	"github.com/secure-login-system/sls/version"
)

// ServerInfo is what GET /api/v1/ops/server tells an operator about the
// node that answered: which build runs, on which engine, and what one
// password check costs here (the Argon2id parameters and how many run at
// once). slsbench computes this machine's bound from it. Nothing in it is
// secret; it is for operators all the same, as it helps an attacker size
// a guessing campaign.
type ServerInfo struct {
	Version  string          `json:"version"`
	Engine   string          `json:"engine"`
	Host     string          `json:"host"`
	PID      int             `json:"pid"`
	CPUs     int             `json:"cpus"`
	Argon2   passhash.Params `json:"argon2"`
	HashSlot int             `json:"hash_concurrency"`
}

func (s *Server) infoRoutes(*httpapi.API) []httpapi.Route {
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/ops/server", sls.ForRoles(sls.RoleAdmin, sls.RoleSecurityTeam, sls.RoleAuditor), s.opServerInfo),
	}
}

func (s *Server) opServerInfo(w http.ResponseWriter, r *http.Request) {
	host, _ := os.Hostname()
	httpapi.WriteJSON(w, http.StatusOK, s.Info(host))
}

// Info describes this node (host as given).
func (s *Server) Info(host string) ServerInfo {
	lc, _ := s.Config.LoginConfig() // checked when the server opened
	limits, _ := s.Config.LimitsConfig()
	return ServerInfo{Version: version.String("slsd"), Engine: string(s.Store.Engine()), Host: host, PID: os.Getpid(),
		CPUs: runtime.NumCPU(), Argon2: lc.Argon, HashSlot: limits.HashSlots}
}
