-- +goose Up
-- Signed checkpoints of the audit chain's head (package audit). The
-- signing key is outside the database; the latest checkpoint is also kept
-- outside it (DATA/audit-checkpoint.json).
CREATE TABLE audit_checkpoints (
    seq    BIGINT PRIMARY KEY,
    hash   TEXT NOT NULL,
    at     BIGINT NOT NULL,
    key_id TEXT NOT NULL,
    sig    TEXT NOT NULL
);

-- How far each audit stream (webhook, syslog) has delivered: advanced
-- only after a successful send, so delivery is at least once.
CREATE TABLE audit_streams (
    name            TEXT PRIMARY KEY,
    entries_after   BIGINT NOT NULL DEFAULT 0,
    checkpoints_after BIGINT NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE audit_streams;
DROP TABLE audit_checkpoints;
