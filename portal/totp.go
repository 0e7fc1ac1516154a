package portal

import (
	"context"
	"encoding/base64"
	"html/template"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/totp"
)

// TOTP enrols authenticator apps (*totp.Service).
type TOTP interface {
	Enrol(ctx context.Context, actor, userID, label string) (*totp.Enrolled, error)
	Confirm(ctx context.Context, actor, userID, deviceID, code string) (*sls.Device, error)
}

// Setting up an app enrols a device, so it needs a device proven in the
// session just now; confirming takes the app's first code.
func (p *Portal) totpRoutes(handle func(string, sls.Access, func(*req))) {
	if p.d.TOTP == nil {
		return
	}
	handle("GET /settings/totp", sls.ForStepUp, p.totpPage)
	handle("POST /settings/totp", sls.ForStepUp, p.totpStart)
	handle("POST /settings/totp/confirm", sls.ForSession, p.totpConfirm)
}

type totpPage struct {
	DeviceID      string
	QR            template.URL // data: URL of the PNG
	SecretGrouped string
	ExpiresAt     time.Time
}

func (p *Portal) totpPage(q *req) {
	data := totpPage{}
	if id := q.formValue("device_id"); deviceIDPattern.MatchString(id) {
		// A wrong first code: the form again (the secret is not shown again).
		data = totpPage{DeviceID: id, ExpiresAt: p.now().Add(totp.PendingFor)}
	}
	q.render("totp", q.t("totp.title"), data)
}

// totpStart makes the pending device and shows its QR code and secret,
// this once. It is the one form whose answer is a page rather than a
// redirect: the secret may travel neither in a cookie nor in a URL, and
// the service does not show it twice. A reload posts again, which makes a
// new pending device (the old one expires unconfirmed).
func (p *Portal) totpStart(q *req) {
	e, err := p.d.TOTP.Enrol(q.r.Context(), sls.ActorUser(q.u.ID), q.u.ID, q.r.PostFormValue("label"))
	var png []byte
	if err == nil {
		png, err = totp.QRPNG(e.URI)
	}
	if err != nil {
		q.status = statusOf(err)
		q.render("totp", q.t("totp.title"), totpPage{}, withError(q.errText(err)))
		return
	}
	q.render("totp", q.t("totp.title"), totpPage{DeviceID: e.Device.ID, ExpiresAt: e.Device.ExpiresAt, SecretGrouped: group(e.Secret, 4),
		QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
}

// totpConfirm activates the app with its first code; a wrong code keeps
// the form (the secret is not shown again).
func (p *Portal) totpConfirm(q *req) {
	id := q.r.PostFormValue("device_id")
	_, err := p.d.TOTP.Confirm(q.r.Context(), sls.ActorUser(q.u.ID), q.u.ID, id, q.r.PostFormValue("code"))
	if err != nil {
		keep := []string{"device_id"}
		if !deviceIDPattern.MatchString(id) || sls.ErrorCode(err) == sls.CodeNotFound || sls.ErrorCode(err) == sls.CodeLoginExpired ||
			sls.ErrorCode(err) == sls.CodeConflict {
			keep = nil // nothing left to confirm: start again
		}
		q.back("/settings/totp", statusOf(err), q.errText(err), keep...)
		return
	}
	q.redirect("/settings/security?n=totp_added")
}

// group splits s into groups of n for reading aloud or typing.
func group(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s); i += n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+n, len(s))])
	}
	return b.String()
}
