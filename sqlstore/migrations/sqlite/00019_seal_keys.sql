-- +goose Up
-- Data keys of the sealer, wrapped by the key-encryption key (the sealing
-- key file or a KMS): key 1 is the sealing key itself (wrapped is empty).
-- A retired key's wrapped bytes are erased.
CREATE TABLE seal_keys (
    id          INTEGER PRIMARY KEY,
    wrapped     BLOB,
    state       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    retiring_at BIGINT NOT NULL DEFAULT 0,
    retired_at  BIGINT NOT NULL DEFAULT 0
);

-- Where the re-sealing of each sealed column stands (one pass after a
-- rotation; resumable on any node).
CREATE TABLE reseal_cursors (
    col      TEXT PRIMARY KEY,
    after_id TEXT NOT NULL,
    done     BOOLEAN NOT NULL,
    resealed BIGINT NOT NULL
);

-- +goose Down
DROP TABLE reseal_cursors;
DROP TABLE seal_keys;
