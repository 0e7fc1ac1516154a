package sls

import (
	"context"
	"time"
)

// Cryptocurrency trading permission statuses (SPEC §9).
const (
	CryptoGranted = "granted"
	CryptoRefused = "refused"
)

// CryptoPermission is a user's latest request for the cryptocurrency
// trading permission and its outcome: the investor facts the client
// declared and, when refused, the rule that refused it. One row per user;
// a new request replaces it (the audit trail keeps every one).
type CryptoPermission struct {
	UserID       string `json:"-"`
	Status       string `json:"status"`        // granted or refused
	InvestorType string `json:"investor_type"` // individual or institution
	// AssetsHKD is the declared investable assets in HKD cents.
	AssetsHKD int64  `json:"-"`
	Residence string `json:"residence"` // ISO 3166-1 alpha-2, as the request was judged
	// Rule is the refusing rule (cryptorules.Refusal.Rule); empty when
	// granted.
	Rule      string    `json:"rule,omitempty"`
	DecidedAt time.Time `json:"decided_at"`
}

// CryptoHolding is an account's cryptocurrency holdings as last reported
// (SLS holds no order book: the trading platform or an operator reports
// the value, and the custody job snapshots it daily).
type CryptoHolding struct {
	AccountID string    `json:"account_id"`
	ValueUSD  int64     `json:"value_usd_cents"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

// CryptoDailyValue is one day's value held (the custody fee's base).
type CryptoDailyValue struct {
	AccountID string    `json:"account_id"`
	Day       string    `json:"day"` // YYYY-MM-DD, UTC
	ValueUSD  int64     `json:"value_usd_cents"`
	At        time.Time `json:"recorded_at"`
}

// CustodyFee is one line of the custody-fee ledger: an account's fee for
// one month, at most one per account and month (the database enforces
// it, so a job run twice or on two nodes never charges twice).
type CustodyFee struct {
	AccountID  string    `json:"account_id"`
	Month      string    `json:"month"` // YYYY-MM
	Days       int       `json:"days"`  // days in the month, the average's divisor
	AverageUSD int64     `json:"average_usd_cents"`
	BPMonthly  int64     `json:"bp_monthly"`
	FeeUSD     int64     `json:"fee_usd_cents"`
	At         time.Time `json:"computed_at"`
}

// CryptoStore keeps the cryptocurrency trading tables.
type CryptoStore interface {
	// CryptoPermission returns the user's permission; ErrNotFound when
	// none was ever requested.
	CryptoPermission(ctx context.Context, userID string) (*CryptoPermission, error)
	PutCryptoPermission(ctx context.Context, p *CryptoPermission) error

	// PutCryptoHolding sets an account's current holdings value.
	PutCryptoHolding(ctx context.Context, h *CryptoHolding) error
	// CryptoHoldings lists every account's holdings, by account.
	CryptoHoldings(ctx context.Context) ([]*CryptoHolding, error)
	// AddCryptoDailyValue records a day's value; false, storing nothing,
	// when the account already has one for that day.
	AddCryptoDailyValue(ctx context.Context, v *CryptoDailyValue) (bool, error)
	// CryptoDailyValues lists an account's values from day from to day to
	// (inclusive), oldest first; with accountID empty, every account's.
	CryptoDailyValues(ctx context.Context, accountID, from, to string) ([]*CryptoDailyValue, error)
	// AddCustodyFee appends f; false, storing nothing, when the account
	// already has a fee for that month.
	AddCustodyFee(ctx context.Context, f *CustodyFee) (bool, error)
	// CustodyFees lists the ledger, by month then account; accountID and
	// month filter when not empty.
	CustodyFees(ctx context.Context, accountID, month string) ([]*CustodyFee, error)
}
