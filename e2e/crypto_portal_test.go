package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestPortalCrypto: a Hong Kong client asks for the cryptocurrency
// trading permission in the portal, is told by how much they miss the
// professional-investor threshold, asks again with more, and checks an
// order that is accepted and one that is refused, each refusal naming the
// rule.
func TestPortalCrypto(t *testing.T) {
	clk := filepath.Join(t.TempDir(), "clock")
	setClock(t, clk, time.Until(wednesday)) // the trading window is open
	cfg := filepath.Join(t.TempDir(), "crypto.json")
	if err := os.WriteFile(cfg, []byte(`{"crypto": {"enabled": true}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "", withClockFile(clk), withArgs("--config", cfg))
	n.mustCtl("", "account", "create", "--id", "HK7601", "--currency", "USD", "--equity", "2000000.00", "--jurisdiction", "HK")
	n.mustCtl(pw+"\n", "user", "create", "--username", "ling", "--account", "HK7601", "--email", "ling@example.invalid")
	values := parseCard(n.codeCard("ling"))
	b := newBrowser(t, n.url, browserOpt{})
	b.codeCardLogin("ling", values)

	b.open("/crypto")
	b.expect(`#crypto-status[data-status="none"]`, "#crypto-permission-form")
	b.shot("90-crypto")
	b.fill("#assets", "7500000")
	b.do(chromedp.Click(chromedp.CSS("#resident")))
	b.submit("#crypto-permission-form button[type=submit]")
	if !strings.Contains(b.text("#page-error"), "only professional investors") ||
		b.attr("#crypto-refusal", "data-rule") != "professional_investor" ||
		!strings.Contains(b.text("#crypto-refusal-need"), "HKD 8,000,000.00") || !strings.Contains(b.text("#crypto-refusal-have"), "HKD 7,500,000.00") {
		t.Fatalf("refusal below HKD 8 million: %s", b.dump())
	}
	b.shot("91-crypto-refused")

	// The form kept the answers; more assets, and the permission is granted.
	b.fill("#assets", "9000000")
	b.submit("#crypto-permission-form button[type=submit]")
	if !strings.Contains(b.location(), "n=crypto_granted") || !strings.Contains(b.text(".notice"), "You now have the cryptocurrency trading permission") {
		t.Fatalf("grant: %s %s", b.location(), b.dump())
	}
	b.expect(`#crypto-status[data-status="granted"]`, "#crypto-order-form")

	order := func(value string) {
		t.Helper()
		b.fill("#value_usd", value)
		b.fill("#market_price", "100000")
		b.fill("#equity_usd", "2000000")
		b.fill("#cash_usd", "500000")
		b.submit("#crypto-order-form button[type=submit]")
	}
	order("10000")
	if b.attr("#crypto-answer", "data-accepted") != "true" || !strings.Contains(b.text("#answer-quantity"), "0.10000000 BTC") ||
		!strings.Contains(b.text("#answer-commission"), "USD 30.00") || !strings.Contains(b.text(".notice"), "may be sent") {
		t.Fatalf("accepted order: %s", b.dump())
	}
	b.shot("92-crypto-order")
	order("9.99")
	if b.attr("#crypto-answer", "data-accepted") != "false" || b.attr("#crypto-refusal", "data-rule") != "min_order" ||
		!strings.Contains(b.text("#page-error"), "the order is below the minimum") || !strings.Contains(b.text("#crypto-refusal-have"), "USD 9.99") {
		t.Fatalf("order under the minimum: %s", b.dump())
	}
	b.shot("93-crypto-order-refused")
}
