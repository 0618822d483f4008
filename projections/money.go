package projections

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/budgetledger/budgetledger/events"
)

// Wan returns an exact amount in 元 as 万元 with two decimals, rounded half
// up (away from zero for negatives), e.g. 40,966,598.00 元 -> "4096.66".
func Wan(a events.Amount) string {
	// 0.01 万元 = 100 元 = 10,000 分.
	fen := int64(a)
	neg := fen < 0
	if neg {
		fen = -fen
	}
	q := fen / 10000
	if fen%10000 >= 5000 {
		q++
	}
	s := strconv.FormatInt(q/100, 10) + "." + fmt.Sprintf("%02d", q%100)
	if neg && q != 0 {
		return "-" + s
	}
	return s
}

// GroupThousands inserts thousands separators into a decimal string, as the
// printed tables do: "4096.66" -> "4,096.66".
func GroupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	intPart, frac, hasFrac := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if hasFrac {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out
}

// errorsJoin returns the first non-nil error.
func errorsJoin(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// add adds b to *a, failing on int64 overflow.
func add(a *int64, b int64) error {
	s := *a + b
	if (b > 0 && s < *a) || (b < 0 && s > *a) {
		return ErrOverflow
	}
	*a = s
	return nil
}
