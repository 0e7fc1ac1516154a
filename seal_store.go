package sls

import (
	"context"
	"time"
)

// Seal key states.
const (
	SealKeyActive   = "active"   // values are sealed with it
	SealKeyRetiring = "retiring" // still opens values; re-sealing moves them off it
	SealKeyRetired  = "retired"  // nothing uses it; its wrapped bytes are erased
)

// SealKey is one data key of the sealer.
type SealKey struct {
	ID         byte      `json:"id"`
	Wrapped    []byte    `json:"-"` // empty for key 1 (the sealing key itself)
	State      string    `json:"state"`
	CreatedAt  time.Time `json:"created_at"`
	RetiringAt time.Time `json:"retiring_at,omitzero"`
	RetiredAt  time.Time `json:"retired_at,omitzero"`
}

// SealedColumn is a column that holds sealed values; the value's seal
// place is (Table, Column, the row's ID column).
type SealedColumn struct {
	Table, ID, Column string
}

// Name is "table.column".
func (c SealedColumn) Name() string { return c.Table + "." + c.Column }

// SealedColumns lists every column that holds sealed values: what a
// key rotation re-seals. A new sealed column must be listed here (a test
// compares it with the seal places the code uses).
var SealedColumns = []SealedColumn{
	{"devices", "id", "secret"},
	{"users", "id", "identity_sealed"},
	{"outbox", "id", "body_sealed"},
	{"secure_messages", "id", "body_sealed"},
	{"tickets", "id", "body_sealed"},
	{"ibkey_tickets", "id_hash", "sealed"},
	{"device_orders", "id", "address_sealed"},
	{"device_orders", "id", "pin_sealed"},
	{"protection_settings", "user_id", "shipping_address"},
	{"oidc_keys", "id", "private_sealed"},
}

// SealedValue is one row's sealed value.
type SealedValue struct {
	ID     string
	Sealed []byte
}

// ResealCursor is where the re-sealing of a column stands.
type ResealCursor struct {
	Column   string `json:"column"`
	After    string `json:"-"`
	Done     bool   `json:"done"`
	Resealed int64  `json:"resealed"`
}

// SealStore keeps the data keys and the re-sealing's progress.
type SealStore interface {
	SealKeys(ctx context.Context) ([]SealKey, error)
	// PutSealKey inserts or replaces a key.
	PutSealKey(ctx context.Context, k SealKey) error
	// SealedValues returns up to limit non-empty values of c with row id
	// > after, by id.
	SealedValues(ctx context.Context, c SealedColumn, after string, limit int) ([]SealedValue, error)
	// SwapSealed replaces a row's sealed value only if it is still old
	// (a concurrent update wins); it reports whether it did.
	SwapSealed(ctx context.Context, c SealedColumn, id string, old, new []byte) (bool, error)
	ResealCursors(ctx context.Context) ([]ResealCursor, error)
	PutResealCursor(ctx context.Context, c ResealCursor) error
	DeleteResealCursors(ctx context.Context) error
}
