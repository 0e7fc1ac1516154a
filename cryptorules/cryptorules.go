// Package cryptorules holds the rules of cryptocurrency trading for the
// Hong Kong entity, as the brokerage's articles state them (SPEC §9): who
// may get the trading permission, which orders may be routed, and what
// they cost. It is pure — no storage, no clock of its own — so that every
// rule is a table test, like package policy.
//
// Money is in integer US cents (or HKD cents for the permission's asset
// test); quantities and prices are exact rationals (math/big.Rat), never
// floats. Every refusal is a *Refusal naming the rule and by how much the
// order or applicant missed it.
package cryptorules

import (
	"fmt"
	"math/big"
	"slices"
	"time"

	"github.com/secure-login-system/sls/policy"
)

// Rules are the figures of the articles; Default returns them.
type Rules struct {
	// Permission: professional investors only (SFC Securities and Futures
	// (Professional Investor) Rules, as the article words them).
	MinIndividualAssetsHKDCents  int64 // HKD 8 million
	MinInstitutionAssetsHKDCents int64 // HKD 40 million
	// Orders.
	Symbols            []string
	MinOrderUSDCents   int64 // USD 10
	PositionEquityPct  int64 // 10 (% of total equity)
	PositionCapUSDCent int64 // USD 1 million
	// MinutesTIF is how long a "Minutes" order lives: five minutes.
	MinutesTIF time.Duration
	// Fees.
	CommissionTiers       []Tier
	MinCommissionUSDCents int64 // USD 2.25
	// CustodyBPMonthly is the monthly custody fee in basis points of the
	// average daily value held: 8.
	CustodyBPMonthly int64
}

// Tier is a commission rate for a monthly traded volume of at least
// FromUSDCents, in hundredths of a basis point (0.20% = 2000).
type Tier struct {
	FromUSDCents int64
	RateCentiBP  int64
}

// Default returns the articles' rules. The commission tiers between the
// stated 0.20% and 0.30% are not published; these are the brokerage's to
// set (config), here one step at USD 1 million a month.
func Default() Rules {
	return Rules{
		MinIndividualAssetsHKDCents:  8_000_000_00,
		MinInstitutionAssetsHKDCents: 40_000_000_00,
		Symbols:                      []string{"BTC", "ETH"},
		MinOrderUSDCents:             10_00,
		PositionEquityPct:            10,
		PositionCapUSDCent:           1_000_000_00,
		MinutesTIF:                   5 * time.Minute,
		CommissionTiers:              []Tier{{0, 3000}, {1_000_000_00, 2000}},
		MinCommissionUSDCents:        2_25,
		CustodyBPMonthly:             8,
	}
}

// Refusal says which rule refused and by how much.
type Refusal struct {
	Rule    string // stable: "professional_investor", "min_order", "position_limit", …
	Message string
	// Need and Have are the rule's figure and the one it was measured
	// against, in the unit the message names; empty when the rule is not
	// a quantity.
	Need, Have string
}

func (r *Refusal) Error() string { return r.Message }

func refuse(rule, need, have, format string, args ...any) *Refusal {
	return &Refusal{Rule: rule, Need: need, Have: have, Message: fmt.Sprintf(format, args...)}
}

// Investor is an applicant for the trading permission.
type Investor struct {
	Institution     bool
	Residence       string // ISO 3166-1 alpha-2
	InvestableAsset int64  // HKD cents
}

// CheckPermission returns nil when inv may be given the cryptocurrency
// trading permission, else the first condition it fails.
func (r Rules) CheckPermission(inv Investor) *Refusal {
	if inv.Residence != "HK" {
		return refuse("hong_kong_resident", "HK", inv.Residence,
			"Cryptocurrency trading is offered to residents of Hong Kong only; the residence on file is %q.", inv.Residence)
	}
	need, who := r.MinIndividualAssetsHKDCents, "an individual"
	if inv.Institution {
		need, who = r.MinInstitutionAssetsHKDCents, "an institution"
	}
	if inv.InvestableAsset <= need {
		return refuse("professional_investor", hkd(need), hkd(inv.InvestableAsset),
			"Only professional investors may trade cryptocurrencies: %s needs more than %s in investable assets, and %s are on file (%s short).",
			who, hkd(need), hkd(inv.InvestableAsset), hkd(need-inv.InvestableAsset+1))
	}
	return nil
}

// Side is buy or sell.
type Side string

// Order types and sides.
const (
	Buy  Side = "buy"
	Sell Side = "sell"
)

// Kind is market or limit.
type Kind string

// Order kinds.
const (
	Market Kind = "market"
	Limit  Kind = "limit"
)

// TIF is an order's time in force.
type TIF string

// Times in force.
const (
	IOC     TIF = "ioc"
	Minutes TIF = "minutes"
	Day     TIF = "day"
	GTC     TIF = "gtc"
)

// Order is an order as entered, before routing.
type Order struct {
	Symbol string
	Side   Side
	Kind   Kind
	TIF    TIF
	// Exactly one of ValueUSDCents (a cash amount) and Quantity is set.
	// Market orders are entered in value only; limit orders in either.
	ValueUSDCents int64
	Quantity      *big.Rat
	// LimitPrice is USD per unit (limit orders).
	LimitPrice *big.Rat
	// MarketPrice is the current price, USD per unit, used to value a
	// market order and the position.
	MarketPrice *big.Rat
	// Margin asks to borrow; never allowed.
	Margin bool
}

// Account is what the check needs of the account.
type Account struct {
	EquityUSDCents int64
	CashUSDCents   int64
	// Held is the quantity of Symbol held now.
	Held *big.Rat
}

// Checked is an order fit to route: in quantity terms, as the venue takes
// it, with its value and its expiry.
type Checked struct {
	Quantity      *big.Rat
	ValueUSDCents int64
	Closing       bool
	// Expires is when the order is cancelled if unfilled: now for IOC,
	// five minutes for Minutes, the end of the trading window for Day,
	// zero for GTC.
	Expires time.Time
}

// quantityScale rounds a converted quantity down to 1e-8 of a unit (a
// satoshi for BTC), so that the value never exceeds what was entered.
var quantityScale = big.NewInt(100_000_000)

// CheckOrder returns the order as routed, or the first rule it breaks, at
// now.
func (r Rules) CheckOrder(o Order, a Account, now time.Time) (*Checked, *Refusal) {
	if !slices.Contains(r.Symbols, o.Symbol) {
		return nil, refuse("symbol", fmt.Sprint(r.Symbols), o.Symbol, "Only %v can be traded; %q cannot.", r.Symbols, o.Symbol)
	}
	if o.Margin {
		return nil, refuse("no_margin", "", "", "Cryptocurrency positions are not marginable: the order must be paid in cash.")
	}
	if o.Side != Buy && o.Side != Sell {
		return nil, refuse("side", "buy or sell", string(o.Side), "The side must be buy or sell.")
	}
	byValue, byQty := o.ValueUSDCents != 0, o.Quantity != nil
	if byValue == byQty || o.ValueUSDCents < 0 || (byQty && o.Quantity.Sign() <= 0) {
		return nil, refuse("amount", "", "", "Enter either a positive cash value or a positive quantity.")
	}
	price := o.MarketPrice
	switch o.Kind {
	case Market:
		if !byValue {
			return nil, refuse("market_in_value", "", "", "Market orders are entered in cash value only (for example USD 10,000 of %s).", o.Symbol)
		}
	case Limit:
		if o.LimitPrice == nil || o.LimitPrice.Sign() <= 0 {
			return nil, refuse("limit_price", "", "", "A limit order needs a positive limit price.")
		}
		price = o.LimitPrice
	default:
		return nil, refuse("order_type", "market or limit", string(o.Kind), "Only market and limit orders are accepted.")
	}
	if price == nil || price.Sign() <= 0 {
		return nil, refuse("price", "", "", "There is no price for %s now.", o.Symbol)
	}
	if tifs := allowedTIFs(o); !slices.Contains(tifs, o.TIF) {
		return nil, refuse("time_in_force", fmt.Sprint(tifs), string(o.TIF),
			"A %s %s order may be %v, not %q.", o.Side, o.Kind, tifs, o.TIF)
	}
	// In quantity terms, as the venue takes it; the value at the price.
	qty := o.Quantity
	if byValue {
		qty = floorScale(new(big.Rat).Quo(big.NewRat(o.ValueUSDCents, 100), price))
		if qty.Sign() == 0 {
			return nil, refuse("min_order", usd(r.MinOrderUSDCents), usd(o.ValueUSDCents), "The minimum order is %s.", usd(r.MinOrderUSDCents))
		}
	}
	value := cents(new(big.Rat).Mul(qty, price))
	if value < r.MinOrderUSDCents {
		return nil, refuse("min_order", usd(r.MinOrderUSDCents), usd(value),
			"The minimum order is %s; this one is worth %s (%s short).", usd(r.MinOrderUSDCents), usd(value), usd(r.MinOrderUSDCents-value))
	}
	held := a.Held
	if held == nil {
		held = new(big.Rat)
	}
	closing := o.Side == Sell
	if closing && qty.Cmp(held) > 0 {
		return nil, refuse("no_short_sale", held.FloatString(8), qty.FloatString(8),
			"Short sales are not allowed: %s %s are held and the order sells %s.", held.FloatString(8), o.Symbol, qty.FloatString(8))
	}
	if !closing {
		if value > a.CashUSDCents {
			return nil, refuse("cash", usd(value), usd(a.CashUSDCents),
				"The order must be paid in cash: it needs %s and %s is available (%s short).", usd(value), usd(a.CashUSDCents), usd(value-a.CashUSDCents))
		}
		limit := min(a.EquityUSDCents*r.PositionEquityPct/100, r.PositionCapUSDCent)
		after := cents(new(big.Rat).Mul(held, marketOr(o.MarketPrice, price))) + value
		if after > limit {
			return nil, refuse("position_limit", usd(limit), usd(after),
				"Cryptocurrency holdings are limited to the lesser of %d%% of equity and %s, here %s; after this order they would be %s (%s over).",
				r.PositionEquityPct, usd(r.PositionCapUSDCent), usd(limit), usd(after), usd(after-limit))
		}
	}
	w := r.window(now)
	if w == closed {
		return nil, refuse("trading_hours", "Sunday 3:00 AM to Friday 4:00 PM US Eastern", now.In(eastern).Format("Mon 15:04 MST"),
			"Cryptocurrency trading is closed now.")
	}
	if w == closingOnly && !closing {
		return nil, refuse("trading_hours", "Sunday 3:00 AM to Friday 4:00 PM US Eastern", now.In(eastern).Format("Mon 15:04 MST"),
			"From Friday 4:00 PM to Sunday 3:00 AM US Eastern only closing trades are accepted; it is %s.", now.In(eastern).Format("Monday 3:04 PM MST"))
	}
	out := &Checked{Quantity: qty, ValueUSDCents: value, Closing: closing}
	switch o.TIF {
	case IOC:
		out.Expires = now
	case Minutes:
		out.Expires = now.Add(r.MinutesTIF)
	case Day:
		out.Expires = r.dayEnd(now)
	}
	return out, nil
}

// AllowedTIFs are the times in force an order of o's side and kind may
// have (the answer a client shows next to the order form).
func AllowedTIFs(o Order) []TIF { return allowedTIFs(o) }

// allowedTIFs: buy limit orders IOC or Minutes; sell orders IOC,
// Minutes, Day or GTC; a buy market order, which the articles do not list,
// only IOC (it fills at once or not at all).
func allowedTIFs(o Order) []TIF {
	switch {
	case o.Side == Sell:
		return []TIF{IOC, Minutes, Day, GTC}
	case o.Kind == Limit:
		return []TIF{IOC, Minutes}
	default:
		return []TIF{IOC}
	}
}

// eastern is the zone the trading hours are stated in; it carries the
// daylight-saving changes (EST/EDT).
var eastern = func() *time.Location {
	l, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err) // the binary embeds time/tzdata (see tzdata.go)
	}
	return l
}()

type window int

const (
	open window = iota
	closingOnly
	closed
)

// window: opening and closing trades from Sunday 3:00 AM to Friday
// 4:00 PM US Eastern; closing trades only from Friday 4:00 PM to Sunday
// 3:00 AM. Wall-clock times in America/New_York, so a daylight-saving
// change moves them with the clocks.
func (r Rules) window(now time.Time) window {
	t := now.In(eastern)
	minutes := t.Hour()*60 + t.Minute()
	switch t.Weekday() {
	case time.Saturday:
		return closingOnly
	case time.Sunday:
		if minutes < 3*60 {
			return closingOnly
		}
	case time.Friday:
		if minutes >= 16*60 {
			return closingOnly
		}
	}
	return open
}

// dayEnd is when a Day order ends. The articles define the trading week,
// not the trading day; the day is taken to end at the next 4:00 PM US
// Eastern, the hour the week's window closes on Fridays.
func (r Rules) dayEnd(now time.Time) time.Time {
	t := now.In(eastern)
	end := time.Date(t.Year(), t.Month(), t.Day(), 16, 0, 0, 0, eastern)
	if !end.After(t) {
		end = time.Date(t.Year(), t.Month(), t.Day()+1, 16, 0, 0, 0, eastern)
	}
	return end
}

// Commission is the commission of a trade of valueUSDCents given the
// account's volume this month before it: the tier's rate, at least the
// minimum, rounded half up to the cent.
func (r Rules) Commission(valueUSDCents, monthVolumeUSDCents int64) int64 {
	rate := r.CommissionTiers[0].RateCentiBP
	for _, t := range r.CommissionTiers {
		if monthVolumeUSDCents >= t.FromUSDCents {
			rate = t.RateCentiBP
		}
	}
	// value × rate / 1,000,000 (rate in hundredths of a basis point).
	c := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(valueUSDCents), big.NewInt(rate)), big.NewInt(1_000_000))
	return max(roundHalfUp(c), r.MinCommissionUSDCents)
}

// CustodyFee is a month's custody fee: CustodyBPMonthly basis points of
// the average of the daily values held (one per day of the month),
// rounded half up to the cent.
func (r Rules) CustodyFee(dailyValuesUSDCents []int64) int64 {
	if len(dailyValuesUSDCents) == 0 {
		return 0
	}
	var sum big.Int
	for _, v := range dailyValuesUSDCents {
		sum.Add(&sum, big.NewInt(v))
	}
	sum.Mul(&sum, big.NewInt(r.CustodyBPMonthly))
	return roundHalfUp(new(big.Rat).SetFrac(&sum, big.NewInt(int64(len(dailyValuesUSDCents))*10_000)))
}

func roundHalfUp(x *big.Rat) int64 {
	n := new(big.Int).Mul(x.Num(), big.NewInt(2))
	n.Add(n, x.Denom())
	n.Div(n, new(big.Int).Mul(x.Denom(), big.NewInt(2)))
	return n.Int64()
}

func floorScale(x *big.Rat) *big.Rat {
	n := new(big.Int).Mul(x.Num(), quantityScale)
	n.Div(n, x.Denom())
	return new(big.Rat).SetFrac(n, quantityScale)
}

// cents values x USD in cents, rounded down.
func cents(x *big.Rat) int64 {
	n := new(big.Int).Mul(x.Num(), big.NewInt(100))
	return n.Div(n, x.Denom()).Int64()
}

func marketOr(m, p *big.Rat) *big.Rat {
	if m != nil && m.Sign() > 0 {
		return m
	}
	return p
}

func usd(c int64) string { return policy.FormatUSD(c) }
func hkd(c int64) string { return policy.FormatCents("HKD", c) }
