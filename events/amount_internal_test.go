package events

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// checkFen fails t unless parseFen(s), when it answers, agrees with the
// decimal parse.
func checkFen(t *testing.T, s string) {
	t.Helper()
	fast, ok := parseFen(s)
	if !ok {
		return
	}
	slow, err := parseAmountDecimal("amount", s)
	if err != nil || slow != fast {
		t.Fatalf("%q: parseFen %d, the decimal parse %d, %v", s, fast, slow, err)
	}
}

// TestParseFen: the fast path gives the decimal parse's value for amounts
// of every shape it takes, and leaves every other shape to it.
func TestParseFen(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	digits := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteByte(byte('0' + rng.IntN(10)))
		}
		return b.String()
	}
	taken := 0
	for range 200_000 {
		s := digits(1 + rng.IntN(14))
		if rng.IntN(4) > 0 {
			s += "." + digits(rng.IntN(4))
		}
		if _, ok := parseFen(s); ok {
			taken++
		}
		checkFen(t, s)
	}
	if taken < 100_000 {
		t.Fatalf("the fast path took %d of 200000 plain amounts", taken)
	}
	for _, s := range []string{"0", "0.00", "00.0", "1.", ".5", "-1.00", "+1", "1e3", "1.005", "1.500", "1,000.00",
		" 1", "1 ", "1000000000000", "999999999999.99", "0001.10", "١٢"} {
		checkFen(t, s)
	}
	if a, ok := parseFen("999999999999.99"); !ok || a != MaxAmount {
		t.Fatalf("parseFen(MaxAmount) = %d, %v", a, ok)
	}
	for _, s := range []string{"0", "0.00", "1.", ".5", "-1", "1.500", "1000000000000", strconv.Itoa(-5)} {
		if _, ok := parseFen(s); ok {
			t.Errorf("parseFen(%q) answered; the decimal parse must (its rules or its error)", s)
		}
	}
}

// FuzzParseFen: parseFen never disagrees with the decimal parse.
func FuzzParseFen(f *testing.F) {
	for _, s := range []string{"1", "12.5", "88.08", "0.01", "999999999999.99", "1.", "-3", "1e2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFen(t, s) })
}
