// Package oidcprovider is the OpenID Connect provider through which a
// brokerage's other applications (trading web app, mobile app, back
// office, help desk) log their users in with SLS: discovery, signing keys
// with rotation, the authorization code flow with PKCE, refresh tokens
// with rotation and reuse detection, RP-initiated logout, prompt=login,
// max_age, and acr_values by which an application demands a device class.
//
// The protocol is github.com/zitadel/oidc/v3's op package (OpenID
// certified); this package only keeps its state in the SLS store
// (storage.go), so that any node serves any step, and decides what SLS
// alone knows: which clients exist, who logged in with which device
// (acr.go), and when a token stops being good (the SLS session behind
// it ended, the user was disabled). The login and consent screens are
// the portal's pages (package portal, oidc.go), which call Pending,
// Finish and Refuse.
package oidcprovider

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/secure-login-system/sls/config/field"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/seal"
)

// Paths of the provider's endpoints. Discovery is at the issuer's root,
// as OIDC Discovery §4 requires.
const (
	PathDiscovery = "/.well-known/openid-configuration"
	PathPrefix    = "/oauth2/"
	// PathContinue is the portal page an authorization request waits on
	// while the user logs in (Client.LoginURL).
	PathContinue = "/oidc/continue"
	// PathLoggedOut is where RP-initiated logout lands without a
	// registered post-logout URI.
	PathLoggedOut = "/login?n=logged_out"
)

// Config is the provider's configuration (config section "oidc").
type Config struct {
	// Issuer is the provider's public URL; empty: decided when the
	// server starts listening (SetIssuer).
	Issuer string
	// AuthRequestTTL bounds the time from the application's redirect to
	// the end of the login (default 10 minutes, the login's own bound).
	AuthRequestTTL time.Duration
	// CodeTTL bounds the time from the login to the code's redemption;
	// RFC 6749 §4.1.2 recommends at most 10 minutes, and the redirect
	// takes seconds (default 1 minute).
	CodeTTL time.Duration
	// AccessTokenTTL and IDTokenTTL (default 5 and 10 minutes): short,
	// because a refresh token renews them while the session lives.
	AccessTokenTTL time.Duration
	IDTokenTTL     time.Duration
	// RefreshTokenTTL bounds one refresh token (default 12 hours); each
	// use rotates it, and none outlives the SLS session behind it.
	RefreshTokenTTL time.Duration
	// KeyRotation is how long a signing key signs (default 30 days);
	// KeyPublishAhead how long the next key is in the key set before it
	// signs (default 1 hour), so that relying parties caching the set
	// find it; retired keys stay published for the longest token
	// lifetime after they stop signing.
	KeyRotation     time.Duration
	KeyPublishAhead time.Duration
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.AuthRequestTTL, 10*time.Minute)
	def(&c.CodeTTL, time.Minute)
	def(&c.AccessTokenTTL, 5*time.Minute)
	def(&c.IDTokenTTL, 10*time.Minute)
	def(&c.RefreshTokenTTL, 12*time.Hour)
	def(&c.KeyRotation, 30*24*time.Hour)
	def(&c.KeyPublishAhead, time.Hour)
	return c
}

// Validate refuses lifetimes that defeat their purpose, reporting every
// problem with its field.
func (c Config) Validate() error {
	var errs field.Errors
	if c.Issuer != "" && !validIssuer(c.Issuer) {
		errs.Addf("issuer", "%q must be an http(s) URL without query, fragment or trailing slash", c.Issuer)
	}
	if c.CodeTTL > 10*time.Minute {
		errs.Addf("code_ttl", "%s must be at most 10m (RFC 6749 §4.1.2)", c.CodeTTL)
	}
	if c.AccessTokenTTL > time.Hour {
		errs.Addf("access_token_ttl", "%s must be at most 1h", c.AccessTokenTTL)
	}
	if c.IDTokenTTL > time.Hour {
		errs.Addf("id_token_ttl", "%s must be at most 1h", c.IDTokenTTL)
	}
	if c.RefreshTokenTTL < c.AccessTokenTTL {
		errs.Addf("refresh_token_ttl", "%s must be at least access_token_ttl (%s)", c.RefreshTokenTTL, c.AccessTokenTTL)
	}
	if c.KeyPublishAhead >= c.KeyRotation {
		errs.Addf("key_publish_ahead", "%s must be shorter than key_rotation (%s)", c.KeyPublishAhead, c.KeyRotation)
	}
	return errs.Err()
}

func validIssuer(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.RawQuery == "" && u.Fragment == "" &&
		!strings.HasSuffix(s, "/")
}

// Deps are what the provider needs.
type Deps struct {
	Store  sls.Store
	Sealer *seal.Sealer
	Clock  sls.Clock
	Log    *slog.Logger
	Config Config
}

// Provider is the OpenID Connect provider.
type Provider struct {
	d      Deps
	cfg    Config
	issuer atomic.Pointer[string]
	op     *op.Provider
	store  *storage
	keys   *keyring
}

// New builds the provider. Its issuer is cfg.Issuer, or the one SetIssuer
// gives before the first request.
func New(d Deps) (*Provider, error) {
	cfg := d.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	p := &Provider{d: d, cfg: cfg}
	if cfg.Issuer != "" {
		p.SetIssuer(cfg.Issuer)
	}
	p.keys = &keyring{p: p}
	p.store = &storage{p: p}
	// Bearer tokens and codes are sealed with a key every node derives
	// from the sealing key (never stored): a node that did not issue a
	// code still opens it.
	var key [32]byte
	copy(key[:], d.Sealer.KeyedHash("oidc token encryption", nil))
	opCfg := &op.Config{
		CryptoKey:                key,
		CryptoKeyId:              "sls1",
		DefaultLogoutRedirectURI: PathLoggedOut,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English, language.Spanish, language.Hungarian, language.SimplifiedChinese},
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeOfflineAccess, ScopeAccount},
		SupportedClaims: []string{"sub", "aud", "exp", "iat", "iss", "auth_time", "nonce", "acr", "amr", "azp", "sid",
			"preferred_username", "locale", "email", "email_verified", "phone_number", "phone_number_verified", ClaimAccountID},
	}
	issuer := func(bool) (op.IssuerFromRequest, error) {
		return func(*http.Request) string { return p.Issuer() }, nil
	}
	opts := []op.Option{
		op.WithCrypto(op.NewAES256GCMCrypto(key, "sls1")),
		op.WithCustomEndpoints(op.NewEndpoint(PathPrefix[1:]+"authorize"), op.NewEndpoint(PathPrefix[1:]+"token"),
			op.NewEndpoint(PathPrefix[1:]+"userinfo"), op.NewEndpoint(PathPrefix[1:]+"revoke"),
			op.NewEndpoint(PathPrefix[1:]+"end_session"), op.NewEndpoint(PathPrefix[1:]+"keys")),
		op.WithCustomIntrospectionEndpoint(op.NewEndpoint(PathPrefix[1:] + "introspect")),
		op.WithLogger(d.Log),
	}
	if strings.HasPrefix(cfg.Issuer, "http://") || cfg.Issuer == "" {
		// The server itself speaks plain HTTP (local use, or TLS ended at
		// a proxy whose URL is then the configured issuer).
		opts = append(opts, op.WithAllowInsecure())
	}
	var err error
	if p.op, err = op.NewProvider(opCfg, p.store, issuer, opts...); err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	return p, nil
}

// SetIssuer sets the issuer when the configuration named none: the
// server's own URL once it listens.
func (p *Provider) SetIssuer(issuer string) {
	issuer = strings.TrimSuffix(issuer, "/")
	p.issuer.Store(&issuer)
}

// Issuer is the provider's issuer URL.
func (p *Provider) Issuer() string {
	if s := p.issuer.Load(); s != nil {
		return *s
	}
	return ""
}

// Config returns the effective configuration.
func (p *Provider) Config() Config { return p.cfg }

// Handler serves discovery and the /oauth2/ endpoints. Discovery adds
// the acr values the provider understands.
func (p *Provider) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.Issuer() == "" {
			http.Error(w, "the OpenID Connect issuer is not known yet", http.StatusServiceUnavailable)
			return
		}
		ctx := op.ContextWithIssuer(r.Context(), p.Issuer())
		if r.URL.Path == PathDiscovery {
			cfg := op.CreateDiscoveryConfig(ctx, p.op, p.store)
			cfg.ACRValuesSupported = SupportedACR()
			// Only what is offered: the code flow with refresh tokens
			// (no implicit flow, RFC 9700 §2.1.2; no device or JWT
			// grants).
			cfg.ResponseTypesSupported = []string{string(oidc.ResponseTypeCode)}
			cfg.GrantTypesSupported = []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
			cfg.DeviceAuthorizationEndpoint = ""
			cfg.ClaimsParameterSupported, cfg.RequestParameterSupported, cfg.RequestURIParameterSupported = false, false, false
			cfg.CodeChallengeMethodsSupported = []oidc.CodeChallengeMethod{oidc.CodeChallengeMethodS256}
			op.Discover(w, cfg)
			return
		}
		p.op.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (p *Provider) now() time.Time {
	if p.d.Clock == nil {
		return time.Now().UTC()
	}
	return p.d.Clock.Now()
}

// hashOf is how codes, tokens and token ids are kept: SHA-256, hex. They
// are random 128-bit-or-more values, so a plain hash is enough to make a
// stolen table useless.
func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%x", sum)
}

// audit appends an oidc.* event.
func audit(ctx context.Context, tx sls.Tx, now time.Time, actor, event, userID string, detail map[string]any) error {
	return sls.Audit(ctx, tx, now, actor, event, userID, "", detail)
}

// Audit events of the provider.
const (
	EventAuthorized    = "oidc.authorized"     // a login finished for an application
	EventRefused       = "oidc.refused"        // the user or a rule refused an application
	EventCodeRedeemed  = "oidc.code_redeemed"  // tokens issued for a code
	EventCodeReused    = "oidc.code_reused"    // a code presented twice: its tokens revoked
	EventRefreshReused = "oidc.refresh_reused" // a rotated refresh token presented again: its family revoked
	EventLogout        = "oidc.logout"         // RP-initiated logout
	EventClientAdded   = "oidc.client_added"   // an operator registered or replaced a client
	EventClientRemoved = "oidc.client_removed" // an operator removed a client
	EventKeyCreated    = "oidc.key_created"    // a signing key was made
	EventTokensRevoked = "oidc.tokens_revoked" // tokens revoked at the revocation endpoint
)
