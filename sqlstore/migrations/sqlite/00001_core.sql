-- +goose Up
CREATE TABLE accounts (
    id                 TEXT PRIMARY KEY,
    base_currency      TEXT NOT NULL,
    equity_minor       BIGINT NOT NULL DEFAULT 0,
    jurisdiction       TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    closed_at          BIGINT,
    temp_passcode_last BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    username            TEXT NOT NULL UNIQUE,
    account_id          TEXT NOT NULL REFERENCES accounts(id),
    password_hash       TEXT NOT NULL,
    email               TEXT NOT NULL DEFAULT '',
    mobile              TEXT NOT NULL DEFAULT '',
    mobile_verified_at  BIGINT,
    mobile_changed_at   BIGINT,
    identity_sealed     BLOB,
    can_change_security BOOLEAN NOT NULL DEFAULT FALSE,
    opted_out           BOOLEAN NOT NULL DEFAULT FALSE,
    always_2fa          BOOLEAN NOT NULL DEFAULT FALSE,
    lang                TEXT NOT NULL DEFAULT '',
    failed_answers      INTEGER NOT NULL DEFAULT 0,
    locked_until        BIGINT,
    created_at          BIGINT NOT NULL
);
CREATE INDEX users_account ON users(account_id);

CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    serial       TEXT NOT NULL DEFAULT '',
    label        TEXT NOT NULL DEFAULT '',
    secret       BLOB,
    factor_state BLOB,
    created_at   BIGINT NOT NULL,
    activated_at BIGINT,
    expires_at   BIGINT
);
CREATE INDEX devices_user ON devices(user_id);
CREATE INDEX devices_serial ON devices(kind, serial);

CREATE TABLE used_responses (
    device_id  TEXT NOT NULL,
    digest     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, digest)
);

CREATE TABLE logins (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    platform     TEXT NOT NULL,
    state        TEXT NOT NULL,
    device_id    TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    deadline     BIGINT NOT NULL,
    client_ip    TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    prompt       TEXT NOT NULL DEFAULT '',
    factor_state BLOB,
    completed_at BIGINT,
    session_id   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX logins_deadline ON logins(deadline);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users(id),
    platform     TEXT NOT NULL,
    device_id    TEXT NOT NULL DEFAULT '',
    device_kind  TEXT NOT NULL DEFAULT '',
    scope        TEXT NOT NULL,
    biometric    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    idle_timeout BIGINT NOT NULL DEFAULT 0,
    ended_at     BIGINT,
    client_ip    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    event     TEXT NOT NULL,
    user_id   TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_user ON audit_log(user_id);

-- One row that every append locks, so appends from several nodes form a
-- single chain.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The audit trail is append-only: the database itself refuses changes.
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

CREATE TABLE operator_tokens (
    token_hash TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE operator_tokens;
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE logins;
DROP TABLE used_responses;
DROP TABLE devices;
DROP TABLE users;
DROP TABLE accounts;
