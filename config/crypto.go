package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/secure-login-system/sls/config/field"
	"github.com/secure-login-system/sls/cryptorules"
	"github.com/secure-login-system/sls/cryptotrade"
	"github.com/secure-login-system/sls/protect"
)

// Crypto is the "crypto" section: cryptocurrency trading for the Hong
// Kong entity (SPEC §9, docs/crypto.md). Every figure left out is the
// article's. Money is written as decimal strings ("2.25",
// "8000000.00"), never as floating-point numbers.
type Crypto struct {
	// Enabled offers cryptocurrency trading (off by default: only the
	// Hong Kong entity trades it).
	Enabled bool `json:"enabled,omitempty"`
	// Symbols are the assets that trade (default BTC, ETH).
	Symbols []string `json:"symbols,omitempty"`
	// CommissionTiers are rates by the account's traded volume this
	// month, lowest volume first; the first starts at "0".
	CommissionTiers []CryptoTier `json:"commission_tiers,omitempty"`
	// MinCommissionUSD is the least commission of a trade (USD 2.25).
	MinCommissionUSD string `json:"min_commission_usd,omitempty"`
	// CustodyBPMonthly is the custody fee, basis points a month of the
	// average daily value held (8; 0 charges none, hence a pointer: left
	// out is the article's figure).
	CustodyBPMonthly *int64 `json:"custody_bp_monthly,omitempty"`
	// MinIndividualAssetsHKD and MinInstitutionAssetsHKD are what a
	// professional investor must hold more than (HKD 8 and 40 million).
	MinIndividualAssetsHKD  string `json:"min_individual_assets_hkd,omitempty"`
	MinInstitutionAssetsHKD string `json:"min_institution_assets_hkd,omitempty"`
	// PositionEquityPct and PositionCapUSD bound the holdings: the lesser
	// of this share of equity (10%) and this amount (USD 1 million).
	PositionEquityPct int64  `json:"position_equity_pct,omitempty"`
	PositionCapUSD    string `json:"position_cap_usd,omitempty"`
	// MinOrderUSD is the smallest order (USD 10).
	MinOrderUSD string `json:"min_order_usd,omitempty"`
	// CustodyJobEvery is how often the custody job runs (default 1h).
	CustodyJobEvery Duration `json:"custody_job_every,omitempty"`
}

// CryptoTier is one commission tier: from a monthly traded volume (USD,
// decimal) on, a rate in basis points with up to two decimals ("30",
// "22.5"; 30 bps = 0.30%).
type CryptoTier struct {
	FromMonthlyVolumeUSD string `json:"from_monthly_volume_usd"`
	RateBP               string `json:"rate_bp"`
}

// maxCommissionCentiBP bounds a commission rate: 100 bps (1%), well above
// the article's 0.20%–0.30%, so a typo ("300" for "30") is caught.
const maxCommissionCentiBP = 100_00

// CryptoConfig returns the "crypto" section as cryptorules.Rules and the
// job's period, defaults (the article's figures) filled in and checked.
func (f *File) CryptoConfig() (cryptotrade.Config, error) {
	c := f.Crypto
	r := cryptorules.Default()
	out := cryptotrade.Config{Enabled: c.Enabled, JobEvery: c.CustodyJobEvery.D()}
	if out.JobEvery == 0 {
		out.JobEvery = cryptotrade.DefaultJobEvery
	}
	var errs field.Errors
	money := func(path, currency, v string, into *int64, zeroOK bool) {
		if v == "" {
			return
		}
		m, err := protect.ParseAmount(currency, v)
		switch {
		case err == nil:
			*into = m.Minor
		case zeroOK && isZero(v):
			*into = 0
		default:
			errs.Addf(path, "%q is not a positive amount of %s (write it as a decimal such as 1000.00)", v, currency)
		}
	}
	money("min_commission_usd", "USD", c.MinCommissionUSD, &r.MinCommissionUSDCents, true)
	money("min_individual_assets_hkd", "HKD", c.MinIndividualAssetsHKD, &r.MinIndividualAssetsHKDCents, false)
	money("min_institution_assets_hkd", "HKD", c.MinInstitutionAssetsHKD, &r.MinInstitutionAssetsHKDCents, false)
	money("position_cap_usd", "USD", c.PositionCapUSD, &r.PositionCapUSDCent, false)
	money("min_order_usd", "USD", c.MinOrderUSD, &r.MinOrderUSDCents, false)
	if c.CustodyBPMonthly != nil {
		r.CustodyBPMonthly = *c.CustodyBPMonthly
	}
	if r.CustodyBPMonthly < 0 || r.CustodyBPMonthly > 100 {
		errs.Addf("custody_bp_monthly", "%d must be between 0 and 100 basis points a month", r.CustodyBPMonthly)
	}
	if c.PositionEquityPct != 0 {
		r.PositionEquityPct = c.PositionEquityPct
	}
	if r.PositionEquityPct < 1 || r.PositionEquityPct > 100 {
		errs.Addf("position_equity_pct", "%d must be between 1 and 100", r.PositionEquityPct)
	}
	if r.MinIndividualAssetsHKDCents > r.MinInstitutionAssetsHKDCents {
		errs.Addf("min_individual_assets_hkd", "the individuals' threshold is above the institutions'")
	}
	if len(c.Symbols) > 0 {
		r.Symbols = nil
		for i, s := range c.Symbols {
			if s == "" || len(s) > 10 || strings.ToUpper(s) != s || strings.ContainsFunc(s, func(c rune) bool { return (c < 'A' || c > 'Z') && (c < '0' || c > '9') }) {
				errs.Addf(fmt.Sprintf("symbols[%d]", i), "%q must be an upper-case ticker such as BTC", s)
				continue
			}
			r.Symbols = append(r.Symbols, s)
		}
	}
	if len(c.CommissionTiers) > 0 {
		r.CommissionTiers = nil
		for i, t := range c.CommissionTiers {
			at := fmt.Sprintf("commission_tiers[%d]", i)
			var tier cryptorules.Tier
			if i == 0 {
				if t.FromMonthlyVolumeUSD != "" && !isZero(t.FromMonthlyVolumeUSD) {
					errs.Addf(at+".from_monthly_volume_usd", "the first tier must start at 0")
				}
			} else {
				money(at+".from_monthly_volume_usd", "USD", t.FromMonthlyVolumeUSD, &tier.FromUSDCents, false)
				if prev := r.CommissionTiers; len(prev) > 0 && tier.FromUSDCents <= prev[len(prev)-1].FromUSDCents {
					errs.Addf(at+".from_monthly_volume_usd", "tiers must be in ascending order of volume")
				}
			}
			// Basis points with up to two decimals are hundredths of a
			// basis point: the unit cryptorules counts in.
			m, err := protect.ParseAmount("USD", t.RateBP)
			if err != nil || m.Minor <= 0 || m.Minor > maxCommissionCentiBP {
				errs.Addf(at+".rate_bp", "%q must be a rate between 0.01 and 100 basis points", t.RateBP)
			}
			tier.RateCentiBP = m.Minor
			r.CommissionTiers = append(r.CommissionTiers, tier)
		}
	}
	if out.JobEvery < time.Minute || out.JobEvery > 24*time.Hour {
		errs.Addf("custody_job_every", "%s must be between 1m and 24h", out.JobEvery)
	}
	out.Rules = r
	return out, field.Within("crypto", errs.Err())
}

// cryptoExample is the section spelling out the defaults.
func cryptoExample() Crypto {
	c, _ := (&File{}).CryptoConfig()
	r := c.Rules
	ex := Crypto{Symbols: r.Symbols, MinCommissionUSD: protect.FormatAmount("USD", r.MinCommissionUSDCents),
		CustodyBPMonthly: &r.CustodyBPMonthly, MinIndividualAssetsHKD: protect.FormatAmount("HKD", r.MinIndividualAssetsHKDCents),
		MinInstitutionAssetsHKD: protect.FormatAmount("HKD", r.MinInstitutionAssetsHKDCents), PositionEquityPct: r.PositionEquityPct,
		PositionCapUSD: protect.FormatAmount("USD", r.PositionCapUSDCent), MinOrderUSD: protect.FormatAmount("USD", r.MinOrderUSDCents),
		CustodyJobEvery: Duration(c.JobEvery)}
	for _, t := range r.CommissionTiers {
		ex.CommissionTiers = append(ex.CommissionTiers, CryptoTier{FromMonthlyVolumeUSD: protect.FormatAmount("USD", t.FromUSDCents),
			RateBP: protect.FormatAmount("USD", t.RateCentiBP)})
	}
	return ex
}

// isZero reports whether v is a plain decimal zero ("0", "0.00").
func isZero(v string) bool {
	whole, frac, dot := strings.Cut(v, ".")
	return whole != "" && strings.Trim(whole, "0") == "" && (!dot || frac != "" && strings.Trim(frac, "0") == "")
}
