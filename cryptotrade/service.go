// Package cryptotrade puts the Hong Kong entity's cryptocurrency rules
// (package cryptorules, SPEC §9, docs/crypto.md) into the product: the
// trading permission a client requests, the check of an order before the
// trading platform routes it, and the monthly custody fee.
//
// SLS is a login system, not an order book, so it does not know what an
// account holds. The order check takes the account's facts (equity, cash,
// quantity held, month's volume, market price) from the caller, as the
// trading platform knows them, and answers for them. The custody fee's
// base is never taken from a client: holdings values are reported by the
// back office through the operator API (PUT /api/v1/ops/crypto/positions/
// {user}), the custody job snapshots them once a day into
// crypto_daily_values, and after each month ends it writes the month's
// fee into the ledger (crypto_custody_fees), one row per account and
// month. State lives in the database, so the job may run on every node.
package cryptotrade

import (
	"context"
	"errors"
	"log/slog"
	"math/big"
	"time"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/cryptorules"
)

// Audit events.
const (
	EventPermissionGranted = "crypto.permission_granted"
	EventPermissionRefused = "crypto.permission_refused"
	EventHoldingReported   = "crypto.holding_reported"
	EventCustodyFee        = "crypto.custody_fee"
)

// Investor types.
const (
	Individual  = "individual"
	Institution = "institution"
)

// Service is the feature.
type Service struct {
	Store  sls.Store
	Clock  sls.Clock
	Config Config
	Log    *slog.Logger
}

// Rules are the rules in force (the portal states their figures).
func (s *Service) Rules() cryptorules.Rules { return s.Config.Rules }

// ErrNotOffered refuses every client request where the entity does not
// offer cryptocurrency trading (crypto.enabled is off).
var ErrNotOffered = sls.Errorf(sls.CodeNotEligible, "Cryptocurrency trading is not offered for this account.").
	WithDetail("rule", "crypto_offered")

// ErrNoPermission refuses an order check for a user without the granted
// permission.
var ErrNoPermission = sls.Errorf(sls.CodeNotEligible,
	"Cryptocurrency trading needs the cryptocurrency trading permission; request it first.").WithDetail("rule", "crypto_permission")

// refusalError is a permission refusal as an API error: not_eligible, the
// rule and by how much in the details.
func refusalError(r *cryptorules.Refusal) error {
	return sls.Errorf(sls.CodeNotEligible, "%s", r.Message).WithDetail("rule", r.Rule).WithDetail("need", r.Need).WithDetail("have", r.Have)
}

// PermissionRequest is what a client declares to request the permission.
type PermissionRequest struct {
	InvestorType string `json:"investor_type" required:"true"`
	// InvestableAssetsHKD is a decimal amount of Hong Kong dollars.
	InvestableAssetsHKD string `json:"investable_assets_hkd" required:"true"`
	HongKongResident    bool   `json:"hong_kong_resident" required:"true"`
}

// Permission is a user's permission status: none, granted or refused.
type Permission struct {
	Status       string    `json:"status"`
	InvestorType string    `json:"investor_type,omitempty"`
	Residence    string    `json:"residence,omitempty"`
	Rule         string    `json:"rule,omitempty"`
	DecidedAt    time.Time `json:"decided_at,omitzero"`
}

func permissionOf(p *sls.CryptoPermission) *Permission {
	if p == nil {
		return &Permission{Status: "none"}
	}
	return &Permission{Status: p.Status, InvestorType: p.InvestorType, Residence: p.Residence, Rule: p.Rule, DecidedAt: p.DecidedAt}
}

// Permission returns u's permission status.
func (s *Service) Permission(ctx context.Context, u *sls.User) (*Permission, error) {
	if !s.Config.Enabled {
		return nil, ErrNotOffered
	}
	var p *sls.CryptoPermission
	err := s.Store.View(ctx, func(tx sls.Tx) error {
		var err error
		p, err = tx.CryptoPermission(ctx, u.ID)
		if errors.Is(err, sls.ErrNotFound) {
			p, err = nil, nil
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return permissionOf(p), nil
}

// RequestPermission judges u's request against the professional-investor
// and residence rules, stores the outcome and audits it. A refusal is
// not_eligible with the rule, the figure needed and the one declared.
//
// The residence judged is the account's jurisdiction on file when there
// is one: a client cannot declare themselves into Hong Kong; a client who
// declares they are not resident is taken at their word.
func (s *Service) RequestPermission(ctx context.Context, u *sls.User, req PermissionRequest) (*Permission, error) {
	if !s.Config.Enabled {
		return nil, ErrNotOffered
	}
	if req.InvestorType != Individual && req.InvestorType != Institution {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "investor_type must be individual or institution.").WithDetail("field", "investor_type")
	}
	assets, err := ParseCents("investable_assets_hkd", req.InvestableAssetsHKD)
	if err != nil {
		return nil, err
	}
	var refusal *cryptorules.Refusal
	var out *sls.CryptoPermission
	err = s.Store.Update(ctx, func(tx sls.Tx) error {
		acct, err := tx.Account(ctx, u.AccountID)
		if err != nil {
			return err
		}
		residence := acct.Jurisdiction
		switch {
		case !req.HongKongResident && residence == "HK":
			residence = "" // declared otherwise: not judged resident
		case req.HongKongResident && residence == "":
			residence = "HK"
		}
		inv := cryptorules.Investor{Institution: req.InvestorType == Institution, Residence: residence, InvestableAsset: assets}
		now := s.Clock.Now().UTC()
		out = &sls.CryptoPermission{UserID: u.ID, Status: sls.CryptoGranted, InvestorType: req.InvestorType, AssetsHKD: assets,
			Residence: residence, DecidedAt: now}
		event := EventPermissionGranted
		if refusal = s.Config.Rules.CheckPermission(inv); refusal != nil {
			out.Status, out.Rule, event = sls.CryptoRefused, refusal.Rule, EventPermissionRefused
		}
		if err := tx.PutCryptoPermission(ctx, out); err != nil {
			return err
		}
		// The declared assets are the client's financial data: the trail
		// keeps the outcome and the rule, not the amount.
		return sls.Audit(ctx, tx, now, sls.ActorUser(u.ID), event, u.ID, "",
			map[string]any{"investor_type": req.InvestorType, "residence": residence, "rule": out.Rule})
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusalError(refusal)
	}
	return permissionOf(out), nil
}

// OrderRequest is an order as the client would enter it, with the
// account's facts as the trading platform knows them. Amounts and
// quantities are decimal strings, never floating-point numbers.
type OrderRequest struct {
	Symbol      string `json:"symbol" required:"true"`
	Side        string `json:"side" required:"true"`
	Kind        string `json:"kind" required:"true"`
	TimeInForce string `json:"time_in_force" required:"true"`
	// Exactly one of ValueUSD and Quantity.
	ValueUSD   string `json:"value_usd,omitempty"`
	Quantity   string `json:"quantity,omitempty"`
	LimitPrice string `json:"limit_price,omitempty"`
	// MarketPrice is the current price in USD per unit.
	MarketPrice string `json:"market_price" required:"true"`
	EquityUSD   string `json:"equity_usd" required:"true"`
	CashUSD     string `json:"cash_usd" required:"true"`
	// HeldQuantity is what the account holds of Symbol (default 0), and
	// MonthVolumeUSD what it traded this month before this order (default
	// 0), which sets the commission tier.
	HeldQuantity   string `json:"held_quantity,omitempty"`
	MonthVolumeUSD string `json:"month_volume_usd,omitempty"`
	Margin         bool   `json:"margin,omitempty"`
}

// Refusal is a rule an order breaks, and by how much.
type Refusal struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
	Need    string `json:"need,omitempty"`
	Have    string `json:"have,omitempty"`
}

// OrderAnswer says whether the order may be routed: accepted with its
// quantity, value, commission and expiry, or the rule it breaks. Either
// way it lists the times in force its side and kind allow.
type OrderAnswer struct {
	Accepted      bool      `json:"accepted"`
	Symbol        string    `json:"symbol"`
	Quantity      string    `json:"quantity,omitempty"`
	ValueUSD      string    `json:"value_usd,omitempty"`
	CommissionUSD string    `json:"commission_usd,omitempty"`
	Closing       bool      `json:"closing,omitempty"`
	ExpiresAt     time.Time `json:"expires_at,omitzero"`
	AllowedTIF    []string  `json:"allowed_time_in_force"`
	Refusal       *Refusal  `json:"refusal,omitempty"`
}

// CheckOrder checks an order for u at the current time. Malformed
// figures are invalid_argument; an order the rules refuse is an answer
// (accepted false, with the refusal), not an error: the question was
// well asked.
func (s *Service) CheckOrder(ctx context.Context, u *sls.User, req OrderRequest) (*OrderAnswer, error) {
	p, err := s.Permission(ctx, u)
	if err != nil {
		return nil, err
	}
	if p.Status != sls.CryptoGranted {
		return nil, ErrNoPermission
	}
	o, a, volume, err := parseOrder(req)
	if err != nil {
		return nil, err
	}
	return s.check(o, a, volume, s.Clock.Now()), nil
}

func (s *Service) check(o cryptorules.Order, a cryptorules.Account, volume int64, now time.Time) *OrderAnswer {
	out := &OrderAnswer{Symbol: o.Symbol, AllowedTIF: []string{}}
	for _, t := range cryptorules.AllowedTIFs(o) {
		out.AllowedTIF = append(out.AllowedTIF, string(t))
	}
	checked, refusal := s.Config.Rules.CheckOrder(o, a, now)
	if refusal != nil {
		out.Refusal = &Refusal{Rule: refusal.Rule, Message: refusal.Message, Need: refusal.Need, Have: refusal.Have}
		return out
	}
	out.Accepted = true
	out.Quantity = checked.Quantity.FloatString(maxFraction)
	out.ValueUSD = FormatCents(checked.ValueUSDCents)
	out.CommissionUSD = FormatCents(s.Config.Rules.Commission(checked.ValueUSDCents, volume))
	out.Closing = checked.Closing
	out.ExpiresAt = checked.Expires.UTC()
	return out
}

// parseOrder reads the request's text into the rules' types.
func parseOrder(req OrderRequest) (cryptorules.Order, cryptorules.Account, int64, error) {
	o := cryptorules.Order{Symbol: req.Symbol, Side: cryptorules.Side(req.Side), Kind: cryptorules.Kind(req.Kind),
		TIF: cryptorules.TIF(req.TimeInForce), Margin: req.Margin}
	var a cryptorules.Account
	var volume int64
	var err error
	rat := func(field, v string, optional bool) *big.Rat {
		if err != nil || (optional && v == "") {
			return nil
		}
		var r *big.Rat
		r, err = ParseDecimal(field, v, maxFraction)
		return r
	}
	cents := func(field, v string, optional bool) int64 {
		if err != nil || (optional && v == "") {
			return 0
		}
		var c int64
		c, err = ParseCents(field, v)
		return c
	}
	if len(req.Symbol) > 10 {
		return o, a, 0, sls.Errorf(sls.CodeInvalidArgument, "symbol is too long.").WithDetail("field", "symbol")
	}
	o.ValueUSDCents = cents("value_usd", req.ValueUSD, true)
	o.Quantity = rat("quantity", req.Quantity, true)
	o.LimitPrice = rat("limit_price", req.LimitPrice, true)
	o.MarketPrice = rat("market_price", req.MarketPrice, false)
	a.EquityUSDCents = cents("equity_usd", req.EquityUSD, false)
	a.CashUSDCents = cents("cash_usd", req.CashUSD, false)
	a.Held = rat("held_quantity", req.HeldQuantity, true)
	volume = cents("month_volume_usd", req.MonthVolumeUSD, true)
	if err != nil {
		return o, a, 0, err
	}
	if req.ValueUSD != "" && req.Quantity != "" {
		return o, a, 0, sls.Errorf(sls.CodeInvalidArgument, "Give either value_usd or quantity, not both.").WithDetail("field", "quantity")
	}
	return o, a, volume, nil
}
