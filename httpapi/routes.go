package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	sls "github.com/secure-login-system/sls"
)

// Route is one declared API route: its pattern ("METHOD /path", as
// http.ServeMux reads it), who may call it and with what login
// (sls.Access), and its handler. Every route of the API is one of these;
// Build refuses a route that declares nothing, so access is denied by
// default and decided in one place (sls.Access.Check), never in handlers.
type Route struct {
	Pattern string
	Access  sls.Access
	Handler http.HandlerFunc
	// Raw: the body is not JSON (a key file, a statement) and the handler
	// reads it itself. Every other route's body must be empty or one
	// well-formed JSON object before the handler runs (strictBody).
	Raw bool
}

// Method and Path split the pattern.
func (r Route) Method() string { m, _, _ := strings.Cut(r.Pattern, " "); return m }

// Path is the pattern's path.
func (r Route) Path() string { _, p, _ := strings.Cut(r.Pattern, " "); return p }

// coreRoutes are the login journey, the session and the online card.
func (a *API) coreRoutes() []Route {
	any := sls.ForSession.Also(sls.AnyScope)
	card := sls.ForStepUpOrTemporary.Also(sls.ScopeOnlineCardOnly)
	return []Route{
		Declare("POST /api/v1/login", sls.ForAnyone, a.startLogin),
		Declare("POST /api/v1/login/device", sls.ForAnyone, a.selectDevice),
		Declare("POST /api/v1/login/answer", sls.ForAnyone, a.answer),
		Declare("POST /api/v1/login/status", sls.ForAnyone, a.status),

		// Every session may look at itself and log out, whatever its scope.
		Declare("GET /api/v1/session", any, a.getSession),
		Declare("POST /api/v1/logout", any, a.logout),
		Declare("GET /api/v1/sessions", sls.ForSession, a.listSessions),
		Declare("DELETE /api/v1/sessions/{id}", sls.ForSession, a.endSession),
		Declare("GET /api/v1/devices", sls.ForSession, a.myDevices),
		// SPEC §1/§6: a temporary passcode (even past its 2 days) prints
		// and activates an Online Security Code Card; anyone else who
		// holds a device proves it first.
		Declare("POST /api/v1/onlinecard", card, a.requestOnlineCard),
		Declare("GET /api/v1/onlinecard", sls.ForSession.Also(sls.ScopeOnlineCardOnly), a.getOnlineCard),
		Declare("GET /api/v1/onlinecard/print", card, a.printOnlineCard),
		Declare("POST /api/v1/onlinecard/activate", card, a.activateOnlineCard),
	}
}

// Routes returns every route of the API: the core's, the operators' and
// each feature's (Extra), in registration order.
func (a *API) Routes() []Route {
	routes := append(a.coreRoutes(), a.stepUpRoutes()...)
	routes = append(routes, a.operatorRoutes()...)
	routes = append(routes, a.operatorAdminRoutes()...)
	routes = append(routes, a.userLifecycleRoutes()...)
	for _, extra := range a.Extra {
		routes = append(routes, extra(a)...)
	}
	return routes
}

// Build mounts every route with the check its declaration asks for. It
// refuses (and the server does not start) when a route declares no
// access, lacks a handler, is declared twice, or needs an authenticator
// the API lacks.
func (a *API) Build() error {
	m := http.NewServeMux()
	var seen []string
	for _, rt := range a.Routes() {
		if err := a.mount(m, rt); err != nil {
			return err
		}
		if slices.Contains(seen, rt.Pattern) {
			return fmt.Errorf("httpapi: route %q declared twice", rt.Pattern)
		}
		seen = append(seen, rt.Pattern)
	}
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, r, a.Log, sls.Errorf(sls.CodeNotFound, "No such API endpoint: %s %s.", r.Method, r.URL.Path))
	})
	a.mux = m
	return nil
}

func (a *API) mount(m *http.ServeMux, rt Route) error {
	if rt.Method() == "" || !strings.HasPrefix(rt.Path(), "/api/") {
		return fmt.Errorf("httpapi: route %q: the pattern must be \"METHOD /api/…\"", rt.Pattern)
	}
	if !rt.Access.Declared() {
		return fmt.Errorf("httpapi: route %q declares no access (deny by default)", rt.Pattern)
	}
	if rt.Access.Caller == sls.CallerOperator && len(rt.Access.Roles) == 0 {
		return fmt.Errorf("httpapi: operator route %q names no role (deny by default)", rt.Pattern)
	}
	if rt.Handler == nil {
		return fmt.Errorf("httpapi: route %q has no handler", rt.Pattern)
	}
	handler := http.Handler(rt.Handler)
	if !rt.Raw {
		handler = a.strictBody(handler)
	}
	var h http.Handler
	switch rt.Access.Caller {
	case sls.CallerAnyone:
		h = handler
	case sls.CallerClient:
		h = a.client(rt.Access, handler.ServeHTTP)
	case sls.CallerOperator:
		h = a.operator(rt, handler.ServeHTTP)
	case sls.CallerApp:
		if a.AppAuth == nil {
			return fmt.Errorf("httpapi: route %q is for app instances but no app authenticator is configured", rt.Pattern)
		}
		h = a.AppAuth(handler.ServeHTTP)
	}
	m.Handle(rt.Pattern, h)
	return nil
}

// strictBody refuses, before anything else runs, a body that is neither
// empty nor one well-formed JSON object: no handler, whether it reads a
// body or not, ever acts on a malformed one (a truncated body must not
// pass for an empty one, nor a route that takes none ignore garbage).
func (a *API) strictBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
		if err == nil {
			err = wellFormed(raw)
		} else {
			err = decodeError(err)
		}
		if err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(raw)), int64(len(raw))
		next.ServeHTTP(w, r)
	})
}

// wellFormed accepts an empty body or one JSON object, nothing else.
func wellFormed(raw []byte) error {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return nil
	}
	if t[0] != '{' || !json.Valid(t) {
		return sls.Errorf(sls.CodeInvalidRequest, "The body is not a well-formed JSON object.")
	}
	return nil
}

// client authenticates the session and applies the route's declared
// access: the one place client access is decided.
func (a *API) client(acc sls.Access, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, u, err := a.Login.Authenticate(r.Context(), bearer(r), ClientIP(r))
		if err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		if err := acc.Check(s, a.Login.Now(), a.Login.Config().StepUpWindow); err != nil {
			WriteError(w, r, a.Log, err)
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), sessionKey, s), userKey, u)
		h(w, r.WithContext(ctx))
	})
}

// Declare is a route: its pattern, its access and its handler.
func Declare(pattern string, access sls.Access, h http.HandlerFunc) Route {
	return Route{Pattern: pattern, Access: access, Handler: h}
}

// DeclareRaw is a route whose body is not JSON (see Route.Raw).
func DeclareRaw(pattern string, access sls.Access, h http.HandlerFunc) Route {
	return Route{Pattern: pattern, Access: access, Handler: h, Raw: true}
}
