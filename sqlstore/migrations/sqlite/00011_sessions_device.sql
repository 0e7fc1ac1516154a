-- +goose Up
-- Sessions end with the device that authenticated them (revoked, lost,
-- migrated, replaced): find them by device without a table scan.
CREATE INDEX sessions_device ON sessions(device_id);

-- +goose Down
DROP INDEX sessions_device;
