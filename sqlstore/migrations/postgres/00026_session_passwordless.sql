-- +goose Up
-- A session made by a device alone (a passkey allowed to log in without
-- the password): what an OpenID Connect ID token's amr must not call "pwd".
ALTER TABLE sessions ADD COLUMN passwordless BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE sessions DROP COLUMN passwordless;
