package httpapi

import (
	"net/http"

	sls "github.com/secure-login-system/sls"
)

// stepUpRoutes are the session step-up: proving a device inside a live
// session, which renews the session's proof (what routes declared
// sls.ForStepUp read). They need only a session: proving a device is how
// a session earns more. The logic is login.StepUps.
func (a *API) stepUpRoutes() []Route {
	return []Route{
		Declare("GET /api/v1/stepup/devices", sls.ForSession, a.stepUpDevices),
		Declare("POST /api/v1/stepup", sls.ForSession, a.startStepUp),
		Declare("POST /api/v1/stepup/answer", sls.ForSession, a.answerStepUp),
	}
}

func (a *API) stepUpDevices(w http.ResponseWriter, r *http.Request) {
	list, err := a.Login.StepUps().Devices(r.Context(), SessionOf(r))
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, map[string]any{"devices": list})
}

type stepUpBody struct {
	DeviceID string `json:"device_id" required:"true"`
}

func (a *API) startStepUp(w http.ResponseWriter, r *http.Request) {
	var b stepUpBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	out, err := a.Login.StepUps().Start(r.Context(), SessionOf(r), b.DeviceID)
	if err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusCreated, out)
}

type stepUpAnswerBody struct {
	StepUpID string `json:"stepup_id" required:"true"`
	Response string `json:"response" required:"true"`
}

func (a *API) answerStepUp(w http.ResponseWriter, r *http.Request) {
	var b stepUpAnswerBody
	if err := Decode(w, r, &b); err != nil {
		WriteError(w, r, a.Log, err)
		return
	}
	out, err := a.Login.StepUps().Answer(r.Context(), SessionOf(r), b.StepUpID, b.Response)
	if err != nil {
		// A wrong answer that leaves the step-up open says how many
		// answers are left, as a login's does.
		if e, ok := err.(*sls.Error); ok && out != nil {
			err = e.WithDetail("attempts_left", out.AttemptsLeft)
		}
		WriteError(w, r, a.Log, err)
		return
	}
	WriteJSON(w, http.StatusOK, out)
}
