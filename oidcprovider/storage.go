package oidcprovider

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	sls "github.com/secure-login-system/sls"
)

// Custom scope and claim: the brokerage account the user belongs to,
// which a trading application needs.
const (
	ScopeAccount   = "account"
	ClaimAccountID = "account_id"
)

// storage implements op.Storage on the SLS store.
type storage struct{ p *Provider }

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func randomID(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails (Go 1.24+)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// authRequest is op.AuthRequest over a stored request.
type authRequest struct {
	row *sls.OIDCAuthRequest
	req *oidc.AuthRequest
}

func loadAuthRequest(row *sls.OIDCAuthRequest) (*authRequest, error) {
	var req oidc.AuthRequest
	if err := json.Unmarshal(row.Request, &req); err != nil {
		return nil, fmt.Errorf("oidc: stored auth request %s: %w", row.ID, err)
	}
	req.ACRValues, req.Prompt, req.Scopes = nonEmpty(req.ACRValues), nonEmpty(req.Prompt), nonEmpty(req.Scopes)
	return &authRequest{row: row, req: &req}, nil
}

func (a *authRequest) GetID() string                      { return a.row.ID }
func (a *authRequest) GetACR() string                     { return a.row.ACR }
func (a *authRequest) GetAMR() []string                   { return a.row.AMR }
func (a *authRequest) GetAudience() []string              { return []string{a.row.ClientID} }
func (a *authRequest) GetAuthTime() time.Time             { return a.row.AuthTime }
func (a *authRequest) GetClientID() string                { return a.row.ClientID }
func (a *authRequest) GetNonce() string                   { return a.req.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.req.RedirectURI }
func (a *authRequest) GetScopes() []string                { return a.req.Scopes }
func (a *authRequest) GetState() string                   { return a.req.State }
func (a *authRequest) GetSubject() string                 { return a.row.UserID }
func (a *authRequest) Done() bool                         { return !a.row.DoneAt.IsZero() }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.req.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.req.ResponseMode }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.req.CodeChallenge == "" {
		return nil
	}
	return &oidc.CodeChallenge{Challenge: a.req.CodeChallenge, Method: a.req.CodeChallengeMethod}
}

// CreateAuthRequest stores a validated authorization request, after the
// rules the library leaves to the provider: only the scopes the client
// is allowed, PKCE with S256 for public clients (RFC 9700 §2.1.1), and
// the acr values the client may ask for (by default those it was
// registered with).
func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	now := s.p.now()
	c, err := s.client(ctx, req.ClientID)
	if err != nil {
		return nil, oidc.ErrInvalidClient().WithParent(err)
	}
	if req.ResponseType != oidc.ResponseTypeCode {
		return nil, oidc.ErrInvalidRequest().WithDescription("Only the authorization code flow is offered.")
	}
	if req.CodeChallenge != "" && req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256.")
	}
	if !c.Confidential && req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE (code_challenge with S256) is required for this client.")
	}
	req.Scopes = slices.DeleteFunc(slices.Clone(req.Scopes), func(sc string) bool {
		return sc != oidc.ScopeOpenID && !slices.Contains(c.Scopes, sc)
	})
	acr, err := effectiveACR(c, req.ACRValues)
	if err != nil {
		return nil, err
	}
	req.ACRValues = acr
	if slices.Contains(req.Prompt, oidc.PromptNone) && len(req.Prompt) > 1 {
		return nil, oidc.ErrInvalidRequest().WithDescription("prompt=none cannot be combined with other values.")
	}
	req.RequestParam = ""
	raw, err := json.Marshal(req)
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	row := &sls.OIDCAuthRequest{ID: randomID("oar_"), ClientID: c.ID, Request: raw, CreatedAt: now, ExpiresAt: now.Add(s.p.cfg.AuthRequestTTL)}
	if err := s.p.d.Store.Update(ctx, func(tx sls.Tx) error { return tx.CreateOIDCAuthRequest(ctx, row) }); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return loadAuthRequest(row)
}

// effectiveACR is what a request must reach: the values it asks for that
// the provider knows and the client may ask for, or, when it asks for
// none, the client's registered values. Asking only for values that are
// unknown or not allowed is refused rather than silently weakened.
func effectiveACR(c *sls.OIDCClient, requested []string) ([]string, error) {
	requested = nonEmpty(requested)
	if len(requested) == 0 {
		return slices.Clone(c.ACRValues), nil
	}
	out := slices.DeleteFunc(slices.Clone(requested), func(v string) bool {
		return !KnownACR(v) || (len(c.ACRValues) > 0 && !slices.Contains(c.ACRValues, v))
	})
	if len(out) == 0 {
		return nil, oidc.ErrInvalidRequest().WithDescription("None of the acr_values is offered to this client.")
	}
	return out, nil
}

// nonEmpty drops empty values (a space-delimited parameter that was
// absent decodes as one empty value).
func nonEmpty(vs []string) []string {
	return slices.DeleteFunc(slices.Clone(vs), func(v string) bool { return v == "" })
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	var row *sls.OIDCAuthRequest
	err := s.p.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		row, err = tx.OIDCAuthRequest(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !s.p.now().Before(row.ExpiresAt) || !row.ConsumedAt.IsZero() {
		return nil, errors.New("oidc: auth request expired or used")
	}
	return loadAuthRequest(row)
}

// AuthRequestByCode redeems a code, once: the row is locked, marked
// consumed and committed before any token exists, so two redemptions on
// two nodes cannot both pass. A second redemption revokes what the first
// issued (RFC 6749 §4.1.2).
func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	now := s.p.now()
	var row *sls.OIDCAuthRequest
	var reused error
	err := s.p.d.Store.Update(ctx, func(tx sls.Tx) error {
		var err error
		if row, err = tx.OIDCAuthRequestByCodeForUpdate(ctx, hashOf(code)); err != nil {
			return err
		}
		if !row.ConsumedAt.IsZero() {
			n, err := tx.RevokeOIDCTokens(ctx, sls.OIDCTokenFilter{FamilyID: row.ID}, now)
			if err != nil {
				return err
			}
			reused = errors.New("oidc: code used twice")
			return audit(ctx, tx, now, sls.ActorSystem, EventCodeReused, row.UserID, map[string]any{"client_id": row.ClientID, "revoked": n})
		}
		row.ConsumedAt = now
		if err := tx.PutOIDCAuthRequest(ctx, row); err != nil {
			return err
		}
		if now.Sub(row.DoneAt) > s.p.cfg.CodeTTL {
			reused = errors.New("oidc: code expired")
			return nil
		}
		return audit(ctx, tx, now, sls.ActorUser(row.UserID), EventCodeRedeemed, row.UserID, map[string]any{"client_id": row.ClientID})
	})
	if err != nil {
		return nil, err
	}
	if reused != nil {
		return nil, reused
	}
	return loadAuthRequest(row)
}

// SaveAuthCode records the code issued for a finished request.
func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.p.d.Store.Update(ctx, func(tx sls.Tx) error {
		row, err := tx.OIDCAuthRequestForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if row.DoneAt.IsZero() || row.CodeHash != "" || !row.ConsumedAt.IsZero() {
			return errors.New("oidc: auth request not ready for a code")
		}
		row.CodeHash = hashOf(code)
		return tx.PutOIDCAuthRequest(ctx, row)
	})
}

// DeleteAuthRequest keeps the row: a consumed request stays until it
// expires so that a second redemption of its code is recognised.
func (s *storage) DeleteAuthRequest(context.Context, string) error { return nil }

// grant is what every token request carries about its authorization.
type grant struct {
	family, clientID, userID, sessionID string
	scopes, audience, amr               []string
	acr                                 string
	authTime                            time.Time
}

func grantOf(req op.TokenRequest) (grant, error) {
	switch r := req.(type) {
	case *refreshRequest:
		t := r.token
		return grant{family: t.FamilyID, clientID: t.ClientID, userID: t.UserID, sessionID: t.SessionID, scopes: r.scopes,
			audience: t.Audience, amr: t.AMR, acr: t.ACR, authTime: t.AuthTime}, nil
	case *authRequest:
		return grant{family: r.row.ID, clientID: r.row.ClientID, userID: r.row.UserID, sessionID: r.row.SessionID, scopes: r.req.Scopes,
			audience: r.GetAudience(), amr: r.row.AMR, acr: r.row.ACR, authTime: r.row.AuthTime}, nil
	}
	return grant{}, oidc.ErrUnsupportedGrantType()
}

func (g grant) token(kind, idHash string, now, expires time.Time) *sls.OIDCToken {
	return &sls.OIDCToken{IDHash: idHash, Kind: kind, FamilyID: g.family, ClientID: g.clientID, UserID: g.userID, SessionID: g.sessionID,
		Scopes: g.scopes, Audience: g.audience, AMR: g.amr, ACR: g.acr, AuthTime: g.authTime, CreatedAt: now, ExpiresAt: expires}
}

// sessionBehind checks that the SLS session a grant came from still
// lives and its user may still log in: tokens never outlive the login
// they came from, nor a lock, disabling or closure.
func (s *storage) sessionBehind(ctx context.Context, tx sls.Tx, g grant, now time.Time) (*sls.Session, error) {
	ss, err := tx.Session(ctx, g.sessionID)
	if errors.Is(err, sls.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("The login behind this grant has ended.")
	}
	if err != nil {
		return nil, err
	}
	u, err := tx.User(ctx, g.userID)
	if err != nil {
		return nil, err
	}
	if ss.UserID != g.userID || !ss.Live(now) || u.Locked(now) || u.Inactive() || ss.Scope != sls.ScopeFull {
		return nil, oidc.ErrInvalidGrant().WithDescription("The login behind this grant has ended.")
	}
	return ss, nil
}

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, err := grantOf(req)
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.p.now()
	id := randomID("at_")
	exp := now.Add(s.p.cfg.AccessTokenTTL)
	err = s.p.d.Store.Update(ctx, func(tx sls.Tx) error {
		if _, err := s.sessionBehind(ctx, tx, g, now); err != nil {
			return err
		}
		return tx.CreateOIDCToken(ctx, g.token(sls.OIDCAccessToken, hashOf(id), now, exp))
	})
	return id, exp, err
}

// CreateAccessAndRefreshTokens issues an access token and a refresh
// token. When current is a refresh token being used, it is rotated in
// the same transaction (locked first, so two concurrent uses cannot both
// rotate it); the loser is treated as a reuse.
func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	g, err := grantOf(req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	now := s.p.now()
	id, refresh := randomID("at_"), randomID("rt_")
	exp := now.Add(s.p.cfg.AccessTokenTTL)
	var reused bool
	err = s.p.d.Store.Update(ctx, func(tx sls.Tx) error {
		if current != "" {
			cur, err := tx.OIDCTokenForUpdate(ctx, hashOf(current))
			if err != nil {
				return oidc.ErrInvalidGrant().WithParent(err)
			}
			if !cur.RotatedAt.IsZero() {
				reused = true
				return s.reuse(ctx, tx, cur, now)
			}
			if !cur.Usable(now) {
				return oidc.ErrInvalidGrant().WithDescription("The refresh token is no longer valid.")
			}
			cur.RotatedAt = now
			if err := tx.PutOIDCToken(ctx, cur); err != nil {
				return err
			}
		}
		ss, err := s.sessionBehind(ctx, tx, g, now)
		if err != nil {
			return err
		}
		if current != "" && now.Sub(ss.LastSeenAt) > time.Minute {
			// The application's use keeps the login it came from alive,
			// as the portal's own use does.
			ss.LastSeenAt = now
			if err := tx.PutSession(ctx, ss); err != nil {
				return err
			}
		}
		if err := tx.CreateOIDCToken(ctx, g.token(sls.OIDCAccessToken, hashOf(id), now, exp)); err != nil {
			return err
		}
		refreshExp := now.Add(s.p.cfg.RefreshTokenTTL)
		if ss.ExpiresAt.Before(refreshExp) {
			refreshExp = ss.ExpiresAt
		}
		return tx.CreateOIDCToken(ctx, g.token(sls.OIDCRefreshToken, hashOf(refresh), now, refreshExp))
	})
	if reused {
		return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("The refresh token was already used; the grant is revoked.")
	}
	if err != nil {
		return "", "", time.Time{}, asOIDCError(err)
	}
	return id, refresh, exp, nil
}

// reuse handles a rotated refresh token presented again: someone holds a
// copy, so every token of its family is revoked (OAuth 2.0 Security BCP,
// RFC 9700 §4.14.2).
func (s *storage) reuse(ctx context.Context, tx sls.Tx, t *sls.OIDCToken, now time.Time) error {
	n, err := tx.RevokeOIDCTokens(ctx, sls.OIDCTokenFilter{FamilyID: t.FamilyID}, now)
	if err != nil {
		return err
	}
	s.p.d.Log.Warn("oidc: rotated refresh token reused; grant revoked", "client_id", t.ClientID, "user_id", t.UserID, "revoked", n)
	return audit(ctx, tx, now, sls.ActorSystem, EventRefreshReused, t.UserID, map[string]any{"client_id": t.ClientID, "revoked": n})
}

// asOIDCError keeps OAuth errors and turns anything else into
// server_error without its text.
func asOIDCError(err error) error {
	var oe *oidc.Error
	if errors.As(err, &oe) {
		return oe
	}
	return oidc.ErrServerError().WithParent(err)
}

// refreshRequest is op.RefreshTokenRequest over a stored refresh token.
// It is an op.AuthRequest too, so that the refreshed ID token keeps the
// acr of the login (the library reads acr from auth requests only).
type refreshRequest struct {
	token  *sls.OIDCToken
	scopes []string
}

func (r *refreshRequest) GetAMR() []string                      { return r.token.AMR }
func (r *refreshRequest) GetAudience() []string                 { return r.token.Audience }
func (r *refreshRequest) GetAuthTime() time.Time                { return r.token.AuthTime }
func (r *refreshRequest) GetClientID() string                   { return r.token.ClientID }
func (r *refreshRequest) GetScopes() []string                   { return r.scopes }
func (r *refreshRequest) GetSubject() string                    { return r.token.UserID }
func (r *refreshRequest) SetCurrentScopes(scopes []string)      { r.scopes = scopes }
func (r *refreshRequest) GetID() string                         { return r.token.FamilyID }
func (r *refreshRequest) GetACR() string                        { return r.token.ACR }
func (r *refreshRequest) GetCodeChallenge() *oidc.CodeChallenge { return nil }
func (r *refreshRequest) GetNonce() string                      { return "" } // OIDC Core §12.2: no nonce on refresh
func (r *refreshRequest) GetRedirectURI() string                { return "" }
func (r *refreshRequest) GetResponseType() oidc.ResponseType    { return oidc.ResponseTypeCode }
func (r *refreshRequest) GetResponseMode() oidc.ResponseMode    { return "" }
func (r *refreshRequest) GetState() string                      { return "" }
func (r *refreshRequest) Done() bool                            { return true }

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	now := s.p.now()
	var t *sls.OIDCToken
	var reused bool
	err := s.p.d.Store.Update(ctx, func(tx sls.Tx) error {
		var err error
		if t, err = tx.OIDCToken(ctx, hashOf(token)); err != nil {
			return err
		}
		if t.Kind != sls.OIDCRefreshToken {
			return sls.ErrNotFound
		}
		if !t.RotatedAt.IsZero() && t.RevokedAt.IsZero() {
			reused = true
			return s.reuse(ctx, tx, t, now)
		}
		return nil
	})
	if errors.Is(err, sls.ErrNotFound) {
		return nil, op.ErrInvalidRefreshToken
	}
	if err != nil {
		return nil, err
	}
	if reused || !t.Usable(now) {
		return nil, op.ErrInvalidRefreshToken
	}
	return &refreshRequest{token: t, scopes: t.Scopes}, nil
}

// TerminateSession revokes the tokens a user's login gave a client (the
// library calls it when TerminateSessionFromRequest is absent).
func (s *storage) TerminateSession(ctx context.Context, userID, clientID string) error {
	_, err := s.TerminateSessionFromRequest(ctx, &op.EndSessionRequest{UserID: userID, ClientID: clientID})
	return err
}

// TerminateSessionFromRequest is RP-initiated logout: with an ID token
// hint naming the SLS session (sid), that session ends — the user is
// logged out of SLS and of every application its login served — else
// the client's tokens for the user are revoked. Without a hint nothing
// is ended: a logout link cannot be forged to log someone out.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, r *op.EndSessionRequest) (string, error) {
	if r.UserID == "" {
		return r.RedirectURI, nil
	}
	now := s.p.now()
	sid := ""
	if r.IDTokenHintClaims != nil {
		sid = r.IDTokenHintClaims.SessionID
		if v, ok := r.IDTokenHintClaims.Claims["sid"].(string); ok && sid == "" {
			sid = v
		}
	}
	err := s.p.d.Store.Update(ctx, func(tx sls.Tx) error {
		detail := map[string]any{"client_id": r.ClientID}
		if sid != "" {
			ended, err := sls.EndSessions(ctx, tx, sls.SessionFilter{SessionID: sid, UserID: r.UserID}, sls.EndRPLogout, sls.ActorUser(r.UserID), now)
			if err != nil && sls.ErrorCode(err) != sls.CodeNotFound {
				return err
			}
			n, err := tx.RevokeOIDCTokens(ctx, sls.OIDCTokenFilter{SessionID: sid, UserID: r.UserID}, now)
			if err != nil {
				return err
			}
			detail["sessions_ended"], detail["revoked"] = len(ended), n
		} else {
			n, err := tx.RevokeOIDCTokens(ctx, sls.OIDCTokenFilter{UserID: r.UserID, ClientID: r.ClientID}, now)
			if err != nil {
				return err
			}
			detail["revoked"] = n
		}
		return audit(ctx, tx, now, sls.ActorUser(r.UserID), EventLogout, r.UserID, detail)
	})
	return r.RedirectURI, err
}

// refreshTokenID marks the "token id" GetRefreshTokenInfo hands to
// RevokeToken: the refresh token's hash.
const refreshTokenID = "rt:"

// RevokeToken revokes a token at the revocation endpoint (RFC 7009). A
// refresh token takes its whole grant with it (§2.1); an unknown token
// is not an error (§2.2); another client's token is refused.
func (s *storage) RevokeToken(ctx context.Context, tokenOrID, _, clientID string) *oidc.Error {
	h := hashOf(tokenOrID)
	if v, ok := strings.CutPrefix(tokenOrID, refreshTokenID); ok {
		h = v
	}
	now := s.p.now()
	var refused bool
	err := s.p.d.Store.Update(ctx, func(tx sls.Tx) error {
		t, err := tx.OIDCTokenForUpdate(ctx, h)
		if errors.Is(err, sls.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if t.ClientID != clientID {
			refused = true
			return nil
		}
		n := 1
		if t.Kind == sls.OIDCRefreshToken {
			if n, err = tx.RevokeOIDCTokens(ctx, sls.OIDCTokenFilter{FamilyID: t.FamilyID}, now); err != nil {
				return err
			}
		} else if t.RevokedAt.IsZero() {
			t.RevokedAt = now
			if err := tx.PutOIDCToken(ctx, t); err != nil {
				return err
			}
		}
		return audit(ctx, tx, now, sls.ActorUser(t.UserID), EventTokensRevoked, t.UserID, map[string]any{"client_id": clientID, "kind": t.Kind, "revoked": n})
	})
	switch {
	case err != nil:
		return oidc.ErrServerError()
	case refused:
		return oidc.ErrUnauthorizedClient().WithDescription("The token was not issued to this client.")
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	var t *sls.OIDCToken
	err := s.p.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		t, err = tx.OIDCToken(ctx, hashOf(token))
		return err
	})
	if errors.Is(err, sls.ErrNotFound) || (err == nil && t.Kind != sls.OIDCRefreshToken) {
		return "", "", op.ErrInvalidRefreshToken
	}
	if err != nil {
		return "", "", err
	}
	return t.UserID, refreshTokenID + t.IDHash, nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	return s.p.keys.signing(ctx)
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) { return s.p.keys.published(ctx) }

// client is op.Client over a registered client.
type client struct {
	c   *sls.OIDCClient
	ttl time.Duration
}

func (c *client) GetID() string                    { return c.c.ID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutURIs }
func (c *client) LoginURL(id string) string        { return PathContinue + "?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType {
	return op.AccessTokenTypeBearer // opaque: revocation and the session's end apply at once
}
func (c *client) IDTokenLifetime() time.Duration { return c.ttl }
func (c *client) DevMode() bool                  { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) IsScopeAllowed(scope string) bool     { return slices.Contains(c.c.Scopes, scope) }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}

// ApplicationType: a confidential client is a web application; a public
// one is native or in the browser, whose redirect URIs may be loopback
// or a private scheme (RFC 8252 §7).
func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Confidential {
		return op.ApplicationTypeWeb
	}
	return op.ApplicationTypeNative
}

func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Confidential {
		return oidc.AuthMethodBasic
	}
	return oidc.AuthMethodNone
}

// client reads a registered client; an unknown one is a plain error (the
// library answers invalid_client), a database failure server_error.
func (s *storage) client(ctx context.Context, id string) (*sls.OIDCClient, error) {
	var c *sls.OIDCClient
	err := s.p.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		c, err = tx.OIDCClient(ctx, id)
		return err
	})
	if errors.Is(err, sls.ErrNotFound) {
		return nil, errors.New("oidc: unknown client")
	}
	if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return c, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	return &client{c: c, ttl: s.p.cfg.IDTokenTTL}, nil
}

// AuthorizeClientIDSecret checks a confidential client's secret in
// constant time against its keyed hash.
func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	c, err := s.client(ctx, id)
	if err != nil {
		return err
	}
	if !c.Confidential || len(c.SecretHash) == 0 || secret == "" ||
		subtle.ConstantTimeCompare(s.p.secretHash(secret), c.SecretHash) != 1 {
		return errors.New("oidc: wrong client secret")
	}
	return nil
}

func (p *Provider) secretHash(secret string) []byte {
	return p.d.Sealer.KeyedHash("oidc client secret", []byte(secret))
}

// SetUserinfoFromScopes is deprecated in the library; SetUserinfoFromRequest fills ID tokens.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the ID token's claims: the scopes' claims
// and sid, the SLS session the login made (for RP-initiated logout).
func (s *storage) SetUserinfoFromRequest(ctx context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	var sid string
	switch r := req.(type) {
	case *authRequest:
		sid = r.row.SessionID
	case *refreshRequest:
		sid = r.token.SessionID
	}
	if err := s.userinfo(ctx, info, req.GetSubject(), scopes); err != nil {
		return err
	}
	if sid != "" {
		info.AppendClaims("sid", sid)
	}
	return nil
}

// userinfo sets the claims scopes allow. The subject is the user's
// stable id, never the username, which a user may be given anew.
func (s *storage) userinfo(ctx context.Context, info *oidc.UserInfo, userID string, scopes []string) error {
	var u *sls.User
	err := s.p.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		u, err = tx.User(ctx, userID)
		return err
	})
	if err != nil {
		return err
	}
	info.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			info.PreferredUsername = u.Username
			if u.Lang != "" {
				info.Locale = oidc.NewLocale(language.Make(u.Lang))
			}
		case oidc.ScopeEmail:
			if u.Email != "" {
				info.Email = u.Email
			}
		case oidc.ScopePhone:
			if u.Mobile != "" {
				info.PhoneNumber, info.PhoneNumberVerified = u.Mobile, oidc.Bool(!u.MobileVerifiedAt.IsZero())
			}
		case ScopeAccount:
			info.AppendClaims(ClaimAccountID, u.AccountID)
		}
	}
	return nil
}

// accessToken finds a usable access token of subject whose login still lives.
func (s *storage) accessToken(ctx context.Context, tokenID, subject string) (*sls.OIDCToken, error) {
	now := s.p.now()
	var t *sls.OIDCToken
	err := s.p.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		if t, err = tx.OIDCToken(ctx, hashOf(tokenID)); err != nil {
			return err
		}
		if t.Kind != sls.OIDCAccessToken || !t.Usable(now) || t.UserID != subject {
			return sls.ErrNotFound
		}
		_, err = s.sessionBehind(ctx, tx, grant{sessionID: t.SessionID, userID: t.UserID}, now)
		return err
	})
	if err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("The access token is not valid.")
	}
	return t, nil
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.accessToken(ctx, tokenID, subject)
	if err != nil {
		return err
	}
	return s.userinfo(ctx, info, t.UserID, t.Scopes)
}

func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.accessToken(ctx, tokenID, subject)
	if err != nil || !slices.Contains(t.Audience, clientID) {
		return oidc.ErrInvalidRequest()
	}
	info := new(oidc.UserInfo)
	if err := s.userinfo(ctx, info, t.UserID, t.Scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Active, resp.Scope, resp.ClientID, resp.Audience = true, t.Scopes, t.ClientID, t.Audience
	resp.Expiration, resp.IssuedAt = oidc.FromTime(t.ExpiresAt), oidc.FromTime(t.CreatedAt)
	resp.TokenType = oidc.BearerToken
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID: private_key_jwt client authentication is not offered.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("oidc: private_key_jwt is not offered")
}

// ValidateJWTProfileScopes: the JWT profile grant is not offered.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("oidc: the JWT profile grant is not offered")
}

func (s *storage) Health(ctx context.Context) error {
	return s.p.d.Store.View(ctx, func(sls.Tx) error { return nil })
}
