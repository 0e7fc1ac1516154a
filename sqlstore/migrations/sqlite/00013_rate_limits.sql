-- +goose Up
-- rate_limits holds one row per rate-limit bucket (package ratelimit): the
-- key's theoretical arrival time (GCRA), in Unix microseconds. The table
-- is shared by every node, so several servers on one database limit as
-- one. A row whose tat has passed means the same as no row and is purged.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY,
    tat BIGINT NOT NULL
);
CREATE INDEX rate_limits_tat ON rate_limits(tat);

-- +goose Down
DROP TABLE rate_limits;
