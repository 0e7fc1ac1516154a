package policy

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Dollar is one US dollar in the unit of every USD amount of this package
// (cents). Write limits as 50_000 * Dollar.
const Dollar int64 = 100

// Money is an amount in the minor units of a currency (cents for USD, yen
// for JPY, fils for KWD: see MinorUnitDigits).
type Money struct {
	Currency string // ISO 4217 alphabetic code
	Minor    int64
}

// noMinorUnit lists ISO 4217 codes whose minor unit is "N.A." (precious
// metals, funds, testing, "no currency"): an amount in minor units of these
// has no meaning, so they are refused rather than guessed.
var noMinorUnit = map[string]bool{
	"XAU": true, "XAG": true, "XPT": true, "XPD": true, "XDR": true,
	"XBA": true, "XBB": true, "XBC": true, "XBD": true, "XTS": true,
	"XXX": true, "XSU": true, "XUA": true,
}

// minorDigits lists the ISO 4217 currencies whose minor unit is not 2
// decimal digits (ISO 4217 table A.1, "Minor unit" column).
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0,
	"KRW": 0, "PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0,
	"XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// normCurrency upper-cases a currency code and checks its shape (three
// ASCII letters). Whether the code is a real currency is decided by the
// operator's rates: only configured currencies convert.
func normCurrency(code string) (string, error) {
	if len(code) != 3 {
		return "", fmt.Errorf("policy: currency code %q: want three letters", code)
	}
	b := []byte(code)
	for i, c := range b {
		switch {
		case c >= 'A' && c <= 'Z':
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		default:
			return "", fmt.Errorf("policy: currency code %q: want three letters", code)
		}
	}
	return string(b), nil
}

// MinorUnitDigits returns how many decimal digits the minor unit of the
// currency has (2 for USD: 1 USD = 100 minor units; 0 for JPY; 3 for KWD),
// from ISO 4217. Codes without a minor unit (XAU, XDR, …) are an error.
func MinorUnitDigits(currency string) (int, error) {
	c, err := normCurrency(currency)
	if err != nil {
		return 0, err
	}
	if noMinorUnit[c] {
		return 0, fmt.Errorf("policy: currency %s has no minor unit", c)
	}
	if d, ok := minorDigits[c]; ok {
		return d, nil
	}
	return 2, nil
}

// Rate is an exchange rate in US dollars per one major unit of a currency
// (EUR 1 = USD 1.0834), held exactly as a decimal: num / 10^scale.
type Rate struct {
	num   uint64
	scale uint8
}

// Rate parsing limits: 18 digits fit a uint64 and are far more precision
// than any published rate carries.
const (
	maxRateDigits = 18
	maxRateScale  = 18
)

var errRateSyntax = errors.New("want a positive decimal number such as 1.0834 (digits, at most one dot, no sign or exponent)")

// ParseRate parses a decimal exchange rate such as "1.0834" or "0.0067"
// exactly (no floating point). It must be positive, use only ASCII digits
// and at most one dot with digits on both sides, and have at most 18
// significant digits and 18 decimals.
func ParseRate(s string) (Rate, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") {
		return Rate{}, fmt.Errorf("policy: rate %q: %w", s, errRateSyntax)
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return Rate{}, fmt.Errorf("policy: rate %q: %w", s, errRateSyntax)
			}
		}
	}
	if len(frac) > maxRateScale {
		return Rate{}, fmt.Errorf("policy: rate %q: more than %d decimals", s, maxRateScale)
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return Rate{}, fmt.Errorf("policy: rate %q: must be greater than zero", s)
	}
	if len(digits) > maxRateDigits {
		return Rate{}, fmt.Errorf("policy: rate %q: more than %d significant digits", s, maxRateDigits)
	}
	num, err := strconv.ParseUint(digits, 10, 64)
	if err != nil { // cannot happen after the checks above; kept to fail closed
		return Rate{}, fmt.Errorf("policy: rate %q: %w", s, err)
	}
	scale := uint8(len(frac))
	// Canonical form: no trailing fractional zeros, so equal rates compare
	// equal.
	for scale > 0 && num%10 == 0 {
		num /= 10
		scale--
	}
	return Rate{num: num, scale: scale}, nil
}

// IsZero reports whether r is the zero Rate (never the result of ParseRate).
func (r Rate) IsZero() bool { return r.num == 0 }

// String returns the rate in canonical decimal form ("1.0834", "2", "0.0067").
func (r Rate) String() string {
	s := strconv.FormatUint(r.num, 10)
	if r.scale == 0 {
		return s
	}
	if len(s) <= int(r.scale) {
		s = strings.Repeat("0", int(r.scale)-len(s)+1) + s
	}
	cut := len(s) - int(r.scale)
	return s[:cut] + "." + s[cut:]
}

// Rates maps an upper-case ISO 4217 code to its rate in USD per unit. USD
// itself converts at exactly 1 whether or not it is listed. Build it with
// ParseRates so that every code and rate is checked.
type Rates map[string]Rate

// ParseRates parses operator-supplied rates, code → decimal string
// ("EUR": "1.0834"). Codes are case-insensitive; a code given twice in
// different cases, a code without a minor unit, or a USD rate other than 1
// is an error.
func ParseRates(m map[string]string) (Rates, error) {
	out := make(Rates, len(m))
	for code, v := range m {
		c, err := normCurrency(code)
		if err != nil {
			return nil, err
		}
		if _, err := MinorUnitDigits(c); err != nil {
			return nil, err
		}
		r, err := ParseRate(v)
		if err != nil {
			return nil, fmt.Errorf("policy: %s: %w", c, err)
		}
		if c == "USD" && (r != Rate{num: 1}) {
			return nil, fmt.Errorf("policy: USD rate is %s: it must be 1", r)
		}
		if _, dup := out[c]; dup {
			return nil, fmt.Errorf("policy: currency %s given twice", c)
		}
		out[c] = r
	}
	return out, nil
}

// ToUSD converts m to US cents, rounding UP (towards +∞): an amount counted
// against a limit must never shrink by rounding, or a client could split a
// withdrawal into pieces that each round down and so dodge the limit. Use
// ToUSDFloor for amounts that must reach a threshold. An unknown currency or
// a result outside int64 is an error.
func (rs Rates) ToUSD(m Money) (int64, error) { return rs.convert(m, true) }

// ToUSDFloor converts m to US cents rounding DOWN (towards −∞), for amounts
// that must reach a threshold (equity for DSC+ eligibility), so that
// rounding never lifts a client over the line.
func (rs Rates) ToUSDFloor(m Money) (int64, error) { return rs.convert(m, false) }

func (rs Rates) convert(m Money, up bool) (int64, error) {
	c, err := normCurrency(m.Currency)
	if err != nil {
		return 0, err
	}
	digits, err := MinorUnitDigits(c)
	if err != nil {
		return 0, err
	}
	r, ok := rs[c]
	if c == "USD" {
		r, ok = Rate{num: 1}, true
	}
	if !ok || r.IsZero() {
		return 0, fmt.Errorf("policy: no exchange rate configured for %s", c)
	}
	// cents = minor / 10^digits * num / 10^scale * 100
	n := new(big.Int).SetInt64(m.Minor)
	n.Mul(n, new(big.Int).SetUint64(r.num))
	n.Mul(n, big.NewInt(100))
	d := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)+int64(r.scale)), nil)
	q, rem := new(big.Int).DivMod(n, d, new(big.Int)) // Euclidean: q = floor(n/d) for d > 0
	if up && rem.Sign() != 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("policy: %s %d is too large to convert", c, m.Minor)
	}
	return q.Int64(), nil
}

// FormatUSD formats US cents for messages: "USD 1,234,567.89".
func FormatUSD(cents int64) string { return FormatCents("USD", cents) }

// FormatCents formats hundredths of a currency for messages, with
// thousands separators: "HKD 8,000,000.00".
func FormatCents(currency string, cents int64) string {
	neg := cents < 0
	u := uint64(cents)
	if neg {
		u = -u
	}
	whole := strconv.FormatUint(u/100, 10)
	var b strings.Builder
	b.WriteString(currency + " ")
	if neg {
		b.WriteByte('-')
	}
	for i, ch := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(ch)
	}
	fmt.Fprintf(&b, ".%02d", u%100)
	return b.String()
}

// FormatMinor writes minor units of currency as a plain decimal, the form
// ParseAmount reads ("1500.50"). An unknown currency is written with two
// decimals.
func FormatMinor(currency string, minor int64) string {
	digits, err := MinorUnitDigits(currency)
	if err != nil {
		digits = 2
	}
	neg := minor < 0
	u := uint64(minor)
	if neg {
		u = uint64(-minor)
	}
	s := make([]byte, 0, 24)
	for u > 0 || len(s) <= digits {
		s = append(s, byte('0'+u%10))
		u /= 10
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := len(s) - 1; i >= 0; i-- {
		b.WriteByte(s[i])
		if i == digits && digits > 0 {
			b.WriteByte('.')
		}
	}
	return b.String()
}
