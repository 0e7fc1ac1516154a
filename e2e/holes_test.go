package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Choosing the device again draws a new challenge (a new code card pair),
// so it spends one of the login's answers: re-selecting until a pair seen
// before comes back is no cheaper than guessing. The login ends in
// too_many_attempts, and even the right values are then refused.
func TestReselectionSpendsTheLogin(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		n := startNode(t, db, withArgs("--config", polConfigFile(t)))
		values := polUser(t, n, "rosa", "U5100001", "1000", "US", false)
		r := startLogin(t, n, "rosa", "portal")
		c := chooseDevice(t, n, r, "codecard")
		devID := c.str("device_id")
		var last apiResult
		for i := 1; i <= 20; i++ {
			last = call(t, "POST", n.url+"/api/v1/login/device", "", map[string]any{"login_id": c.str("login_id"), "device_id": devID})
			if last.Status != 200 {
				if i == 1 {
					t.Fatalf("the first re-selection was refused: %s", last.Raw)
				}
				break
			}
			c = last
		}
		if last.code() != "too_many_attempts" {
			t.Fatalf("re-selecting without end: %d %s", last.Status, last.Raw)
		}
		ix := c.Body["prompt"].(map[string]any)["indices"].([]any)
		done := answer(t, n, c.str("login_id"), values[fmtNum(ix[0])]+" "+values[fmtNum(ix[1])])
		if done.code() != "too_many_attempts" {
			t.Fatalf("the right values after the login was spent: %d %s", done.Status, done.Raw)
		}
	})
}

// An exchange rate outside the sane band, or too far from the rate it
// replaces, is refused with an error naming the currency and changes
// nothing; an operator sets a real devaluation with --force and a reason,
// which the audit trail keeps. A band in the configuration may give only
// the fields it changes.
func TestExchangeRateBand(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		cfg := filepath.Join(t.TempDir(), "band.json")
		if err := os.WriteFile(cfg, []byte(`{"policy": {"rate_band": {"max_factor": 3}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		n := startNode(t, db, withArgs("--config", cfg))
		n.mustCtl("", "rates", "set", "EUR=1.0834")
		for _, bad := range []string{"EUR=0.00000001", "EUR=0.3", "EUR=3.5"} {
			out, err := n.ctl("", "rates", "set", bad)
			if err == nil || !strings.Contains(out, "EUR") {
				t.Fatalf("rates set %s: %v %s", bad, err, out)
			}
		}
		if out := n.mustCtl("", "rates", "list"); !strings.Contains(out, "1.0834") {
			t.Fatalf("a refused rate changed the table: %s", out)
		}
		n.mustCtl("", "rates", "set", "EUR=3") // within 3× (the configured factor)
		if out, err := n.ctl("", "rates", "set", "EUR=0.5", "--force"); err == nil {
			t.Fatalf("forced without a reason: %s", out)
		}
		n.mustCtl("", "rates", "set", "EUR=0.5", "--force", "--reason", "devaluation announced by the central bank")
		if out := n.mustCtl("", "rates", "list"); !strings.Contains(out, "0.5") {
			t.Fatalf("forced rate not set: %s", out)
		}
		if !auditHas(n, "exchange_rate.changed", "devaluation announced", `"forced":true`) {
			t.Fatal("the forced rate is not audited with its reason")
		}
	})
}

// The sequence of the issue: the client reports the DSC+ lost first and
// then places a plain order (no "replace"). That order is the lost
// card's replacement all the same: it needs temporary access and carries
// the lost-card fee.
func TestReportThenPlainOrderCarriesTheFee(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		cfg := filepath.Join(t.TempDir(), "fees.json")
		if err := os.WriteFile(cfg, []byte(`{"lifecycle": {"replacement_fees_usd": {"lost": "15.00"},
			"return_addresses": {"us_canada": "SLS Device Returns\n1 Pickwick Plaza\nGreenwich CT 06830\nUSA"}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		n := startNode(t, db, withArgs("--config", cfg))
		values := polUser(t, n, "lena", "U8103", "1500000.00", "US", false)
		token := polCardLogin(t, n, "lena", values, "portal")
		first := polOrder(t, n, token, "1357", nil).str("order", "id")
		m := shippedLine.FindStringSubmatch(n.mustCtl("", "orders", "ship", first, "--carrier", "FedEx", "--tracking", "7489",
			"--out", filepath.Join(t.TempDir(), "card.json")))
		n.mustCtl("", "orders", "deliver", first)

		if r := call(t, "POST", n.url+"/api/v1/lifecycle/devices/"+m[2]+"/report", token, map[string]string{"what": "lost"}); r.Status != 200 {
			t.Fatalf("report lost: %s", r.Raw)
		}
		plain := map[string]any{"shipping_address": "Ada Client\n10 Elm Street\nSpringfield IL 62701\nUSA", "pin": "2580"}
		if r := call(t, "POST", n.url+"/api/v1/dscplus/orders/preview", token, plain); r.Status != 403 || r.str("error", "detail", "condition") != "temporary_access_required" {
			t.Fatalf("plain order after a loss report, without temporary access: %s", r.Raw)
		}
		out := n.mustCtl("", "temppasscode", "issue", "lena", "--verified", "callback to the number on file; agent 9")
		code := regexp.MustCompile(`: ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})`).FindStringSubmatch(out)
		if code == nil {
			t.Fatalf("temporary passcode: %s", out)
		}
		c := chooseDevice(t, n, startLogin(t, n, "lena", "portal"), "temppasscode")
		done := answer(t, n, c.str("login_id"), code[1])
		if done.Status != 201 {
			t.Fatalf("temporary passcode login: %s", done.Raw)
		}
		placed := polOrder(t, n, done.str("session", "token"), "2580", nil)
		if placed.str("order", "origin") != "replacement" || placed.str("fee_usd_cents") != "1500" {
			t.Fatalf("plain order after a loss report: %s", placed.Raw)
		}
	})
}
