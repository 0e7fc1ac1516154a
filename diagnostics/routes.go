package diagnostics

import (
	"net/http"
	"strconv"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
)

// Routes declares the upload (anyone: a platform's login screen has no
// session; a session, when given, names the user) and the operators'
// routes (the reporting role handles bundles; auditors read metadata).
func (s *Service) Routes(a *httpapi.API) []httpapi.Route {
	read := sls.ForRoles(sls.RoleReporting, sls.RoleAuditor)
	return []httpapi.Route{
		httpapi.DeclareRaw("POST /api/v1/diagnostics", sls.ForAnyone, func(w http.ResponseWriter, r *http.Request) { s.upload(a, w, r) }),
		httpapi.Declare("GET /api/v1/ops/diagnostics", read, func(w http.ResponseWriter, r *http.Request) {
			limit := 1000
			if v := r.URL.Query().Get("limit"); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 1 || n > 10000 {
					httpapi.WriteError(w, r, a.Log, sls.Errorf(sls.CodeInvalidArgument, "limit must be between 1 and 10000."))
					return
				}
				limit = n
			}
			list, err := s.List(r.Context(), r.URL.Query().Get("state"), limit)
			a.Reply(w, r, http.StatusOK, map[string]any{"diagnostics": list}, err)
		}),
		httpapi.Declare("GET /api/v1/ops/diagnostics/{ref}", read, func(w http.ResponseWriter, r *http.Request) {
			d, err := s.Get(r.Context(), r.PathValue("ref"))
			a.Reply(w, r, http.StatusOK, d, err)
		}),
		// Downloading hands client content to an operator: the reporting
		// role only, and audited.
		httpapi.Declare("GET /api/v1/ops/diagnostics/{ref}/bundle", sls.ForRoles(sls.RoleReporting), func(w http.ResponseWriter, r *http.Request) {
			if err := s.WriteBundle(r.Context(), httpapi.OperatorActor(r), r.PathValue("ref"), w); err != nil {
				httpapi.WriteError(w, r, a.Log, err)
			}
		}),
		httpapi.Declare("POST /api/v1/ops/diagnostics/{ref}/close", sls.ForRoles(sls.RoleReporting), func(w http.ResponseWriter, r *http.Request) {
			if err := httpapi.NoBody(w, r); err != nil {
				httpapi.WriteError(w, r, a.Log, err)
				return
			}
			d, err := s.Close(r.Context(), httpapi.OperatorActor(r), r.PathValue("ref"))
			a.Reply(w, r, http.StatusOK, d, err)
		}),
	}
}

// UploadAnswer is the answer to an accepted upload.
type UploadAnswer struct {
	Ref     string `json:"ref"`
	Message string `json:"message"`
	// MessageCenter is where the client opens the ticket.
	MessageCenter string `json:"message_center"`
}

func (s *Service) upload(a *httpapi.API, w http.ResponseWriter, r *http.Request) {
	who := Uploader{ClientIP: httpapi.ClientIP(r)}
	if tok := httpapi.Bearer(r); tok != "" {
		// A session given must be good: a bad one is refused, not taken
		// for the login screen.
		ss, u, err := a.Login.Authenticate(r.Context(), tok, who.ClientIP)
		if err == nil {
			err = sls.ForSession.Check(ss, a.Login.Now(), a.Login.Config().StepUpWindow)
		}
		if err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		who.User = u
	}
	d, err := s.Receive(w, r, who)
	if err != nil {
		httpapi.WriteError(w, r, a.Log, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusCreated, UploadAnswer{Ref: d.Ref, Message: Notice(d.Ref), MessageCenter: "/messages"})
}
