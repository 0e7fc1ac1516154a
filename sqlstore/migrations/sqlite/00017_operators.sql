-- +goose Up
-- Operators are named people. Each one's credentials are a user of the
-- reserved operators account (password and security devices, counted by
-- the same lock-out as clients); the row here holds the roles.
CREATE TABLE operators (
    name        TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL UNIQUE REFERENCES users(id),
    roles       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    disabled_at BIGINT NOT NULL DEFAULT 0,
    -- A keyed MAC (sealing key) over the row: a database writer cannot
    -- grant roles or make an operator without the server's key.
    mac         TEXT NOT NULL
);

-- The shared, anonymous token of earlier versions stops working: every
-- token now belongs to an operator and expires. token_hash is keyed
-- (sealing key), so a database writer cannot make a token that works.
DROP TABLE operator_tokens;
CREATE TABLE operator_tokens (
    token_hash TEXT PRIMARY KEY,
    operator   TEXT NOT NULL REFERENCES operators(name),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX operator_tokens_operator ON operator_tokens(operator);

-- The one-time secret that creates the first operator. Spent once; a
-- spent secret never works again, even if its file is left behind.
CREATE TABLE operator_bootstrap (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    secret_hash TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT NOT NULL DEFAULT 0,
    used_by     TEXT NOT NULL DEFAULT ''
);

-- Dual control: an action one operator asks for and another approves.
-- The request is bound to its method, path and body (request_hash) and
-- to the operator who asked; it is spent once.
CREATE TABLE approvals (
    id           TEXT PRIMARY KEY,
    action       TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    roles        TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    decided_by   TEXT NOT NULL DEFAULT '',
    decided_at   BIGINT NOT NULL DEFAULT 0,
    state        TEXT NOT NULL,
    used_at      BIGINT NOT NULL DEFAULT 0,
    mac          TEXT NOT NULL
);
CREATE INDEX approvals_state ON approvals(state, expires_at);

-- +goose Down
DROP TABLE approvals;
DROP TABLE operator_bootstrap;
DROP TABLE operator_tokens;
CREATE TABLE operator_tokens (
    token_hash TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
DROP TABLE operators;
