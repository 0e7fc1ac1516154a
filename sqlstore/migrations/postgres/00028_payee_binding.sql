-- +goose Up
-- A withdrawal confirmation binds the payee's account too (dynamic
-- linking, PSD2 RTS Art. 5): a confirmation given for one payee cannot
-- pay another.
ALTER TABLE step_ups ADD COLUMN payee TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE step_ups DROP COLUMN payee;
