package projections_test

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/projections"
)

// TestCompactFoldsAlike: every statement, for every year, unit and a range
// of as-of dates, folds the compaction of a ledger to exactly what it folds
// from the ledger's events, with reversals, receptions, dear equipment and
// adjustments in the mix; and the compaction is much smaller.
func TestCompactFoldsAlike(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	evs := sampleEvents(t)
	// Red entries for a tenth of the sample's spending, some on the day.
	for _, e := range slices.Clone(evs) {
		if _, ok := e.Body.(events.Expenditure); ok && rng.IntN(10) == 0 {
			r := e
			r.ID, r.Voucher = "red-"+e.ID, "红"
			if rng.IntN(2) == 0 && e.Date < events.NewDate(e.FiscalYear, 12, 20) {
				r.Date = e.Date + events.Date(rng.IntN(10))
			}
			r.Body = events.Reversal{EventID: e.ID, Reason: "冲销", Body: e.Body}
			evs = append(evs, r)
		}
	}
	ev := func(id string, d events.Date, b events.Body) events.Event {
		return events.Event{ID: id, Ledger: budgetledger.SampleLedgerName, Unit: "本级", FiscalYear: 2020, Date: d, Source: "s", Voucher: id, Body: b}
	}
	day := events.NewDate(2020, 5, 6)
	evs = append(evs,
		ev("rec-1", day, events.Expenditure{Functional: "2019999", Economic: "30217", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 800_00,
			Reception: &events.Reception{Batches: 1, Visitors: 9}}),
		ev("rec-2", day, events.Expenditure{Functional: "2019999", Economic: "30217", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 300_00,
			Reception: &events.Reception{Batches: 2, Visitors: 4, ForeignVisitors: 1}}),
		ev("dear", day, events.AssetChanged{Class: events.AssetGeneralEquipment, Quantity: 1, Amount: 1_000_000_00}),
		ev("cheap", day, events.AssetChanged{Class: events.AssetGeneralEquipment, Quantity: 3, Amount: 300_000_00}),
	)
	before := slices.Clone(evs)

	c := projections.NewCompactor()
	for _, e := range evs {
		c.Add(e)
	}
	compacted := c.Events()
	if !reflect.DeepEqual(before, evs) {
		t.Fatal("compaction changed the events it was given")
	}
	t.Logf("%d events compact to %d", len(evs), len(compacted))

	for _, year := range []int{2019, 2020} {
		for _, unit := range []string{"", "本级", "行政服务中心"} {
			for _, asOf := range []events.Date{0, events.NewDate(year, 3, 31), events.NewDate(year, 5, 6), events.NewDate(year, 9, 30)} {
				f := projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: year, Unit: unit, AsOf: asOf}
				for _, spec := range projections.Specs {
					want, err1 := spec.Fold(slices.Values(evs), f, events.DefaultCatalog())
					got, err2 := spec.Fold(slices.Values(compacted), f, events.DefaultCatalog())
					if (err1 == nil) != (err2 == nil) {
						t.Fatalf("%s %+v: %v vs compacted %v", spec.Name, f, err1, err2)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s %+v: the compaction folds to\n%+v\nthe events to\n%+v", spec.Name, f, got, want)
					}
				}
			}
		}
	}
}

// TestCompactDense: a day's many postings to the same codes become one
// event per unit, day and classification, with the exact sum.
func TestCompactDense(t *testing.T) {
	c := projections.NewCompactor()
	var total events.Amount
	codes := []string{"2019999", "2080505", "2101101", "2210201"}
	for i := range 10_000 {
		amt := events.Amount(1 + i%997)
		total += amt
		c.Add(events.Event{ID: "e" + string(rune('a'+i%26)), Ledger: "l", Unit: []string{"本级", "中心"}[i%2], FiscalYear: 2020,
			Date: events.NewDate(2020, 3, 1+i%10), Source: "s", Voucher: "v",
			Body: events.Expenditure{Functional: codes[i%4], Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: amt}})
	}
	// The day (i%10) fixes the unit (i%2), and day and code (i%4) repeat
	// every 20 postings: 20 distinct keys.
	if c.Len() != 20 {
		t.Errorf("10,000 postings compact to %d events, want 20", c.Len())
	}
	var sum events.Amount
	for _, e := range c.Events() {
		sum += e.Body.(events.Expenditure).Amount
	}
	if sum != total {
		t.Errorf("compacted sum %d, posted %d", sum, total)
	}
}
