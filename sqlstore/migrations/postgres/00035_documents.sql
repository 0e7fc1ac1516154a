-- +goose Up
-- The documents delivered for an account (statements, tax forms,
-- reports): the files themselves stay in the delivery folders; a row says
-- whose they are and what they are, so that the client can read them in
-- the portal and the API, a closed account included. Delivering a file
-- of the same name again replaces its row.
CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    client       TEXT NOT NULL,
    file         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    bytes        BIGINT NOT NULL,
    encrypted    BOOLEAN NOT NULL,
    delivered_at BIGINT NOT NULL,
    UNIQUE (client, file)
);
CREATE INDEX documents_by_user ON documents (user_id, delivered_at);

-- +goose Down
DROP TABLE documents;
