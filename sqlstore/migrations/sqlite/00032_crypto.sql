-- +goose Up
-- Cryptocurrency trading for the Hong Kong entity (SPEC §9, docs/crypto.md).
-- A user's latest permission request and its outcome (the audit trail
-- keeps every request).
CREATE TABLE crypto_permissions (
    user_id       TEXT PRIMARY KEY REFERENCES users(id),
    status        TEXT NOT NULL,
    investor_type TEXT NOT NULL,
    assets_hkd    BIGINT NOT NULL,
    residence     TEXT NOT NULL,
    rule          TEXT NOT NULL DEFAULT '',
    decided_at    BIGINT NOT NULL
);
-- Holdings as last reported (SLS keeps no order book), snapshotted once a
-- day into crypto_daily_values: the custody fee is charged on the average
-- daily value held.
CREATE TABLE crypto_holdings (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id),
    value_usd  BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE TABLE crypto_daily_values (
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    day         TEXT NOT NULL,
    value_usd   BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, day)
);
-- The custody-fee ledger: one fee per account and month, enforced here so
-- that a job run twice, or on two nodes at once, never charges twice.
CREATE TABLE crypto_custody_fees (
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    month       TEXT NOT NULL,
    days        INTEGER NOT NULL,
    average_usd BIGINT NOT NULL,
    bp_monthly  BIGINT NOT NULL,
    fee_usd     BIGINT NOT NULL,
    computed_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, month)
);
CREATE INDEX crypto_custody_fees_month ON crypto_custody_fees(month);

-- +goose Down
DROP TABLE crypto_custody_fees;
DROP TABLE crypto_daily_values;
DROP TABLE crypto_holdings;
DROP TABLE crypto_permissions;
