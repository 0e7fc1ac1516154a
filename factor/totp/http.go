package totp

import (
	"net/http"

	"github.com/skip2/go-qrcode"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/operators"
)

// QRSize is the QR image's width in pixels.
const QRSize = 256

// QRPNG is the QR code of an otpauth:// URI, as PNG.
func QRPNG(uri string) ([]byte, error) { return qrcode.Encode(uri, qrcode.Medium, QRSize) }

type enrolBody struct {
	Label string `json:"label"`
}

type confirmBody struct {
	Code string `json:"code" required:"true"`
}

// Routes declares the enrolment endpoints (docs/devices.md). A client
// enrols after proving a device in the session just now (a password
// alone never enrols a device) and confirms with the app's first code.
// Operators enrol for scripted setups, under dual control: whoever holds
// the secret can confirm it.
func (s *Service) Routes(a *httpapi.API) []httpapi.Route {
	staff := sls.ForRoles(sls.RoleClientServices, sls.RoleSecurityTeam)
	return []httpapi.Route{
		httpapi.Declare("POST /api/v1/totp", sls.ForStepUp, s.enrol(a, self)),
		httpapi.Declare("POST /api/v1/totp/{id}/confirm", sls.ForSession, s.confirm(a, self)),
		httpapi.Declare("POST /api/v1/ops/users/{user}/totp", staff.WithApproval(operators.ActionTOTPIssue), s.enrol(a, target)),
		httpapi.Declare("POST /api/v1/ops/users/{user}/totp/{id}/confirm", staff, s.confirm(a, target)),
	}
}

// enrolled is the answer to an enrolment: the device, the secret and its
// QR code (PNG), shown this once.
type enrolled struct {
	*Enrolled
	QRPNG []byte `json:"qr_png"`
}

func (s *Service) answerEnrolled(a *httpapi.API, w http.ResponseWriter, r *http.Request, e *Enrolled, err error) {
	var out enrolled
	if err == nil {
		out.Enrolled = e
		out.QRPNG, err = QRPNG(e.URI)
	}
	a.Reply(w, r, http.StatusCreated, out, err)
}

// whose names the user a request acts for and the actor: the session's
// own user, or the operator's target.
type whose func(a *httpapi.API, r *http.Request) (actor, userID string, err error)

func self(_ *httpapi.API, r *http.Request) (string, string, error) {
	u := httpapi.UserOf(r)
	return sls.ActorUser(u.ID), u.ID, nil
}

func target(a *httpapi.API, r *http.Request) (string, string, error) {
	u, err := a.Manage.UserByName(r.Context(), r.PathValue("user"))
	if err != nil {
		return "", "", err
	}
	return httpapi.OperatorActor(r), u.ID, nil
}

func (s *Service) enrol(a *httpapi.API, who whose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b enrolBody
		if err := httpapi.DecodeOptional(w, r, &b); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		actor, userID, err := who(a, r)
		var e *Enrolled
		if err == nil {
			e, err = s.Enrol(r.Context(), actor, userID, b.Label)
		}
		s.answerEnrolled(a, w, r, e, err)
	}
}

func (s *Service) confirm(a *httpapi.API, who whose) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var b confirmBody
		if err := httpapi.Decode(w, r, &b); err != nil {
			httpapi.WriteError(w, r, a.Log, err)
			return
		}
		actor, userID, err := who(a, r)
		var d *sls.Device
		if err == nil {
			d, err = s.Confirm(r.Context(), actor, userID, r.PathValue("id"), b.Code)
		}
		a.Reply(w, r, http.StatusOK, map[string]any{"device": d}, err)
	}
}
