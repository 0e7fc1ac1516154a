package httpapi

import (
	"net/http"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/login"
)

type startBody struct {
	Username string       `json:"username" required:"true"`
	Password string       `json:"password" required:"true"`
	Platform sls.Platform `json:"platform"`
	// ClientToken is the client_token of an earlier completed login of
	// this user from this app (see login.KnownClient).
	ClientToken string `json:"client_token"`
}

func (a *API) startLogin(w http.ResponseWriter, r *http.Request) {
	var b startBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	if b.Platform == "" {
		b.Platform = sls.PlatformPortal
	}
	step, err := a.Login.Start(r.Context(), login.StartRequest{Username: b.Username, Password: b.Password, Platform: b.Platform,
		ClientIP: ClientIP(r), UserAgent: r.UserAgent(), ClientToken: b.ClientToken})
	a.writeStep(w, r, step, err)
}

// writeStep writes a login step; for a failed answer that still leaves the
// login open, the error body carries the step (attempts left).
func (a *API) writeStep(w http.ResponseWriter, r *http.Request, step *login.Step, err error) {
	if err != nil {
		if e, ok := err.(*sls.Error); ok && step != nil && step.State == sls.LoginChallenged {
			err = e.WithDetail("attempts_left", step.AttemptsLeft)
		}
		WriteError(w, r, a.Log, err)
		return
	}
	status := http.StatusOK
	if step.Session != nil {
		status = http.StatusCreated
	}
	WriteJSON(w, status, step)
}

type deviceBody struct {
	LoginID  string `json:"login_id" required:"true"`
	DeviceID string `json:"device_id" required:"true"`
}

func (a *API) selectDevice(w http.ResponseWriter, r *http.Request) {
	var b deviceBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	step, err := a.Login.SelectDevice(r.Context(), b.LoginID, b.DeviceID)
	a.writeStep(w, r, step, err)
}

type answerBody struct {
	LoginID  string `json:"login_id" required:"true"`
	Response string `json:"response"`
}

func (a *API) answer(w http.ResponseWriter, r *http.Request) {
	var b answerBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	step, err := a.Login.Answer(r.Context(), b.LoginID, b.Response)
	a.writeStep(w, r, step, err)
}

type statusBody struct {
	LoginID string `json:"login_id" required:"true"`
}

func (a *API) status(w http.ResponseWriter, r *http.Request) {
	var b statusBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	step, err := a.Login.Status(r.Context(), b.LoginID)
	a.writeStep(w, r, step, err)
}

func (a *API) getSession(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusOK, SessionOf(r))
}

func (a *API) listSessions(w http.ResponseWriter, r *http.Request) {
	list, err := a.Login.Sessions(r.Context(), UserOf(r).ID)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"sessions": list})
}

func (a *API) endSession(w http.ResponseWriter, r *http.Request) {
	if err := a.Login.End(r.Context(), UserOf(r).ID, r.PathValue("id")); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) {
	if err := NoBody(w, r); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	if err := a.Login.End(r.Context(), UserOf(r).ID, SessionOf(r).ID); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) myDevices(w http.ResponseWriter, r *http.Request) {
	list, err := a.Manage.Devices(r.Context(), UserOf(r).ID)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"devices": list})
}
