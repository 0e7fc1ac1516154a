-- +goose Up
-- IB Key (mobile authenticator): activation tickets, app instances and
-- push requests. Devices themselves are rows of devices (kind 'ibkey',
-- serial = instance id).
CREATE TABLE ibkey_tickets (
    id_hash     TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    session_id  TEXT NOT NULL DEFAULT '',
    instance_id TEXT NOT NULL DEFAULT '',
    sealed      BLOB,
    code_hash   BLOB,
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX ibkey_tickets_session ON ibkey_tickets(session_id);
CREATE INDEX ibkey_tickets_expires ON ibkey_tickets(expires_at);

CREATE TABLE ibkey_instances (
    id           TEXT PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    sign_pub     BLOB NOT NULL,
    platform     TEXT NOT NULL,
    label        TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT
);

CREATE TABLE ibkey_pushes (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    device_id   TEXT NOT NULL,
    login_hash  TEXT NOT NULL,
    state       TEXT NOT NULL,
    number      TEXT NOT NULL,
    platform    TEXT NOT NULL DEFAULT '',
    client_ip   TEXT NOT NULL DEFAULT '',
    user_agent  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    answered_at BIGINT,
    answered_by TEXT NOT NULL DEFAULT '',
    biometric   BOOLEAN NOT NULL DEFAULT FALSE,
    bad_unlocks INTEGER NOT NULL DEFAULT 0,
    gateway_at  BIGINT
);
CREATE INDEX ibkey_pushes_user_state ON ibkey_pushes(user_id, state);
CREATE INDEX ibkey_pushes_updated ON ibkey_pushes(updated_at);
CREATE INDEX ibkey_pushes_state_expires ON ibkey_pushes(state, expires_at);

-- +goose Down
DROP TABLE ibkey_pushes;
DROP TABLE ibkey_instances;
DROP TABLE ibkey_tickets;
