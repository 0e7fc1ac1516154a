package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	sls "github.com/secure-login-system/sls"
)

func init() {
	Register("OIDC", testOIDC)
}

// testOIDC: clients round-trip and are replaced whole; an auth request
// is found by its code only once one is set; tokens are revoked by
// family, session and client; keys list newest first; purging drops
// what expired.
func testOIDC(t *testing.T, s sls.Store) {
	ctx := context.Background()
	u := Fixture(t, s, "oidc")
	view := func(fn func(tx sls.Tx) error) {
		t.Helper()
		if err := s.View(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}

	c := &sls.OIDCClient{ID: "app1", Name: "Trading", Confidential: true, SecretHash: []byte{1, 2, 3},
		RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"profile"}, CreatedAt: t0, CreatedBy: "op"}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutOIDCClient(ctx, c) })
	c.Name, c.ACRValues = "Trading web", []string{"urn:sls:device:dscplus"}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutOIDCClient(ctx, c) })
	pub := &sls.OIDCClient{ID: "app2", Name: "Mobile", RedirectURIs: []string{"com.example:/cb"}, CreatedAt: t0}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PutOIDCClient(ctx, pub) })
	view(func(tx sls.Tx) error {
		got, err := tx.OIDCClient(ctx, "app1")
		if err != nil || got.Name != "Trading web" || string(got.SecretHash) != "\x01\x02\x03" || len(got.ACRValues) != 1 || !got.CreatedAt.Equal(t0) {
			t.Fatalf("client: %+v %v", got, err)
		}
		all, err := tx.OIDCClients(ctx)
		if err != nil || len(all) != 2 || all[1].SecretHash != nil {
			t.Fatalf("clients: %+v %v", all, err)
		}
		if _, err := tx.OIDCClient(ctx, "nope"); !errors.Is(err, sls.ErrNotFound) {
			t.Fatalf("unknown client: %v", err)
		}
		return nil
	})

	ar := &sls.OIDCAuthRequest{ID: "ar1", ClientID: "app1", Request: []byte(`{"scope":"openid"}`), CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.CreateOIDCAuthRequest(ctx, ar) })
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		r, err := tx.OIDCAuthRequestForUpdate(ctx, "ar1")
		if err != nil || string(r.Request) != `{"scope":"openid"}` || !r.DoneAt.IsZero() || r.CodeHash != "" {
			t.Fatalf("auth request: %+v %v", r, err)
		}
		if _, err := tx.OIDCAuthRequestByCodeForUpdate(ctx, ""); !errors.Is(err, sls.ErrNotFound) {
			t.Fatalf("no code yet: %v", err)
		}
		r.UserID, r.SessionID, r.AuthTime, r.AMR, r.ACR, r.DoneAt = u.ID, "ses1", t0, []string{"pwd", "hwk"}, "urn:sls:device:dscplus", t0.Add(time.Second)
		r.CodeHash = "code1"
		return tx.PutOIDCAuthRequest(ctx, r)
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		r, err := tx.OIDCAuthRequestByCodeForUpdate(ctx, "code1")
		if err != nil || r.UserID != u.ID || r.SessionID != "ses1" || len(r.AMR) != 2 || r.ACR == "" || !r.AuthTime.Equal(t0) || r.DoneAt.IsZero() {
			t.Fatalf("by code: %+v %v", r, err)
		}
		r.ConsumedAt = t0.Add(2 * time.Second)
		return tx.PutOIDCAuthRequest(ctx, r)
	})

	mk := func(id, kind, family, session, client string) *sls.OIDCToken {
		return &sls.OIDCToken{IDHash: id, Kind: kind, FamilyID: family, ClientID: client, UserID: u.ID, SessionID: session,
			Scopes: []string{"openid"}, AMR: []string{"pwd"}, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), AuthTime: t0}
	}
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for _, tk := range []*sls.OIDCToken{mk("t1", sls.OIDCAccessToken, "ar1", "ses1", "app1"), mk("t2", sls.OIDCRefreshToken, "ar1", "ses1", "app1"),
			mk("t3", sls.OIDCRefreshToken, "ar2", "ses2", "app1"), mk("t4", sls.OIDCAccessToken, "ar3", "ses3", "app2")} {
			if err := tx.CreateOIDCToken(ctx, tk); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		tk, err := tx.OIDCTokenForUpdate(ctx, "t2")
		if err != nil || !tk.Usable(t0) || tk.Scopes[0] != "openid" || !tk.AuthTime.Equal(t0) {
			t.Fatalf("token: %+v %v", tk, err)
		}
		tk.RotatedAt = t0.Add(time.Minute)
		if err := tx.PutOIDCToken(ctx, tk); err != nil {
			return err
		}
		n, err := tx.RevokeOIDCTokens(ctx, sls.OIDCTokenFilter{FamilyID: "ar1"}, t0.Add(2*time.Minute))
		if err != nil || n != 2 {
			t.Fatalf("revoke family: %d %v", n, err)
		}
		if n, err = tx.RevokeOIDCTokens(ctx, sls.OIDCTokenFilter{SessionID: "ses2"}, t0); err != nil || n != 1 {
			t.Fatalf("revoke session: %d %v", n, err)
		}
		if _, err = tx.RevokeOIDCTokens(ctx, sls.OIDCTokenFilter{}, t0); err == nil {
			t.Fatal("revoking with no filter must fail")
		}
		return nil
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.DeleteOIDCClient(ctx, "app2", t0) })
	view(func(tx sls.Tx) error {
		for id, want := range map[string]bool{"t1": false, "t2": false, "t3": false, "t4": false} {
			tk, err := tx.OIDCToken(ctx, id)
			if err != nil || tk.Usable(t0) != want || tk.RevokedAt.IsZero() {
				t.Fatalf("token %s after revocations: %+v %v", id, tk, err)
			}
		}
		if _, err := tx.OIDCClient(ctx, "app2"); !errors.Is(err, sls.ErrNotFound) {
			t.Fatalf("deleted client: %v", err)
		}
		return nil
	})

	update(t, s, func(ctx context.Context, tx sls.Tx) error {
		for i, id := range []string{"k1", "k2"} {
			k := &sls.OIDCKey{ID: id, Algorithm: "RS256", Private: []byte("sealed"), Public: []byte("pub"), CreatedAt: t0,
				ActiveAt: t0.Add(time.Duration(i) * time.Hour)}
			if err := tx.CreateOIDCKey(ctx, k); err != nil {
				return err
			}
		}
		ks, err := tx.OIDCKeys(ctx)
		if err != nil || len(ks) != 2 || ks[0].ID != "k2" {
			t.Fatalf("keys: %+v %v", ks, err)
		}
		ks[1].RetireAt = t0.Add(2 * time.Hour)
		return tx.PutOIDCKey(ctx, ks[1])
	})
	update(t, s, func(ctx context.Context, tx sls.Tx) error { return tx.PurgeOIDC(ctx, t0.Add(3*time.Hour)) })
	view(func(tx sls.Tx) error {
		ks, err := tx.OIDCKeys(ctx)
		if err != nil || len(ks) != 1 || ks[0].ID != "k2" {
			t.Fatalf("keys after purge: %+v %v", ks, err)
		}
		if _, err := tx.OIDCAuthRequest(ctx, "ar1"); !errors.Is(err, sls.ErrNotFound) {
			t.Fatalf("expired auth request kept: %v", err)
		}
		if _, err := tx.OIDCToken(ctx, "t1"); !errors.Is(err, sls.ErrNotFound) {
			t.Fatalf("expired token kept: %v", err)
		}
		return nil
	})
}
