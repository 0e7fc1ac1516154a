package portal

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/httpapi"
)

// req is one request as the pages see it.
type req struct {
	p      *Portal
	w      http.ResponseWriter
	r      *http.Request
	secure bool // Secure, __Host- cookies (see Config.DevInsecureCookies)
	lang   string
	ss     *sls.Session
	u      *sls.User
	token  string // the session token from the cookie (when ss != nil)
	pre    string // the pre-session cookie value
	status int    // for render; 0 = 200
	flash  *flash // what the form before the redirect left for this page
}

// Cookie names without the prefix. With secure cookies each gets the
// __Host- prefix, which makes the browser insist on Secure, Path=/ and no
// Domain: a sibling subdomain can neither set nor shadow them.
const (
	cookieSession = "sls_session" // the sls session token (platform portal)
	cookieLogin   = "sls_login"   // the login transaction id and the devices offered, while logging in
	cookieStepUp  = "sls_stepup"  // a step-up in progress: its id, the devices offered and the page to return to
	cookieClient  = "sls_client"  // the known-client token of the last login from this browser (a device cookie)
	cookiePre     = "sls_pre"     // random value the login forms' CSRF token is bound to
	cookieLang    = "sls_lang"    // the language chosen with the switch
)

func (q *req) cookieName(base string) string {
	if q.secure {
		return "__Host-" + base
	}
	return base
}

// secureCookies applies the rule of Config.DevInsecureCookies.
func (p *Portal) secureCookies(r *http.Request) bool {
	if r.TLS != nil || !p.cfg.devInsecure() {
		return true
	}
	for _, h := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host"} {
		if r.Header.Get(h) != "" {
			return true // behind a proxy, which may well speak HTTPS to the browser
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err != nil || !ip.Unmap().IsLoopback()
}

func (q *req) cookie(base string) string {
	c, err := q.r.Cookie(q.cookieName(base))
	if err != nil {
		return ""
	}
	return c.Value
}

// setCookie sets a cookie with the portal's attributes: HttpOnly (no
// script reads them), SameSite=Strict (never sent on requests another
// site starts), Path=/, Secure in secure mode. maxAge 0 makes a browser
// session cookie, negative deletes.
func (q *req) setCookie(base, value string, maxAge int) {
	http.SetCookie(q.w, &http.Cookie{Name: q.cookieName(base), Value: value, Path: "/", MaxAge: maxAge,
		Secure: q.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func (q *req) clearCookie(base string) { q.setCookie(base, "", -1) }

// loadSession finds the live portal session of the cookie, if any, and
// applies the portal's own idle and absolute limits.
func (q *req) loadSession() {
	tok := q.cookie(cookieSession)
	if tok == "" {
		return
	}
	p := q.p
	ctx := q.r.Context()
	now := p.now()
	// Read the session before Authenticate refreshes its last use: the
	// idle limit is measured from the previous request.
	var ss *sls.Session
	err := p.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		ss, err = tx.SessionByTokenHash(ctx, sls.TokenHash(tok))
		return err
	})
	if err != nil || ss.Platform != sls.PlatformPortal {
		// Unknown, or a trading token pasted into a cookie: not a portal session.
		q.clearCookie(cookieSession)
		return
	}
	if now.Sub(ss.LastSeenAt) >= p.cfg.IdleTimeout.D() || now.Sub(ss.CreatedAt) >= p.cfg.AbsoluteLifetime.D() {
		if ss.EndedAt.IsZero() {
			if err := p.d.Login.End(ctx, ss.UserID, ss.ID); err != nil {
				p.d.Log.Error("portal: ending an idle session", "err", err)
			}
		}
		q.clearCookie(cookieSession)
		return
	}
	ss, u, err := p.d.Login.Authenticate(ctx, tok, httpapi.ClientIP(q.r))
	if err != nil {
		q.clearCookie(cookieSession)
		return
	}
	q.ss, q.u, q.token = ss, u, tok
}

// ensurePre makes sure the browser holds a pre-session value for the
// CSRF token of the forms shown before login.
func (q *req) ensurePre() {
	if v := q.cookie(cookiePre); validRandom(v) {
		q.pre = v
		return
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(q.p.d.Rand, b); err != nil {
		panic(err) // no randomness: nothing safe can go on
	}
	q.pre = base64.RawURLEncoding.EncodeToString(b)
	q.setCookie(cookiePre, q.pre, 0)
}

var randomPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func validRandom(s string) bool { return randomPattern.MatchString(s) }

// csrfToken is the token the page's forms carry: bound to the session when
// there is one (synchronizer token, OWASP CSRF Prevention Cheat Sheet),
// else to the pre-session cookie (signed double submit). Both are HMACs
// under a key derived from the sealing key, so every node checks them and
// nobody without the key can make one for a cookie value.
func (q *req) csrfToken() string {
	if q.ss != nil {
		return q.p.mac("portal.csrf.session", q.token)
	}
	return q.p.mac("portal.csrf.pre", q.pre)
}

func (p *Portal) mac(purpose, v string) string {
	return base64.RawURLEncoding.EncodeToString(p.d.Sealer.KeyedHash(purpose, []byte(v)))
}

// csrfOK checks the posted token: the session's for pages that need a
// session; for the login pages the session's or the pre-session one.
func (q *req) csrfOK(needSession bool) bool {
	var got string
	if multipartForm(q.r) {
		// An upload's token is in its form's action: reading the body
		// for it would consume the upload (and buffer it whole).
		got = q.r.URL.Query().Get("csrf")
	} else {
		got = q.r.PostFormValue("csrf")
	}
	if got == "" {
		got = q.r.Header.Get("X-CSRF-Token")
	}
	if got == "" {
		return false
	}
	eq := func(want string) bool { return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 }
	if q.ss != nil && eq(q.p.mac("portal.csrf.session", q.token)) {
		return true
	}
	return !needSession && q.pre != "" && eq(q.p.mac("portal.csrf.pre", q.pre))
}

// loginCookie is what the browser holds while logging in: the login
// transaction's bearer id and the devices offered (public facts, checked
// again by the login service when one is chosen).
type loginCookie struct {
	ID      string
	Choices []choice
}

type choice struct {
	ID     string         `json:"i"`
	Kind   sls.DeviceKind `json:"k"`
	Label  string         `json:"l,omitempty"`
	Serial string         `json:"s,omitempty"`
}

var (
	loginIDPattern  = regexp.MustCompile(`^login_[A-Za-z0-9_-]{43}$`)
	deviceIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// maxChoices bounds the devices a login cookie may list.
const maxChoices = 16

func (c loginCookie) encode() string {
	b, _ := json.Marshal(c.Choices)
	return c.ID + "." + base64.RawURLEncoding.EncodeToString(b)
}

var errBadCookie = errors.New("portal: malformed login cookie")

// parseLoginCookie reads a login cookie, refusing anything malformed.
func parseLoginCookie(s string) (loginCookie, error) {
	if len(s) > 3000 {
		return loginCookie{}, errBadCookie
	}
	id, rest, ok := strings.Cut(s, ".")
	if !ok || !loginIDPattern.MatchString(id) {
		return loginCookie{}, errBadCookie
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return loginCookie{}, errBadCookie
	}
	var cs []choice
	if err := json.Unmarshal(raw, &cs); err != nil || len(cs) > maxChoices {
		return loginCookie{}, errBadCookie
	}
	for _, c := range cs {
		if !deviceIDPattern.MatchString(c.ID) || !c.Kind.Valid() || len(c.Label) > 100 || len(c.Serial) > 64 {
			return loginCookie{}, errBadCookie
		}
	}
	return loginCookie{ID: id, Choices: cs}, nil
}

func (q *req) loginState() (loginCookie, bool) {
	v := q.cookie(cookieLogin)
	if v == "" {
		return loginCookie{}, false
	}
	c, err := parseLoginCookie(v)
	if err != nil {
		q.clearCookie(cookieLogin)
		return loginCookie{}, false
	}
	return c, true
}

func (q *req) setLoginState(c loginCookie) {
	// The cookie lives as long as the login may (login.Config.LoginTTL).
	q.setCookie(cookieLogin, c.encode(), int(q.p.d.Login.Config().LoginTTL.Seconds()))
}

func (q *req) redirect(path string) {
	http.Redirect(q.w, q.r, path, http.StatusSeeOther)
}
