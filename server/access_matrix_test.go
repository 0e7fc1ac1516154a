package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/manage"
	"github.com/secure-login-system/sls/server"
)

// sessionKind is one kind of login the access matrix tries every route
// with: what authenticated it, on which platform, with which scope, and
// how long ago a device was last proven in it.
type sessionKind struct {
	name      string
	platform  sls.Platform
	kind      sls.DeviceKind // "" for password only
	scope     sls.Scope
	provenAgo time.Duration
	biometric bool
}

var sessionKinds = []sessionKind{
	{"password only (opted-out trading)", sls.PlatformTrading, "", sls.ScopeFull, 0, false},
	{"temporary passcode, day 1", sls.PlatformPortal, sls.KindTempPasscode, sls.ScopeFull, 0, false},
	{"temporary passcode, day 3", sls.PlatformPortal, sls.KindTempPasscode, sls.ScopeOnlineCardOnly, 0, false},
	{"online card", sls.PlatformPortal, sls.KindOnlineCard, sls.ScopeFull, 0, false},
	{"code card", sls.PlatformPortal, sls.KindCodeCard, sls.ScopeFull, 0, false},
	{"SMS", sls.PlatformPortal, sls.KindSMS, sls.ScopeFull, 0, false},
	{"IB Key, PIN", sls.PlatformTrading, sls.KindIBKey, sls.ScopeFull, 0, false},
	{"IB Key, biometric", sls.PlatformTrading, sls.KindIBKey, sls.ScopeFull, 0, true},
	{"DSC+", sls.PlatformPortal, sls.KindDSCPlus, sls.ScopeFull, 0, false},
	{"DSC+, 10 minutes ago", sls.PlatformPortal, sls.KindDSCPlus, sls.ScopeFull, 10 * time.Minute, false},
	{"closed account", sls.PlatformPortal, "", sls.ScopeStatementsOnly, 0, false},
}

// verdict is what the access layer did with a request.
type verdict string

const (
	allowed verdict = "allow"   // past the access layer: the handler ran
	stepUp  verdict = "step-up" // refused until a device is proven
	denied  verdict = "deny"    // refused for this login
)

// sensitive are the changes the issue names: each must need a device
// proven in the session just now (or, where SPEC §1/§6 says so, the
// temporary passcode). A route listed here that loses that declaration
// fails the test.
var sensitive = []string{
	"GET /api/v1/ibkey/ticket", "GET /api/v1/ibkey/ticket/qr.png", "GET /ibkey",
	"POST /api/v1/onlinecard", "GET /api/v1/onlinecard/print", "POST /api/v1/onlinecard/activate",
	"POST /settings/onlinecard", "GET /settings/onlinecard/print", "POST /settings/onlinecard/activate",
	"POST /api/v1/mobile/verify", "POST /settings/mobile/verify",
	"POST /api/v1/lifecycle/devices/{id}/report", "POST /api/v1/lifecycle/devices/{id}/destroyed",
	"POST /api/v1/dscplus/orders", "POST /settings/dscplus/place",
	"POST /api/v1/lifecycle/orders/{id}/activation", "POST /api/v1/lifecycle/orders/{id}/activate",
	"POST /settings/dscplus/activation", "POST /settings/dscplus/activate",
	"PUT /api/v1/lifecycle/shipping-address",
	"POST /api/v1/security/opt-out", "POST /api/v1/security/opt-in", "POST /settings/security/opt-out", "POST /settings/security/opt-in",
	"PUT /api/v1/security/ip-restrictions", "POST /settings/security/ip",
	"PUT /api/v1/security/penny-stock",
	"PUT /api/v1/preferences", "POST /settings/messages",
	"PUT /api/v1/password", "GET /settings/password", "POST /settings/password",
	"POST /api/v1/lifecycle/returns", "POST /settings/returns", "POST /settings/returns/destroyed",
}

// route is one row of the matrix: an API route or a portal page.
type route struct {
	surface string // "API" or "portal"
	pattern string
	access  sls.Access
}

func TestAccessMatrix(t *testing.T) {
	// Every optional feature on, so that its pages are in the matrix too.
	srv, base := openServerWith(t, `"operators": `+testOperators+`, "crypto": {"enabled": true}`, nil)
	var routes []route
	for _, rt := range srv.API.Routes() {
		routes = append(routes, route{"API", rt.Pattern, rt.Access})
	}
	for _, rt := range srv.Portal().Routes() {
		routes = append(routes, route{"portal", rt.Pattern, rt.Access})
	}

	// The sensitive changes are declared as such.
	declared := map[string]sls.Access{}
	for _, r := range routes {
		declared[r.pattern] = r.access
	}
	for _, p := range sensitive {
		a, ok := declared[p]
		switch {
		case !ok:
			t.Errorf("sensitive route %s is not mounted", p)
		case a.Caller != sls.CallerClient || (a.Need != sls.NeedStepUp && a.Need != sls.NeedStepUpOrTemporary):
			t.Errorf("sensitive route %s is declared %s; it must need a step-up", p, a)
		}
	}

	fresh := sessionMaker(t, srv)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	table := make([][]verdict, len(routes))
	for i, r := range routes {
		table[i] = make([]verdict, len(sessionKinds))
		for j, k := range sessionKinds {
			st := fresh(k) // a route may end the session (logout): one each
			got := observe(t, client, base, r, st)
			want := expected(r, k, st.session)
			if got != want {
				t.Errorf("%s %s with %s: the server answered %s, the declaration says %s", r.surface, r.pattern, k.name, got, want)
			}
			table[i][j] = got
		}
	}
	checkDoc(t, "../docs/access.md", render(routes, table))
}

type sessionToken struct {
	token   string
	session *sls.Session
}

// sessionMaker makes one user and returns a function that makes a
// session of a kind for it, as the login would have made it (the journeys
// that make them for real are tested end to end).
func sessionMaker(t *testing.T, srv *server.Server) func(sessionKind) sessionToken {
	ctx := context.Background()
	if _, err := srv.Manage.CreateAccount(ctx, sls.ActorSystem, manage.NewAccount{ID: "M1", BaseCurrency: "USD", EquityMinor: 250_000_000, Jurisdiction: "US"}); err != nil {
		t.Fatal(err)
	}
	u, err := srv.Manage.CreateUser(ctx, sls.ActorSystem, manage.NewUser{Username: "matrix", Password: "a long grid passphrase", AccountID: "M1"})
	if err != nil {
		t.Fatal(err)
	}
	return func(k sessionKind) sessionToken {
		now := srv.Clock.Now()
		tok := sls.NewToken("sls")
		s := &sls.Session{ID: sls.NewID("ses"), TokenHash: sls.TokenHash(tok), UserID: u.ID, Platform: k.platform, DeviceKind: k.kind,
			Scope: k.scope, Biometric: k.biometric, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), IdleTimeout: 30 * time.Minute}
		if k.kind != "" {
			s.DeviceID, s.ProvenKind, s.ProvenAt = "dev_matrix", k.kind, now.Add(-k.provenAgo)
		}
		if err := srv.Store.Update(ctx, func(tx sls.Tx) error { return tx.CreateSession(ctx, s) }); err != nil {
			t.Fatal(err)
		}
		return sessionToken{tok, s}
	}
}

// expected is the declaration's verdict for a session (the one decision,
// sls.Access.Check); portal pages take portal sessions only.
func expected(r route, k sessionKind, s *sls.Session) verdict {
	switch r.access.Caller {
	case sls.CallerAnyone:
		return allowed
	case sls.CallerOperator, sls.CallerApp:
		return denied
	}
	if r.surface == "portal" && k.platform != sls.PlatformPortal {
		return denied // a trading token is no portal session
	}
	err := r.access.Check(s, time.Now(), 5*time.Minute)
	switch sls.ErrorCode(err) {
	case "":
		if err == nil {
			return allowed
		}
	case sls.CodeStepUpRequired:
		return stepUp
	}
	if err == nil {
		return allowed
	}
	return denied
}

var pathParam = regexp.MustCompile(`\{[^}]+\}`)

// observe sends the route a request with the session and reads what the
// access layer did: the API answers step_up_required, forbidden with the
// session's scope, or unauthenticated (operator and app routes); the
// portal redirects to the step-up page, to the page the scope allows, or
// to the login.
func observe(t *testing.T, c *http.Client, base string, r route, st sessionToken) verdict {
	t.Helper()
	method, path, _ := strings.Cut(r.pattern, " ")
	path = pathParam.ReplaceAllString(strings.TrimSuffix(path, "{$}"), "x")
	if r.access.Caller == sls.CallerAnyone {
		return allowed // nothing to check: no session is asked for
	}
	req, _ := http.NewRequest(method, base+path, strings.NewReader("{}"))
	if r.surface == "API" {
		req.Header.Set("Authorization", "Bearer "+st.token)
		req.Header.Set("Content-Type", "application/json")
	} else {
		// The cookie's name depends on the portal's cookie mode; send both.
		req.AddCookie(&http.Cookie{Name: "__Host-sls_session", Value: st.token})
		req.AddCookie(&http.Cookie{Name: "sls_session", Value: st.token})
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if r.surface == "portal" {
		loc := resp.Header.Get("Location")
		switch {
		case strings.HasPrefix(loc, "/stepup?next="):
			return stepUp
		case loc == "/?n=not_allowed", loc == "/settings/onlinecard?n=card_only", loc == "/login",
			resp.StatusCode == http.StatusUnauthorized:
			return denied
		}
		return allowed
	}
	var body struct {
		Error struct {
			Code   sls.Code       `json:"code"`
			Detail map[string]any `json:"detail"`
		} `json:"error"`
	}
	_ = jsonDecode(resp, &body)
	switch {
	case body.Error.Code == sls.CodeStepUpRequired:
		return stepUp
	case body.Error.Code == sls.CodeUnauthenticated,
		body.Error.Code == sls.CodeForbidden && body.Error.Detail["scope"] != nil:
		return denied
	}
	return allowed
}

// render is the matrix as Markdown.
func render(routes []route, table [][]verdict) string {
	var b strings.Builder
	b.WriteString("# Who may do what: the access matrix\n\n")
	b.WriteString("Generated by `go test ./server -run TestAccessMatrix` (with `SLS_UPDATE_DOCS=1` to rewrite it) from the\n")
	b.WriteString("server's declared route tables, by sending every route a request with every kind of session and\n")
	b.WriteString("recording what the access layer did. Do not edit by hand.\n\n")
	b.WriteString("- **allow**: the route's handler runs (it may still refuse for its own reasons).\n")
	b.WriteString("- **step-up**: refused until a security device is proven in the session (`step_up_required` in the API,\n")
	b.WriteString("  the step-up page in the portal); a device proven at login counts for 5 minutes (`step_up_window`).\n")
	b.WriteString("- **deny**: refused for this kind of login (another scope, another platform, or not a client route).\n\n")
	b.WriteString("Sessions: ")
	for j, k := range sessionKinds {
		if j > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "**%c** %s", 'A'+j, k.name)
	}
	b.WriteString(".\n\n| surface | route | declared |")
	for j := range sessionKinds {
		fmt.Fprintf(&b, " %c |", 'A'+j)
	}
	b.WriteString("\n|---|---|---|")
	b.WriteString(strings.Repeat("---|", len(sessionKinds)))
	b.WriteString("\n")
	order := make([]int, len(routes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		return strings.Compare(routes[x].surface+" "+pathOf(routes[x].pattern)+" "+routes[x].pattern,
			routes[y].surface+" "+pathOf(routes[y].pattern)+" "+routes[y].pattern)
	})
	for _, i := range order {
		r := routes[i]
		fmt.Fprintf(&b, "| %s | `%s` | %s |", r.surface, r.pattern, r.access)
		for _, v := range table[i] {
			fmt.Fprintf(&b, " %s |", v)
		}
		b.WriteString("\n")
	}
	return b.String()
}

func pathOf(pattern string) string { _, p, _ := strings.Cut(pattern, " "); return p }

// checkDoc keeps a generated document in step with the code.
func checkDoc(t *testing.T, path, want string) {
	t.Helper()
	if os.Getenv("SLS_UPDATE_DOCS") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Errorf("%s is out of date with the route tables: run SLS_UPDATE_DOCS=1 go test ./server -run TestAccessMatrix", path)
	}
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
