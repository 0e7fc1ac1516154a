package portal

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/passkey"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/login"
)

// Passkeys registers and manages passkeys (*passkey.Service).
type Passkeys interface {
	Begin(ctx context.Context, actor, userID, name string) (*passkey.Begun, error)
	Finish(ctx context.Context, actor, userID, deviceID, answer string) (*sls.Device, error)
	SetFirstStep(ctx context.Context, actor, userID, deviceID string, on bool) (*sls.Device, error)
	Remove(ctx context.Context, actor, userID, deviceID string) (*sls.Device, error)
	// BeginFirstStep and FirstStep: a login with a passkey alone.
	BeginFirstStep() (json.RawMessage, string, error)
	FirstStep() passkey.FirstStep
}

// The passkey pages change what can log in as the user, so they need a
// device proven in the session just now; finishing a registration needs
// the session only (it began under a step-up).
func (p *Portal) passkeyRoutes(handle func(string, sls.Access, func(*req))) {
	if p.d.Passkeys == nil {
		return
	}
	handle("GET /settings/passkeys", sls.ForStepUp, p.passkeysPage)
	handle("POST /settings/passkeys/begin", sls.ForStepUp, p.passkeyBegin)
	handle("POST /settings/passkeys/finish", sls.ForSession, p.passkeyFinish)
	handle("POST /settings/passkeys/first-step", sls.ForStepUp, p.passkeyFirstStep)
	handle("POST /settings/passkeys/remove", sls.ForStepUp, p.passkeyRemove)
	handle("GET /login/passkey", sls.ForAnyone, func(q *req) { p.passkeyLoginPage(q) })
	handle("POST /login/passkey", sls.ForAnyone, p.passkeyLogin)
}

type passkeyLoginPage struct {
	Options, State string
}

// passkeyLoginPage asks the browser for a passkey of this site.
func (p *Portal) passkeyLoginPage(q *req, opts ...renderOpt) {
	if q.ss != nil {
		q.redirect(q.afterLogin(q.ss))
		return
	}
	o, state, err := p.d.Passkeys.BeginFirstStep()
	if err != nil {
		q.fail(err)
		return
	}
	q.render("passkey_login", q.t("passkey.login_title"), passkeyLoginPage{Options: string(o), State: state}, append(opts, withPasskeyScript())...)
}

// passkeyLogin logs in with the passkey's answer, or says it could not,
// as a wrong password would.
func (p *Portal) passkeyLogin(q *req) {
	step, err := p.d.Login.FirstStep(q.r.Context(), login.FirstStepRequest{Platform: sls.PlatformPortal, ClientIP: httpapi.ClientIP(q.r),
		UserAgent: q.r.UserAgent(), State: q.r.PostFormValue("state"), Answer: q.r.PostFormValue("credential")}, p.d.Passkeys.FirstStep())
	if err != nil || step == nil || step.Session == nil {
		msg := q.t("passkey.login_failed")
		if sls.ErrorCode(err) == sls.CodeRateLimited {
			msg = q.errText(err)
		}
		status := statusOf(err)
		if err == nil {
			status = http.StatusUnauthorized
		}
		q.back("/login/passkey", status, msg)
		return
	}
	q.startSession(step.Session)
}

type passkeyRow struct {
	ID, Name  string
	Created   time.Time
	FirstStep bool
	Warning   bool
}

type passkeysPage struct {
	Passkeys []passkeyRow
	// A registration begun: the pending device and the browser's options.
	DeviceID string
	Options  string
}

func (p *Portal) passkeyRows(q *req) ([]passkeyRow, error) {
	devs, err := p.d.Manage.Devices(q.r.Context(), q.u.ID)
	if err != nil {
		return nil, err
	}
	var rows []passkeyRow
	for _, d := range devs {
		if d.Kind != sls.KindPasskey || d.State != sls.StateActive {
			continue
		}
		st, _ := passkey.ReadState(d)
		rows = append(rows, passkeyRow{ID: d.ID, Name: d.Label, Created: d.CreatedAt, FirstStep: st.FirstStep, Warning: st.CloneWarning})
	}
	return rows, nil
}

func (p *Portal) renderPasskeys(q *req, data passkeysPage, opts ...renderOpt) {
	rows, err := p.passkeyRows(q)
	if err != nil {
		q.fail(err)
		return
	}
	data.Passkeys = rows
	q.render("passkeys", q.t("passkey.title"), data, append(opts, withPasskeyScript())...)
}

// passkeysPage lists the passkeys; after "Add", the registration just
// begun (its pending device and the browser's options, public values the
// begin form left in the flash).
func (p *Portal) passkeysPage(q *req) {
	p.renderPasskeys(q, passkeysPage{DeviceID: q.formValue("pk_device"), Options: q.formValue("pk_options")})
}

func (p *Portal) passkeyBegin(q *req) {
	b, err := p.d.Passkeys.Begin(q.r.Context(), sls.ActorUser(q.u.ID), q.u.ID, q.r.PostFormValue("name"))
	if err != nil {
		q.back("/settings/passkeys", statusOf(err), q.errText(err))
		return
	}
	q.redirectWith("/settings/passkeys", flash{Fields: map[string]string{"pk_device": b.DeviceID, "pk_options": string(b.Options)}})
}

func (p *Portal) passkeyFinish(q *req) {
	_, err := p.d.Passkeys.Finish(q.r.Context(), sls.ActorUser(q.u.ID), q.u.ID, q.r.PostFormValue("device_id"), q.r.PostFormValue("credential"))
	if err != nil {
		q.back("/settings/passkeys", statusOf(err), q.errText(err))
		return
	}
	q.redirect("/settings/passkeys?n=passkey_added")
}

func (p *Portal) passkeyFirstStep(q *req) {
	_, err := p.d.Passkeys.SetFirstStep(q.r.Context(), sls.ActorUser(q.u.ID), q.u.ID, q.r.PostFormValue("device_id"), q.r.PostFormValue("enabled") == "1")
	if err != nil {
		q.back("/settings/passkeys", statusOf(err), q.errText(err))
		return
	}
	q.redirect("/settings/passkeys?n=passkey_saved")
}

func (p *Portal) passkeyRemove(q *req) {
	_, err := p.d.Passkeys.Remove(q.r.Context(), sls.ActorUser(q.u.ID), q.u.ID, q.r.PostFormValue("device_id"))
	if err != nil {
		q.back("/settings/passkeys", statusOf(err), q.errText(err))
		return
	}
	q.redirect("/settings/passkeys?n=passkey_removed")
}
