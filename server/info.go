package server

import (
	"net/http"
	"os"
	"runtime"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/client"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/version"
)

func (s *Server) infoRoutes(*httpapi.API) []httpapi.Route {
	return []httpapi.Route{
		httpapi.Declare("GET /api/v1/ops/server", sls.ForRoles(sls.RoleAdmin, sls.RoleSecurityTeam, sls.RoleAuditor), s.opServerInfo),
	}
}

func (s *Server) opServerInfo(w http.ResponseWriter, r *http.Request) {
	host, _ := os.Hostname()
	httpapi.WriteJSON(w, http.StatusOK, s.Info(host))
}

// Info describes this node (host as given) for operators: which build
// runs on which engine, and what one password check costs here.
// slsbench computes this machine's bound from it. Nothing in it is
// secret; it is for operators all the same, as it helps an attacker size
// a guessing campaign.
func (s *Server) Info(host string) client.ServerInfo {
	lc, _ := s.Config.LoginConfig() // checked when the server opened
	limits, _ := s.Config.LimitsConfig()
	return client.ServerInfo{Version: version.String("slsd"), Engine: string(s.Store.Engine()), Host: host, PID: os.Getpid(),
		CPUs: runtime.NumCPU(), Argon2: lc.Argon, HashSlots: limits.HashSlots}
}
