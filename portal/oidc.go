package portal

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/oidcprovider"
)

// OIDC is what the sign-in pages of the OpenID Connect provider need
// (*oidcprovider.Provider). The provider sends the browser to
// /oidc/continue?id=…; these pages have the user log in (or log in again,
// or prove the device class the application asked for), ask for consent
// where the client needs it, and hand the request back to the provider.
type OIDC interface {
	Pending(ctx context.Context, id string) (*oidcprovider.Pending, error)
	Finish(ctx context.Context, id string, ss *sls.Session) (string, error)
	Refuse(ctx context.Context, id, code, description, actor string) (string, error)
}

// cookieOIDC holds the authorization request this browser is signing in
// for, so that the login and step-up pages come back to it.
const cookieOIDC = "sls_oidc"

func (p *Portal) oidcRoutes(handle func(string, sls.Access, func(*req))) {
	if p.d.OIDC == nil {
		return
	}
	handle("GET "+oidcprovider.PathContinue, sls.ForAnyone, p.oidcContinue)
	handle("POST /oidc/consent", sls.ForSession, p.oidcConsent)
	handle("GET /oidc/leave", sls.ForAnyone, p.oidcLeave)
}

// oidcRequestID is the request this browser is on: from the link the
// provider made, else from the cookie.
func (q *req) oidcRequestID() string {
	id := q.r.URL.Query().Get("id")
	if id == "" {
		id = q.cookie(cookieOIDC)
	}
	if !oidcprovider.ValidID(id) {
		return ""
	}
	return id
}

// oidcContinue decides what a waiting authorization request needs next.
func (p *Portal) oidcContinue(q *req) {
	id := q.oidcRequestID()
	pd, err := p.pendingOIDC(q, id)
	if err != nil {
		return
	}
	q.setCookie(cookieOIDC, id, int(p.d.Login.Config().LoginTTL.Seconds())+300)
	switch {
	case q.ss != nil && q.ss.Scope != sls.ScopeFull:
		// A closed account's statements, an expired temporary passcode's
		// card page, an operator's login: none signs in to applications.
		p.oidcRefuse(q, id, oidcprovider.RefuseAccessDenied, "This login cannot be used to sign in to applications.")
	case pd.NeedsLogin(q.ss, p.now()):
		if pd.PromptNone {
			p.oidcRefuse(q, id, oidcprovider.RefuseLoginRequired, "The user is not logged in.")
			return
		}
		if q.ss != nil {
			// prompt=login or max_age: the application wants the user to
			// log in anew, so this browser's older login ends.
			if err := p.d.Login.End(q.r.Context(), q.ss.UserID, q.ss.ID); err != nil {
				q.fail(err)
				return
			}
			q.clearCookie(cookieSession)
		}
		q.redirect("/login?n=oidc")
	case !pd.MeetsACR(q.ss):
		if pd.PromptNone {
			p.oidcRefuse(q, id, oidcprovider.RefuseInteractionRequired, "The application needs another security device.")
			return
		}
		p.oidcStepUp(q, pd)
	case !pd.SkipConsent || pd.PromptConsent:
		if pd.PromptNone {
			p.oidcRefuse(q, id, oidcprovider.RefuseConsentRequired, "The user has not agreed to share this information.")
			return
		}
		q.render("oidc_consent", q.t("oidc.title", pd.ClientName), consentPage{ID: id, Client: pd.ClientName, Scopes: pd.Scopes})
	default:
		p.oidcFinish(q, id)
	}
}

type consentPage struct {
	ID, Client string
	Scopes     []string
}

// pendingOIDC reads the request, or shows why it cannot go on.
func (p *Portal) pendingOIDC(q *req, id string) (*oidcprovider.Pending, error) {
	if id == "" {
		q.status = http.StatusBadRequest
		q.render("error", q.t("err.title"), errorPage{Message: q.t("oidc.expired")})
		return nil, sls.ErrNotFound
	}
	pd, err := p.d.OIDC.Pending(q.r.Context(), id)
	if err != nil {
		q.clearCookie(cookieOIDC)
		q.status = statusOf(err)
		msg := q.errText(err)
		if sls.ErrorCode(err) == sls.CodeNotFound {
			msg = q.t("oidc.expired")
		}
		q.render("error", q.t("err.title"), errorPage{Message: msg})
		return nil, err
	}
	return pd, nil
}

// oidcStepUp asks for a device of a kind the application accepts, or,
// when the user holds none, says so and offers the way back.
func (p *Portal) oidcStepUp(q *req, pd *oidcprovider.Pending) {
	devs, err := p.d.StepUp.Devices(q.r.Context(), q.ss)
	if err != nil {
		q.fail(err)
		return
	}
	var kinds []string
	for _, d := range devs {
		if oidcprovider.ACRFor(pd.ACRValues, d.Kind) != "" && !slices.Contains(kinds, string(d.Kind)) {
			kinds = append(kinds, string(d.Kind))
		}
	}
	if len(kinds) == 0 {
		var names []string
		for _, v := range pd.ACRValues {
			if k, ok := strings.CutPrefix(v, oidcprovider.ACRDevicePrefix); ok {
				names = append(names, q.t("device."+k))
			}
		}
		msg := q.t("oidc.acr_none")
		if len(names) > 0 {
			msg = q.t("oidc.acr_unmet", strings.Join(names, ", "))
		}
		q.status = http.StatusForbidden
		q.render("oidc_consent", q.t("oidc.title", pd.ClientName), consentPage{ID: pd.ID, Client: pd.ClientName}, withError(msg))
		return
	}
	q.redirect("/stepup?again=1&next=" + url.QueryEscape(oidcprovider.PathContinue) + "&only=" + url.QueryEscape(strings.Join(kinds, ",")))
}

// oidcConsent is the consent page's answer (or the way back after a
// device the application needs is missing).
func (p *Portal) oidcConsent(q *req) {
	id := q.r.PostFormValue("id")
	if !oidcprovider.ValidID(id) || id != q.cookie(cookieOIDC) {
		q.status = http.StatusBadRequest
		q.render("error", q.t("err.title"), errorPage{Message: q.t("oidc.expired")})
		return
	}
	if q.r.PostFormValue("decision") != "allow" {
		p.oidcRefuse(q, id, oidcprovider.RefuseAccessDenied, "The user declined.")
		return
	}
	p.oidcFinish(q, id)
}

func (p *Portal) oidcFinish(q *req, id string) {
	target, err := p.d.OIDC.Finish(q.r.Context(), id, q.ss)
	if sls.ErrorCode(err) == sls.CodeStepUpRequired {
		q.redirect(oidcprovider.PathContinue) // something changed: decide again
		return
	}
	if err != nil {
		q.clearCookie(cookieOIDC)
		q.fail(err)
		return
	}
	q.clearCookie(cookieOIDC)
	q.leaveFor(target)
}

// leaveFor sends the browser to the application (or to the provider's
// callback, which redirects there). A redirect would do after a link,
// but this often follows a form, and the CSP's form-action 'self' (which
// browsers apply to a form's redirects) would stop it: a page that
// refreshes to the target, with a link for browsers that do not refresh,
// starts a new navigation instead.
//
// After a form the page is reached by a redirect to /oidc/leave
// (post/redirect/get), the target travelling in the signed, read-once
// flash, so that a reload never posts the consent again.
func (q *req) leaveFor(target string) {
	if q.r.Method == http.MethodPost {
		q.redirectWith("/oidc/leave", flash{Fields: map[string]string{"leave": target}})
		return
	}
	q.render("oidc_return", q.t("oidc.returning"), returnPage{URL: template.URL(target)}, withRefresh(target))
}

// oidcLeave is the way out after the consent form. Only a target that
// came in this browser's flash (signed by the server) is followed, and a
// reload finds none; the scheme check is a backstop (a native app's
// private scheme, RFC 8252 §7.1, is allowed).
func (p *Portal) oidcLeave(q *req) {
	target := q.formValue("leave")
	u, err := url.Parse(target)
	bad := err != nil || u.Scheme == ""
	if !bad {
		switch strings.ToLower(u.Scheme) {
		case "javascript", "data", "vbscript", "file", "blob":
			bad = true
		}
	}
	if target == "" || bad {
		q.status = http.StatusBadRequest
		q.render("error", q.t("err.title"), errorPage{Message: q.t("oidc.expired")})
		return
	}
	q.leaveFor(target)
}

type returnPage struct{ URL template.URL }

func (p *Portal) oidcRefuse(q *req, id, code, description string) {
	actor := sls.ActorSystem
	if q.ss != nil {
		actor = sls.ActorUser(q.ss.UserID)
	}
	target, err := p.d.OIDC.Refuse(q.r.Context(), id, code, description, actor)
	q.clearCookie(cookieOIDC)
	if err != nil {
		q.fail(err)
		return
	}
	q.leaveFor(target)
}

// afterLogin is where a new session goes first: back to the application
// it is signing in for, else as afterLogin says.
func (q *req) afterLogin(ss *sls.Session) string {
	if q.p.d.OIDC != nil && ss != nil && ss.Scope == sls.ScopeFull && oidcprovider.ValidID(q.cookie(cookieOIDC)) {
		return oidcprovider.PathContinue
	}
	return afterLogin(ss)
}
