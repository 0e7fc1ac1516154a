package portal

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/totp"
	"github.com/secure-login-system/sls/seal"
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
	if e, ok := p.takeEnrolment(q); ok {
		// Just set up: the QR code and the secret, this once.
		png, err := totp.QRPNG(e.URI)
		if err != nil {
			q.fail(err)
			return
		}
		q.render("totp", q.t("totp.title"), totpPage{DeviceID: e.DeviceID, ExpiresAt: e.ExpiresAt, SecretGrouped: group(e.Secret, 4),
			QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))})
		return
	}
	if id := q.formValue("device_id"); deviceIDPattern.MatchString(id) {
		// A wrong first code: the form again (the secret is not shown again).
		data = totpPage{DeviceID: id, ExpiresAt: p.now().Add(totp.PendingFor)}
	}
	q.render("totp", q.t("totp.title"), data)
}

// cookieTOTP carries a new app's secret from the form to the page that
// shows it (post/redirect/get), sealed for this session, read once and
// for a minute at most: a reload of that page shows the confirmation
// form, not the secret again, and posts nothing.
const cookieTOTP = "sls_totp"

// totpEnrolment is what the page shows of a new app.
type totpEnrolment struct {
	DeviceID  string    `json:"d"`
	URI       string    `json:"u"`
	Secret    string    `json:"s"`
	ExpiresAt time.Time `json:"e"`
}

func totpPlace(sessionID string) seal.Place {
	return seal.Place{Table: "portal", Column: "totp_enrolment", Row: sessionID}
}

// takeEnrolment reads and clears the sealed enrolment cookie.
func (p *Portal) takeEnrolment(q *req) (totpEnrolment, bool) {
	var e totpEnrolment
	v := q.cookie(cookieTOTP)
	if v == "" {
		return e, false
	}
	q.clearCookie(cookieTOTP)
	ct, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(v) > 4000 {
		return e, false
	}
	b, err := p.d.Sealer.Open(totpPlace(q.ss.ID), ct)
	if err != nil || json.Unmarshal(b, &e) != nil || !deviceIDPattern.MatchString(e.DeviceID) {
		return e, false
	}
	return e, true
}

// totpStart makes the pending device and redirects to the page that
// shows its QR code and secret, once (see cookieTOTP).
func (p *Portal) totpStart(q *req) {
	e, err := p.d.TOTP.Enrol(q.r.Context(), sls.ActorUser(q.u.ID), q.u.ID, q.r.PostFormValue("label"))
	var ct []byte
	if err == nil {
		b, _ := json.Marshal(totpEnrolment{DeviceID: e.Device.ID, URI: e.URI, Secret: e.Secret, ExpiresAt: e.Device.ExpiresAt})
		ct, err = p.d.Sealer.Seal(totpPlace(q.ss.ID), b)
	}
	if err != nil {
		q.back("/settings/totp", statusOf(err), q.errText(err))
		return
	}
	q.setCookie(cookieTOTP, base64.RawURLEncoding.EncodeToString(ct), 60)
	q.redirect("/settings/totp")
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
