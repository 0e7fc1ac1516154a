package protect

import (
	"math"
	"strings"

	sls "github.com/secure-login-system/sls"
	"github.com/secure-login-system/sls/policy"
)

// maxAmountLen bounds an amount's text: 19 digits already overflow int64.
const maxAmountLen = 40

// ParseAmount reads an amount written as a plain decimal ("1500", "1500.5",
// "1500.50") in currency, exactly, into minor units (ISO 4217 digits: two
// for USD, none for JPY, three for KWD). Signs, exponents, separators,
// more decimals than the currency has, and values beyond int64 are refused
// with a clear invalid_argument error: an amount that counts against a
// limit is never guessed or rounded.
func ParseAmount(currency, amount string) (policy.Money, error) {
	digits, err := policy.MinorUnitDigits(currency)
	if err != nil {
		return policy.Money{}, sls.Errorf(sls.CodeInvalidArgument, "The currency must be a 3-letter ISO 4217 code with a minor unit.").
			WithDetail("field", "currency")
	}
	cur := strings.ToUpper(currency)
	bad := func(why string) (policy.Money, error) {
		return policy.Money{}, sls.Errorf(sls.CodeInvalidArgument, "The amount %s.", why).WithDetail("field", "amount")
	}
	if amount == "" {
		return bad("is missing")
	}
	if len(amount) > maxAmountLen {
		return bad("is too long")
	}
	whole, frac, hasDot := strings.Cut(amount, ".")
	if whole == "" || (hasDot && frac == "") {
		return bad("must be a plain decimal number such as 1500 or 1500.25")
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return bad("must be a plain decimal number such as 1500 or 1500.25 (no sign, separators or exponent)")
			}
		}
	}
	if len(frac) > digits {
		if digits == 0 {
			return bad("must be a whole number in " + cur)
		}
		return bad("has more decimals than " + cur + " allows")
	}
	for len(frac) < digits {
		frac += "0"
	}
	var v int64
	for _, c := range whole + frac {
		d := int64(c - '0')
		if v > (math.MaxInt64-d)/10 {
			return bad("is too large")
		}
		v = v*10 + d
	}
	if v == 0 {
		return bad("must be positive")
	}
	return policy.Money{Currency: cur, Minor: v}, nil
}

// FormatAmount writes minor units of currency as a plain decimal, the form
// ParseAmount reads ("1500.50"); policy.FormatMinor.
func FormatAmount(currency string, minor int64) string { return policy.FormatMinor(currency, minor) }
