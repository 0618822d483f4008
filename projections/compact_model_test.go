package projections

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
)

// TestCompactorModel: random interleavings of AddBinary, Add (reversals
// among them), Load, SettleBinary and Events give the compaction Add alone
// gives, with as many entries: no key split over two entries, no sum lost.
// It is what holds AddView's deferred index to its invariant; a third of
// the runs give every key one of four tags, so that lookups probe past
// others.
func TestCompactorModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	defer func(f func([]byte) uint32) { memoTag = f }(memoTag)
	tag := memoTag
	for run := range uint64(3000) {
		rng := rand.New(rand.NewPCG(seed, run))
		memoTag = tag
		if run%3 == 0 {
			memoTag = func(k []byte) uint32 { return uint32(len(k))&3<<1 | 1 }
		}
		if msg := compactorModelRun(rng); msg != "" {
			t.Fatalf("seed %d, run %d: %s", seed, run, msg)
		}
	}
}

func compactorModelRun(rng *rand.Rand) string {
	got, want := NewCompactor(), NewCompactor()
	var d events.Decoder
	var ops []string
	if rng.IntN(3) == 0 {
		before := NewCompactor()
		for i := range rng.IntN(20) {
			before.Add(modelEvent(rng, 1000+i))
		}
		for _, e := range before.Events() {
			got.Load(e)
			want.Load(e)
		}
		ops = append(ops, "load all")
	}
	for i := range 1 + rng.IntN(60) {
		e := modelEvent(rng, i)
		switch op := rng.IntN(20); {
		case op < 12:
			e.Date = events.NewDate(2020, 1, 1+rng.IntN(2)) // the period it is compacted into
			b, err := e.MarshalBinary()
			if err != nil {
				return err.Error()
			}
			if err := got.AddBinary(b, e.Date, &d); err != nil {
				return err.Error()
			}
			want.Add(e)
			ops = append(ops, fmt.Sprintf("binary %T", e.Body))
		case op < 16:
			got.Add(e)
			want.Add(e)
			ops = append(ops, fmt.Sprintf("add %T", e.Body))
		case op < 17:
			got.SettleBinary()
			ops = append(ops, "settle")
		case op < 18:
			got.Load(e)
			want.Load(e)
			ops = append(ops, fmt.Sprintf("load %T", e.Body))
		default:
			if g, w := recompacted(got.Events()), recompacted(want.Events()); !reflect.DeepEqual(g, w) {
				return fmt.Sprintf("midway, after %v:\ngot  %+v\nwant %+v", ops, g, w)
			}
		}
	}
	if rng.IntN(2) == 0 {
		got.SettleBinary()
	}
	if g, w := recompacted(got.Events()), recompacted(want.Events()); !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("after %v:\ngot  %+v\nwant %+v", ops, g, w)
	}
	return ""
}

// modelEvent is an event of few possible keys (two units, days, codes),
// so that keys repeat, of every kind AddBinary reads and some it does not.
func modelEvent(rng *rand.Rand, id int) events.Event {
	functional := []string{"2010101", "2019999"}[rng.IntN(2)]
	amount := events.Amount(1 + rng.IntN(1000))
	var b events.Body
	switch rng.IntN(9) {
	case 0:
		b = events.Appropriation{Fund: events.Fund(1 + rng.IntN(2)), Functional: functional, Amount: amount}
	case 1:
		b = events.OtherIncome{IncomeKind: events.IncomeKind(1 + rng.IntN(2)), Functional: functional, Amount: amount}
	case 2, 3:
		x := events.Expenditure{Functional: functional, Economic: "30201", ExpenditureKind: events.ExpenditureKind(1 + rng.IntN(2)), Fund: events.FundGeneralBudget, Amount: amount}
		if rng.IntN(2) == 0 {
			x.Reception = &events.Reception{Batches: rng.IntN(3), Visitors: rng.IntN(5)}
		}
		b = x
	case 4:
		b = events.Budget{Stage: events.BudgetStage(1 + rng.IntN(2)), Decrease: rng.IntN(2) == 0, Functional: functional, Economic: "30201", ExpenditureKind: 1, Fund: 1, Amount: amount}
	case 5:
		b = events.OpeningBalance{Fund: events.Fund(1 + rng.IntN(2)), Amount: amount}
	case 6:
		b = events.UnitRegistered{Name: "n", Department: "d", UnitType: 1}
	case 7:
		b = events.LiabilityChanged{Decrease: rng.IntN(2) == 0, Amount: amount}
	case 8:
		inner := modelEvent(rng, id).Body
		if _, ok := inner.(events.Reversal); ok {
			inner = events.Appropriation{Fund: 1, Functional: functional, Amount: amount}
		}
		b = events.Reversal{EventID: "x", Reason: "冲销", Body: inner}
	}
	return events.Event{ID: "e" + strconv.Itoa(id), Ledger: "L", Unit: []string{"u1", "u2"}[rng.IntN(2)], FiscalYear: 2020,
		Date: events.NewDate(2020, 1, 1+rng.IntN(2)), Source: "s", Voucher: strconv.Itoa(id), Body: b}
}

// recompacted is evs compacted again without their identities, followed
// by their count: equal for two compactions that fold to the same figures
// with as many entries.
func recompacted(evs []events.Event) []events.Event {
	c := NewCompactor()
	for _, e := range evs {
		e.ID, e.Source, e.Voucher, e.Memo = "", "", "", ""
		c.Add(e)
	}
	return append(c.Events(), events.Event{ID: strconv.Itoa(len(evs))})
}
