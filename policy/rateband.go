package policy

import (
	"fmt"
	"math/big"
)

// RateBand is how far an exchange rate (US dollars per unit of a
// currency) may be from sane: an absolute band, and a largest change from
// the rate it replaces. A rate is what turns a withdrawal in another
// currency into the US dollars its limit is counted in, so a mistyped or
// forged one (EUR 0.00000001) would let any amount pass a limit.
type RateBand struct {
	// Min and Max bound the rate itself. The defaults, 0.000001 and
	// 1,000,000 USD per unit, hold every traded currency with room to spare
	// (the weakest are around 0.00002, the strongest around 3).
	Min, Max string
	// MaxFactor bounds one update: the new rate must lie within
	// [old/MaxFactor, old×MaxFactor]. The default, 2, is larger than any
	// one-day move of a traded currency outside a crisis; a real
	// devaluation is entered with an explicit, audited override.
	MaxFactor int64
}

// DefaultRateBand is the band used when the configuration names none.
var DefaultRateBand = RateBand{Min: "0.000001", Max: "1000000", MaxFactor: 2}

func (r Rate) rat() *big.Rat {
	q := new(big.Rat).SetInt(new(big.Int).SetUint64(r.num))
	return q.Quo(q, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(r.scale)), nil)))
}

// Validate checks the band's own figures.
func (b RateBand) Validate() error {
	lo, err := ParseRate(b.Min)
	if err != nil {
		return fmt.Errorf("policy: rate band min: %w", err)
	}
	hi, err := ParseRate(b.Max)
	if err != nil {
		return fmt.Errorf("policy: rate band max: %w", err)
	}
	if lo.rat().Cmp(hi.rat()) >= 0 {
		return fmt.Errorf("policy: rate band min %s is not below max %s", b.Min, b.Max)
	}
	if b.MaxFactor < 2 {
		return fmt.Errorf("policy: rate band max_factor %d must be at least 2", b.MaxFactor)
	}
	return nil
}

// Check refuses a new rate for currency outside the band, or further
// than MaxFactor from old (old zero: the currency has no rate yet). The
// error names the currency and the bounds.
func (b RateBand) Check(currency string, old, next Rate) error {
	lo, err := ParseRate(b.Min)
	if err != nil {
		return err
	}
	hi, err := ParseRate(b.Max)
	if err != nil {
		return err
	}
	n := next.rat()
	if n.Cmp(lo.rat()) < 0 || n.Cmp(hi.rat()) > 0 {
		return fmt.Errorf("policy: %s rate %s is outside the sane band %s to %s USD per unit", currency, next, b.Min, b.Max)
	}
	if old.IsZero() {
		return nil
	}
	f := new(big.Rat).SetInt64(b.MaxFactor)
	o := old.rat()
	if n.Cmp(new(big.Rat).Mul(o, f)) > 0 || n.Cmp(new(big.Rat).Quo(o, f)) < 0 {
		return fmt.Errorf("policy: %s rate %s moves more than %d× from %s; confirm a real move with force and a reason", currency, next, b.MaxFactor, old)
	}
	return nil
}
