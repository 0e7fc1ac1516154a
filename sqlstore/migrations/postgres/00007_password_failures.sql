-- +goose Up
-- Consecutive wrong passwords per user (NIST SP 800-63B §5.2.2 bounds
-- online guessing of every authenticator, the password included).
ALTER TABLE users ADD COLUMN failed_passwords INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN failed_passwords;
