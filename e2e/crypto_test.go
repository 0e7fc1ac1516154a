package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// cryptoOrderCase is one order of the article's rules (SPEC §9, "Cryptocurrency
// Trading at Interactive Brokers Hong Kong"), checked at a moment in UTC.
type cryptoOrderCase struct {
	name  string
	at    time.Time
	order map[string]any
	// rule is the refusing rule ("" = accepted); qty, value and commission
	// the accepted order's figures when given.
	rule, qty, value, commission string
}

// utc is a moment of the table, in UTC so the Eastern offsets are the
// test's to state.
func utc(y int, m time.Month, d, h, min int) time.Time {
	return time.Date(y, m, d, h, min, 0, 0, time.UTC)
}

// order is a BTC order at USD 100,000 from an account with USD 2 million
// equity (position limit USD 200,000), USD 500,000 cash and 1 BTC held,
// changed by kv.
func order(kv ...any) map[string]any {
	o := map[string]any{"symbol": "BTC", "side": "buy", "kind": "market", "time_in_force": "ioc", "value_usd": "10000",
		"market_price": "100000", "equity_usd": "2000000", "cash_usd": "500000", "held_quantity": "1"}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(o, kv[i].(string))
		} else {
			o[kv[i].(string)] = kv[i+1]
		}
	}
	return o
}

var (
	// A Wednesday afternoon in New York, winter: open.
	wednesday = utc(2026, 12, 2, 19, 0)
	// A Saturday: closing trades only.
	saturday = utc(2026, 12, 5, 15, 0)
)

// cryptoOrders: the rules, then the window's edges. Friday 4:00 PM and
// Sunday 3:00 AM are New York wall-clock times, so their UTC moments move
// by an hour when the clocks change: Friday 4:00 PM is 20:00 UTC in July
// (EDT) and 21:00 UTC in December (EST); on Sunday 8 March 2026 the
// clocks jump from 2:00 to 3:00 EDT (the window opens at 07:00 UTC), and
// on Sunday 1 November 2026 they fall back, so 3:00 AM EST is 08:00 UTC
// and 07:30 UTC (2:30 AM EST, after the repeated hour) is still closed to
// opening trades. Times keep two minutes from an edge: the test's own
// seconds must not cross it.
var cryptoOrders = []cryptoOrderCase{
	{"market buy in value", wednesday, order(), "", "0.10000000", "10000.00", "30.00"},
	{"commission minimum USD 2.25", wednesday, order("value_usd", "100"), "", "0.00100000", "100.00", "2.25"},
	{"lower tier from USD 1 million a month", wednesday, order("month_volume_usd", "1000000"), "", "0.10000000", "10000.00", "20.00"},
	{"limit buy in value converted at the limit price", wednesday,
		order("symbol", "ETH", "kind", "limit", "time_in_force", "minutes", "value_usd", "5000", "limit_price", "3000", "market_price", "3100", "held_quantity", "0"),
		"", "1.66666666", "4999.99", "15.00"},
	{"limit buy in quantity", wednesday, order("kind", "limit", "value_usd", nil, "quantity", "0.5", "limit_price", "99000"), "", "0.50000000", "49500.00", "148.50"},
	{"only BTC and ETH", wednesday, order("symbol", "DOGE"), "symbol", "", "", ""},
	{"market orders in value only", wednesday, order("value_usd", nil, "quantity", "0.1"), "market_in_value", "", "", ""},
	{"minimum order USD 10", wednesday, order("value_usd", "9.99"), "min_order", "", "", ""},
	{"no margin", wednesday, order("margin", true), "no_margin", "", "", ""},
	{"no short sale", wednesday, order("side", "sell", "held_quantity", "0.05"), "no_short_sale", "", "", ""},
	{"paid in cash", wednesday, order("cash_usd", "5000"), "cash", "", "", ""},
	{"10% of equity", wednesday, order("value_usd", "150000"), "position_limit", "", "", ""},
	{"USD 1 million cap", wednesday, order("equity_usd", "50000000", "cash_usd", "5000000", "held_quantity", "0", "value_usd", "1000000.01"), "position_limit", "", "", ""},
	{"buy limit not GTC", wednesday, order("kind", "limit", "limit_price", "100000", "time_in_force", "gtc"), "time_in_force", "", "", ""},
	{"sell limit GTC", wednesday, order("side", "sell", "kind", "limit", "limit_price", "100000", "time_in_force", "gtc"), "", "0.10000000", "10000.00", "30.00"},

	{"Saturday: buy refused", saturday, order(), "trading_hours", "", "", ""},
	{"Saturday: sell accepted (closing)", saturday, order("side", "sell"), "", "0.10000000", "10000.00", "30.00"},
	{"Friday 3:58 PM EST: open", utc(2026, 12, 4, 20, 58), order(), "", "", "", ""},
	{"Friday 4:02 PM EST: closing only", utc(2026, 12, 4, 21, 2), order(), "trading_hours", "", "", ""},
	{"Friday 4:02 PM EST: sell accepted", utc(2026, 12, 4, 21, 2), order("side", "sell"), "", "", "", ""},
	{"Friday 3:58 PM EDT (19:58 UTC in July): open", utc(2026, 7, 10, 19, 58), order(), "", "", "", ""},
	{"Friday 4:02 PM EDT (20:02 UTC in July): closing only", utc(2026, 7, 10, 20, 2), order(), "trading_hours", "", "", ""},
	{"Sunday 2:58 AM EST: closing only", utc(2026, 12, 6, 7, 58), order(), "trading_hours", "", "", ""},
	{"Sunday 3:02 AM EST: open", utc(2026, 12, 6, 8, 2), order(), "", "", "", ""},
	{"DST starts: 1:58 AM EST on 8 March is closed", utc(2026, 3, 8, 6, 58), order(), "trading_hours", "", "", ""},
	{"DST starts: 3:02 AM EDT is 07:02 UTC, open", utc(2026, 3, 8, 7, 2), order(), "", "", "", ""},
	{"DST ends: 2:30 AM EST on 1 November is still closed", utc(2026, 11, 1, 7, 30), order(), "trading_hours", "", "", ""},
	{"DST ends: 3:02 AM EST is 08:02 UTC, open", utc(2026, 11, 1, 8, 2), order(), "", "", "", ""},
}

// TestCryptoTrading drives the Hong Kong entity's cryptocurrency trading
// as a client and the back office would: the permission (refused below
// HKD 8 million, granted above), the table of orders at their moments,
// and the custody job charging 8 bps of a month's average daily value
// into the ledger once.
func TestCryptoTrading(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		clk := filepath.Join(t.TempDir(), "clock")
		cfg := filepath.Join(t.TempDir(), "crypto.json")
		if err := os.WriteFile(cfg, []byte(`{"crypto": {"enabled": true}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		n := startNode(t, db, withClockFile(clk), withArgs("--config", cfg))
		n.mustCtl("", "account", "create", "--id", "HK7001", "--currency", "USD", "--equity", "2000000.00", "--jurisdiction", "HK")
		n.mustCtl(pw+"\n", "user", "create", "--username", "mei", "--account", "HK7001", "--email", "mei@example.invalid")
		card := filepath.Join(t.TempDir(), "card.json")
		n.mustCtl("", "dscplus", "issue", "mei", "--pin", "2468", "--out", card)
		login := func() string {
			t.Helper()
			r := startLogin(t, n, "mei", "trading")
			done := answer(t, n, r.str("login_id"), dscRespond(t, card, "2468", r.str("prompt", "challenge")))
			if done.Status != 201 {
				t.Fatalf("login: %s", done.Raw)
			}
			return done.str("session", "token")
		}
		at := func(moment time.Time) { t.Helper(); setClock(t, clk, time.Until(moment)) }

		// The server's time only moves forward (rate limits and jobs keep
		// time in the database): the permission first, then the orders in
		// the order of their moments.
		at(utc(2026, 3, 4, 15, 0))
		tok := login()
		if r := call(t, "POST", n.url+"/api/v1/crypto/orders/check", tok, order()); r.Status != 403 || r.str("error", "detail", "rule") != "crypto_permission" {
			t.Fatalf("an order before the permission: %d %s", r.Status, r.Raw)
		}
		r := call(t, "POST", n.url+"/api/v1/crypto/permission", tok, map[string]any{"investor_type": "individual", "investable_assets_hkd": "8000000.00", "hong_kong_resident": true})
		if r.Status != 403 || r.code() != "not_eligible" || r.str("error", "detail", "rule") != "professional_investor" ||
			r.str("error", "detail", "need") != "HKD 8,000,000.00" || !strings.Contains(r.str("error", "message"), "HKD 0.01 short") {
			t.Fatalf("exactly HKD 8 million (the article says over): %d %s", r.Status, r.Raw)
		}
		r = call(t, "POST", n.url+"/api/v1/crypto/permission", tok, "{\"investor_type\":\"individual\",")
		if r.Status != 400 || r.code() != "invalid_request" {
			t.Fatalf("truncated body: %d %s", r.Status, r.Raw)
		}
		r = call(t, "POST", n.url+"/api/v1/crypto/permission", tok, map[string]any{"investor_type": "individual", "investable_assets_hkd": "12000000.00", "hong_kong_resident": true})
		if r.Status != 200 || r.str("status") != "granted" {
			t.Fatalf("grant: %d %s", r.Status, r.Raw)
		}

		cases := slices.Clone(cryptoOrders)
		slices.SortStableFunc(cases, func(a, b cryptoOrderCase) int { return a.at.Compare(b.at) })
		for _, tc := range cases {
			at(tc.at)
			tok := login() // the clock moved by months: a session of that moment
			r := call(t, "POST", n.url+"/api/v1/crypto/orders/check", tok, tc.order)
			if r.Status != 200 {
				t.Errorf("%s: %d %s", tc.name, r.Status, r.Raw)
				continue
			}
			if got := r.str("refusal", "rule"); got != tc.rule || (r.str("accepted") == "true") != (tc.rule == "") {
				t.Errorf("%s: refusal %q, want %q: %s", tc.name, got, tc.rule, r.Raw)
				continue
			}
			if tc.rule != "" && (r.str("refusal", "message") == "") {
				t.Errorf("%s: a refusal without a message: %s", tc.name, r.Raw)
			}
			for field, want := range map[string]string{"quantity": tc.qty, "value_usd": tc.value, "commission_usd": tc.commission} {
				if want != "" && r.str(field) != want {
					t.Errorf("%s: %s %q, want %q", tc.name, field, r.str(field), want)
				}
			}
		}

		// Custody: the back office reports USD 3,100,000 held; the job
		// snapshots it on 10 January 2027 only, so January's average over
		// its 31 days is USD 100,000 and the fee 8 bps of it, USD 80.00.
		at(utc(2027, 1, 10, 12, 0))
		opLogin := func() string {
			t.Helper()
			n.opToken()
			if out, err := slsctlLogin(t, n, n.opTokenFile(), testOperator, testOperatorPassword, n.opCardFile(), "2468"); err != nil {
				t.Fatalf("operator login: %v\n%s", err, out)
			}
			raw, err := os.ReadFile(n.opTokenFile())
			if err != nil {
				t.Fatal(err)
			}
			return strings.TrimSpace(string(raw))
		}
		op := opLogin()
		if out := n.mustCtl("", "crypto", "position", "mei", "3100000.00"); !strings.Contains(out, "account HK7001 holds USD 3100000.00") {
			t.Fatalf("report holdings: %s", out)
		}
		if r := call(t, "PUT", n.url+"/api/v1/ops/crypto/positions/mei", login(), map[string]any{"value_usd": "1.00"}); r.Status != 401 {
			t.Fatalf("a client reported holdings: %d %s", r.Status, r.Raw)
		}
		// The job runs hourly in the server's time: move past the hour.
		at(utc(2027, 1, 10, 13, 5))
		waitLedger := func(month string, want int) apiResult {
			t.Helper()
			deadline := time.Now().Add(15 * time.Second)
			for {
				r := call(t, "GET", n.url+"/api/v1/ops/crypto/custody?account=HK7001&month="+month, op, nil)
				if strings.Count(r.str("fees"), `"month"`) == want || time.Now().After(deadline) {
					return r
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
		time.Sleep(3 * time.Second) // a few scheduler ticks: the snapshot is taken
		at(utc(2027, 2, 1, 0, 30))
		op = opLogin()
		r = waitLedger("2027-01", 1)
		want := `[{"account_id":"HK7001","average_usd_cents":10000000,"bp_monthly":8,"computed_at":`
		if r.Status != 200 || !strings.HasPrefix(r.str("fees"), want) || !strings.Contains(r.str("fees"), `"days":31,"fee_usd_cents":8000,"month":"2027-01"`) {
			t.Fatalf("January's custody fee: %d %s", r.Status, r.Raw)
		}
		if out := n.mustCtl("", "crypto", "custody", "--account", "HK7001"); !strings.Contains(out, "2027-01  HK7001       average USD 100000.00 over 31 days  8 bps  fee USD 80.00") {
			t.Fatalf("slsctl crypto custody: %s", out)
		}
		// Later runs of the job charge nothing again.
		at(utc(2027, 2, 1, 3, 0))
		time.Sleep(2 * time.Second)
		if r := waitLedger("", 1); strings.Count(r.str("fees"), `"month"`) != 1 {
			t.Fatalf("ledger after more runs: %s", r.Raw)
		}
	})
}
