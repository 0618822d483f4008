package events_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		in   string
		want events.Amount
	}{
		{"0.01", 1},
		{"0.1", 10},
		{"1", 100},
		{"1234.5", 123450},
		{"1234.50", 123450},
		{"1234.500", 123450}, // exact: trailing zeros are not precision
		{"3120.55", 312055},
		{"00012.50", 1250},
		{"999999999999.99", events.MaxAmount},
	}
	for _, tt := range tests {
		got, err := events.ParseAmount("amount", tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseAmountErrors(t *testing.T) {
	tests := []struct {
		in   string
		code events.Code
	}{
		{"", events.CodeMissingField},
		// Only the documented form: no plus sign, digits on both sides of
		// the point.
		{"+5", events.CodeInvalidAmount},
		{".5", events.CodeInvalidAmount},
		{"5.", events.CodeInvalidAmount},
		{".", events.CodeInvalidAmount},
		{"+", events.CodeInvalidAmount},
		{"-", events.CodeInvalidAmount},
		{"abc", events.CodeInvalidAmount},
		{"1,000.00", events.CodeInvalidAmount},
		{"1e3", events.CodeInvalidAmount},
		{"1E3", events.CodeInvalidAmount},
		{"0x10", events.CodeInvalidAmount},
		{" 1", events.CodeInvalidAmount},
		{"1 ", events.CodeInvalidAmount},
		{"1.2.3", events.CodeInvalidAmount},
		{"--1", events.CodeInvalidAmount},
		{"1-", events.CodeInvalidAmount},
		{"NaN", events.CodeInvalidAmount},
		{"Inf", events.CodeInvalidAmount},
		{"¥12", events.CodeInvalidAmount},
		{"12.345", events.CodeAmountPrecision},
		{"0.001", events.CodeAmountPrecision},
		{"-0.001", events.CodeAmountPrecision},
		{"0", events.CodeAmountNotPositive},
		{"0.00", events.CodeAmountNotPositive},
		{"-0", events.CodeAmountNotPositive},
		{"+0", events.CodeInvalidAmount},
		{"-0.01", events.CodeAmountNotPositive},
		{"-5", events.CodeAmountNotPositive},
		{"1000000000000", events.CodeAmountTooLarge},
		{"1000000000000.00", events.CodeAmountTooLarge},
		{"92233720368547758.08", events.CodeAmountTooLarge},  // MaxInt64 分 + 1
		{"184467440737095516.16", events.CodeAmountTooLarge}, // 2^64 分
		{"100000000000000000000000000000", events.CodeAmountTooLarge},
	}
	for _, tt := range tests {
		got, err := events.ParseAmount("expenditure.amount", tt.in)
		var ve *events.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("ParseAmount(%q) = %d, %v; want %s", tt.in, got, err, tt.code)
			continue
		}
		if ve.Code != tt.code || ve.Field != "expenditure.amount" || ve.Value != tt.in {
			t.Errorf("ParseAmount(%q) = %+v; want code %s, field expenditure.amount, value %q", tt.in, ve, tt.code, tt.in)
		}
		if got != 0 {
			t.Errorf("ParseAmount(%q) returned %d with an error", tt.in, got)
		}
	}
}

// TestParseAmountBoundary: MaxAmount is accepted, one 分 more is not.
func TestParseAmountBoundary(t *testing.T) {
	if got, err := events.ParseAmount("a", events.MaxAmount.String()); err != nil || got != events.MaxAmount {
		t.Errorf("ParseAmount(MaxAmount %s) = %d, %v", events.MaxAmount, got, err)
	}
	over := (events.MaxAmount + 1).String()
	if over != "1000000000000.00" {
		t.Errorf("MaxAmount+0.01 prints %q", over)
	}
	if _, err := events.ParseAmount("a", over); events.CodeOf(err) != events.CodeAmountTooLarge {
		t.Errorf("ParseAmount(%s) = %v, want %s", over, err, events.CodeAmountTooLarge)
	}
}

func TestAmountString(t *testing.T) {
	tests := []struct {
		a    events.Amount
		want string
	}{
		{0, "0.00"},
		{1, "0.01"},
		{9, "0.09"},
		{10, "0.10"},
		{99, "0.99"},
		{100, "1.00"},
		{123450, "1234.50"},
		{312055, "3120.55"},
		{events.MaxAmount, "999999999999.99"},
		{-1, "-0.01"},
		{-10, "-0.10"},
		{-100, "-1.00"},
		{-123456, "-1234.56"},
		{math.MaxInt64, "92233720368547758.07"},
		{math.MinInt64, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("Amount(%d).String() = %q, want %q", int64(tt.a), got, tt.want)
		}
		if got := tt.a.Decimal().StringFixed(2); got != tt.want {
			t.Errorf("Amount(%d).Decimal() = %s, want %s", int64(tt.a), got, tt.want)
		}
	}
}

// TestAmountRoundTrip: String and ParseAmount are inverse on every valid
// amount. Random amounts of every magnitude; the seed is printed so a failure
// can be replayed.
func TestAmountRoundTrip(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 0))
	for range 10000 {
		a := events.Amount(1 + r.Int64N(int64(events.MaxAmount)>>r.IntN(47)))
		got, err := events.ParseAmount("a", a.String())
		if err != nil || got != a {
			t.Fatalf("ParseAmount(%q) = %d, %v; want %d (seed %d)", a.String(), got, err, a, seed)
		}
	}
}
