-- +goose Up
-- Ending a device's sessions (EndSessionsByDevice) finds them through the
-- device's user in sessions_user_network(user_id, network): a user has a
-- handful of live sessions, and ended ones are purged. A separate index
-- on device_id only cost every new session one more index entry, and on
-- SQLite one more page written and flushed by the login's answer.
DROP INDEX sessions_device;

-- +goose Down
CREATE INDEX sessions_device ON sessions(device_id);
