package portal

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/factor/sms"
	"github.com/secure-login-system/sls/login"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/messages"
	"github.com/secure-login-system/sls/notify"
	"github.com/secure-login-system/sls/ratelimit"
	"github.com/secure-login-system/sls/seal"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Phone is mobile-number verification (*sms.Phone).
type Phone interface {
	Status(ctx context.Context, userID string) (*sms.VerificationStatus, error)
	StartVerification(ctx context.Context, userID, mobile, clientIP string) (*sms.VerificationStatus, error)
	ConfirmVerification(ctx context.Context, userID, code string) (*sms.VerificationStatus, error)
}

// CodeResender is "Didn't receive a security code?" for a login waiting
// for an SMS code (*sms.Factor).
type CodeResender interface {
	ResendLogin(ctx context.Context, store sls.Store, loginID, channel string, now time.Time) (*sls.Prompt, error)
}

// MessageCenter lists a client's secure messages (*messages.Service).
type MessageCenter interface {
	List(ctx context.Context, userID string) ([]messages.Message, error)
}

// TicketDesk opens and lists a client's Message Center tickets
// (*messages.Service). OpenTicket refuses a diagnostics reference that is
// not the client's with a not_found error whose Detail["field"] is
// "diagnostic_ref", the same for an unknown one.
type TicketDesk interface {
	OpenTicket(ctx context.Context, u *sls.User, subject, body, ref string) (*messages.TicketView, error)
	Tickets(ctx context.Context, userID string) ([]messages.TicketView, error)
}

// PreferenceStore reads and saves message-center preferences.
type PreferenceStore interface {
	Get(ctx context.Context, u *sls.User) (notify.Preferences, error)
	// Save validates and stores p; a refusal is an *sls.Error to show.
	Save(ctx context.Context, u *sls.User, p notify.Preferences) error
}

// Deps are what the portal needs. The optional features (nil) hide their
// pages.
type Deps struct {
	Login  *login.Service
	Manage *manage.Service
	Store  sls.Store
	// Sealer keys the CSRF tokens (every node shares the sealing key, so
	// any node checks a token another node issued).
	Sealer *seal.Sealer
	Clock  sls.Clock
	Log    *slog.Logger
	Rand   io.Reader // nil: crypto/rand
	Config Config

	Phone    Phone
	Resend   CodeResender
	Messages MessageCenter
	// Diagnostics receives diagnostic bundles from the login screen or a
	// session (nil: no upload page).
	Diagnostics DiagnosticsDesk
	// Tickets lets clients open tickets in the Message Center (nil: not
	// offered).
	Tickets   TicketDesk
	Prefs     PreferenceStore
	IBKey     IBKey
	Protect   Protect
	Lifecycle Lifecycle
	// StepUp proves a device inside a session; nil: pages that need a
	// fresh proof answer with an error instead of asking for one.
	StepUp StepUp
	// Limiter bounds anonymous password resets per address (nil: none).
	Limiter *ratelimit.Limiter
	// OIDC is the OpenID Connect provider whose sign-in pages the portal
	// serves (nil: none).
	OIDC OIDC
	// TOTP enrols authenticator apps (nil: not offered).
	TOTP TOTP
	// Passkeys registers passkeys (nil: not offered).
	Passkeys Passkeys
	// Documents lists and serves the statements and tax forms delivered
	// for the user's account (nil: no statements page).
	Documents Documents
	// Report follows "this wasn't me" links (nil: no report page), and
	// ReportSelf takes a logged-in client's report (nil: not offered).
	Report     Reporter
	ReportSelf SelfReporter
	// Crypto is cryptocurrency trading (nil: not offered).
	Crypto Crypto
}

// Portal serves the pages.
type Portal struct {
	d       Deps
	cfg     Config
	pages   map[string]*pageTemplate
	mux     *http.ServeMux
	table   []Route
	cop     *http.CrossOriginProtection
	static  http.Handler
	handler http.Handler
	brand   *brand
}

// New builds the portal. Login, Manage, Store and Sealer are required.
func New(d Deps) (*Portal, error) {
	if d.Login == nil || d.Manage == nil || d.Store == nil || d.Sealer == nil {
		return nil, errors.New("portal: Login, Manage, Store and Sealer are required")
	}
	if d.Clock == nil {
		d.Clock = sls.SystemClock{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Rand == nil {
		d.Rand = rand.Reader
	}
	cfg := d.Config.WithDefaults(d.Login.Config())
	if err := cfg.Validate(d.Login.Config()); err != nil {
		return nil, err
	}
	p := &Portal{d: d, cfg: cfg}
	var err error
	if p.brand, err = newBrand(cfg.Branding); err != nil {
		return nil, err
	}
	if p.pages, err = parsePages(); err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, fmt.Errorf("portal: static: %w", err)
	}
	p.static = http.StripPrefix("/static/", staticFiles(sub))
	p.cop = http.NewCrossOriginProtection()
	p.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.forbidden(w, r, "cross-origin")
	}))
	if err := p.routes(); err != nil {
		return nil, err
	}
	p.handler = http.HandlerFunc(p.serve)
	return p, nil
}

// Handler serves every page and the static files; mount it at "/" (and
// "/static/").
func (p *Portal) Handler() http.Handler { return p.handler }

// csp is the Content-Security-Policy of every page: nothing but this
// origin's own script, style and images (and data: images for the QR
// code); forms post only here; no framing; no <base>. connect-src lets the
// push page's script ask this origin whether the push was answered.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (p *Portal) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if strings.HasPrefix(r.URL.Path, "/static/") {
		if p.brand.serveAsset(w, r) {
			return
		}
		p.static.ServeHTTP(w, r)
		return
	}
	// Pages hold personal data and one-time values.
	h.Set("Cache-Control", "no-store")
	p.mux.ServeHTTP(w, r)
}

// staticFiles serves the embedded assets; they change only with the
// binary, so browsers may keep them for a day.
func staticFiles(fsys fs.FS) http.Handler {
	fileServer := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fileServer.ServeHTTP(w, r)
	})
}

// Route is one declared page: its pattern ("METHOD /path"), who may see
// it (sls.Access: the same declaration and the same decision as the JSON
// API's routes) and its handler. New refuses a page that declares
// nothing.
type Route struct {
	Pattern string
	Access  sls.Access
	handle  func(*req)
}

// Routes returns the declared pages, for the access matrix and its test.
func (p *Portal) Routes() []Route { return slices.Clone(p.table) }

func (p *Portal) routes() error {
	m := http.NewServeMux()
	p.mux = m
	handle := func(pattern string, a sls.Access, h func(*req)) {
		p.table = append(p.table, Route{Pattern: pattern, Access: a, handle: h})
	}
	session := sls.ForSession
	closedOK := sls.ForSession.Also(sls.ScopeStatementsOnly)
	cardPage := sls.ForSession.Also(sls.ScopeOnlineCardOnly)
	// SPEC §1/§6: a temporary passcode (even past its 2 days) prints and
	// activates an Online Security Code Card; anyone else who holds a
	// device proves it first.
	card := sls.ForStepUpOrTemporary.Also(sls.ScopeOnlineCardOnly)

	handle("GET /{$}", closedOK, p.home)
	if p.d.Documents != nil {
		handle("GET /statements", closedOK, p.statementsPage)
		handle("GET /statements/{id}", closedOK, p.statementFile)
	}
	handle("GET /login", sls.ForAnyone, p.loginPage)
	handle("POST /login", sls.ForAnyone, p.loginStart)
	handle("POST /login/device", sls.ForAnyone, p.loginDevice)
	handle("POST /login/answer", sls.ForAnyone, p.loginAnswer)
	handle("POST /login/resend", sls.ForAnyone, p.loginResend)
	handle("POST /login/push", sls.ForAnyone, p.loginPushDone)
	handle("POST /login/wait", sls.ForAnyone, p.loginWait)
	handle("POST /login/cancel", sls.ForAnyone, p.loginCancel)
	handle("POST /logout", sls.ForSession.Also(sls.AnyScope), p.logout)
	handle("POST /lang", sls.ForAnyone, p.setLang)

	handle("GET /settings/security", session, p.securityPage)
	handle("GET /settings/onlinecard", cardPage, p.onlineCardPage)
	handle("POST /settings/onlinecard", card, p.onlineCardRequest)
	handle("GET /settings/onlinecard/print", card, p.onlineCardPrint)
	handle("POST /settings/onlinecard/activate", card, p.onlineCardActivate)
	handle("GET /settings/sessions", session, p.sessionsPage)
	handle("POST /settings/sessions/end", session, p.sessionEnd)
	if p.d.Phone != nil {
		handle("GET /settings/mobile", session, p.mobilePage)
		handle("POST /settings/mobile/verify", sls.ForStepUp, p.mobileVerify)
		handle("POST /settings/mobile/confirm", session, p.mobileConfirm)
	}
	if p.d.Prefs != nil {
		handle("GET /settings/messages", session, p.prefsPage)
		handle("POST /settings/messages", sls.ForStepUp, p.prefsSave)
	}
	if p.d.Messages != nil {
		handle("GET /messages", session, p.messagesPage)
		if p.d.Tickets != nil {
			handle("POST /messages/tickets", session, p.ticketOpen)
		}
	}
	if p.d.IBKey != nil {
		handle("GET /ibkey", sls.ForStepUp, p.ibkeyPage)
	}
	if p.d.StepUp != nil {
		p.stepUpRoutes(handle)
	}
	p.protectRoutes(handle)
	p.lifecycleRoutes(handle)
	p.passwordRoutes(handle)
	p.oidcRoutes(handle)
	p.totpRoutes(handle)
	p.passkeyRoutes(handle)
	p.reportRoutes(handle)
	p.diagnosticsRoutes(handle)
	p.cryptoRoutes(handle)
	p.pageRoutes(handle)
	for _, rt := range p.table {
		if !rt.Access.Declared() || rt.handle == nil {
			return fmt.Errorf("portal: page %q declares no access (deny by default)", rt.Pattern)
		}
		m.Handle(rt.Pattern, p.wrap(rt.Access, rt.handle))
	}
	m.Handle("/", p.wrap(sls.ForAnyone, func(q *req) { q.notFound() }))
	return nil
}

// navItem is one entry of the menu.
type navItem struct {
	Path, Key string
	Current   bool
}

func (p *Portal) nav(q *req) []navItem {
	if q.ss == nil {
		return nil
	}
	var items []navItem
	switch q.ss.Scope {
	case sls.ScopeOnlineCardOnly:
		items = []navItem{{Path: "/settings/onlinecard", Key: "nav.onlinecard"}}
	case sls.ScopeStatementsOnly:
		items = []navItem{{Path: "/", Key: "nav.home"}}
		if p.d.Documents != nil {
			items = append(items, navItem{Path: "/statements", Key: "nav.statements"})
		}
	default:
		items = []navItem{{Path: "/", Key: "nav.home"}, {Path: "/settings/security", Key: "nav.security"}}
		if p.d.Phone != nil {
			items = append(items, navItem{Path: "/settings/mobile", Key: "nav.mobile"})
		}
		if p.d.Messages != nil {
			items = append(items, navItem{Path: "/messages", Key: "nav.messages"})
		}
		if p.d.Prefs != nil {
			items = append(items, navItem{Path: "/settings/messages", Key: "nav.prefs"})
		}
		if p.d.Protect != nil {
			items = append(items, navItem{Path: "/withdraw", Key: "nav.withdraw"})
		}
		if p.d.Documents != nil {
			items = append(items, navItem{Path: "/statements", Key: "nav.statements"})
		}
		if p.d.Crypto != nil {
			items = append(items, navItem{Path: "/crypto", Key: "nav.crypto"})
		}
		items = append(items, navItem{Path: "/settings/sessions", Key: "nav.sessions"})
	}
	for i := range items {
		items[i].Current = items[i].Path == q.r.URL.Path
	}
	return items
}

func (p *Portal) now() time.Time { return p.d.Clock.Now() }

// maxForm bounds a posted form; no page needs more.
const maxForm = 32 << 10

// wrap turns a page function into a handler: it finds the session and
// the language, refuses forged posts, and applies the page's declared
// access (sls.Access.Check, the one decision the JSON API uses too). A
// session that must prove a device first is sent to the step-up page,
// which brings it back here.
func (p *Portal) wrap(a sls.Access, h func(*req)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := &req{p: p, w: w, r: r, secure: p.secureCookies(r)}
		if r.Method == http.MethodPost {
			if err := p.cop.Check(r); err != nil {
				p.forbidden(w, r, "cross-origin")
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "The form could not be read.", http.StatusBadRequest)
				return
			}
		}
		q.loadSession()
		q.lang = p.chooseLang(q)
		q.ensurePre()
		q.loadFlash()
		public := a.Caller == sls.CallerAnyone
		if !public && q.ss == nil {
			if r.Method == http.MethodGet {
				q.redirect("/login")
			} else {
				q.back("/login", http.StatusUnauthorized, q.t("err.session_ended"))
			}
			return
		}
		// Access first: a refusal only redirects and changes nothing, so
		// it needs no token; everything that acts is checked for CSRF.
		if !public {
			if err := a.Check(q.ss, p.now(), p.stepUpWindow()); err != nil {
				p.refuse(q, err)
				return
			}
		}
		if r.Method == http.MethodPost && !q.csrfOK(!public) {
			p.forbidden(w, r, "csrf")
			return
		}
		h(q)
	})
}

// refuse answers a session the page's access turned down: to the step-up
// page when a device proof would do, else to the page its scope allows.
func (p *Portal) refuse(q *req, err error) {
	switch {
	case sls.ErrorCode(err) == sls.CodeStepUpRequired && p.d.StepUp != nil:
		q.redirect("/stepup?next=" + url.QueryEscape(p.returnPath(q.r.URL.Path)))
	case q.ss.Scope == sls.ScopeOnlineCardOnly:
		q.redirect("/settings/onlinecard?n=card_only")
	case q.ss.Scope == sls.ScopeOperator:
		// An operator's login serves only slsctl's token exchange; no page
		// serves it (and "/" would refuse it again).
		q.status = http.StatusForbidden
		q.render("error", q.t("err.title"), errorPage{Message: q.t("notice.not_allowed")})
	case sls.ErrorCode(err) == sls.CodeStepUpRequired:
		q.status = http.StatusUnauthorized
		q.render("error", q.t("err.title"), errorPage{Message: q.errText(err)})
	default:
		q.redirect("/?n=not_allowed")
	}
}

// allows reports whether the request's session passes access a (for
// parts of a page, such as the IB Key banner with its activation code).
func (q *req) allows(a sls.Access) bool {
	return q.ss != nil && a.Check(q.ss, q.p.now(), q.p.stepUpWindow()) == nil
}

func (p *Portal) stepUpWindow() time.Duration { return p.d.Login.Config().StepUpWindow }

// returnPath is the page to come back to after a step-up: the page
// itself, or for a form post the nearest page above it (POST
// /settings/security/opt-out comes back to /settings/security).
func (p *Portal) returnPath(path string) string {
	for path != "" && path != "/" {
		if p.isPage(path) {
			return path
		}
		path = path[:strings.LastIndex(path, "/")]
	}
	return "/"
}

// isPage reports whether path is a declared GET page (the only places a
// step-up may send the browser back to: no open redirect).
func (p *Portal) isPage(path string) bool {
	for _, rt := range p.table {
		if rt.Pattern == "GET "+path {
			return true
		}
	}
	return false
}

func (p *Portal) forbidden(w http.ResponseWriter, r *http.Request, why string) {
	p.d.Log.WarnContext(r.Context(), "portal: refused a forged or stale form", "path", r.URL.Path, "why", why)
	q := &req{p: p, w: w, r: r, secure: p.secureCookies(r)}
	q.loadSession()
	q.lang = p.chooseLang(q)
	q.ensurePre()
	q.status = http.StatusForbidden
	q.render("error", q.t("err.title"), errorPage{Message: q.t("err.csrf")})
}

type errorPage struct{ Message string }
