package oidcprovider

import (
	"context"
	"crypto/rsa"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/seal"
	"github.com/secure-login-system/sls/sqlstore"
	"github.com/secure-login-system/sls/sqlstore/storetest"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// nodes opens n providers on one database, as n slsd processes would.
func nodes(t *testing.T, dsn string, n int, clk *testClock) ([]*Provider, sls.Store) {
	t.Helper()
	sealer, err := seal.New(make([]byte, seal.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	var out []*Provider
	var first sls.Store
	for range n {
		db, err := sqlstore.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if first == nil {
			first = db
		}
		p, err := New(Deps{Store: db, Sealer: sealer, Clock: clk, Config: Config{Issuer: "https://sls.example"}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out, first
}

func engines(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "sls.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresDSN(t)) })
}

// TestSeveralNodes: a flow whose steps land on different nodes works,
// and single use holds across them: a code, a refresh token.
func TestSeveralNodes(t *testing.T) {
	engines(t, func(t *testing.T, dsn string) {
		clk := &testClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
		ps, store := nodes(t, dsn, 2, clk)
		a, b := ps[0], ps[1]
		ctx := context.Background()
		u := storetest.Fixture(t, store, "oidcuser")
		ss := &sls.Session{ID: "ses_oidc1", TokenHash: "th_oidc1", UserID: u.ID, Platform: sls.PlatformPortal, DeviceKind: sls.KindDSCPlus,
			DeviceID: "dev1", Scope: sls.ScopeFull, CreatedAt: clk.Now(), LastSeenAt: clk.Now(), ExpiresAt: clk.Now().Add(8 * time.Hour)}
		if err := store.Update(ctx, func(tx sls.Tx) error { return tx.CreateSession(ctx, ss) }); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.AddClient(ctx, "operator:test", ClientSpec{ID: "app", Name: "App",
			RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"offline_access"}}); err != nil {
			t.Fatal(err)
		}
		clk.add(time.Second)
		ar, err := a.store.CreateAuthRequest(ctx, &oidc.AuthRequest{ClientID: "app", RedirectURI: "https://app.example/cb", ResponseType: oidc.ResponseTypeCode,
			Scopes: []string{"openid", "offline_access", "email"}, State: "st", Nonce: "no"}, "")
		if err != nil {
			t.Fatal(err)
		}
		if got := ar.GetScopes(); len(got) != 2 {
			t.Fatalf("scopes the client may not ask for were kept: %v", got)
		}
		// The login was made before the request: it serves it (no prompt).
		if _, err := b.Finish(ctx, ar.GetID(), ss); err != nil {
			t.Fatal(err)
		}
		if err := a.store.SaveAuthCode(ctx, ar.GetID(), "code-1"); err != nil {
			t.Fatal(err)
		}
		got, err := b.store.AuthRequestByCode(ctx, "code-1")
		if err != nil || got.GetSubject() != u.ID || got.GetACR() != ACRDevicePrefix+"dscplus" {
			t.Fatalf("code on the other node: %v %v", got, err)
		}
		if _, err := a.store.AuthRequestByCode(ctx, "code-1"); err == nil {
			t.Fatal("a code was redeemed twice, on two nodes")
		}
		_, refresh, _, err := a.store.CreateAccessAndRefreshTokens(ctx, got, "")
		if err != nil {
			t.Fatal(err)
		}
		rr, err := b.store.TokenRequestByRefreshToken(ctx, refresh)
		if err != nil {
			t.Fatal(err)
		}
		_, refresh2, _, err := b.store.CreateAccessAndRefreshTokens(ctx, rr, refresh)
		if err != nil || refresh2 == refresh {
			t.Fatalf("rotation: %v", err)
		}
		if _, err := a.store.TokenRequestByRefreshToken(ctx, refresh); !errors.Is(err, op.ErrInvalidRefreshToken) {
			t.Fatalf("rotated refresh token accepted on the other node: %v", err)
		}
		if _, err := b.store.TokenRequestByRefreshToken(ctx, refresh2); !errors.Is(err, op.ErrInvalidRefreshToken) {
			t.Fatalf("the reuse did not revoke the grant: %v", err)
		}

		// A token signed on one node verifies with the key set of the other.
		sk, err := a.keys.signing(ctx)
		if err != nil {
			t.Fatal(err)
		}
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: sk.Key().(*rsa.PrivateKey)}, (&jose.SignerOptions{}).WithHeader("kid", sk.ID()))
		if err != nil {
			t.Fatal(err)
		}
		jws, _ := signer.Sign([]byte("payload"))
		keys, err := b.keys.published(ctx)
		if err != nil || len(keys) != 1 || keys[0].ID() != sk.ID() {
			t.Fatalf("key set on the other node: %v %v", keys, err)
		}
		if _, err := jws.Verify(keys[0].Key()); err != nil {
			t.Fatalf("verify with the other node's key: %v", err)
		}
	})
}

// TestKeyRotation: the next key is published before it signs; the old
// one keeps being published, then leaves the set.
func TestKeyRotation(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	ps, _ := nodes(t, filepath.Join(t.TempDir(), "sls.db"), 1, clk)
	p := ps[0]
	ctx := context.Background()
	first, err := p.keys.signing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.RotateKeys(ctx, "operator:test", true); err != nil {
		t.Fatal(err)
	}
	state := func() (string, []string) {
		t.Helper()
		p.keys.forget()
		sk, err := p.keys.signing(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pub, err := p.keys.published(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, k := range pub {
			ids = append(ids, k.ID())
		}
		return sk.ID(), ids
	}
	signing, published := state()
	if signing != first.ID() || len(published) != 2 {
		t.Fatalf("after rotate: signing %s (want %s), published %v", signing, first.ID(), published)
	}
	clk.add(p.cfg.KeyPublishAhead + time.Second)
	if err := p.Maintain(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	signing, published = state()
	if signing == first.ID() || len(published) != 2 {
		t.Fatalf("after publish-ahead: signing %s, published %v", signing, published)
	}
	clk.add(keyRetain + time.Second)
	if err := p.Maintain(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, published = state(); len(published) != 1 || published[0] != signing {
		t.Fatalf("retired key still published: %v", published)
	}
	// The schedule alone makes the next key before the current one is due.
	clk.add(p.cfg.KeyRotation)
	if err := p.Maintain(ctx, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if _, published = state(); len(published) != 2 {
		t.Fatalf("no next key on schedule: %v", published)
	}
}

func TestNeedsLogin(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	zero, hour := time.Duration(0), time.Hour
	old := &sls.Session{Scope: sls.ScopeFull, CreatedAt: t0.Add(-2 * time.Hour)}
	fresh := &sls.Session{Scope: sls.ScopeFull, CreatedAt: t0.Add(time.Second)}
	closed := &sls.Session{Scope: sls.ScopeStatementsOnly, CreatedAt: t0.Add(time.Second)}
	for _, tc := range []struct {
		name string
		pd   Pending
		ss   *sls.Session
		want bool
	}{
		{"no session", Pending{}, nil, true},
		{"statements only", Pending{}, closed, true},
		{"single sign-on", Pending{}, old, false},
		{"prompt=login, old login", Pending{PromptLogin: true}, old, true},
		{"prompt=login, new login", Pending{PromptLogin: true}, fresh, false},
		{"max_age=0 is log in now", Pending{MaxAge: &zero}, old, true},
		{"max_age=0, new login", Pending{MaxAge: &zero}, fresh, false},
		{"max_age 1h, 2h old", Pending{MaxAge: &hour}, old, true},
	} {
		tc.pd.CreatedAt = t0
		if got := tc.pd.NeedsLogin(tc.ss, t0.Add(2*time.Second)); got != tc.want {
			t.Errorf("%s: NeedsLogin = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestClientSpecCheck(t *testing.T) {
	good := ClientSpec{ID: "trading", Name: "Trading", RedirectURIs: []string{"https://app.example/cb", "http://127.0.0.1:8000/cb"}}
	if err := good.Check(); err != nil {
		t.Fatal(err)
	}
	native := ClientSpec{ID: "mobile", Name: "Mobile", Public: true, RedirectURIs: []string{"com.example.app:/cb"}}
	if err := native.Check(); err != nil {
		t.Fatal(err)
	}
	bad := ClientSpec{ID: "A B", Name: "", RedirectURIs: []string{"http://app.example/cb", "https://x/#frag", "myapp:/cb", "/relative"},
		Scopes: []string{"admin"}, ACRValues: []string{"gold-plated"}}
	err := bad.Check()
	if sls.ErrorCode(err) != sls.CodeInvalidArgument {
		t.Fatalf("bad spec: %v", err)
	}
	// Every problem is reported at once.
	for _, want := range []string{"id must", "name must", "plain http", "fragment", "confidential client", "absolute", "unknown scope", "unknown acr"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

// FuzzClientSpec: any spec is checked without panicking, and one that
// passes names only https, loopback http or private-scheme redirects.
func FuzzClientSpec(f *testing.F) {
	f.Add("trading", "Trading", "https://app.example/cb", "profile", "urn:sls:loa:mfa", true)
	f.Add("m", "", "com.example:/cb#x", "", "", false)
	f.Add("x.y", "n", "http://[::1]:80/cb", "offline_access", "urn:sls:device:", false)
	f.Fuzz(func(t *testing.T, id, name, redirect, scope, acr string, confidential bool) {
		s := ClientSpec{ID: id, Name: name, Public: !confidential, RedirectURIs: []string{redirect}, Scopes: []string{scope}, ACRValues: []string{acr}}
		if s.Check() != nil {
			return
		}
		if strings.Contains(redirect, "#") || !KnownACR(acr) {
			t.Fatalf("accepted %+v", s)
		}
	})
}
