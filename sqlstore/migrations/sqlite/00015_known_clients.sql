-- +goose Up
-- Browsers and app instances that completed a login for a user (OWASP
-- "Slow Down Online Guessing Attacks with Device Cookies"): a wrong
-- password from elsewhere never locks them out; each counts its own
-- failures. Only the hash of the client's token is kept.
CREATE TABLE known_clients (
    token_hash   TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    failures     INTEGER NOT NULL DEFAULT 0,
    revoked_at   BIGINT
);
CREATE INDEX known_clients_user ON known_clients(user_id, last_used_at);

-- Until when logins from unknown clients are held off for the user, after
-- wrong passwords from unknown clients (users.failed_passwords counts them).
ALTER TABLE users ADD COLUMN untrusted_until BIGINT;

-- +goose Down
ALTER TABLE users DROP COLUMN untrusted_until;
DROP TABLE known_clients;
