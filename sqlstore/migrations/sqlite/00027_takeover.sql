-- +goose Up
-- After a security change, money movement is held to a lower tier until
-- a user's cool-down ends (its own table: the change is made beside the
-- user's row, never through it). Notices of such changes carry
-- single-use "this wasn't me" links, kept as keyed hashes.
CREATE TABLE cool_downs (
    user_id    TEXT PRIMARY KEY REFERENCES users(id),
    reason     TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    until      BIGINT NOT NULL
);
CREATE TABLE report_links (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    notice     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX report_links_expires ON report_links(expires_at);

-- +goose Down
DROP TABLE report_links;
DROP TABLE cool_downs;
