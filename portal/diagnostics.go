package portal

import (
	"net/http"
	"net/url"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/diagnostics"
	"github.com/secure-login-system/sls/httpapi"
)

// DiagnosticsDesk receives diagnostic bundles (*diagnostics.Service).
type DiagnosticsDesk interface {
	Receive(w http.ResponseWriter, r *http.Request, who diagnostics.Uploader) (*sls.Diagnostic, error)
}

// diagnosticsPage is the upload form, or the reference of the bundle
// just uploaded.
type diagnosticsPage struct {
	Action   string // the form's action, with the CSRF token (see csrfOK)
	Username string
	LoggedIn bool
	Ref      string
	Reason   string
}

// The article "How to Upload a Diagnostic Bundle" starts at the login
// screen: a client who cannot log in must still be able to send one. The
// page takes a username as typed (nothing says whether it exists), or the
// session's user when there is one.
func (p *Portal) diagnosticsRoutes(handle func(string, sls.Access, func(*req))) {
	if p.d.Diagnostics == nil {
		return
	}
	any := sls.ForAnyone
	handle("GET /diagnostics", any, p.diagnosticsForm)
	handle("POST /diagnostics", any, p.diagnosticsUpload)
}

func (p *Portal) diagnosticsForm(q *req) {
	page := diagnosticsPage{Action: "/diagnostics?csrf=" + url.QueryEscape(q.csrfToken())}
	if q.u != nil {
		page.Username, page.LoggedIn = q.u.Username, true
	}
	// After an upload (post/redirect/get), the reference to cite; only
	// its shape is checked: the page shows what is in the address bar.
	if ref, ok := sls.ParseDiagnosticRef(q.r.URL.Query().Get("ref")); ok {
		page.Ref = ref
	}
	q.render("diagnostics", q.t("diag.title"), page)
}

func (p *Portal) diagnosticsUpload(q *req) {
	who := diagnostics.Uploader{ClientIP: httpapi.ClientIP(q.r)}
	if q.ss != nil {
		who.User = q.u
	}
	d, err := p.d.Diagnostics.Receive(q.w, q.r, who)
	if err != nil {
		// Post/redirect/get like every form (flash.go); no field is kept,
		// since reading one would parse the multipart body.
		q.back("/diagnostics", statusOf(err), q.errText(err))
		return
	}
	q.redirect("/diagnostics?ref=" + url.QueryEscape(d.Ref))
}

// multipartForm reports whether the request's body is a multipart form,
// whose CSRF token travels in the address (reading the body for it would
// consume the upload).
func multipartForm(r *http.Request) bool {
	return strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "multipart/")
}
