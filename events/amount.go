package events

import (
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
)

// Amount is an exact amount of money in 分 (0.01 元). Amounts are parsed from
// and printed as decimal 元 with two places; no float ever touches them.
type Amount int64

// MaxAmount bounds a single event's amount: 1万亿元 less one 分. Anything
// larger is a keying error, and the bound keeps sums of many events far from
// int64 overflow.
const MaxAmount Amount = 100_000_000_000_000 - 1

// ParseAmount parses a decimal number of 元 with at most two decimal places,
// positive and at most MaxAmount. The error is a *ValidationError naming field.
func ParseAmount(field, s string) (Amount, error) {
	if a, ok := parseFen(s); ok {
		return a, nil
	}
	return parseAmountDecimal(field, s)
}

// parseFen reads the usual amount, 1 to 12 digits of 元 and up to two of
// 角 and 分 ("1234.5", "88.08"), straight into 分: it is exact, cannot
// overflow (12 digits stay within MaxAmount) and accepts only what
// parseAmountDecimal accepts with the same value, which a test checks. Any
// other string, and zero, is false and left to parseAmountDecimal, for
// its answer or its error. Publishers send an amount with every event, and
// the decimal parse was a tenth of a request's cost in ledgerd.
func parseFen(s string) (Amount, bool) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if len(intPart) == 0 || len(intPart) > 12 || (hasDot && (len(frac) == 0 || len(frac) > 2)) {
		return 0, false
	}
	var fen int64
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		fen = fen*10 + int64(c-'0')
	}
	for i := range 2 {
		fen *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			fen += int64(c - '0')
		}
	}
	return Amount(fen), fen > 0
}

// parseAmountDecimal is ParseAmount for any string, through
// shopspring/decimal: the rules and their errors.
func parseAmountDecimal(field, s string) (Amount, error) {
	if s == "" {
		return 0, invalid(CodeMissingField, field, "", "an amount in 元 such as 1234.56")
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !plainDecimal(s) {
		return 0, invalid(CodeInvalidAmount, field, s, "a decimal number of 元 such as 1234.56")
	}
	if !d.Equal(d.Round(2)) {
		return 0, invalid(CodeAmountPrecision, field, s, "an amount in 元 with at most 2 decimal places (分)")
	}
	if d.Sign() <= 0 {
		return 0, invalid(CodeAmountNotPositive, field, s, "an amount greater than zero; a reversal is a separate event")
	}
	fen := d.Shift(2)
	if fen.GreaterThan(decimal.NewFromInt(int64(MaxAmount))) {
		return 0, invalid(CodeAmountTooLarge, field, s, "at most "+MaxAmount.String()+" 元")
	}
	return Amount(fen.IntPart()), nil
}

// plainDecimal accepts the documented form: digits, optionally a point
// followed by digits, optionally a leading minus (so that a negative amount
// gets the clearer "not positive" error). No plus sign, exponent, thousands
// separator or space, and digits on both sides of the point.
func plainDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasDot := strings.Cut(s, ".")
	return allDigits(intPart) && (!hasDot || allDigits(frac))
}

// String prints the amount in 元 with exactly two decimals, e.g. "1234.50".
func (a Amount) String() string {
	neg := a < 0
	u := uint64(a)
	if neg {
		u = uint64(-a)
	}
	s := strconv.FormatUint(u/100, 10) + "." + string(rune('0'+u%100/10)) + string(rune('0'+u%10))
	if neg {
		return "-" + s
	}
	return s
}

// Decimal returns the amount in 元 as an exact decimal.
func (a Amount) Decimal() decimal.Decimal { return decimal.New(int64(a), -2) }
