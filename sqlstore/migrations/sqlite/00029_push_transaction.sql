-- +goose Up
-- A push that confirms a withdrawal carries what it confirms: the app
-- shows it and its signature covers it (dynamic linking).
ALTER TABLE ibkey_pushes ADD COLUMN currency TEXT NOT NULL DEFAULT '';
ALTER TABLE ibkey_pushes ADD COLUMN amount_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE ibkey_pushes ADD COLUMN payee TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE ibkey_pushes DROP COLUMN payee;
ALTER TABLE ibkey_pushes DROP COLUMN amount_minor;
ALTER TABLE ibkey_pushes DROP COLUMN currency;
