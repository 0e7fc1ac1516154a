package e2e

import (
	"os"
	"path/filepath"
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
