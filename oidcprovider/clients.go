package oidcprovider

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"

	sls "github.com/secure-login-system/sls"
)

// ClientSpec is what an operator registers.
type ClientSpec struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Public: a native or browser application, which cannot keep a
	// secret and must use PKCE. The default is a confidential client.
	Public         bool     `json:"public,omitempty"`
	RedirectURIs   []string `json:"redirect_uris"`
	PostLogoutURIs []string `json:"post_logout_redirect_uris,omitempty"`
	Scopes         []string `json:"scopes,omitempty"`
	ACRValues      []string `json:"acr_values,omitempty"`
	SkipConsent    bool     `json:"skip_consent,omitempty"`
}

var clientIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,63}$`)

// OfferedScopes are the scopes a client may be allowed besides openid.
var OfferedScopes = []string{oidc.ScopeProfile, oidc.ScopeEmail, oidc.ScopePhone, oidc.ScopeOfflineAccess, ScopeAccount}

// Check reports every problem with the spec as one invalid_argument error.
func (s ClientSpec) Check() error {
	var probs []string
	if !clientIDPattern.MatchString(s.ID) {
		probs = append(probs, "id must be 2–64 lowercase letters, digits, '.', '_' or '-'")
	}
	if n := len([]rune(strings.TrimSpace(s.Name))); n == 0 || n > 80 {
		probs = append(probs, "name must be 1–80 characters")
	}
	if len(s.RedirectURIs) == 0 || len(s.RedirectURIs) > 10 {
		probs = append(probs, "give 1–10 redirect URIs")
	}
	for _, u := range append(slices.Clone(s.RedirectURIs), s.PostLogoutURIs...) {
		if why := redirectProblem(u, !s.Public); why != "" {
			probs = append(probs, u+": "+why)
		}
	}
	for _, sc := range s.Scopes {
		if !slices.Contains(OfferedScopes, sc) {
			probs = append(probs, "unknown scope "+sc+" (offered: "+strings.Join(OfferedScopes, ", ")+")")
		}
	}
	for _, a := range s.ACRValues {
		if !KnownACR(a) {
			probs = append(probs, "unknown acr value "+a)
		}
	}
	if len(probs) > 0 {
		return sls.Errorf(sls.CodeInvalidArgument, "The client is not valid: %s.", strings.Join(probs, "; "))
	}
	return nil
}

// redirectProblem says what is wrong with a redirect URI, "" if nothing.
// Redirect URIs are compared exactly (RFC 9700 §4.1.3), so they must be
// absolute, without a fragment (RFC 6749 §3.1.2); plain http only to the
// loopback address (RFC 8252 §7.3); a private scheme only for public
// (native) clients (RFC 8252 §7.1).
func redirectProblem(raw string, confidential bool) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Scheme == "" || len(raw) > 512:
		return "not an absolute URI"
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "must not have a fragment"
	case u.Scheme == "https":
		if u.Host == "" {
			return "no host"
		}
	case u.Scheme == "http":
		if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "plain http only to localhost or a loopback address"
		}
	case confidential:
		return "a confidential client redirects to https"
	case !strings.Contains(u.Scheme, "."):
		return "a private scheme must be a reversed domain name (RFC 8252 §7.1)"
	}
	return ""
}

// AddClient registers (or replaces) a client and returns it with its new
// secret, shown this once, for a confidential client.
func (p *Provider) AddClient(ctx context.Context, actor string, spec ClientSpec) (*sls.OIDCClient, string, error) {
	if err := spec.Check(); err != nil {
		return nil, "", err
	}
	now := p.now()
	c := &sls.OIDCClient{ID: spec.ID, Name: strings.TrimSpace(spec.Name), Confidential: !spec.Public, RedirectURIs: spec.RedirectURIs,
		PostLogoutURIs: spec.PostLogoutURIs, Scopes: spec.Scopes, ACRValues: spec.ACRValues, SkipConsent: spec.SkipConsent,
		CreatedAt: now, CreatedBy: actor}
	var secret string
	if c.Confidential {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		secret = base64.RawURLEncoding.EncodeToString(b)
		c.SecretHash = p.secretHash(secret)
	}
	err := p.d.Store.Update(ctx, func(tx sls.Tx) error {
		replaced := false
		if old, err := tx.OIDCClient(ctx, c.ID); err == nil {
			replaced, c.CreatedAt = true, old.CreatedAt
			// A replaced client's tokens were issued under the old terms.
			if _, err := tx.RevokeOIDCTokens(ctx, sls.OIDCTokenFilter{ClientID: c.ID}, now); err != nil {
				return err
			}
		} else if !errors.Is(err, sls.ErrNotFound) {
			return err
		}
		if err := tx.PutOIDCClient(ctx, c); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, EventClientAdded, "", map[string]any{"client_id": c.ID, "confidential": c.Confidential,
			"redirect_uris": c.RedirectURIs, "scopes": c.Scopes, "acr_values": c.ACRValues, "replaced": replaced})
	})
	if err != nil {
		return nil, "", err
	}
	return c, secret, nil
}

// Clients lists the registered clients.
func (p *Provider) Clients(ctx context.Context) ([]*sls.OIDCClient, error) {
	var out []*sls.OIDCClient
	err := p.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		out, err = tx.OIDCClients(ctx)
		return err
	})
	return out, err
}

// RemoveClient removes a client; its tokens stop working at once.
func (p *Provider) RemoveClient(ctx context.Context, actor, id string) error {
	now := p.now()
	return p.d.Store.Update(ctx, func(tx sls.Tx) error {
		err := tx.DeleteOIDCClient(ctx, id, now)
		if errors.Is(err, sls.ErrNotFound) {
			return sls.Errorf(sls.CodeNotFound, "No client %q.", id)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, EventClientRemoved, "", map[string]any{"client_id": id})
	})
}

// KeyInfo describes a signing key for operators (never the private half).
type KeyInfo struct {
	ID       string `json:"kid"`
	State    string `json:"state"` // next, signing, retiring
	ActiveAt string `json:"active_at"`
	RetireAt string `json:"retire_at,omitempty"`
}

// Keys lists the signing keys and their states.
func (p *Provider) Keys(ctx context.Context) ([]KeyInfo, error) {
	now := p.now()
	var keys []*sls.OIDCKey
	if err := p.d.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		keys, err = tx.OIDCKeys(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	cur := current(keys, now)
	out := []KeyInfo{}
	for _, k := range keys {
		ki := KeyInfo{ID: k.ID, State: "retiring", ActiveAt: k.ActiveAt.UTC().Format("2006-01-02T15:04:05Z")}
		switch {
		case k.ActiveAt.After(now):
			ki.State = "next"
		case cur != nil && k.ID == cur.ID:
			ki.State = "signing"
		}
		if !k.RetireAt.IsZero() {
			ki.RetireAt = k.RetireAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		out = append(out, ki)
	}
	return out, nil
}
