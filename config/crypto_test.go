package config

import (
	"slices"
	"testing"

	"github.com/secure-login-system/sls/cryptorules"
)

// The article's figures are the defaults, and a three-step table in basis
// points maps to cryptorules' hundredths of a basis point.
func TestCryptoConfig(t *testing.T) {
	c, err := (&File{}).CryptoConfig()
	if err != nil || c.Enabled || c.Rules.MinCommissionUSDCents != 2_25 || c.Rules.CustodyBPMonthly != 8 ||
		c.Rules.MinIndividualAssetsHKDCents != 8_000_000_00 || c.Rules.MinInstitutionAssetsHKDCents != 40_000_000_00 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	f, err := Parse([]byte(`{"crypto": {"enabled": true, "commission_tiers": [
		{"from_monthly_volume_usd": "0", "rate_bp": "30"},
		{"from_monthly_volume_usd": "100000.00", "rate_bp": "25"},
		{"from_monthly_volume_usd": "1000000", "rate_bp": "20.5"}], "min_order_usd": "25", "custody_bp_monthly": 0}}`))
	if err != nil {
		t.Fatal(err)
	}
	c, _ = f.CryptoConfig()
	want := []cryptorules.Tier{{FromUSDCents: 0, RateCentiBP: 3000}, {FromUSDCents: 100_000_00, RateCentiBP: 2500}, {FromUSDCents: 1_000_000_00, RateCentiBP: 2050}}
	if !c.Enabled || !slices.Equal(c.Rules.CommissionTiers, want) || c.Rules.MinOrderUSDCents != 25_00 || c.Rules.CustodyBPMonthly != 0 {
		t.Errorf("parsed: %+v", c)
	}
}

func TestCryptoConfigProblems(t *testing.T) {
	_, err := Parse([]byte(`{"crypto": {"commission_tiers": [
		{"from_monthly_volume_usd": "5", "rate_bp": "30"},
		{"from_monthly_volume_usd": "100", "rate_bp": "300"},
		{"from_monthly_volume_usd": "50", "rate_bp": "-1"}],
		"min_individual_assets_hkd": "9e6", "position_equity_pct": 150, "custody_bp_monthly": -2, "symbols": ["btc"], "custody_job_every": "1s"}}`))
	var errs Errors
	if !errorsAs(err, &errs) {
		t.Fatalf("Parse = %v", err)
	}
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path)
	}
	for _, p := range []string{"crypto.commission_tiers[0].from_monthly_volume_usd", "crypto.commission_tiers[1].rate_bp",
		"crypto.commission_tiers[2].from_monthly_volume_usd", "crypto.commission_tiers[2].rate_bp", "crypto.min_individual_assets_hkd",
		"crypto.position_equity_pct", "crypto.custody_bp_monthly", "crypto.symbols[0]", "crypto.custody_job_every"} {
		if !slices.Contains(paths, p) {
			t.Errorf("no problem at %s; got %v", p, paths)
		}
	}
}
