-- +goose Up
-- Audit entries are written in the request's transaction to this queue,
-- which no two requests contend on, and linked into the hash chain
-- (audit_log, audit_head) after commit by the chainer, in batches: the
-- single head row is no longer locked by every request.
CREATE TABLE audit_pending (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    event     TEXT NOT NULL,
    user_id   TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT ''
);

-- The network (/24, /48) a session came from, so that "a network none of
-- the user's sessions came from" is one indexed lookup, whatever the
-- user's history. Sessions from before this column are not compared.
ALTER TABLE sessions ADD COLUMN network TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_user_network ON sessions(user_id, network);

-- Expired replay records are purged by a job through this index, not by
-- every answer.
CREATE INDEX used_responses_expires ON used_responses(expires_at);

-- A rate-limit token is taken in one statement: the request that took
-- it writes its own random mark, which it finds in the returned row.
ALTER TABLE rate_limits ADD COLUMN hit BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE rate_limits DROP COLUMN hit;
DROP INDEX used_responses_expires;
DROP INDEX sessions_user_network;
ALTER TABLE sessions DROP COLUMN network;
DROP TABLE audit_pending;
