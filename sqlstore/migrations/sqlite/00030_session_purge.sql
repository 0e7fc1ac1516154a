-- +goose Up
-- Sessions that ended or expired long ago are purged (the audit trail
-- keeps every login): a login's cost must not grow with the user's
-- history.
CREATE INDEX sessions_expires ON sessions(expires_at);
CREATE INDEX sessions_ended ON sessions(ended_at);

-- +goose Down
DROP INDEX sessions_ended;
DROP INDEX sessions_expires;
