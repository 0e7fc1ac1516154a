-- +goose Up
-- Fewer index entries written per login answer (the SQLite migration of
-- the same number also reshapes two tables, which has no PostgreSQL
-- counterpart).

-- sessions_user_network(user_id, network) serves every lookup by user_id
-- (its leftmost column), so sessions_user only cost an entry per session.
DROP INDEX sessions_user;

-- The purge is the only reader of sessions_ended, and only for ended
-- sessions; a new session (ended_at NULL) no longer writes to it.
DROP INDEX sessions_ended;
CREATE INDEX sessions_ended ON sessions(ended_at) WHERE ended_at IS NOT NULL;

-- +goose Down
DROP INDEX sessions_ended;
CREATE INDEX sessions_ended ON sessions(ended_at);
CREATE INDEX sessions_user ON sessions(user_id);
