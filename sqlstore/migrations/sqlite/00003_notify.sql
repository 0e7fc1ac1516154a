-- +goose Up
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    dest            TEXT NOT NULL,
    lang            TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL DEFAULT '',
    body_sealed     BLOB NOT NULL,
    created_at      BIGINT NOT NULL,
    state           TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT NOT NULL DEFAULT '',
    sent_at         BIGINT,
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);

CREATE TABLE sink_messages (
    id           TEXT PRIMARY KEY,
    channel      TEXT NOT NULL,
    dest         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    lang         TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL,
    delivered_at BIGINT NOT NULL
);
CREATE INDEX sink_dest ON sink_messages(dest, delivered_at);

CREATE TABLE user_prefs (
    user_id TEXT PRIMARY KEY REFERENCES users(id),
    prefs   TEXT NOT NULL
);

CREATE TABLE sms_sends (
    user_id TEXT NOT NULL,
    dest    TEXT NOT NULL,
    prefix  TEXT NOT NULL,
    channel TEXT NOT NULL,
    at      BIGINT NOT NULL
);
CREATE INDEX sms_sends_user ON sms_sends(user_id, at);
CREATE INDEX sms_sends_dest ON sms_sends(dest, at);
CREATE INDEX sms_sends_prefix ON sms_sends(prefix, at);

CREATE TABLE phone_verifications (
    user_id    TEXT PRIMARY KEY REFERENCES users(id),
    mobile     TEXT NOT NULL,
    code_hash  BLOB NOT NULL,
    sent_at    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE secure_messages (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    summary     TEXT NOT NULL,
    body_sealed BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    read_at     BIGINT
);
CREATE INDEX secure_messages_user ON secure_messages(user_id, created_at);

-- +goose Down
DROP TABLE secure_messages;
DROP TABLE phone_verifications;
DROP TABLE sms_sends;
DROP TABLE user_prefs;
DROP TABLE sink_messages;
DROP TABLE outbox;
