package checkpoint_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/checkpoint"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

// TestCoverFoldsLikeTheLog: every statement as of a date, read from the
// checkpoint by year, month and day (EventsAsOf), has the figures of the
// same statement folded from the log. The ledger spans three fiscal years
// (the sample, and copies of it a year before and after), three units,
// red entries dated after what they reverse, equipment of 50万 and more
// beside cheap items on the same day, registrations and a 年终结账 with its
// carried balances; the dates asked are every month's first and last day
// of three years, 1 January and 31 December of the years around them, 29
// February and random ones, before and after a restart
// (which makes the coarser grains again from the stored daily compaction).
func TestCoverFoldsLikeTheLog(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	path := filepath.Join(t.TempDir(), "ledger.db")
	clock := &stepClock{t: time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	name := budgetledger.SampleLedgerName
	cat := events.DefaultCatalog()
	openLog := func() *ledger.Log {
		l, err := ledger.Open(path, ledger.Options{Now: clock.Now, NoSync: true, Logger: quiet, CarryForward: projections.CarryForward})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := openLog()
	var accepted []events.Event
	add := func(evs ...events.Event) {
		t.Helper()
		var subs []ledger.Submission
		for _, e := range evs {
			if err := events.Validate(&e, cat); err != nil {
				t.Fatalf("%s: %v", e.ID, err)
			}
			subs = append(subs, ledger.Submission{Ledger: name, Event: e})
		}
		outs, err := l.Append(context.Background(), subs...)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range outs {
			if o.Status != ledger.Accepted {
				t.Fatalf("%s refused: %s %s", o.ID, o.Code, o.Reason)
			}
			accepted = append(accepted, evs[i])
		}
	}

	var y2019, later, spending []events.Event
	for _, e := range sample(t) {
		if e.FiscalYear != 2020 {
			y2019 = append(y2019, e)
			continue
		}
		if _, ok := e.Body.(events.Expenditure); ok {
			spending = append(spending, e)
		}
		y2019 = append(y2019, shiftYear(e, -1))
		later = append(later, e, shiftYear(e, 1))
	}
	for _, y := range []int{2019, 2020, 2021} {
		evs := edgeEvents(rng, name, y, spending)
		if y == 2019 {
			y2019 = append(y2019, evs...)
		} else {
			later = append(later, evs...)
		}
	}

	// 2019 first, with its red entries, then its 年终结账 (which refuses any
	// later event of 2019 and carries its balances into 2020).
	shuffle(rng, y2019)
	add(y2019...)
	add(reversals(rng, y2019)...)
	add(events.Event{ID: "close-2019", Ledger: name, Unit: "本级", FiscalYear: 2019, Date: events.YearEnd(2019),
		Source: "s", Voucher: "结账", Body: events.YearEndClosed{}})
	s := checkpoint.New(l, checkpoint.Options{Logger: quiet, Refresh: 5, Every: 300})
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The rest in batches, each read back as of random dates, so that
	// refreshes publish some periods again and leave others shared.
	shuffle(rng, later)
	later = append(later, reversals(rng, later)...)
	units := []string{"", "本级", "行政服务中心", "第三单位"}
	randomFilter := func() projections.Filter {
		y := 2018 + rng.IntN(5)
		f := projections.Filter{FiscalYear: y, Unit: units[rng.IntN(len(units))]}
		if rng.IntN(4) != 0 {
			f.AsOf = events.NewDate(y, time.Month(1+rng.IntN(12)), 1+rng.IntN(28))
		}
		return f
	}
	for len(later) > 0 {
		k := min(len(later), 1+rng.IntN(200))
		add(later[:k]...)
		later = later[k:]
		for range 3 {
			f := randomFilter()
			spec := projections.Specs[rng.IntN(len(projections.Specs))]
			compareCover(t, l, s, spec, f, f.LastDate(), nil)
		}
	}

	// As of the dates where a coarser entry would be counted a day too
	// early or too late, in the ledger's years and around them, and as of
	// random ones.
	var dates []events.Date
	random := func(y int) events.Date {
		return events.DateOf(time.Date(y, 1, 1+rng.IntN(365), 0, 0, 0, 0, time.UTC))
	}
	for y := 2019; y <= 2021; y++ {
		for m := time.January; m <= time.December; m++ {
			first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
			dates = append(dates, events.DateOf(first), events.DateOf(first.AddDate(0, 1, -1)))
		}
		dates = append(dates, random(y), random(y), random(y),
			events.DateOf(time.Date(y, time.Month(1+rng.IntN(12)), 2, 0, 0, 0, 0, time.UTC)),
			events.DateOf(time.Date(y, time.Month(2+rng.IntN(12)), -1, 0, 0, 0, 0, time.UTC)))
	}
	for _, y := range []int{2018, 2022} {
		dates = append(dates, events.NewDate(y, time.January, 1), events.YearEnd(y), random(y))
	}
	dates = append(dates, events.NewDate(2020, time.February, 29))
	type query struct {
		spec projections.Spec
		f    projections.Filter
		want *projections.Statement
	}
	var queries []query
	for _, spec := range projections.Specs {
		for _, d := range dates {
			f := projections.Filter{FiscalYear: d.Year(), AsOf: d, Unit: units[rng.IntN(len(units))]}
			if d == events.YearEnd(d.Year()) && rng.IntN(2) == 0 {
				f.AsOf = 0 // the year's end, as a statement of the whole year asks
			}
			queries = append(queries, query{spec: spec, f: f})
		}
	}
	check := func(when string) {
		t.Helper()
		for i, q := range queries {
			queries[i].want = compareCover(t, l, s, q.spec, q.f, q.f.LastDate(), q.want)
		}
		// Without a date bound, every entry by day: any statement folds it.
		for range 20 {
			compareCover(t, l, s, projections.Specs[rng.IntN(len(projections.Specs))], randomFilter(), math.MaxInt32, nil)
		}
		days, months, years := s.Grains(name)
		t.Logf("%s: %d events in the log; compacted by day %d, by month %d, by year %d", when, len(accepted), days, months, years)
		if !(0 < years && years < months && months < days) {
			t.Errorf("%s: compacted by day %d, by month %d, by year %d", when, days, months, years)
		}
	}
	// A few records after the checkpoint, read from the log.
	add(edgeEvents(rng, name, 2021, spending)[:5]...)
	check("after the appends")

	if err := errorsOf(s.Close(), l.Close()); err != nil {
		t.Fatal(err)
	}
	l = openLog()
	defer l.Close()
	s = checkpoint.New(l, checkpoint.Options{Logger: quiet})
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("after a restart")
}

// compareCover folds spec under f from s.EventsAsOf(asOf) and compares it
// with want, or, when want is nil, with the fold of the log, which it
// returns.
func compareCover(t *testing.T, l *ledger.Log, s *checkpoint.Store, spec projections.Spec, f projections.Filter, asOf events.Date, want *projections.Statement) *projections.Statement {
	t.Helper()
	name := budgetledger.SampleLedgerName
	var err1, err2, e1 error
	if want == nil {
		want, e1 = spec.Fold(l.EventsKnownAt(context.Background(), name, ledger.KnownAt{}, &err1), f, events.DefaultCatalog())
	}
	got, e2 := spec.Fold(s.EventsAsOf(context.Background(), name, asOf, ledger.KnownAt{}, &err2), f, events.DefaultCatalog())
	if err := errorsOf(e1, e2, err1, err2); err != nil {
		t.Fatalf("%s %+v: %v", spec.Name, f, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s %+v read as of %s: from the checkpoint\n%+v\nfrom the log\n%+v", spec.Name, f, asOf, got, want)
	}
	return want
}

// shiftYear is e a year earlier or later (29 February becomes the 28th),
// under an id of its own.
func shiftYear(e events.Event, years int) events.Event {
	y, m, d := e.FiscalYear+years, time.Month(int(e.Date)/100%100), int(e.Date)%100
	if m == time.February && d == 29 {
		d = 28
	}
	e.ID = "y" + strconv.Itoa(y) + "-" + e.ID
	e.FiscalYear, e.Date = y, events.NewDate(y, m, d)
	return e
}

// edgeEvents are year y's spending on each month's first and last day (and
// 29 February), a third unit with its registration, and equipment: dear
// items beside cheap ones on the same day, and a dear one disposed of.
func edgeEvents(rng *rand.Rand, ledgerName string, y int, spending []events.Event) []events.Event {
	units := []string{"本级", "行政服务中心", "第三单位"}
	var out []events.Event
	ev := func(unit string, d events.Date, b events.Body) {
		id := fmt.Sprintf("edge-%d-%d-%d", y, len(out), rng.Uint32())
		out = append(out, events.Event{ID: id, Ledger: ledgerName, Unit: unit, FiscalYear: y, Date: d, Source: "s", Voucher: id, Body: b})
	}
	ev("第三单位", events.NewDate(y, time.January, 1), events.UnitRegistered{Name: "第三单位全称", Department: "上海市青浦区政务服务办公室", UnitType: events.UnitPublicInstitution})
	spend := func(d events.Date) {
		b := spending[rng.IntN(len(spending))].Body.(events.Expenditure)
		b.Amount = events.Amount(1 + rng.IntN(1_000_000))
		u := units[rng.IntN(len(units))]
		// Funded the same day, so that the year can still be closed.
		if b.Fund.Fiscal() {
			ev(u, d, events.Appropriation{Fund: b.Fund, Functional: b.Functional, Amount: b.Amount})
		} else {
			ev(u, d, events.OtherIncome{IncomeKind: events.IncomeOther, Functional: b.Functional, Amount: b.Amount})
		}
		ev(u, d, b)
	}
	for m := time.January; m <= time.December; m++ {
		first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		spend(events.DateOf(first))
		spend(events.DateOf(first.AddDate(0, 1, -1)))
	}
	if leap := events.NewDate(y, time.February, 29); leap.Valid() {
		spend(leap)
	}
	for range 4 {
		d := events.DateOf(time.Date(y, 1, 1+rng.IntN(365), 0, 0, 0, 0, time.UTC))
		u := units[rng.IntN(len(units))]
		ev(u, d, events.AssetChanged{Class: events.AssetGeneralEquipment, Quantity: 1, UnitPrice: 600_000_00, Amount: 600_000_00})
		ev(u, d, events.AssetChanged{Class: events.AssetGeneralEquipment, Quantity: 2, Amount: 2_400_000_00})
		ev(u, d, events.AssetChanged{Class: events.AssetGeneralEquipment, Quantity: 3, Amount: 9_000_00})
		ev(u, d, events.AssetChanged{Class: events.AssetSpecialEquipment, Quantity: 1, Amount: 1_500_000_00})
	}
	ev("本级", events.NewDate(y, time.December, 31), events.AssetChanged{Class: events.AssetGeneralEquipment, Decrease: true, Quantity: 1, UnitPrice: 700_000_00, Amount: 700_000_00})
	return out
}

// reversals are red entries for about one in eight of evs's spending and
// asset changes (not income, so that balances stay positive), each
// dated on or after its original, in the same year.
func reversals(rng *rand.Rand, evs []events.Event) []events.Event {
	var out []events.Event
	for _, e := range evs {
		switch e.Body.(type) {
		case events.Expenditure, events.AssetChanged:
		default:
			continue
		}
		if rng.IntN(8) != 0 {
			continue
		}
		r := e
		if rng.IntN(3) != 0 {
			t := time.Date(e.FiscalYear, time.Month(int(e.Date)/100%100), int(e.Date)%100, 0, 0, 0, 0, time.UTC)
			end := time.Date(e.FiscalYear, time.December, 31, 0, 0, 0, 0, time.UTC)
			r.Date = events.DateOf(t.AddDate(0, 0, rng.IntN(int(end.Sub(t).Hours()/24)+1)))
		}
		r.ID, r.Voucher, r.Body = "red-"+e.ID, "红", events.Reversal{EventID: e.ID, Reason: "冲销", Body: e.Body}
		out = append(out, r)
	}
	return out
}

func shuffle(rng *rand.Rand, evs []events.Event) {
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
}
