package projections_test

import (
	"fmt"
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

// TestCompactKeysEveryField: for each body that merges, two events alike
// but for one field merge if and only if that field is a sum or part of
// the event's identity. A field that is neither (a new one, say) keeps the
// events apart, and receptions merge whatever their address.
func TestCompactKeysEveryField(t *testing.T) {
	bodies := []events.Body{
		events.Appropriation{Fund: events.FundGeneralBudget, Functional: "2010301", Amount: 1},
		events.OtherIncome{IncomeKind: events.IncomeOperations, Functional: "2010301", Amount: 1},
		events.Expenditure{Functional: "2019999", Economic: "30217", ExpenditureKind: events.ExpenditureProject, Project: "p", Fund: events.FundGeneralBudget, Amount: 1,
			Reception: &events.Reception{Batches: 1, Visitors: 2, ForeignVisitors: 1}},
		events.Budget{Stage: events.BudgetInitial, Functional: "2010301", Economic: "30201", ExpenditureKind: events.ExpenditureProject, Project: "p", Fund: events.FundGeneralBudget, Amount: 1},
		events.OpeningBalance{Fund: events.FundGeneralBudget, Functional: "2010301", Amount: 1},
		events.NonFiscalSurplusUsed{Amount: 1},
		events.SurplusDistribution{Amount: 1},
		events.LiabilityChanged{Amount: 1},
		events.ProcurementContracted{Category: events.ProcurementGoods, Reserved: events.EnterpriseSME, Supplier: events.EnterpriseMicro, Amount: 1},
		events.OpeningAdjusted{Fund: events.FundGeneralBudget, Functional: "2010301", Amount: 1, Reason: "r"},
	}
	merges := map[string]bool{"Amount": true, "Reason": true} // Reason: OpeningAdjusted's, which no fold reads
	base := events.Event{ID: "a", Ledger: "l", Unit: "u", FiscalYear: 2020, Date: events.NewDate(2020, 3, 1), Source: "s", Voucher: "v", Memo: "m"}
	for _, b := range bodies {
		a := base
		a.Body = b
		bt := reflect.TypeOf(b)
		for i := range bt.NumField() {
			f := bt.Field(i)
			// Change the field: a string gets longer, a number or bool
			// changes, a Reception is a new one with other counts.
			v := reflect.New(bt).Elem()
			v.Set(reflect.ValueOf(b))
			fv := v.Field(i)
			switch fv.Kind() {
			case reflect.String:
				fv.SetString(fv.String() + "x")
			case reflect.Bool:
				fv.SetBool(!fv.Bool())
			case reflect.Int, reflect.Int64:
				fv.SetInt(fv.Int() + 1)
			case reflect.Uint8:
				fv.SetUint(fv.Uint() + 1)
			case reflect.Pointer:
				fv.Set(reflect.ValueOf(&events.Reception{Batches: 3, Visitors: 5}))
			default:
				t.Fatalf("%T.%s: a field of kind %s the test cannot change", b, f.Name, fv.Kind())
			}
			other := base
			other.ID, other.Voucher, other.Body = "b", "w", v.Interface().(events.Body)
			c := projections.NewCompactor()
			c.Add(a)
			c.Add(other)
			want := 2
			if merges[f.Name] || f.Name == "Reception" {
				want = 1
			}
			if c.Len() != want {
				t.Errorf("%T differing in %s compact to %d events, want %d", b, f.Name, c.Len(), want)
			}
		}
		// Identity and filing: identity merges, filing does not.
		for _, change := range []struct {
			name  string
			apart bool
			f     func(*events.Event)
		}{
			{"ID", false, func(e *events.Event) { e.ID += "x" }},
			{"Source", false, func(e *events.Event) { e.Source += "x" }},
			{"Voucher", false, func(e *events.Event) { e.Voucher += "x" }},
			{"Memo", false, func(e *events.Event) { e.Memo += "x" }},
			{"Ledger", true, func(e *events.Event) { e.Ledger += "x" }},
			{"Unit", true, func(e *events.Event) { e.Unit += "x" }},
			{"FiscalYear", true, func(e *events.Event) { e.FiscalYear++ }},
			{"Date", true, func(e *events.Event) { e.Date++ }},
		} {
			other := a
			change.f(&other)
			c := projections.NewCompactor()
			c.Add(a)
			c.Add(other)
			if apart := c.Len() == 2; apart != change.apart {
				t.Errorf("%T events differing in %s: apart %v, want %v", b, change.name, apart, change.apart)
			}
		}
	}
}

// TestCompactLoad: a Compactor that loads a compaction made before and
// then takes more events holds exactly what one that took every event
// holds; and one that loads events that are no compaction (repeated keys,
// a reversal) still folds like them.
func TestCompactLoad(t *testing.T) {
	evs := sampleEvents(t)
	half := len(evs) / 2
	first, rest := slices.Clone(evs[:half]), evs[half:]
	for _, e := range first {
		if _, ok := e.Body.(events.Expenditure); ok {
			r := e
			r.ID, r.Body = "red-"+e.ID, events.Reversal{EventID: e.ID, Reason: "冲销", Body: e.Body}
			first = append(first, r)
			break
		}
	}
	// The rest repeats the first half under other ids: their keys are
	// the loaded ones.
	rest = slices.Clone(rest)
	for _, e := range evs[:half] {
		e.ID = "again-" + e.ID
		rest = append(rest, e)
	}
	evs = append(slices.Clone(first), rest...)

	all := projections.NewCompactor()
	before := projections.NewCompactor()
	for _, e := range first {
		all.Add(e)
		before.Add(e)
	}
	for _, e := range rest {
		all.Add(e)
	}
	loaded := projections.NewCompactor()
	for _, e := range before.Events() {
		loaded.Load(e)
	}
	for _, e := range rest {
		loaded.Add(e)
	}
	if got, want := loaded.Events(), all.Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("loaded then added: %d events, added all: %d (or other sums)", len(got), len(want))
	}

	raw := projections.NewCompactor()
	for _, e := range first {
		raw.Load(e)
	}
	for _, e := range rest {
		raw.Add(e)
	}
	for _, year := range []int{2019, 2020} {
		f := projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: year}
		for _, spec := range projections.Specs {
			want, err1 := spec.Fold(slices.Values(evs), f, events.DefaultCatalog())
			got, err2 := spec.Fold(slices.Values(raw.Events()), f, events.DefaultCatalog())
			if (err1 == nil) != (err2 == nil) || !reflect.DeepEqual(got, want) {
				t.Errorf("%s %d, raw events loaded: %+v (%v), want %+v (%v)", spec.Name, year, got, err2, want, err1)
			}
		}
	}
}

// TestCompactBinary: events added in their binary form, in any mix with
// Add, Load and SettleBinary, compact exactly as the same events added
// with Add: the sample with repeats under other ids (which AddBinary
// merges without decoding), red entries, receptions and dates moved to a
// period's end.
func TestCompactBinary(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 13))
	base := sampleEvents(t)
	var evs []events.Event
	for round := range 3 {
		for _, e := range base {
			e.ID = fmt.Sprintf("%s-%d", e.ID, round)
			if x, ok := e.Body.(events.Expenditure); ok {
				x.Amount = events.Amount(1 + rng.IntN(1_000_000))
				if rng.IntN(20) == 0 {
					x.Economic, x.Reception = "30217", &events.Reception{Batches: 1 + rng.IntN(3), Visitors: rng.IntN(20), ForeignVisitors: rng.IntN(2)}
				}
				e.Body = x
				if rng.IntN(30) == 0 {
					r := e
					r.ID, r.Body = "red-"+e.ID, events.Reversal{EventID: e.ID, Reason: "冲销", Body: x}
					evs = append(evs, e, r)
					continue
				}
			}
			evs = append(evs, e)
		}
	}
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	monthEnd := func(d events.Date) events.Date { return events.Date(int(d)/100*100 + 28) }

	var plain []events.Event // no reversals: AddBinary's index is never used
	for _, e := range evs {
		if _, ok := e.Body.(events.Reversal); !ok {
			plain = append(plain, e)
		}
	}
	all := evs
	for _, mix := range []string{"binary", "plain", "mixed", "loaded", "settled"} {
		want, got := projections.NewCompactor(), projections.NewCompactor()
		var d events.Decoder
		evs := all
		if mix == "plain" {
			evs = plain
		}
		from := 0
		if mix == "loaded" {
			from = len(evs) / 3
			before := projections.NewCompactor()
			for _, e := range evs[:from] {
				e.Date = monthEnd(e.Date)
				before.Add(e)
				want.Add(e)
			}
			for _, e := range before.Events() {
				got.Load(e)
			}
		}
		for j, e := range evs[from:] {
			if mix == "settled" && j%500 == 499 {
				got.SettleBinary() // what the memo holds goes to the entries; AddBinary starts again
			}
			e.Date = monthEnd(e.Date)
			want.Add(e)
			if mix == "mixed" && rng.IntN(2) == 0 {
				got.Add(e)
				continue
			}
			b, err := e.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if err := got.AddBinary(b, e.Date, &d); err != nil {
				t.Fatal(err)
			}
		}
		if mix == "settled" {
			got.SettleBinary()
		}
		w, g := want.Events(), got.Events()
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: AddBinary compacts %d events to %d, Add to %d (or to other sums)", mix, len(evs), len(g), len(w))
		}
	}
	if err := projections.NewCompactor().AddBinary([]byte{1, 2, 3}, 0, new(events.Decoder)); err == nil {
		t.Error("AddBinary of bytes that are no event: no error")
	}
}
