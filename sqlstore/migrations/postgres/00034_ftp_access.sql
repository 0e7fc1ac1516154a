-- +goose Up
-- Report access over FTP/FTPS for a statement-delivery client: a
-- password the server generated (Argon2id hash only), whether the client
-- may log in without TLS (only while its files are PGP-encrypted), and
-- the count of wrong passwords with the hold-off they caused.
ALTER TABLE sftp_clients ADD COLUMN ftp_password_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE sftp_clients ADD COLUMN ftp_plain BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE sftp_clients ADD COLUMN ftp_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sftp_clients ADD COLUMN ftp_held_until BIGINT;

-- +goose Down
ALTER TABLE sftp_clients DROP COLUMN ftp_held_until;
ALTER TABLE sftp_clients DROP COLUMN ftp_failures;
ALTER TABLE sftp_clients DROP COLUMN ftp_plain;
ALTER TABLE sftp_clients DROP COLUMN ftp_password_hash;
