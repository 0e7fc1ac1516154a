package cryptorules

import (
	"math/big"
	"testing"
	"time"
)

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func TestPermission(t *testing.T) {
	r := Default()
	for _, tc := range []struct {
		name string
		inv  Investor
		rule string
	}{
		{"individual over HKD 8 million", Investor{Residence: "HK", InvestableAsset: 8_000_000_01}, ""},
		{"individual at exactly HKD 8 million", Investor{Residence: "HK", InvestableAsset: 8_000_000_00}, "professional_investor"},
		{"institution with HKD 39 million", Investor{Institution: true, Residence: "HK", InvestableAsset: 39_000_000_00}, "professional_investor"},
		{"institution over HKD 40 million", Investor{Institution: true, Residence: "HK", InvestableAsset: 40_000_001_00}, ""},
		{"rich, but not resident", Investor{Residence: "SG", InvestableAsset: 90_000_000_00}, "hong_kong_resident"},
	} {
		got := r.CheckPermission(tc.inv)
		if (got == nil) != (tc.rule == "") || got != nil && got.Rule != tc.rule {
			t.Errorf("%s: %v, want %q", tc.name, got, tc.rule)
		}
	}
	if got := r.CheckPermission(Investor{Residence: "HK", InvestableAsset: 7_500_000_00}); got == nil || got.Need != "HKD 8,000,000.00" || got.Have != "HKD 7,500,000.00" {
		t.Errorf("the refusal does not say by how much: %+v", got)
	}
}

// A Wednesday afternoon in New York: open.
var weekday = time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)

func TestOrders(t *testing.T) {
	r := Default()
	price := rat("100000")
	rich := Account{EquityUSDCents: 20_000_000_00, CashUSDCents: 5_000_000_00}
	for _, tc := range []struct {
		name  string
		o     Order
		a     Account
		rule  string
		qty   string
		value int64
	}{
		{"market buy in value", Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: IOC, ValueUSDCents: 10_000_00, MarketPrice: price}, rich, "", "0.10000000", 10_000_00},
		{"only BTC and ETH", Order{Symbol: "DOGE", Side: Buy, Kind: Market, TIF: IOC, ValueUSDCents: 10_000_00, MarketPrice: price}, rich, "symbol", "", 0},
		{"market in quantity", Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: IOC, Quantity: rat("1"), MarketPrice: price}, rich, "market_in_value", "", 0},
		{"limit in value becomes quantity at the limit price", Order{Symbol: "ETH", Side: Buy, Kind: Limit, TIF: Minutes, ValueUSDCents: 5_000_00, LimitPrice: rat("3000"), MarketPrice: rat("3100")}, rich, "", "1.66666666", 4_999_99},
		{"limit in quantity", Order{Symbol: "ETH", Side: Buy, Kind: Limit, TIF: IOC, Quantity: rat("2"), LimitPrice: rat("3000"), MarketPrice: rat("3100")}, rich, "", "2.00000000", 6_000_00},
		{"under USD 10", Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: IOC, ValueUSDCents: 9_99, MarketPrice: price}, rich, "min_order", "", 0},
		{"exactly USD 10", Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: IOC, ValueUSDCents: 10_00, MarketPrice: price}, rich, "", "0.00010000", 10_00},
		{"margin", Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: IOC, ValueUSDCents: 10_000_00, MarketPrice: price, Margin: true}, rich, "no_margin", "", 0},
		{"more than the cash", Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: IOC, ValueUSDCents: 10_000_00, MarketPrice: price}, Account{EquityUSDCents: 20_000_000_00, CashUSDCents: 9_000_00}, "cash", "", 0},
		{"10% of equity", Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: IOC, ValueUSDCents: 150_000_00, MarketPrice: price}, Account{EquityUSDCents: 5_000_000_00, CashUSDCents: 1_000_000_00, Held: rat("4")}, "position_limit", "", 0},
		{"USD 1 million cap", Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: IOC, ValueUSDCents: 200_000_00, MarketPrice: price}, Account{EquityUSDCents: 50_000_000_00, CashUSDCents: 5_000_000_00, Held: rat("9")}, "position_limit", "", 0},
		{"sell what is held", Order{Symbol: "BTC", Side: Sell, Kind: Limit, TIF: GTC, Quantity: rat("0.5"), LimitPrice: price, MarketPrice: price}, Account{Held: rat("0.5")}, "", "0.5", 50_000_00},
		{"short sale", Order{Symbol: "BTC", Side: Sell, Kind: Market, TIF: IOC, ValueUSDCents: 60_000_00, MarketPrice: price}, Account{Held: rat("0.5")}, "no_short_sale", "", 0},
		{"buy limit Day", Order{Symbol: "BTC", Side: Buy, Kind: Limit, TIF: Day, Quantity: rat("0.1"), LimitPrice: price, MarketPrice: price}, rich, "time_in_force", "", 0},
		{"buy limit GTC", Order{Symbol: "BTC", Side: Buy, Kind: Limit, TIF: GTC, Quantity: rat("0.1"), LimitPrice: price, MarketPrice: price}, rich, "time_in_force", "", 0},
		{"buy market Minutes", Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: Minutes, ValueUSDCents: 10_000_00, MarketPrice: price}, rich, "time_in_force", "", 0},
		{"sell Day", Order{Symbol: "BTC", Side: Sell, Kind: Market, TIF: Day, ValueUSDCents: 10_000_00, MarketPrice: price}, Account{Held: rat("1")}, "", "0.10000000", 10_000_00},
		{"stop orders", Order{Symbol: "BTC", Side: Buy, Kind: "stop", TIF: IOC, ValueUSDCents: 10_000_00, MarketPrice: price}, rich, "order_type", "", 0},
	} {
		got, ref := r.CheckOrder(tc.o, tc.a, weekday)
		switch {
		case tc.rule != "" && (ref == nil || ref.Rule != tc.rule):
			t.Errorf("%s: %+v %v, want refused by %s", tc.name, got, ref, tc.rule)
		case tc.rule == "" && ref != nil:
			t.Errorf("%s: refused: %v", tc.name, ref)
		case tc.rule == "" && (got.Quantity.FloatString(8) != rat(tc.qty).FloatString(8) || got.ValueUSDCents != tc.value):
			t.Errorf("%s: quantity %s value %d, want %s %d", tc.name, got.Quantity.FloatString(8), got.ValueUSDCents, tc.qty, tc.value)
		}
	}
	// By how much: the position limit names the limit and the excess.
	_, ref := r.CheckOrder(Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: IOC, ValueUSDCents: 150_000_00, MarketPrice: price},
		Account{EquityUSDCents: 5_000_000_00, CashUSDCents: 1_000_000_00, Held: rat("4")}, weekday)
	if ref == nil || ref.Need != "USD 500,000.00" || ref.Have != "USD 550,000.00" {
		t.Errorf("position limit refusal: %+v", ref)
	}
}

// TestTradingHours: the weekly window in New York wall-clock time, across
// both daylight-saving changes of 2026 (8 March, 1 November).
func TestTradingHours(t *testing.T) {
	r := Default()
	utc := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	buy := Order{Symbol: "BTC", Side: Buy, Kind: Market, TIF: IOC, ValueUSDCents: 100_00, MarketPrice: rat("100000")}
	sell := Order{Symbol: "BTC", Side: Sell, Kind: Market, TIF: IOC, ValueUSDCents: 100_00, MarketPrice: rat("100000")}
	acct := Account{EquityUSDCents: 10_000_000_00, CashUSDCents: 100_000_00, Held: rat("1")}
	for _, tc := range []struct {
		at      string // UTC
		opening bool
		why     string
	}{
		{"2026-12-04 20:59", true, "Friday 3:59 PM EST"},
		{"2026-12-04 21:00", false, "Friday 4:00 PM EST"},
		{"2026-07-10 19:59", true, "Friday 3:59 PM EDT"},
		{"2026-07-10 20:00", false, "Friday 4:00 PM EDT"},
		{"2026-12-05 17:00", false, "Saturday"},
		{"2026-12-06 07:59", false, "Sunday 2:59 AM EST"},
		{"2026-12-06 08:00", true, "Sunday 3:00 AM EST"},
		{"2026-07-12 06:59", false, "Sunday 2:59 AM EDT"},
		{"2026-07-12 07:00", true, "Sunday 3:00 AM EDT"},
		{"2026-03-08 06:59", false, "Sunday 1:59 AM EST, the night clocks go forward"},
		{"2026-03-08 07:00", true, "Sunday 3:00 AM EDT: 2:00 AM EST became 3:00 AM EDT"},
		{"2026-11-01 06:30", false, "Sunday 1:30 AM EST, the second 1:30 as clocks go back"},
		{"2026-11-01 07:59", false, "Sunday 2:59 AM EST"},
		{"2026-11-01 08:00", true, "Sunday 3:00 AM EST"},
	} {
		now := utc(tc.at)
		_, ref := r.CheckOrder(buy, acct, now)
		if (ref == nil) != tc.opening || ref != nil && ref.Rule != "trading_hours" {
			t.Errorf("%s (%s): opening trade %v, want allowed=%v", tc.at, tc.why, ref, tc.opening)
		}
		if _, ref := r.CheckOrder(sell, acct, now); ref != nil {
			t.Errorf("%s (%s): closing trade refused: %v", tc.at, tc.why, ref)
		}
	}
}

func TestExpiry(t *testing.T) {
	r := Default()
	o := Order{Symbol: "BTC", Side: Sell, Kind: Limit, Quantity: rat("0.1"), LimitPrice: rat("100000"), MarketPrice: rat("100000")}
	a := Account{Held: rat("1")}
	for tif, want := range map[TIF]time.Time{
		IOC:     weekday,
		Minutes: weekday.Add(5 * time.Minute),
		Day:     time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC), // 4:00 PM EST
		GTC:     {},
	} {
		o.TIF = tif
		got, ref := r.CheckOrder(o, a, weekday)
		if ref != nil || !got.Expires.Equal(want) {
			t.Errorf("%s: %+v %v, want expiry %v", tif, got, ref, want)
		}
	}
}

func TestFees(t *testing.T) {
	r := Default()
	for _, tc := range []struct {
		value, volume, want int64
	}{
		{1_000_00, 0, 3_00},                   // 0.30%
		{500_00, 0, 2_25},                     // USD 1.50, below the minimum
		{1_000_00, 1_000_000_00, 2_25},        // 0.20% = USD 2.00, below the minimum
		{10_000_00, 1_000_000_00, 20_00},      // 0.20%
		{12_345_67, 0, 37_04},                 // USD 37.037, half up
		{1_000_000_00, 5_000_000_00, 2000_00}, // 0.20% of USD 1 million
	} {
		if got := r.Commission(tc.value, tc.volume); got != tc.want {
			t.Errorf("commission on %s with %s traded: %s, want %s", usd(tc.value), usd(tc.volume), usd(got), usd(tc.want))
		}
	}
	days := make([]int64, 30)
	for i := range days {
		days[i] = 1_000_000_00
	}
	if got := r.CustodyFee(days); got != 800_00 {
		t.Errorf("custody on USD 1 million a day: %s, want USD 800.00 (8 bp)", usd(got))
	}
	days[0] = 0 // the average counts every day
	if got := r.CustodyFee(days); got != 773_33 {
		t.Errorf("custody: %s, want USD 773.33", usd(got))
	}
	if r.CustodyFee(nil) != 0 {
		t.Error("custody on nothing")
	}
}
