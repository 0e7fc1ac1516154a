-- +goose Up
-- The known client (hash of its token) whose password step opened the
-- login: completing it keeps that client's token instead of issuing
-- another, so one busy app cannot push a user's other known clients out.
ALTER TABLE logins ADD COLUMN known_client TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE logins DROP COLUMN known_client;
