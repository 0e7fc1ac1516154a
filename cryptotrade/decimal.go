package cryptotrade

import (
	"math/big"
	"strings"

	sls "github.com/secure-login-system/sls"
)

// maxDecimalLen bounds a decimal's text: a quantity or price never needs
// more, and a long one is work for nothing.
const maxDecimalLen = 32

// maxFraction is the finest decimal accepted: 1e-8 of a unit (a satoshi),
// the scale cryptorules rounds quantities to.
const maxFraction = 8

// ParseDecimal reads a non-negative plain decimal ("0.5", "100000",
// "1.25000000") exactly, with at most maxFrac decimals. Signs, exponents,
// fractions ("1/3"), separators and spaces are refused — big.Rat's own
// SetString would take several of them — so that what is checked is what
// the client wrote. The error is invalid_argument naming field.
func ParseDecimal(field, s string, maxFrac int) (*big.Rat, error) {
	bad := func(why string) (*big.Rat, error) {
		return nil, sls.Errorf(sls.CodeInvalidArgument, "%s %s.", field, why).WithDetail("field", field)
	}
	if s == "" {
		return bad("is missing")
	}
	if len(s) > maxDecimalLen {
		return bad("is too long")
	}
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") {
		return bad("must be a plain decimal number such as 1500 or 0.25")
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return bad("must be a plain decimal number such as 1500 or 0.25")
			}
		}
	}
	if len(frac) > maxFrac {
		return bad("has too many decimals")
	}
	n, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok {
		return bad("must be a plain decimal number such as 1500 or 0.25")
	}
	return new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)), nil
}

// maxMoneyCents bounds an amount in cents (USD 10 trillion, HKD alike):
// far above any account, far below int64's overflow in the rules'
// arithmetic.
const maxMoneyCents = 1_000_000_000_000_00

// ParseCents reads a decimal amount of money with at most two decimals
// into cents.
func ParseCents(field, s string) (int64, error) {
	r, err := ParseDecimal(field, s, 2)
	if err != nil {
		return 0, err
	}
	c := new(big.Rat).Mul(r, big.NewRat(100, 1))
	if !c.IsInt() || c.Num().Cmp(big.NewInt(maxMoneyCents)) > 0 {
		return 0, sls.Errorf(sls.CodeInvalidArgument, "%s is too large.", field).WithDetail("field", field)
	}
	return c.Num().Int64(), nil
}

// FormatCents writes cents as a plain decimal ("2.25").
func FormatCents(c int64) string {
	return new(big.Rat).SetFrac64(c, 100).FloatString(2)
}
