package portal

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
)

// pageTemplate is one page: the layout with the page's "content".
type pageTemplate struct {
	t *template.Template
}

// parsePages parses the layout once per page file, so each page defines
// its own "content" block.
func parsePages() (map[string]*pageTemplate, error) {
	layout, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("portal: layout: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*pageTemplate{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("portal: template %s: %w", name, err)
		}
		pages[name] = &pageTemplate{t: t}
	}
	return pages, nil
}

// view is what every template gets: the page's data in D, plus the
// layout's needs and the helpers (T, Time, Device, Money…).
type view struct {
	Lang   string
	Title  string
	Brand  string
	CSRF   string
	User   *sls.User
	Sess   *sls.Session
	Nav    []navItem
	Langs  []langOption
	Path   string
	Notice string // a confirmation (role=status)
	Error  string // a refusal (role=alert)
	Script bool   // load the push-wait script
	// Passkey loads the WebAuthn script (passkey pages and challenges).
	Passkey bool
	Print   bool // a page meant for printing
	// Refresh sends the browser on to this URL at once (a meta refresh:
	// leaving the portal for an application after a form, which the
	// CSP's form-action 'self' would stop as a redirect).
	Refresh string
	D       any

	brand *brand
	loc   *time.Location // the zone times are shown in (zone.go)
	now   time.Time      // for relative times ("in 2 minutes")
}

// T translates key, formatting args into it when given.
func (v *view) T(key string, args ...any) string { return v.brand.translate(v.Lang, key, args...) }

// TH is T for arguments that are markup of ours (Time, Clock): the
// text is escaped here and the elements kept.
func (v *view) TH(key string, args ...any) template.HTML {
	return v.brand.translateHTML(v.Lang, key, args...)
}

// Branding is the configured branding, for the layout.
func (v *view) Branding() Branding { return v.brand.cfg }

// Logo is the logo's URL, empty when none is configured.
func (v *view) Logo() string {
	if v.brand.logo == nil {
		return ""
	}
	return brandLogoPath
}

// Support lists the footer's contacts by region.
func (v *view) Support() []supportLine { return v.brand.support }

// renderOpt adjusts one rendering.
type renderOpt func(*view)

func withError(msg string) renderOpt { return func(v *view) { v.Error = msg } }
func withScript() renderOpt          { return func(v *view) { v.Script = true } }
func withRefresh(u string) renderOpt { return func(v *view) { v.Refresh = u } }
func withPasskeyScript() renderOpt   { return func(v *view) { v.Passkey = true } }
func withPrint() renderOpt           { return func(v *view) { v.Print = true } }

// render writes page name with data.
func (q *req) render(name, title string, data any, opts ...renderOpt) {
	pt, ok := q.p.pages[name]
	if !ok {
		q.fail(fmt.Errorf("portal: no template %q", name))
		return
	}
	v := &view{Lang: q.lang, Title: title, Brand: q.p.cfg.Brand, CSRF: q.csrfToken(), User: q.u, Sess: q.ss,
		Nav: q.p.nav(q), Langs: langOptions(q.lang), Path: q.r.URL.Path, D: data,
		brand: q.p.brand, loc: q.zone(), now: q.p.now()}
	if n := q.r.URL.Query().Get("n"); n != "" {
		if key := "notice." + n; translate(q.lang, key) != key {
			v.Notice = q.t(key) // only known notices: the query cannot inject text
		}
	}
	if f := q.flash; f != nil {
		// The form's answer, kept across the redirect (flash.go).
		if f.Notice != "" {
			v.Notice = f.Notice
		}
		if f.Error != "" {
			v.Error = f.Error
		}
		if f.Status != 0 && (q.status == 0 || q.status == http.StatusOK) {
			q.status = f.Status // the refusal's status, as the form's answer had it
		}
	}
	for _, o := range opts {
		o(v)
	}
	var buf bytes.Buffer
	if err := pt.t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		q.p.d.Log.ErrorContext(q.r.Context(), "portal: rendering", "page", name, "err", err)
		http.Error(q.w, "An internal error occurred.", http.StatusInternalServerError)
		return
	}
	q.w.Header().Set("Content-Type", "text/html; charset=utf-8")
	status := q.status
	if status == 0 {
		status = http.StatusOK
	}
	q.w.WriteHeader(status)
	q.w.Write(buf.Bytes())
}

// fail shows a generic error for an unexpected failure; the cause goes to
// the log only.
func (q *req) fail(err error) {
	q.p.d.Log.ErrorContext(q.r.Context(), "portal: internal error", "path", q.r.URL.Path, "err", err)
	q.status = http.StatusInternalServerError
	q.render("error", q.t("err.title"), errorPage{Message: q.t("err.internal")})
}

func (q *req) notFound() {
	q.status = http.StatusNotFound
	q.render("error", q.t("err.not_found_title"), errorPage{Message: q.t("err.not_found")})
}

// errText is the message to show for a service error: a translated text
// for the codes clients meet, else the service's own (English) message,
// and a generic one for internal errors.
func (q *req) errText(err error) string {
	var e *sls.Error
	if !errors.As(err, &e) {
		q.p.d.Log.ErrorContext(q.r.Context(), "portal: internal error", "path", q.r.URL.Path, "err", err)
		return q.t("err.internal")
	}
	httpapi.SetRetryAfter(q.w, e) // the page about to be shown says when to come back too
	switch e.Code {
	case sls.CodeInvalidCredentials, sls.CodeBadResponse, sls.CodeLocked, sls.CodeLoginExpired, sls.CodeLoginCompleted,
		sls.CodeTooManyAttempts, sls.CodeUnauthenticated, sls.CodeIPNotAllowed:
		return q.t("err." + string(e.Code))
	case sls.CodeRateLimited:
		if s, ok := e.Detail["retry_after_seconds"]; ok && e.Detail["limit"] != nil {
			return q.t("err.limited_after", fmt.Sprint(s)) // a rate limit (package ratelimit)
		}
		if s, ok := e.Detail["retry_after_seconds"]; ok {
			return q.t("err.rate_limited_after", fmt.Sprint(s))
		}
		return q.t("err.rate_limited")
	case sls.CodeUnavailable:
		if _, ok := e.Detail["retry_after_seconds"]; ok {
			return q.t("err.busy")
		}
	case sls.CodeInternal:
		return q.t("err.internal")
	}
	return e.Message
}

// statusOf is the HTTP status that goes with a refusal on a page.
func statusOf(err error) int { return httpapi.StatusOf(sls.ErrorCode(err)) }
