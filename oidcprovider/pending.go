package oidcprovider

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	sls "github.com/secure-login-system/sls"
)

// Pending is an authorization request waiting for the user, as the
// portal's login and consent pages need it.
type Pending struct {
	ID         string
	ClientID   string
	ClientName string
	Scopes     []string
	// PromptLogin: the application asked for a fresh login (prompt=login).
	// PromptNone: it asked that nothing be shown (prompt=none).
	// PromptConsent: it asked that the user be asked again.
	PromptLogin, PromptNone, PromptConsent bool
	// MaxAge, when set, bounds the age of the login (max_age).
	MaxAge *time.Duration
	// ACRValues is what the login must reach (see ACRFor); empty: any.
	ACRValues   []string
	SkipConsent bool
	CreatedAt   time.Time
}

// idPattern is the form of an auth request id (randomID("oar_")).
var idPattern = regexp.MustCompile(`^oar_[A-Za-z0-9_-]{43}$`)

// ValidID reports whether id has the form of an auth request id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// errExpired is what the pages show for an unknown, used or expired request.
var errExpired = sls.Errorf(sls.CodeNotFound, "This sign-in request has expired or was already used. Go back to the application and start again.")

func (p *Provider) pendingRow(ctx context.Context, tx sls.Tx, id string, lock bool) (*authRequest, *sls.OIDCClient, error) {
	if !ValidID(id) {
		return nil, nil, errExpired
	}
	get := tx.OIDCAuthRequest
	if lock {
		get = tx.OIDCAuthRequestForUpdate
	}
	row, err := get(ctx, id)
	if errors.Is(err, sls.ErrNotFound) {
		return nil, nil, errExpired
	}
	if err != nil {
		return nil, nil, err
	}
	if !p.now().Before(row.ExpiresAt) || !row.DoneAt.IsZero() || !row.ConsumedAt.IsZero() {
		return nil, nil, errExpired
	}
	ar, err := loadAuthRequest(row)
	if err != nil {
		return nil, nil, err
	}
	c, err := tx.OIDCClient(ctx, row.ClientID)
	if errors.Is(err, sls.ErrNotFound) {
		return nil, nil, errExpired
	}
	return ar, c, err
}

// Pending describes the waiting request id.
func (p *Provider) Pending(ctx context.Context, id string) (*Pending, error) {
	var ar *authRequest
	var c *sls.OIDCClient
	if err := p.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		ar, c, err = p.pendingRow(ctx, tx, id, false)
		return err
	}); err != nil {
		return nil, err
	}
	return pendingOf(ar, c), nil
}

func pendingOf(ar *authRequest, c *sls.OIDCClient) *Pending {
	out := &Pending{ID: ar.row.ID, ClientID: c.ID, ClientName: c.Name, Scopes: ar.req.Scopes, ACRValues: ar.req.ACRValues,
		SkipConsent: c.SkipConsent, CreatedAt: ar.row.CreatedAt,
		PromptLogin:   slices.Contains(ar.req.Prompt, oidc.PromptLogin),
		PromptNone:    slices.Contains(ar.req.Prompt, oidc.PromptNone),
		PromptConsent: slices.Contains(ar.req.Prompt, oidc.PromptConsent)}
	if ar.req.MaxAge != nil {
		d := time.Duration(*ar.req.MaxAge) * time.Second
		out.MaxAge = &d
	}
	return out
}

// NeedsLogin reports whether session ss (nil: none) cannot serve the
// request and the user must log in (again): no full session, or a login
// made before the request that prompt=login or max_age refuses. A login
// made for this request always serves it (max_age=0 means "log in now",
// OIDC Core §3.1.2.1).
func (pd *Pending) NeedsLogin(ss *sls.Session, now time.Time) bool {
	switch {
	case ss == nil || ss.Scope != sls.ScopeFull:
		return true
	case !ss.CreatedAt.Before(pd.CreatedAt):
		return false
	case pd.PromptLogin:
		return true
	case pd.MaxAge != nil && now.Sub(ss.CreatedAt) > *pd.MaxAge:
		return true
	}
	return false
}

// ProvenKind is the device kind a session's login stands on for acr: the
// last device proven in it (a step-up replaces the login's device).
func ProvenKind(ss *sls.Session) sls.DeviceKind {
	if ss.ProvenKind != "" {
		return ss.ProvenKind
	}
	return ss.DeviceKind
}

// MeetsACR reports whether session ss reaches the request's acr values.
func (pd *Pending) MeetsACR(ss *sls.Session) bool {
	return ACRFor(pd.ACRValues, ProvenKind(ss)) != ""
}

// Finish completes the request with session ss, which must meet it, and
// returns where to send the browser: the provider's callback, which
// issues the code to the application.
func (p *Provider) Finish(ctx context.Context, id string, ss *sls.Session) (string, error) {
	now := p.now()
	err := p.d.Store.Update(ctx, func(tx sls.Tx) error {
		ar, c, err := p.pendingRow(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if pd := pendingOf(ar, c); pd.NeedsLogin(ss, now) || !pd.MeetsACR(ss) {
			return sls.Errorf(sls.CodeStepUpRequired, "This application needs a stronger or more recent login.")
		}
		kind := ProvenKind(ss)
		row := ar.row
		row.UserID, row.SessionID, row.AuthTime, row.DoneAt = ss.UserID, ss.ID, ss.CreatedAt, now
		row.ACR = ACRFor(ar.req.ACRValues, kind)
		row.AMR = AMRFor(kind, !ss.Passwordless)
		if err := tx.PutOIDCAuthRequest(ctx, row); err != nil {
			return err
		}
		return audit(ctx, tx, now, sls.ActorUser(ss.UserID), EventAuthorized, ss.UserID,
			map[string]any{"client_id": c.ID, "acr": row.ACR, "amr": row.AMR, "session_id": ss.ID})
	})
	if err != nil {
		return "", err
	}
	return op.AuthCallbackURL(p.op)(op.ContextWithIssuer(ctx, p.Issuer()), id), nil
}

// Refusal codes the pages use (OIDC Core §3.1.2.6, RFC 6749 §4.1.2.1).
const (
	RefuseAccessDenied        = "access_denied"
	RefuseLoginRequired       = "login_required"
	RefuseInteractionRequired = "interaction_required"
	RefuseConsentRequired     = "consent_required"
)

// Refuse ends the request with an error for the application and returns
// where to send the browser: the application's redirect URI with the
// error, its state and the issuer (RFC 9207).
func (p *Provider) Refuse(ctx context.Context, id, code, description, actor string) (string, error) {
	now := p.now()
	var target string
	err := p.d.Store.Update(ctx, func(tx sls.Tx) error {
		ar, c, err := p.pendingRow(ctx, tx, id, true)
		if err != nil {
			return err
		}
		ar.row.ConsumedAt = now
		if err := tx.PutOIDCAuthRequest(ctx, ar.row); err != nil {
			return err
		}
		u, err := url.Parse(ar.req.RedirectURI)
		if err != nil {
			return err
		}
		q := u.Query()
		q.Set("error", code)
		if description != "" {
			q.Set("error_description", description)
		}
		if ar.req.State != "" {
			q.Set("state", ar.req.State)
		}
		q.Set("iss", p.Issuer())
		u.RawQuery = q.Encode()
		target = u.String()
		return audit(ctx, tx, now, actor, EventRefused, "", map[string]any{"client_id": c.ID, "error": code})
	})
	return target, err
}
