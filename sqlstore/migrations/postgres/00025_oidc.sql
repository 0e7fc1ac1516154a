-- +goose Up
-- The OpenID Connect provider's state lives in the database so that any
-- node serves any step of a flow (ARCHITECTURE point 10).
CREATE TABLE oidc_clients (
    id          TEXT PRIMARY KEY,
    data        TEXT NOT NULL,   -- JSON: name, redirect URIs, scopes, acr values…
    secret_hash BYTEA,            -- keyed hash; NULL for public clients
    created_at  BIGINT NOT NULL
);

CREATE TABLE oidc_auth_requests (
    id          TEXT PRIMARY KEY,
    client_id   TEXT NOT NULL,
    request     TEXT NOT NULL,   -- JSON of the parsed authorization request
    code_hash   TEXT UNIQUE,
    user_id     TEXT,
    session_id  TEXT,
    auth        TEXT,            -- JSON: auth_time, amr, acr
    done_at     BIGINT,
    consumed_at BIGINT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX oidc_auth_requests_expires ON oidc_auth_requests(expires_at);

CREATE TABLE oidc_tokens (
    id_hash    TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    family_id  TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    session_id TEXT NOT NULL,
    data       TEXT NOT NULL,    -- JSON: scopes, audience, amr, acr, auth_time
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    rotated_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX oidc_tokens_family ON oidc_tokens(family_id);
CREATE INDEX oidc_tokens_session ON oidc_tokens(session_id);
CREATE INDEX oidc_tokens_user_client ON oidc_tokens(user_id, client_id);
CREATE INDEX oidc_tokens_expires ON oidc_tokens(expires_at);

CREATE TABLE oidc_keys (
    id             TEXT PRIMARY KEY,
    algorithm      TEXT NOT NULL,
    private_sealed BYTEA NOT NULL,
    public         BYTEA NOT NULL,
    created_at     BIGINT NOT NULL,
    active_at      BIGINT NOT NULL,
    retire_at      BIGINT
);

-- +goose Down
DROP TABLE oidc_keys;
DROP TABLE oidc_tokens;
DROP TABLE oidc_auth_requests;
DROP TABLE oidc_clients;
