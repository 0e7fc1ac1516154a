package sqlstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	sls "github.com/secure-login-system/sls"
)

// jsonText stores v as a JSON text column.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func (t *tx) PutOIDCClient(ctx context.Context, c *sls.OIDCClient) error {
	data, err := jsonText(c)
	if err != nil {
		return wrap("put oidc client", err)
	}
	var secret any
	if len(c.SecretHash) > 0 {
		secret = c.SecretHash
	}
	res, err := t.exec(ctx, `UPDATE oidc_clients SET data = ?, secret_hash = ? WHERE id = ?`, data, secret, c.ID)
	if err := mustAffect("put oidc client", res, err); !errors.Is(err, sls.ErrNotFound) {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO oidc_clients (id, data, secret_hash, created_at) VALUES (?, ?, ?, ?)`,
		c.ID, data, secret, c.CreatedAt.UnixMicro())
	return wrap("put oidc client", err)
}

func scanOIDCClient(s scanner) (*sls.OIDCClient, error) {
	var c sls.OIDCClient
	var data string
	var secret []byte
	if err := s.Scan(&data, &secret); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		return nil, fmt.Errorf("oidc client: %w", err)
	}
	c.SecretHash = secret
	return &c, nil
}

func (t *tx) OIDCClient(ctx context.Context, id string) (*sls.OIDCClient, error) {
	c, err := scanOIDCClient(t.queryRow(ctx, `SELECT data, secret_hash FROM oidc_clients WHERE id = ?`, id))
	return c, wrap("oidc client", err)
}

func (t *tx) OIDCClients(ctx context.Context) ([]*sls.OIDCClient, error) {
	rows, err := t.query(ctx, `SELECT data, secret_hash FROM oidc_clients ORDER BY id`)
	if err != nil {
		return nil, wrap("oidc clients", err)
	}
	defer rows.Close()
	var out []*sls.OIDCClient
	for rows.Next() {
		c, err := scanOIDCClient(rows)
		if err != nil {
			return nil, wrap("oidc clients", err)
		}
		out = append(out, c)
	}
	return out, wrap("oidc clients", rows.Err())
}

func (t *tx) DeleteOIDCClient(ctx context.Context, id string, now time.Time) error {
	res, err := t.exec(ctx, `DELETE FROM oidc_clients WHERE id = ?`, id)
	if err := mustAffect("delete oidc client", res, err); err != nil {
		return err
	}
	_, err = t.exec(ctx, `DELETE FROM oidc_auth_requests WHERE client_id = ?`, id)
	if err != nil {
		return wrap("delete oidc client", err)
	}
	_, err = t.RevokeOIDCTokens(ctx, sls.OIDCTokenFilter{ClientID: id}, now)
	return err
}

// oidcAuth is the auth column of an auth request.
type oidcAuth struct {
	AuthTime time.Time `json:"auth_time,omitzero"`
	AMR      []string  `json:"amr,omitempty"`
	ACR      string    `json:"acr,omitempty"`
}

const oidcAuthRequestCols = `id, client_id, request, code_hash, user_id, session_id, auth, done_at, consumed_at, created_at, expires_at`

func scanOIDCAuthRequest(s scanner) (*sls.OIDCAuthRequest, error) {
	var r sls.OIDCAuthRequest
	var request string
	var code, user, session, auth *string
	var created, expires int64
	if err := s.Scan(&r.ID, &r.ClientID, &request, &code, &user, &session, &auth, nullTime{&r.DoneAt}, nullTime{&r.ConsumedAt}, &created, &expires); err != nil {
		return nil, err
	}
	r.Request = []byte(request)
	r.CodeHash, r.UserID, r.SessionID = deref(code), deref(user), deref(session)
	if auth != nil {
		var a oidcAuth
		if err := json.Unmarshal([]byte(*auth), &a); err != nil {
			return nil, fmt.Errorf("oidc auth request: %w", err)
		}
		r.AuthTime, r.AMR, r.ACR = a.AuthTime, a.AMR, a.ACR
	}
	r.CreatedAt, r.ExpiresAt = fromMicro(created), fromMicro(expires)
	return &r, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (t *tx) CreateOIDCAuthRequest(ctx context.Context, r *sls.OIDCAuthRequest) error {
	_, err := t.exec(ctx, `INSERT INTO oidc_auth_requests (`+oidcAuthRequestCols+`) VALUES (?, ?, ?, NULL, NULL, NULL, NULL, NULL, NULL, ?, ?)`,
		r.ID, r.ClientID, string(r.Request), r.CreatedAt.UnixMicro(), r.ExpiresAt.UnixMicro())
	return wrap("create oidc auth request", err)
}

func (t *tx) OIDCAuthRequest(ctx context.Context, id string) (*sls.OIDCAuthRequest, error) {
	r, err := scanOIDCAuthRequest(t.queryRow(ctx, `SELECT `+oidcAuthRequestCols+` FROM oidc_auth_requests WHERE id = ?`, id))
	return r, wrap("oidc auth request", err)
}

func (t *tx) OIDCAuthRequestForUpdate(ctx context.Context, id string) (*sls.OIDCAuthRequest, error) {
	r, err := scanOIDCAuthRequest(t.queryRow(ctx, `SELECT `+oidcAuthRequestCols+` FROM oidc_auth_requests WHERE id = ?`+t.forUpdate(), id))
	return r, wrap("oidc auth request", err)
}

func (t *tx) OIDCAuthRequestByCodeForUpdate(ctx context.Context, codeHash string) (*sls.OIDCAuthRequest, error) {
	r, err := scanOIDCAuthRequest(t.queryRow(ctx, `SELECT `+oidcAuthRequestCols+` FROM oidc_auth_requests WHERE code_hash = ?`+t.forUpdate(), codeHash))
	return r, wrap("oidc auth request", err)
}

func (t *tx) PutOIDCAuthRequest(ctx context.Context, r *sls.OIDCAuthRequest) error {
	var auth any
	if !r.DoneAt.IsZero() {
		a, err := jsonText(oidcAuth{AuthTime: r.AuthTime, AMR: r.AMR, ACR: r.ACR})
		if err != nil {
			return wrap("put oidc auth request", err)
		}
		auth = a
	}
	res, err := t.exec(ctx, `UPDATE oidc_auth_requests SET code_hash = ?, user_id = ?, session_id = ?, auth = ?, done_at = ?, consumed_at = ? WHERE id = ?`,
		nullString(r.CodeHash), nullString(r.UserID), nullString(r.SessionID), auth, ts(r.DoneAt), ts(r.ConsumedAt), r.ID)
	return mustAffect("put oidc auth request", res, err)
}

// oidcTokenData is the data column of a token.
type oidcTokenData struct {
	Scopes   []string  `json:"scopes,omitempty"`
	Audience []string  `json:"aud,omitempty"`
	AMR      []string  `json:"amr,omitempty"`
	ACR      string    `json:"acr,omitempty"`
	AuthTime time.Time `json:"auth_time,omitzero"`
}

const oidcTokenCols = `id_hash, kind, family_id, client_id, user_id, session_id, data, created_at, expires_at, rotated_at, revoked_at`

func scanOIDCToken(s scanner) (*sls.OIDCToken, error) {
	var tk sls.OIDCToken
	var data string
	var created, expires int64
	if err := s.Scan(&tk.IDHash, &tk.Kind, &tk.FamilyID, &tk.ClientID, &tk.UserID, &tk.SessionID, &data, &created, &expires,
		nullTime{&tk.RotatedAt}, nullTime{&tk.RevokedAt}); err != nil {
		return nil, err
	}
	var d oidcTokenData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, fmt.Errorf("oidc token: %w", err)
	}
	tk.Scopes, tk.Audience, tk.AMR, tk.ACR, tk.AuthTime = d.Scopes, d.Audience, d.AMR, d.ACR, d.AuthTime
	tk.CreatedAt, tk.ExpiresAt = fromMicro(created), fromMicro(expires)
	return &tk, nil
}

func (t *tx) CreateOIDCToken(ctx context.Context, tk *sls.OIDCToken) error {
	data, err := jsonText(oidcTokenData{Scopes: tk.Scopes, Audience: tk.Audience, AMR: tk.AMR, ACR: tk.ACR, AuthTime: tk.AuthTime})
	if err != nil {
		return wrap("create oidc token", err)
	}
	_, err = t.exec(ctx, `INSERT INTO oidc_tokens (`+oidcTokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tk.IDHash, tk.Kind, tk.FamilyID, tk.ClientID, tk.UserID, tk.SessionID, data, tk.CreatedAt.UnixMicro(), tk.ExpiresAt.UnixMicro(),
		ts(tk.RotatedAt), ts(tk.RevokedAt))
	return wrap("create oidc token", err)
}

func (t *tx) OIDCToken(ctx context.Context, idHash string) (*sls.OIDCToken, error) {
	tk, err := scanOIDCToken(t.queryRow(ctx, `SELECT `+oidcTokenCols+` FROM oidc_tokens WHERE id_hash = ?`, idHash))
	return tk, wrap("oidc token", err)
}

func (t *tx) OIDCTokenForUpdate(ctx context.Context, idHash string) (*sls.OIDCToken, error) {
	tk, err := scanOIDCToken(t.queryRow(ctx, `SELECT `+oidcTokenCols+` FROM oidc_tokens WHERE id_hash = ?`+t.forUpdate(), idHash))
	return tk, wrap("oidc token", err)
}

func (t *tx) PutOIDCToken(ctx context.Context, tk *sls.OIDCToken) error {
	res, err := t.exec(ctx, `UPDATE oidc_tokens SET rotated_at = ?, revoked_at = ? WHERE id_hash = ?`, ts(tk.RotatedAt), ts(tk.RevokedAt), tk.IDHash)
	return mustAffect("put oidc token", res, err)
}

func (t *tx) RevokeOIDCTokens(ctx context.Context, f sls.OIDCTokenFilter, now time.Time) (int, error) {
	var where []string
	var args []any
	for col, v := range map[string]string{"family_id": f.FamilyID, "session_id": f.SessionID, "user_id": f.UserID, "client_id": f.ClientID} {
		if v != "" {
			where, args = append(where, col+" = ?"), append(args, v)
		}
	}
	if len(where) == 0 {
		return 0, errors.New("sqlstore: revoke oidc tokens: no filter")
	}
	res, err := t.exec(ctx, `UPDATE oidc_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND `+strings.Join(where, " AND "),
		append([]any{now.UnixMicro()}, args...)...)
	if err != nil {
		return 0, wrap("revoke oidc tokens", err)
	}
	n, err := res.RowsAffected()
	return int(n), wrap("revoke oidc tokens", err)
}

func (t *tx) CreateOIDCKey(ctx context.Context, k *sls.OIDCKey) error {
	_, err := t.exec(ctx, `INSERT INTO oidc_keys (id, algorithm, private_sealed, public, created_at, active_at, retire_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, k.Private, k.Public, k.CreatedAt.UnixMicro(), k.ActiveAt.UnixMicro(), ts(k.RetireAt))
	return wrap("create oidc key", err)
}

func (t *tx) OIDCKeys(ctx context.Context) ([]*sls.OIDCKey, error) {
	rows, err := t.query(ctx, `SELECT id, algorithm, private_sealed, public, created_at, active_at, retire_at FROM oidc_keys ORDER BY active_at DESC, id`)
	if err != nil {
		return nil, wrap("oidc keys", err)
	}
	defer rows.Close()
	var out []*sls.OIDCKey
	for rows.Next() {
		var k sls.OIDCKey
		var created, active int64
		if err := rows.Scan(&k.ID, &k.Algorithm, &k.Private, &k.Public, &created, &active, nullTime{&k.RetireAt}); err != nil {
			return nil, wrap("oidc keys", err)
		}
		k.CreatedAt, k.ActiveAt = fromMicro(created), fromMicro(active)
		out = append(out, &k)
	}
	return out, wrap("oidc keys", rows.Err())
}

func (t *tx) PutOIDCKey(ctx context.Context, k *sls.OIDCKey) error {
	res, err := t.exec(ctx, `UPDATE oidc_keys SET active_at = ?, retire_at = ? WHERE id = ?`, k.ActiveAt.UnixMicro(), ts(k.RetireAt), k.ID)
	return mustAffect("put oidc key", res, err)
}

func (t *tx) PurgeOIDC(ctx context.Context, now time.Time) error {
	at := now.UnixMicro()
	for _, q := range []string{
		`DELETE FROM oidc_auth_requests WHERE expires_at <= ?`,
		`DELETE FROM oidc_tokens WHERE expires_at <= ?`,
		`DELETE FROM oidc_keys WHERE retire_at IS NOT NULL AND retire_at <= ?`,
	} {
		if _, err := t.exec(ctx, q, at); err != nil {
			return wrap("purge oidc", err)
		}
	}
	return nil
}

var _ sls.OIDCStore = (*tx)(nil)
