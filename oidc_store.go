package sls

import (
	"context"
	"time"
)

// OIDCClient is an application registered by an operator to log its users
// in through the OpenID Connect provider (package oidcprovider).
type OIDCClient struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Confidential clients authenticate to the token endpoint with their
	// secret (kept as a keyed hash); public clients (mobile and
	// single-page apps) cannot keep one and must use PKCE.
	Confidential bool   `json:"confidential"`
	SecretHash   []byte `json:"-"`
	// RedirectURIs are matched exactly (OAuth 2.0 Security BCP, RFC 9700
	// §4.1.3); PostLogoutURIs likewise for RP-initiated logout.
	RedirectURIs   []string `json:"redirect_uris"`
	PostLogoutURIs []string `json:"post_logout_redirect_uris,omitempty"`
	// Scopes the client may ask for besides "openid".
	Scopes []string `json:"scopes"`
	// ACRValues the client may ask for; empty: any the provider offers.
	ACRValues []string `json:"acr_values,omitempty"`
	// SkipConsent: a first-party application of the brokerage, whose
	// users are not asked to agree to share their profile with it.
	SkipConsent bool      `json:"skip_consent"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
}

// OIDCAuthRequest is one authorization request from the moment a relying
// party sends the browser to the provider until its code is redeemed.
type OIDCAuthRequest struct {
	ID       string
	ClientID string
	// Request holds the authorization request's parameters as the
	// provider parsed them (JSON); the store does not read it.
	Request []byte
	// CodeHash is the SHA-256 of the authorization code once issued.
	CodeHash string
	// Who logged in, with which session, when, and how (RFC 8176 amr,
	// the acr reached); set when the login finishes (DoneAt).
	UserID    string
	SessionID string
	AuthTime  time.Time
	AMR       []string
	ACR       string
	DoneAt    time.Time
	// ConsumedAt is when the code was redeemed; a second redemption is
	// refused and revokes what the first issued (RFC 6749 §4.1.2).
	ConsumedAt time.Time
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// OIDC token kinds.
const (
	OIDCAccessToken  = "access"
	OIDCRefreshToken = "refresh"
)

// OIDCToken is an access or refresh token the provider issued. Only its
// hash is stored.
type OIDCToken struct {
	IDHash string
	Kind   string
	// FamilyID groups every token descending from one authorization
	// (the auth request's id): reuse of a rotated refresh token revokes
	// the family.
	FamilyID  string
	ClientID  string
	UserID    string
	SessionID string
	Scopes    []string
	Audience  []string
	AMR       []string
	ACR       string
	AuthTime  time.Time
	CreatedAt time.Time
	ExpiresAt time.Time
	// RotatedAt: a refresh token already exchanged for a new one.
	RotatedAt time.Time
	RevokedAt time.Time
}

// Usable reports whether the token may be used at now.
func (t *OIDCToken) Usable(now time.Time) bool {
	return t.RevokedAt.IsZero() && t.RotatedAt.IsZero() && now.Before(t.ExpiresAt)
}

// OIDCTokenFilter selects tokens to revoke: every field given must match.
type OIDCTokenFilter struct {
	FamilyID  string
	SessionID string
	UserID    string
	ClientID  string
}

// OIDCKey is one signing key of the provider. The private key is sealed.
type OIDCKey struct {
	ID        string // the JWK "kid"
	Algorithm string // JWS "alg", e.g. RS256
	Private   []byte // sealed PKCS #8
	Public    []byte // PKIX
	CreatedAt time.Time
	// ActiveAt is when it starts signing: a new key is published in the
	// key set ahead of use, so relying parties that cache the set find it.
	ActiveAt time.Time
	// RetireAt is when it leaves the key set (zero: not scheduled); it
	// stops signing as soon as a newer key is active.
	RetireAt time.Time
}

// OIDCStore keeps the OpenID Connect provider's state, so that any node
// serves any step of a flow.
type OIDCStore interface {
	PutOIDCClient(ctx context.Context, c *OIDCClient) error // creates or replaces
	OIDCClient(ctx context.Context, id string) (*OIDCClient, error)
	OIDCClients(ctx context.Context) ([]*OIDCClient, error)
	// DeleteOIDCClient removes the client and revokes its tokens.
	DeleteOIDCClient(ctx context.Context, id string, now time.Time) error

	CreateOIDCAuthRequest(ctx context.Context, r *OIDCAuthRequest) error
	OIDCAuthRequest(ctx context.Context, id string) (*OIDCAuthRequest, error)
	OIDCAuthRequestForUpdate(ctx context.Context, id string) (*OIDCAuthRequest, error)
	// OIDCAuthRequestByCodeForUpdate finds and locks the request whose
	// code hashes to codeHash.
	OIDCAuthRequestByCodeForUpdate(ctx context.Context, codeHash string) (*OIDCAuthRequest, error)
	PutOIDCAuthRequest(ctx context.Context, r *OIDCAuthRequest) error

	CreateOIDCToken(ctx context.Context, t *OIDCToken) error
	OIDCToken(ctx context.Context, idHash string) (*OIDCToken, error)
	OIDCTokenForUpdate(ctx context.Context, idHash string) (*OIDCToken, error)
	PutOIDCToken(ctx context.Context, t *OIDCToken) error
	// RevokeOIDCTokens revokes every unrevoked token matching f (at least
	// one field set) and returns how many.
	RevokeOIDCTokens(ctx context.Context, f OIDCTokenFilter, now time.Time) (int, error)

	CreateOIDCKey(ctx context.Context, k *OIDCKey) error
	// OIDCKeys lists the signing keys, newest first.
	OIDCKeys(ctx context.Context) ([]*OIDCKey, error)
	PutOIDCKey(ctx context.Context, k *OIDCKey) error

	// PurgeOIDC deletes auth requests and tokens expired before now and
	// keys whose retirement passed.
	PurgeOIDC(ctx context.Context, now time.Time) error
}
