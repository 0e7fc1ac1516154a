package passkey

import (
	"net/http"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/login"
)

type beginBody struct {
	Name string `json:"name"`
}

type finishBody struct {
	DeviceID   string `json:"device_id" required:"true"`
	Credential string `json:"credential" required:"true"`
}

type renameBody struct {
	Name string `json:"name" required:"true"`
}

type firstStepBody struct {
	Enabled *bool `json:"enabled" required:"true"`
}

// Routes declares the passkey endpoints (docs/devices.md). Beginning a
// registration, removing a passkey and letting one log in without the
// password change what can log in as the user, so they need a device
// proven in the session just now; finishing needs the session only (the
// ceremony began under a step-up and proves the authenticator).
func (s *Service) Routes(a *httpapi.API) []httpapi.Route {
	return []httpapi.Route{
		httpapi.Declare("POST /api/v1/passkeys/register/begin", sls.ForStepUp, s.begin(a)),
		httpapi.Declare("POST /api/v1/passkeys/register/finish", sls.ForSession, s.finish(a)),
		httpapi.Declare("PUT /api/v1/passkeys/{id}/name", sls.ForSession, s.rename(a)),
		httpapi.Declare("PUT /api/v1/passkeys/{id}/first-step", sls.ForStepUp, s.firstStep(a)),
		httpapi.Declare("DELETE /api/v1/passkeys/{id}", sls.ForStepUp, s.remove(a)),
		// A login with a passkey alone: anyone may try, under the same
		// per-address limit and refusals as a password.
		httpapi.Declare("POST /api/v1/login/passkey/begin", sls.ForAnyone, s.loginBegin(a)),
		httpapi.Declare("POST /api/v1/login/passkey", sls.ForAnyone, s.loginFinish(a)),
	}
}

func (s *Service) loginBegin(a *httpapi.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := httpapi.NoBody(w, r); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		opts, state, err := s.BeginFirstStep()
		a.Reply(w, r, http.StatusOK, map[string]any{"options": opts, "state": state}, err)
	}
}

type loginBody struct {
	Platform   sls.Platform `json:"platform" required:"true"`
	State      string       `json:"state" required:"true"`
	Credential string       `json:"credential" required:"true"`
}

func (s *Service) loginFinish(a *httpapi.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b loginBody
		if err := httpapi.Decode(w, r, &b); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		step, err := s.Login().FirstStep(r.Context(), login.FirstStepRequest{Platform: b.Platform, ClientIP: httpapi.ClientIP(r),
			UserAgent: r.UserAgent(), State: b.State, Answer: b.Credential}, s.FirstStep())
		a.Reply(w, r, http.StatusOK, step, err)
	}
}

func (s *Service) begin(a *httpapi.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b beginBody
		if err := httpapi.DecodeOptional(w, r, &b); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		u := httpapi.UserOf(r)
		out, err := s.Begin(r.Context(), sls.ActorUser(u.ID), u.ID, b.Name)
		a.Reply(w, r, http.StatusCreated, out, err)
	}
}

func (s *Service) finish(a *httpapi.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b finishBody
		if err := httpapi.Decode(w, r, &b); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		u := httpapi.UserOf(r)
		d, err := s.Finish(r.Context(), sls.ActorUser(u.ID), u.ID, b.DeviceID, b.Credential)
		a.Reply(w, r, http.StatusOK, map[string]any{"device": d}, err)
	}
}

func (s *Service) rename(a *httpapi.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b renameBody
		if err := httpapi.Decode(w, r, &b); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		u := httpapi.UserOf(r)
		d, err := s.Rename(r.Context(), sls.ActorUser(u.ID), u.ID, r.PathValue("id"), b.Name)
		a.Reply(w, r, http.StatusOK, map[string]any{"device": d}, err)
	}
}

func (s *Service) firstStep(a *httpapi.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b firstStepBody
		if err := httpapi.Decode(w, r, &b); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		u := httpapi.UserOf(r)
		d, err := s.SetFirstStep(r.Context(), sls.ActorUser(u.ID), u.ID, r.PathValue("id"), *b.Enabled)
		a.Reply(w, r, http.StatusOK, map[string]any{"device": d}, err)
	}
}

func (s *Service) remove(a *httpapi.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := httpapi.NoBody(w, r); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		u := httpapi.UserOf(r)
		d, err := s.Remove(r.Context(), sls.ActorUser(u.ID), u.ID, r.PathValue("id"))
		a.Reply(w, r, http.StatusOK, map[string]any{"device": d}, err)
	}
}
