-- +goose Up
-- What a session has proven and when (issue: authorization by assurance).
-- proven_kind is the device kind of the last second factor proven in the
-- session (at login, or by a later step-up); proven_at is when. Sensitive
-- actions need a recent proof with a real device (OWASP ASVS 4.0.3 V3.7.1).
ALTER TABLE sessions ADD COLUMN proven_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN proven_at BIGINT;
UPDATE sessions SET proven_kind = device_kind, proven_at = created_at WHERE device_kind <> '';
CREATE INDEX sessions_device ON sessions(device_id);

-- +goose Down
DROP INDEX sessions_device;
ALTER TABLE sessions DROP COLUMN proven_at;
ALTER TABLE sessions DROP COLUMN proven_kind;
