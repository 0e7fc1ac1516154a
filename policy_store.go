package sls

import (
	"context"
	"time"
)

// Money movement kinds: what is booked against the account-protection
// limits of SPEC §4.
const (
	MoveWithdrawal = "withdrawal"  // money leaving the account
	MoveACHFunding = "ach_funding" // ACH/EFT deposit into the account
)

// MoneyMovement is one withdrawal or ACH/EFT funding booked against an
// account's limits. It is written in the transaction that checked the
// limit, so a check and its booking are one step on every node. Rows are
// never deleted or changed, except that a movement the bank did not carry
// out may be marked reversed (it then stops counting).
type MoneyMovement struct {
	ID        string `json:"id"`
	Kind      string `json:"kind"`
	AccountID string `json:"account_id"`
	UserID    string `json:"user_id"`
	// RequestID is the caller's idempotency key, unique per account and
	// kind: a retried request finds its first booking instead of making a
	// second one.
	RequestID   string `json:"request_id"`
	Currency    string `json:"currency"`
	AmountMinor int64  `json:"amount_minor"`
	// USD is the amount in US cents as counted against the limits
	// (converted rounding up, see policy.Rates.ToUSD).
	USD int64 `json:"usd_cents"`
	// DeviceKind is the device whose limit applied ("" when the user was
	// not in SLS); SessionID the session that asked.
	DeviceKind    DeviceKind `json:"device_kind,omitempty"`
	SessionID     string     `json:"session_id,omitempty"`
	At            time.Time  `json:"at"`
	ReversedAt    time.Time  `json:"reversed_at,omitzero"`
	ReversedBy    string     `json:"reversed_by,omitempty"`
	ReverseReason string     `json:"reverse_reason,omitempty"`
}

// StepUp is a challenge asked of a user who already has a session, kept
// in the step_ups table: a withdrawal confirmation (PurposeWithdrawal,
// bound to the amount: the device that answers it sets the withdrawal's
// limit, SPEC §4 "the device that authenticated the withdrawal") or a
// session step-up (PurposeStepUp: the session's device proof is renewed).
// Its id is a bearer secret; only the hash is stored. Bound.SessionID is
// always set.
type StepUp struct {
	Challenge
	DeviceKind DeviceKind `json:"device_kind"`
	VerifiedAt time.Time  `json:"verified_at,omitzero"` // zero until answered correctly
	UsedAt     time.Time  `json:"used_at,omitzero"`     // zero until a withdrawal consumed it
}

// ProtectionSettings are a user's account-protection settings kept by the
// policy feature (participation itself lives on User).
type ProtectionSettings struct {
	UserID string `json:"user_id"`
	// IPRestrictions are the networks (CIDR, normalised) trading-platform
	// logins may come from; empty means no restriction (SPEC §5).
	IPRestrictions []string `json:"ip_restrictions"`
	// PennyStock is whether the user asked for the penny-stock / Pink Sheet
	// / OTCBB trading permission; whether it is in force also depends on
	// participation and IP restrictions (policy.PennyStockAllowed).
	PennyStock bool `json:"penny_stock"`
	// SealedShippingAddress is the postal address devices are shipped to,
	// sealed at rest (personal data).
	SealedShippingAddress []byte    `json:"-"`
	UpdatedAt             time.Time `json:"updated_at,omitzero"`
}

// ExchangeRate is an operator-supplied rate: US dollars per one unit of
// Currency, as an exact decimal string ("1.0834").
type ExchangeRate struct {
	Currency  string    `json:"currency"`
	Rate      string    `json:"rate"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// Holiday is a date that is not a business day (YYYY-MM-DD).
type Holiday struct {
	Date      string    `json:"date"`
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Origins of a device order record.
const (
	OriginOrder       = "order"       // ordered by an eligible client
	OriginReplacement = "replacement" // ordered to replace a lost, stolen or damaged device
	OriginExisting    = "existing"    // a device issued outside ordering, brought into the lifecycle when first needed
)

// DeviceOrder is the lifecycle record of one physical security device
// (SPEC §6): the order, shipping, delivery, activation, return or loss,
// and the deposit held for it. State holds a policy.State. The device that
// answers logins is DeviceID (created when the order ships).
type DeviceOrder struct {
	ID        string     `json:"id"`
	UserID    string     `json:"user_id"`
	AccountID string     `json:"account_id"` // the account the deposit is held on
	Kind      DeviceKind `json:"kind"`
	Origin    string     `json:"origin"`
	State     string     `json:"state"`
	DeviceID  string     `json:"device_id,omitempty"`
	Serial    string     `json:"serial,omitempty"`
	// ReplacesID is the order record of the device this one replaces, and
	// ReplaceReason why (lost, stolen, damaged).
	ReplacesID    string `json:"replaces_id,omitempty"`
	ReplaceReason string `json:"replace_reason,omitempty"`
	// SealedAddress is the shipping address, SealedPIN the PIN the client
	// chose, kept sealed until the card is made at shipping and then
	// erased.
	SealedAddress []byte `json:"-"`
	SealedPIN     []byte `json:"-"`
	// DepositUSD is the hold in US cents (0: none, e.g. an existing
	// device); FeeUSD the replacement fee charged.
	DepositUSD       int64     `json:"deposit_usd_cents"`
	FeeUSD           int64     `json:"fee_usd_cents"`
	ExpectedDelivery string    `json:"expected_delivery,omitempty"` // YYYY-MM-DD
	Carrier          string    `json:"carrier,omitempty"`
	Tracking         string    `json:"tracking,omitempty"`
	OrderedAt        time.Time `json:"ordered_at"`
	ShippedAt        time.Time `json:"shipped_at,omitzero"`
	DeliveredAt      time.Time `json:"delivered_at,omitzero"`
	// AutoActivateAt is when a delivered device activates by itself.
	AutoActivateAt time.Time `json:"auto_activate_at,omitzero"`
	ActivatedAt    time.Time `json:"activated_at,omitzero"`
	// Return: why, how it travels, where to.
	ReturnReason   string    `json:"return_reason,omitempty"`
	ReturnCarrier  string    `json:"return_carrier,omitempty"`
	ReturnTracking string    `json:"return_tracking,omitempty"`
	ReturnRegion   string    `json:"return_region,omitempty"`
	ReturnSentAt   time.Time `json:"return_sent_at,omitzero"`
	ReceivedAt     time.Time `json:"received_at,omitzero"`
	// Assessment is the operator's finding on receipt: intact or
	// deliberately_damaged.
	Assessment string `json:"assessment,omitempty"`
	// ActivationChallenge is the DSC+ challenge the client must answer with
	// the new card to activate it (proof of possession), valid until
	// ActivationDeadline.
	ActivationChallenge string    `json:"-"`
	ActivationDeadline  time.Time `json:"-"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// DeviceOrderEvent is one step in a device order's history. The history is
// append-only.
type DeviceOrderEvent struct {
	OrderID string    `json:"order_id"`
	Seq     int       `json:"seq"` // 1, 2, … per order
	At      time.Time `json:"at"`
	Event   string    `json:"event"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to"`
	Actor   string    `json:"actor"`
	Detail  string    `json:"detail,omitempty"` // JSON, never secrets
}

// Deposit ledger entry kinds.
const (
	DepositHold    = "hold"    // the deposit is held on the account
	DepositRelease = "release" // the hold is released to the client
	DepositForfeit = "forfeit" // the hold is kept as compensation
	DepositFee     = "fee"     // a replacement fee is charged
)

// DepositEntry is one line of the deposit ledger. The ledger is
// append-only, and each order has at most one entry of each kind and at
// most one settlement (release or forfeit), enforced by the database: a
// retried or repeated step can never count twice.
type DepositEntry struct {
	ID        string    `json:"id"`
	OrderID   string    `json:"order_id"`
	AccountID string    `json:"account_id"`
	UserID    string    `json:"user_id"`
	Kind      string    `json:"kind"`
	USD       int64     `json:"usd_cents"`
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Reason    string    `json:"reason,omitempty"` // the lifecycle event that caused it
}

// DeviceOrderFilter selects device orders; zero fields do not filter.
type DeviceOrderFilter struct {
	UserID    string
	AccountID string
	State     string
	DeviceID  string
	// AutoActivateBefore selects orders whose AutoActivateAt is set and at
	// or before it.
	AutoActivateBefore time.Time
	Limit              int // 0: 1000
}

// PolicyStore keeps the tables of the account-protection and device
// lifecycle features.
type PolicyStore interface {
	// AddMoneyMovement books m; it returns false, storing nothing, when
	// the account already has a movement of that kind with m.RequestID.
	AddMoneyMovement(ctx context.Context, m *MoneyMovement) (bool, error)
	MoneyMovement(ctx context.Context, id string) (*MoneyMovement, error)
	MoneyMovementByRequest(ctx context.Context, accountID, kind, requestID string) (*MoneyMovement, error)
	// MoneyMovements lists the account's movements of kind at or after
	// since (later ones included), oldest first; reversed ones are
	// left out unless withReversed.
	MoneyMovements(ctx context.Context, accountID, kind string, since time.Time, withReversed bool) ([]*MoneyMovement, error)
	// MoneyMovementTotal sums USD over the account's movements of kind
	// that are not reversed.
	MoneyMovementTotal(ctx context.Context, accountID, kind string) (int64, error)
	// ReverseMoneyMovement marks a movement reversed; ErrConflict when it
	// already is.
	ReverseMoneyMovement(ctx context.Context, id string, at time.Time, by, reason string) error

	CreateStepUp(ctx context.Context, s *StepUp) error
	StepUp(ctx context.Context, idHash string) (*StepUp, error)
	StepUpForUpdate(ctx context.Context, idHash string) (*StepUp, error)
	PutStepUp(ctx context.Context, s *StepUp) error
	DeleteStepUpsBefore(ctx context.Context, t time.Time) (int64, error)
	// PendingStepUps lists the step-ups of purpose of a session still
	// waiting for an answer at now (not answered, deadline after now).
	PendingStepUps(ctx context.Context, sessionID string, purpose Purpose, now time.Time) ([]*StepUp, error)
	// SupersedeStepUps ends (deadline = now) the step-ups of purpose of a
	// session still waiting for an answer at now, so one is pending at a
	// time; it returns how many.
	SupersedeStepUps(ctx context.Context, sessionID string, purpose Purpose, now time.Time) (int64, error)

	// ProtectionSettings returns the user's settings; a user who never
	// changed any gets zero settings, not ErrNotFound.
	ProtectionSettings(ctx context.Context, userID string) (*ProtectionSettings, error)
	PutProtectionSettings(ctx context.Context, p *ProtectionSettings) error

	ExchangeRates(ctx context.Context) ([]ExchangeRate, error)
	PutExchangeRate(ctx context.Context, r ExchangeRate) error
	DeleteExchangeRate(ctx context.Context, currency string) error // ErrNotFound when absent
	Holidays(ctx context.Context) ([]Holiday, error)
	PutHoliday(ctx context.Context, h Holiday) error
	DeleteHoliday(ctx context.Context, date string) error // ErrNotFound when absent

	CreateDeviceOrder(ctx context.Context, o *DeviceOrder) error
	DeviceOrder(ctx context.Context, id string) (*DeviceOrder, error)
	// DeviceOrderForUpdate reads and locks an order: every state change
	// of an order goes through it.
	DeviceOrderForUpdate(ctx context.Context, id string) (*DeviceOrder, error)
	PutDeviceOrder(ctx context.Context, o *DeviceOrder) error
	// DeviceOrders lists orders matching f, oldest first.
	DeviceOrders(ctx context.Context, f DeviceOrderFilter) ([]*DeviceOrder, error)
	// AppendDeviceOrderEvent adds e with the next Seq of its order (set on e).
	AppendDeviceOrderEvent(ctx context.Context, e *DeviceOrderEvent) error
	DeviceOrderEvents(ctx context.Context, orderID string) ([]DeviceOrderEvent, error)
	// MarkOrderNotice records that the notice named key of an order was
	// sent; false when it already was (so a notice goes out once).
	MarkOrderNotice(ctx context.Context, orderID, key string, at time.Time) (bool, error)
	OrderNotices(ctx context.Context, orderID string) (map[string]time.Time, error)

	// AddDepositEntry appends e; false, storing nothing, when the order
	// already has an entry of that kind or is already settled (release or
	// forfeit).
	AddDepositEntry(ctx context.Context, e *DepositEntry) (bool, error)
	// DepositEntries lists the ledger of an account (or, with accountID
	// empty, of an order), oldest first.
	DepositEntries(ctx context.Context, accountID, orderID string) ([]*DepositEntry, error)

	// DevicesBySerial lists every device row of a physical device (several
	// users may share one), oldest first.
	DevicesBySerial(ctx context.Context, kind DeviceKind, serial string) ([]*Device, error)
	// ExpiringDevices lists up to limit devices that are pending, active
	// or suspended with ExpiresAt at or before now.
	ExpiringDevices(ctx context.Context, now time.Time, limit int) ([]*Device, error)
}
