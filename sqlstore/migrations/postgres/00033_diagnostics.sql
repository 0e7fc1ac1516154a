-- +goose Up
-- Diagnostics bundles: the files stay outside the database (a folder
-- under the data directory, package diagnostics); this row is what
-- operators list and what a Message Center ticket cites. username is as
-- typed on the login screen (folded): no user is looked up at upload, so
-- there is no reference to users(id) for login-screen uploads.
CREATE TABLE diagnostics (
    ref                TEXT PRIMARY KEY,
    username           TEXT NOT NULL,
    user_id            TEXT NOT NULL DEFAULT '',
    reason             TEXT NOT NULL,
    archive_kind       TEXT NOT NULL,
    archive_bytes      BIGINT NOT NULL,
    archive_entries    INTEGER NOT NULL,
    uncompressed_bytes BIGINT NOT NULL,
    screenshots        TEXT NOT NULL DEFAULT '',
    created_at         BIGINT NOT NULL,
    ticket_id          TEXT NOT NULL DEFAULT '',
    closed_at          BIGINT NOT NULL DEFAULT 0,
    closed_by          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX diagnostics_username ON diagnostics(username, created_at);
CREATE INDEX diagnostics_created ON diagnostics(created_at);
-- A client's tickets to Client Services, opened in the Message Center;
-- the body is sealed like a secure message's.
CREATE TABLE tickets (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id),
    subject        TEXT NOT NULL,
    body_sealed    BYTEA NOT NULL,
    diagnostic_ref TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX tickets_user ON tickets(user_id, created_at);

-- +goose Down
DROP TABLE tickets;
DROP TABLE diagnostics;
