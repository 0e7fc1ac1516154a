package portal

import (
	"errors"
	"net/http"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
	"github.com/secure-login-system/sls/ratelimit"
)

// passwordRoutes: changing one's password (with a device proven just
// now) and setting a new one with the reset code Client Services sent.
func (p *Portal) passwordRoutes(handle func(string, sls.Access, func(*req))) {
	handle("GET /settings/password", sls.ForStepUp, p.passwordPage)
	handle("POST /settings/password", sls.ForStepUp, p.passwordChange)
	handle("GET /reset", sls.ForAnyone, p.resetPage)
	handle("POST /reset", sls.ForAnyone, p.resetSubmit)
}

type resetPageData struct{ Username string }

func (p *Portal) passwordPage(q *req) {
	q.render("password", q.t("password.title"), nil)
}

func (p *Portal) passwordChange(q *req) {
	f := q.r.PostFormValue
	next := f("new_password")
	if next != f("confirm_password") {
		q.back("/settings/password", http.StatusBadRequest, q.t("password.mismatch"))
		return
	}
	if err := p.d.Manage.ChangePassword(q.r.Context(), q.ss, f("current_password"), next, httpapi.ClientIP(q.r)); err != nil {
		q.back("/settings/password", statusOf(err), p.passwordError(q, err))
		return
	}
	q.redirect("/settings/security?n=password_changed")
}

// passwordError words a refusal of a new password: the rule it broke, in
// the page's language.
func (p *Portal) passwordError(q *req, err error) string {
	var e *sls.Error
	if errors.As(err, &e) {
		if reason, _ := e.Detail["reason"].(string); reason != "" {
			if msg := q.t("password.rule." + reason); msg != "password.rule."+reason {
				return msg
			}
		}
		if e.Code == sls.CodeInvalidCredentials {
			return q.t("password.wrong_current")
		}
	}
	return q.errText(err)
}

func (p *Portal) resetPage(q *req) {
	u := q.r.URL.Query().Get("username")
	if v := q.formValue("username"); v != "" {
		u = v
	}
	q.render("reset", q.t("reset.title"), resetPageData{Username: u})
}

func (p *Portal) resetSubmit(q *req) {
	f := q.r.PostFormValue
	data := resetPageData{Username: strings.TrimSpace(f("username"))}
	if err := p.d.Limiter.Take(q.r.Context(), ratelimit.PasswordAddress, ratelimit.AddressKey(httpapi.ClientIP(q.r))); err != nil {
		q.back("/reset", statusOf(err), q.errText(err), "username")
		return
	}
	next := f("new_password")
	if next != f("confirm_password") {
		q.back("/reset", http.StatusBadRequest, q.t("password.mismatch"), "username")
		return
	}
	if err := p.d.Manage.CompletePasswordReset(q.r.Context(), data.Username, f("code"), next, httpapi.ClientIP(q.r)); err != nil {
		q.status = statusOf(err)
		msg := p.passwordError(q, err)
		if sls.ErrorCode(err) == sls.CodeInvalidCredentials {
			msg = q.t("reset.bad_code")
		}
		q.back("/reset", q.status, msg, "username")
		return
	}
	q.redirect("/login?n=password_reset")
}
