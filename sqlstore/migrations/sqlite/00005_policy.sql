-- +goose Up
-- Account protection (SPEC §4, §5) and the physical device lifecycle (SPEC §6).

-- Withdrawals and ACH/EFT fundings booked against the limits. A booking is
-- never deleted and its amount never changes; a movement the bank did not
-- carry out is marked reversed.
CREATE TABLE money_movements (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    user_id        TEXT NOT NULL REFERENCES users(id),
    request_id     TEXT NOT NULL,
    currency       TEXT NOT NULL,
    amount_minor   BIGINT NOT NULL,
    usd_cents      BIGINT NOT NULL,
    device_kind    TEXT NOT NULL DEFAULT '',
    session_id     TEXT NOT NULL DEFAULT '',
    at             BIGINT NOT NULL,
    reversed_at    BIGINT,
    reversed_by    TEXT NOT NULL DEFAULT '',
    reverse_reason TEXT NOT NULL DEFAULT '',
    UNIQUE (account_id, kind, request_id)
);
CREATE INDEX money_movements_window ON money_movements(account_id, kind, at);
-- +goose StatementBegin
CREATE TRIGGER money_movements_no_delete BEFORE DELETE ON money_movements
BEGIN
    SELECT RAISE(ABORT, 'money_movements is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER money_movements_fixed BEFORE UPDATE OF id, kind, account_id, user_id, request_id, currency, amount_minor,
    usd_cents, device_kind, session_id, at ON money_movements
BEGIN
    SELECT RAISE(ABORT, 'money_movements bookings cannot change, only be reversed');
END;
-- +goose StatementEnd

-- Fresh second-factor confirmations of one withdrawal.
CREATE TABLE step_ups (
    id_hash      TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    session_id   TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    device_kind  TEXT NOT NULL,
    currency     TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    prompt       TEXT NOT NULL DEFAULT '',
    factor_state BLOB,
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   BIGINT NOT NULL,
    deadline     BIGINT NOT NULL,
    verified_at  BIGINT,
    used_at      BIGINT
);
CREATE INDEX step_ups_deadline ON step_ups(deadline);

CREATE TABLE protection_settings (
    user_id          TEXT PRIMARY KEY REFERENCES users(id),
    ip_restrictions  TEXT NOT NULL DEFAULT '',
    penny_stock      BOOLEAN NOT NULL DEFAULT FALSE,
    shipping_address BLOB,
    updated_at       BIGINT NOT NULL
);

CREATE TABLE exchange_rates (
    currency   TEXT PRIMARY KEY,
    rate       TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT ''
);

CREATE TABLE holidays (
    day        TEXT PRIMARY KEY,
    name       TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE device_orders (
    id                   TEXT PRIMARY KEY,
    user_id              TEXT NOT NULL REFERENCES users(id),
    account_id           TEXT NOT NULL REFERENCES accounts(id),
    kind                 TEXT NOT NULL,
    origin               TEXT NOT NULL,
    state                TEXT NOT NULL,
    device_id            TEXT NOT NULL DEFAULT '',
    serial               TEXT NOT NULL DEFAULT '',
    replaces_id          TEXT NOT NULL DEFAULT '',
    replace_reason       TEXT NOT NULL DEFAULT '',
    address_sealed       BLOB,
    pin_sealed           BLOB,
    deposit_usd          BIGINT NOT NULL DEFAULT 0,
    fee_usd              BIGINT NOT NULL DEFAULT 0,
    expected_delivery    TEXT NOT NULL DEFAULT '',
    carrier              TEXT NOT NULL DEFAULT '',
    tracking             TEXT NOT NULL DEFAULT '',
    ordered_at           BIGINT NOT NULL,
    shipped_at           BIGINT,
    delivered_at         BIGINT,
    auto_activate_at     BIGINT,
    activated_at         BIGINT,
    return_reason        TEXT NOT NULL DEFAULT '',
    return_carrier       TEXT NOT NULL DEFAULT '',
    return_tracking      TEXT NOT NULL DEFAULT '',
    return_region        TEXT NOT NULL DEFAULT '',
    return_sent_at       BIGINT,
    received_at          BIGINT,
    assessment           TEXT NOT NULL DEFAULT '',
    activation_challenge TEXT NOT NULL DEFAULT '',
    activation_deadline  BIGINT,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX device_orders_user ON device_orders(user_id);
CREATE INDEX device_orders_account ON device_orders(account_id);
CREATE INDEX device_orders_device ON device_orders(device_id);
CREATE INDEX device_orders_due ON device_orders(state, auto_activate_at);

-- The history of every order, append-only.
CREATE TABLE device_order_events (
    order_id  TEXT NOT NULL REFERENCES device_orders(id),
    seq       INTEGER NOT NULL,
    at        BIGINT NOT NULL,
    event     TEXT NOT NULL,
    from_state TEXT NOT NULL DEFAULT '',
    to_state  TEXT NOT NULL,
    actor     TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (order_id, seq)
);
-- +goose StatementBegin
CREATE TRIGGER device_order_events_no_update BEFORE UPDATE ON device_order_events
BEGIN
    SELECT RAISE(ABORT, 'device_order_events is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER device_order_events_no_delete BEFORE DELETE ON device_order_events
BEGIN
    SELECT RAISE(ABORT, 'device_order_events is append-only');
END;
-- +goose StatementEnd

-- Notices sent before auto-activation: one row per notice, so each goes
-- out once whatever node runs the job and however often.
CREATE TABLE order_notices (
    order_id TEXT NOT NULL REFERENCES device_orders(id),
    notice   TEXT NOT NULL,
    sent_at  BIGINT NOT NULL,
    PRIMARY KEY (order_id, notice)
);

-- The deposit ledger: append-only; one entry of each kind per order and
-- one settlement (release or forfeit) per order, enforced here.
CREATE TABLE deposit_ledger (
    id         TEXT PRIMARY KEY,
    order_id   TEXT NOT NULL REFERENCES device_orders(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    user_id    TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('hold', 'release', 'forfeit', 'fee')),
    usd_cents  BIGINT NOT NULL CHECK (usd_cents >= 0),
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    reason     TEXT NOT NULL DEFAULT '',
    UNIQUE (order_id, kind)
);
CREATE UNIQUE INDEX deposit_ledger_settled ON deposit_ledger(order_id) WHERE kind IN ('release', 'forfeit');
CREATE INDEX deposit_ledger_account ON deposit_ledger(account_id);
-- +goose StatementBegin
CREATE TRIGGER deposit_ledger_no_update BEFORE UPDATE ON deposit_ledger
BEGIN
    SELECT RAISE(ABORT, 'deposit_ledger is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER deposit_ledger_no_delete BEFORE DELETE ON deposit_ledger
BEGIN
    SELECT RAISE(ABORT, 'deposit_ledger is append-only');
END;
-- +goose StatementEnd

CREATE INDEX devices_expiry ON devices(expires_at);

-- +goose Down
DROP INDEX devices_expiry;
DROP TABLE deposit_ledger;
DROP TABLE order_notices;
DROP TABLE device_order_events;
DROP TABLE device_orders;
DROP TABLE holidays;
DROP TABLE exchange_rates;
DROP TABLE protection_settings;
DROP TABLE step_ups;
DROP TABLE money_movements;
