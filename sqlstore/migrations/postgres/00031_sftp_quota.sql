-- +goose Up
-- A storage quota per statement-delivery client folder, set by an
-- operator; 0 takes the server's default (sftp.default_quota_bytes).
ALTER TABLE sftp_clients ADD COLUMN quota_bytes BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sftp_clients DROP COLUMN quota_bytes;
