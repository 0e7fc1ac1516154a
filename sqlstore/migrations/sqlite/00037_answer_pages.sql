-- +goose Up
-- Every page a login's answer modifies is one more WAL frame written and
-- flushed by its commit (synchronous=FULL): the answer used to touch 14
-- b-trees, now 10. None of these changes what is stored.

-- sessions_user_network(user_id, network) serves every lookup by user_id
-- (its leftmost column), so sessions_user only cost a page per session.
DROP INDEX sessions_user;

-- The purge is the only reader of sessions_ended, and only for ended
-- sessions; a new session (ended_at NULL) no longer writes to it.
DROP INDEX sessions_ended;
CREATE INDEX sessions_ended ON sessions(ended_at) WHERE ended_at IS NOT NULL;

-- A replay record is found by its primary key: stored in that key's
-- b-tree (WITHOUT ROWID), there is no separate rowid table to write.
CREATE TABLE used_responses_new (
    device_id  TEXT NOT NULL,
    digest     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, digest)
) WITHOUT ROWID;
INSERT INTO used_responses_new (device_id, digest, expires_at)
    SELECT device_id, digest, expires_at FROM used_responses;
DROP TABLE used_responses;
ALTER TABLE used_responses_new RENAME TO used_responses;
CREATE INDEX used_responses_expires ON used_responses(expires_at);

-- The queue's ids need only grow while entries wait (the chainer reads
-- them in id order; writers are serialised): a plain INTEGER PRIMARY KEY
-- gives max(id)+1 without AUTOINCREMENT's write to sqlite_sequence.
CREATE TABLE audit_pending_new (
    id        INTEGER PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    event     TEXT NOT NULL,
    user_id   TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT ''
);
INSERT INTO audit_pending_new (id, at, actor, event, user_id, device_id, detail)
    SELECT id, at, actor, event, user_id, device_id, detail FROM audit_pending;
DROP TABLE audit_pending;
ALTER TABLE audit_pending_new RENAME TO audit_pending;

-- +goose Down
CREATE TABLE audit_pending_old (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    event     TEXT NOT NULL,
    user_id   TEXT NOT NULL DEFAULT '',
    device_id TEXT NOT NULL DEFAULT '',
    detail    TEXT NOT NULL DEFAULT ''
);
INSERT INTO audit_pending_old (id, at, actor, event, user_id, device_id, detail)
    SELECT id, at, actor, event, user_id, device_id, detail FROM audit_pending;
DROP TABLE audit_pending;
ALTER TABLE audit_pending_old RENAME TO audit_pending;

CREATE TABLE used_responses_old (
    device_id  TEXT NOT NULL,
    digest     TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, digest)
);
INSERT INTO used_responses_old (device_id, digest, expires_at)
    SELECT device_id, digest, expires_at FROM used_responses;
DROP TABLE used_responses;
ALTER TABLE used_responses_old RENAME TO used_responses;
CREATE INDEX used_responses_expires ON used_responses(expires_at);

DROP INDEX sessions_ended;
CREATE INDEX sessions_ended ON sessions(ended_at);
CREATE INDEX sessions_user ON sessions(user_id);
