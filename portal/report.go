package portal

import (
	"net/http"
	"net/url"

	sls "github.com/secure-login-system/sls"
)

// Reporter follows a "this wasn't me" link (package takeover) for the
// request's client and returns the reported username.
type Reporter func(r *http.Request, token string) (string, error)

// SelfReporter locks the logged-in user who says a session, device or
// change was not theirs (package takeover).
type SelfReporter func(r *http.Request, u *sls.User) error

// reportRoutes: the page a security notice's report link opens. GET only
// shows what will happen (mail scanners and link previews fetch links);
// the button posts, and the report locks the user at once.
func (p *Portal) reportRoutes(handle func(string, sls.Access, func(*req))) {
	if p.d.Report == nil {
		return
	}
	handle("GET /report/{token}", sls.ForAnyone, p.reportPage)
	handle("POST /report/{token}", sls.ForAnyone, p.reportSubmit)
	if p.d.ReportSelf != nil {
		// Any session may: whoever holds one can lock the account it
		// belongs to, which only ever stops access.
		handle("POST /settings/report", sls.ForSession, p.reportSelf)
	}
}

func (p *Portal) reportSelf(q *req) {
	if err := p.d.ReportSelf(q.r, q.u); err != nil {
		q.back("/settings/sessions", statusOf(err), q.errText(err))
		return
	}
	q.redirectWith(reportDone, flash{Fields: map[string]string{"done": "1"}})
}

// reportDone is where a report's answer is shown (GET /report/{token}
// with the flash of a report just made).
const reportDone = "/report/done"

type reportPageData struct {
	Token    string
	Done     bool
	Username string
}

func (p *Portal) reportPage(q *req) {
	if q.formValue("done") == "1" { // the answer of a report just made
		q.render("report", q.t("report.title"), reportPageData{Done: true})
		return
	}
	q.render("report", q.t("report.title"), reportPageData{Token: q.r.PathValue("token")})
}

func (p *Portal) reportSubmit(q *req) {
	token := q.r.PathValue("token")
	if _, err := p.d.Report(q.r, token); err != nil {
		msg := q.errText(err)
		if sls.ErrorCode(err) == sls.CodeNotFound {
			msg = q.t("report.bad_link")
		}
		q.back("/report/"+url.PathEscape(token), statusOf(err), msg)
		return
	}
	q.redirectWith(reportDone, flash{Fields: map[string]string{"done": "1"}})
}
