package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// relyingParty is an application that logs its users in through SLS with
// libraries no one here wrote: github.com/coreos/go-oidc and
// golang.org/x/oauth2. It runs in the test process on its own port.
type relyingParty struct {
	t        *testing.T
	srv      *httptest.Server
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	conf     oauth2.Config

	mu       sync.Mutex
	state    string
	nonce    string
	pkce     string
	capture  bool   // keep the code instead of redeeming it
	code     string // the last code captured
	errCode  string // the last error the provider sent back
	token    *oauth2.Token
	rawID    string
	claims   map[string]any
	loggedIn int
}

func newRelyingParty(t *testing.T) *relyingParty {
	rp := &relyingParty{t: t}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", rp.start)
	mux.HandleFunc("GET /callback", rp.callback)
	mux.HandleFunc("GET /logout", rp.logout)
	mux.HandleFunc("GET /loggedout", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<html><body><p id="rp-loggedout">logged out %s</p></body></html>`, html.EscapeString(r.URL.Query().Get("state")))
	})
	rp.srv = httptest.NewServer(mux)
	t.Cleanup(rp.srv.Close)
	return rp
}

// connect discovers the provider and configures the client.
func (rp *relyingParty) connect(issuer, clientID, secret string) {
	rp.t.Helper()
	p, err := oidc.NewProvider(context.Background(), issuer)
	if err != nil {
		rp.t.Fatalf("discovery: %v", err)
	}
	rp.provider = p
	rp.verifier = p.Verifier(&oidc.Config{ClientID: clientID})
	rp.conf = oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: rp.srv.URL + "/callback",
		Scopes: []string{oidc.ScopeOpenID, "profile", oidc.ScopeOfflineAccess, "account"}}
}

func (rp *relyingParty) start(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	rp.state, rp.nonce, rp.pkce = oauth2.GenerateVerifier(), oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	rp.capture = r.URL.Query().Get("capture") == "1"
	rp.code, rp.errCode = "", ""
	opts := []oauth2.AuthCodeOption{oidc.Nonce(rp.nonce), oauth2.S256ChallengeOption(rp.pkce)}
	for _, p := range []string{"acr_values", "prompt", "max_age"} {
		if v := r.URL.Query().Get(p); v != "" {
			opts = append(opts, oauth2.SetAuthURLParam(p, v))
		}
	}
	http.Redirect(w, r, rp.conf.AuthCodeURL(rp.state, opts...), http.StatusFound)
}

func (rp *relyingParty) callback(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	q := r.URL.Query()
	if q.Get("state") != rp.state {
		http.Error(w, "state mismatch", http.StatusBadRequest)
		return
	}
	if e := q.Get("error"); e != "" {
		rp.errCode = e
		fmt.Fprintf(w, `<html><body><p id="rp-error">%s</p></body></html>`, html.EscapeString(e))
		return
	}
	if rp.capture {
		rp.code = q.Get("code")
		fmt.Fprint(w, `<html><body><p id="rp-code">captured</p></body></html>`)
		return
	}
	tok, err := rp.conf.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(rp.pkce))
	if err != nil {
		http.Error(w, "exchange: "+err.Error(), http.StatusBadGateway)
		return
	}
	raw, claims, err := rp.verify(r.Context(), tok)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	if claims["nonce"] != rp.nonce {
		http.Error(w, "nonce mismatch", http.StatusBadGateway)
		return
	}
	rp.token, rp.rawID, rp.claims = tok, raw, claims
	rp.loggedIn++
	b, _ := json.Marshal(claims)
	fmt.Fprintf(w, `<html><body><pre id="rp-claims">%s</pre></body></html>`, html.EscapeString(string(b)))
}

// verify checks the ID token of a token answer with the provider's keys.
func (rp *relyingParty) verify(ctx context.Context, tok *oauth2.Token) (string, map[string]any, error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", nil, fmt.Errorf("no id_token")
	}
	idt, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		return "", nil, fmt.Errorf("id token: %w", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", nil, err
	}
	return raw, claims, nil
}

// logout is RP-initiated logout (OIDC RP-Initiated Logout 1.0 §2).
func (rp *relyingParty) logout(w http.ResponseWriter, r *http.Request) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := rp.provider.Claims(&meta); err != nil || meta.EndSession == "" {
		http.Error(w, "no end_session_endpoint", http.StatusBadGateway)
		return
	}
	u, _ := url.Parse(meta.EndSession)
	q := u.Query()
	q.Set("id_token_hint", rp.rawID)
	q.Set("post_logout_redirect_uri", rp.srv.URL+"/loggedout")
	q.Set("state", "bye")
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (rp *relyingParty) snapshot() (map[string]any, *oauth2.Token, string, string) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.claims, rp.token, rp.code, rp.errCode
}

// visit opens a page of the relying party (not of SLS).
func (b *browser) visit(u string) {
	b.t.Helper()
	b.do(chromedp.Navigate(u))
}

// oauthError is the RFC 6749 §5.2 error code inside an oauth2 error.
func oauthError(err error) string {
	if re, ok := err.(*oauth2.RetrieveError); ok {
		return re.ErrorCode
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestOIDCRelyingParty(t *testing.T) {
	clk := filepath.Join(t.TempDir(), "clock")
	n, card := portalNode(t, withClockFile(clk))
	rp := newRelyingParty(t)
	out := n.mustCtl("", "oidc", "client", "add", "trading", "--name", "Trading Web", "--redirect", rp.srv.URL+"/callback",
		"--post-logout", rp.srv.URL+"/loggedout", "--scopes", "profile,offline_access,account")
	secret := regexp.MustCompile(`client secret \(shown once[^)]*\): (\S+)`).FindStringSubmatch(out)
	if secret == nil {
		t.Fatalf("client add: %s", out)
	}
	rp.connect(n.url, "trading", secret[1])
	ctx := context.Background()

	// Login through the portal, consent, and an ID token the relying party
	// verifies: who (a stable subject), with which device (acr, amr).
	b := newBrowser(t, n.url, browserOpt{})
	b.visit(rp.srv.URL + "/start")
	if !strings.HasPrefix(b.location(), "/login") {
		t.Fatalf("the application's login went to %s", b.location())
	}
	b.shot("oidc-01-login")
	b.passwordStep("alice")
	b.chooseDevice("dscplus")
	b.fill("#response", dscRespond(t, card, "2468", b.text("#challenge")))
	b.submit("#answer-form button[type=submit]")
	b.expect("#oidc-consent", "#oidc-scopes")
	if !strings.Contains(b.text("h1"), "Trading Web") {
		t.Fatalf("consent page: %s", b.dump())
	}
	b.shot("oidc-02-consent")
	b.submit("#oidc-allow")
	b.waitFor("#rp-claims", 15*time.Second)
	claims, tok, _, _ := rp.snapshot()
	sub, _ := claims["sub"].(string)
	amr := fmt.Sprint(claims["amr"])
	if sub == "" || claims["acr"] != "urn:sls:device:dscplus" || !strings.Contains(amr, "pwd") || !strings.Contains(amr, "hwk") ||
		!strings.Contains(amr, "mfa") || claims["preferred_username"] != "alice" || claims["account_id"] != "U7001" || claims["sid"] == nil {
		t.Fatalf("ID token claims: %v", claims)
	}
	if tok.RefreshToken == "" || tok.AccessToken == "" {
		t.Fatalf("tokens: %+v", tok)
	}
	info, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || info.Subject != sub {
		t.Fatalf("userinfo: %+v %v", info, err)
	}

	// Refresh rotates the refresh token and keeps who and how.
	tok2, err := rp.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || tok2.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: %+v %v", tok2, err)
	}
	_, claims2, err := rp.verify(ctx, tok2)
	if err != nil || claims2["sub"] != sub || claims2["acr"] != "urn:sls:device:dscplus" {
		t.Fatalf("refreshed ID token: %v %v", claims2, err)
	}
	// The old refresh token again: someone holds a copy, so the whole
	// grant goes, the new refresh token included.
	if _, err := rp.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); oauthError(err) != "invalid_grant" {
		t.Fatalf("reused refresh token: %v", err)
	}
	if _, err := rp.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok2.RefreshToken}).Token(); oauthError(err) != "invalid_grant" {
		t.Fatalf("refresh token of a revoked grant: %v", err)
	}

	// A second sign-in reuses the portal's login (single sign-on); its
	// code is kept to be misused.
	code := func() string {
		t.Helper()
		b.visit(rp.srv.URL + "/start?capture=1")
		b.expect("#oidc-allow")
		b.submit("#oidc-allow")
		b.waitFor("#rp-code", 15*time.Second)
		_, _, c, _ := rp.snapshot()
		return c
	}
	pkce := func() string {
		rp.mu.Lock()
		defer rp.mu.Unlock()
		return rp.pkce
	}
	c1 := code()
	good := pkce()
	if _, err := rp.conf.Exchange(ctx, c1, oauth2.VerifierOption(oauth2.GenerateVerifier())); oauthError(err) != "invalid_grant" {
		t.Fatalf("PKCE mismatch: %v", err)
	}
	if _, err := rp.conf.Exchange(ctx, c1, oauth2.VerifierOption(good)); oauthError(err) != "invalid_grant" {
		t.Fatalf("a code used a second time: %v", err)
	}
	c2 := code()
	good = pkce()
	other := rp.conf
	other.RedirectURL = rp.srv.URL + "/elsewhere"
	if _, err := other.Exchange(ctx, c2, oauth2.VerifierOption(good)); oauthError(err) != "invalid_grant" {
		t.Fatalf("code redeemed with another redirect_uri: %v", err)
	}
	c3 := code()
	good = pkce()
	setClock(t, clk, 2*time.Minute) // codes live 1 minute
	if _, err := rp.conf.Exchange(ctx, c3, oauth2.VerifierOption(good)); oauthError(err) != "invalid_grant" {
		t.Fatalf("expired code: %v", err)
	}

	// An unregistered redirect URI is never redirected to.
	evil := rp.conf
	evil.RedirectURL = "https://evil.example/callback"
	b.visit(evil.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	if loc := b.location(); !strings.HasPrefix(loc, "/oauth2/authorize") {
		t.Fatalf("an unregistered redirect URI led to %s", loc)
	}

	// acr_values: an application that needs IB Key or DSC+ gets the DSC+
	// login; one that needs only IB Key, which alice lacks, is told so.
	b.visit(rp.srv.URL + "/start?acr_values=" + url.QueryEscape("urn:sls:device:ibkey urn:sls:device:dscplus"))
	b.expect("#oidc-allow")
	b.submit("#oidc-allow")
	b.waitFor("#rp-claims", 15*time.Second)
	if claims, _, _, _ = rp.snapshot(); claims["acr"] != "urn:sls:device:dscplus" {
		t.Fatalf("acr for DSC+ or IB Key: %v", claims)
	}
	b.visit(rp.srv.URL + "/start?acr_values=urn:sls:device:ibkey")
	if msg := b.text("#page-error"); !strings.Contains(msg, "SLS Key") {
		t.Fatalf("unmet acr: %s", b.dump())
	}
	b.shot("oidc-03-acr-unmet")
	b.submit("#oidc-deny")
	b.waitFor("#rp-error", 15*time.Second)
	if _, _, _, e := rp.snapshot(); e != "access_denied" {
		t.Fatalf("unmet acr answered %q", e)
	}

	// prompt=login: the application wants a fresh login, not the old one.
	b.visit(rp.srv.URL + "/start?prompt=login")
	if !strings.HasPrefix(b.location(), "/login") {
		t.Fatalf("prompt=login went to %s", b.location())
	}
	b.passwordStep("alice")
	b.chooseDevice("dscplus")
	b.fill("#response", dscRespond(t, card, "2468", b.text("#challenge")))
	b.submit("#answer-form button[type=submit]")
	b.submit("#oidc-allow")
	b.waitFor("#rp-claims", 15*time.Second)
	claims3, tok3, _, _ := rp.snapshot()
	if claims3["sub"] != sub || claims3["auth_time"].(float64) <= claims["auth_time"].(float64) {
		t.Fatalf("prompt=login kept the old login: %v then %v", claims["auth_time"], claims3["auth_time"])
	}

	// RP-initiated logout ends the SLS login: the portal asks to log in,
	// and the application's tokens stop working.
	b.visit(rp.srv.URL + "/logout")
	b.waitFor("#rp-loggedout", 15*time.Second)
	b.open("/")
	if b.location() != "/login" {
		t.Fatalf("after logout the portal is at %s", b.location())
	}
	if _, err := rp.conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok3.RefreshToken}).Token(); oauthError(err) != "invalid_grant" {
		t.Fatalf("refresh after logout: %v", err)
	}
	if _, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok3)); err == nil {
		t.Fatal("userinfo after logout answered")
	}

	// A public client must use PKCE: refused at the authorization endpoint.
	n.mustCtl("", "oidc", "client", "add", "mobile", "--public", "--name", "Mobile", "--redirect", "com.example.trading:/callback")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{"client_id": {"mobile"}, "response_type": {"code"}, "scope": {"openid"}, "redirect_uri": {"com.example.trading:/callback"}, "state": {"x"}}
	resp, err := noRedirect.Get(rp.conf.Endpoint.AuthURL + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.Contains(loc, "error=invalid_request") || !strings.HasPrefix(loc, "com.example.trading:/callback") {
		t.Fatalf("public client without PKCE: %d %s", resp.StatusCode, loc)
	}
	if list := n.mustCtl("", "oidc", "client", "list"); !strings.Contains(list, "trading") || !strings.Contains(list, "mobile") || strings.Contains(list, secret[1]) {
		t.Fatalf("client list: %s", list)
	}
}
