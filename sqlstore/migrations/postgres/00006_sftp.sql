-- +goose Up
-- Statement delivery over SFTP (SPEC §7): clients, the public keys they
-- sent, and the networks they connect from.
CREATE TABLE sftp_clients (
    username        TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id),
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    pgp_key         TEXT NOT NULL DEFAULT '',
    pgp_fingerprint TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX sftp_clients_user ON sftp_clients(user_id);

-- Keys are never deleted, only revoked, so the trail of which key logged
-- in stays readable. A client holds a given key once while unrevoked.
CREATE TABLE sftp_keys (
    id             TEXT PRIMARY KEY,
    username       TEXT NOT NULL REFERENCES sftp_clients(username),
    authorized_key TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    key_type       TEXT NOT NULL,
    bits           INTEGER NOT NULL,
    format         TEXT NOT NULL,
    comment        TEXT NOT NULL DEFAULT '',
    added_at       BIGINT NOT NULL,
    revoked_at     BIGINT
);
CREATE INDEX sftp_keys_client ON sftp_keys(username);
CREATE UNIQUE INDEX sftp_keys_active ON sftp_keys(username, fingerprint) WHERE revoked_at IS NULL;

-- The allow-list. lo and hi are the first and last address of the prefix
-- as fixed-width lower-case hex (8 digits for IPv4, 32 for IPv6), so that
-- "is this address on some list" is one indexed range query that reads
-- the same on both engines.
CREATE TABLE sftp_networks (
    username TEXT NOT NULL REFERENCES sftp_clients(username),
    prefix   TEXT NOT NULL,
    family   INTEGER NOT NULL,
    lo       TEXT NOT NULL,
    hi       TEXT NOT NULL,
    PRIMARY KEY (username, prefix)
);
CREATE INDEX sftp_networks_range ON sftp_networks(family, lo, hi);

-- +goose Down
DROP TABLE sftp_networks;
DROP TABLE sftp_keys;
DROP TABLE sftp_clients;
