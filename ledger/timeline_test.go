package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

// modelState is what a naive model of the books knows: the events accepted,
// in order, and which are reversed (and by which reversal).
type modelState struct {
	accepted []events.Event
	byID     map[string]events.Event
	reversed map[string]bool
	closed   map[int]bool
}

func (m *modelState) clone() *modelState {
	c := &modelState{accepted: slices.Clone(m.accepted), byID: map[string]events.Event{}, reversed: map[string]bool{}, closed: map[int]bool{}}
	for k, v := range m.byID {
		c.byID[k] = v
	}
	for k, v := range m.reversed {
		c.reversed[k] = v
	}
	for k, v := range m.closed {
		c.closed[k] = v
	}
	return c
}

// figures are the T1 figures the model checks.
type figures struct {
	income, spent, opening events.Amount
	// byClass is spending by 功能分类 类 (the first three digits).
	byClass map[string]events.Amount
	// incomeBy and spentBy are the 收入决算表 and 支出决算表 by 项 code,
	// in their columns: total, 财政拨款, …, 其他收入; total, 基本支出, 项目支出.
	incomeBy map[string]*[7]events.Amount
	spentBy  map[string]*[3]events.Amount
}

// naive sums the T1 figures of year y as of asOf straight from the events,
// for one unit or (unit "") all: income, spending, opening balances with
// their adjustments, a reversal cancelling its original from the
// reversal's date.
func (m *modelState) naive(y int, asOf events.Date, unit string) figures {
	f := figures{byClass: map[string]events.Amount{}, incomeBy: map[string]*[7]events.Amount{}, spentBy: map[string]*[3]events.Amount{}}
	in := func(code string, col int, a events.Amount) {
		if f.incomeBy[code] == nil {
			f.incomeBy[code] = &[7]events.Amount{}
		}
		f.incomeBy[code][0] += a
		f.incomeBy[code][col] += a
	}
	for _, e := range m.accepted {
		if e.FiscalYear != y || e.Date > asOf || (unit != "" && e.Unit != unit) {
			continue
		}
		sign, body := events.Amount(1), e.Body
		if r, ok := body.(events.Reversal); ok {
			sign, body = -1, r.Body
		}
		switch b := body.(type) {
		case events.Appropriation:
			f.income += sign * b.Amount
			in(b.Functional, 1, sign*b.Amount)
		case events.OtherIncome:
			f.income += sign * b.Amount
			in(b.Functional, 6, sign*b.Amount)
		case events.Expenditure:
			f.spent += sign * b.Amount
			f.byClass[b.Functional[:3]] += sign * b.Amount
			if f.spentBy[b.Functional] == nil {
				f.spentBy[b.Functional] = &[3]events.Amount{}
			}
			col := 1
			if b.ExpenditureKind == events.ExpenditureProject {
				col = 2
			}
			f.spentBy[b.Functional][0] += sign * b.Amount
			f.spentBy[b.Functional][col] += sign * b.Amount
		case events.OpeningBalance:
			f.opening += sign * b.Amount
		case events.OpeningAdjusted:
			if b.Decrease {
				sign = -sign
			}
			f.opening += sign * b.Amount
		}
	}
	return f
}

// TestTimelineAgainstModel publishes years of events late, out of order,
// with duplicates, reversals, year-end closes and restarts, and compares
// 年初调整, restarts, and compares the 收入支出决算总表, consolidated and
// per unit, as of random dates and as known at random moments of the log
// (by sequence and by recorded time) with a naive model.
// LEDGER_TIMELINE_SEED replays a run.
func TestTimelineAgainstModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LEDGER_TIMELINE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (LEDGER_TIMELINE_SEED to replay)", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	path := logPath(t)
	clock := newStepClock(epoch, time.Millisecond)
	opts := ledger.Options{CarryForward: projections.CarryForward, Now: clock.Now}
	l := openLog(t, path, opts)
	const name = "timeline"
	units := []string{"本级", "中心"}
	m := &modelState{byID: map[string]events.Event{}, reversed: map[string]bool{}, closed: map[int]bool{}}
	type snapshot struct {
		seq   uint64
		at    time.Time
		state *modelState
	}
	snap := func() snapshot {
		last, _ := l.Len(name)
		r, err := l.Get(name, last)
		if err != nil {
			t.Fatal(err)
		}
		return snapshot{last, r.RecordedAt, m.clone()}
	}
	var snaps []snapshot
	n := 0
	mk := func(y int, b events.Body) events.Event {
		n++
		return events.Event{ID: "t" + strconv.Itoa(n), Ledger: name, Unit: units[rng.IntN(2)], FiscalYear: y,
			Date: events.NewDate(y, time.Month(1+rng.IntN(12)), 1+rng.IntN(28)), Source: "s", Voucher: "v" + strconv.Itoa(n), Body: b}
	}
	for _, y := range []int{2020, 2021, 2022} {
		// Enough money in every unit that no balance goes negative.
		var batch []events.Event
		for _, u := range units {
			e := mk(y, events.Appropriation{Fund: events.FundGeneralBudget, Functional: "2019999", Amount: 1_000_000_00})
			e.Unit, e.Date = u, events.NewDate(y, 1, 2)
			batch = append(batch, e)
		}
		for range 60 + rng.IntN(60) {
			amt := events.Amount(1 + rng.Int64N(1_000_00))
			switch rng.IntN(4) {
			case 0:
				batch = append(batch, mk(y, events.OtherIncome{IncomeKind: events.IncomeOther, Functional: "2069999", Amount: amt}))
			default:
				code := []string{"2019999", "2080505", "2101101", "2210201"}[rng.IntN(4)]
				x := events.Expenditure{Functional: code, Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: amt}
				if rng.IntN(3) == 0 {
					x.ExpenditureKind, x.Project = events.ExpenditureProject, "政务服务项目"
				}
				batch = append(batch, mk(y, x))
			}
		}
		rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		for len(batch) > 0 {
			k := min(len(batch), 1+rng.IntN(15))
			var subs []ledger.Submission
			var sent []events.Event
			for _, e := range batch[:k] {
				subs, sent = append(subs, sub(e)), append(sent, e)
				if rng.IntN(10) == 0 { // a duplicate
					subs, sent = append(subs, sub(e)), append(sent, e)
				}
			}
			// Reversals of events accepted earlier.
			for range rng.IntN(3) {
				if len(m.accepted) == 0 {
					break
				}
				tgt := m.accepted[rng.IntN(len(m.accepted))]
				if _, isRev := tgt.Body.(events.Reversal); isRev {
					continue
				}
				switch b := tgt.Body.(type) {
				case events.OpeningBalance, events.Appropriation, events.YearEndClosed:
					continue // keep every unit's balance positive: the close refuses a negative one
				case events.OpeningAdjusted:
					if !b.Decrease {
						continue
					}
				}
				r := tgt
				n++
				r.ID, r.Voucher = "r"+strconv.Itoa(n), "红"+strconv.Itoa(n)
				r.Date = tgt.Date + events.Date(rng.IntN(3)) // may be an invalid day: then skipped
				if !r.Date.Valid() {
					r.Date = tgt.Date
				}
				r.Body = events.Reversal{EventID: tgt.ID, Reason: "冲销", Body: tgt.Body}
				subs, sent = append(subs, sub(r)), append(sent, r)
			}
			batch = batch[k:]
			outs := appendAll(t, l, subs...)
			for i, o := range outs {
				e := sent[i]
				want := m.decide(e)
				if o.Status != want {
					t.Fatalf("event %s (%T, %d): ledger %s %s %s, model %s", e.ID, e.Body, e.FiscalYear, o.Status, o.Code, o.Reason, want)
				}
			}
			if rng.IntN(8) == 0 { // a restart
				closeLog(t, l)
				l = openLog(t, path, opts)
			}
			snaps = append(snaps, snap())
		}
		// Close the year: the model carries each unit's closing into next
		// year, as one naive amount dated 1 January.
		n++
		c := events.Event{ID: "close-" + strconv.Itoa(y), Ledger: name, Unit: "本级", FiscalYear: y, Date: events.YearEnd(y), Source: "s", Voucher: "结", Body: events.YearEndClosed{}}
		var carried []events.Event
		for _, u := range units {
			f := m.naive(y, events.YearEnd(y), u)
			carried = append(carried, events.Event{ID: c.ID + ":" + u, Unit: u, FiscalYear: y + 1, Date: events.NewDate(y+1, 1, 1),
				Body: events.OpeningBalance{Fund: events.FundGeneralBudget, Amount: f.opening + f.income - f.spent}})
		}
		// A 年初调整 of a year whose previous year is still open is refused.
		early := mk(y+1, events.OpeningAdjusted{Fund: events.FundGeneralBudget, Amount: 1, Reason: "以前年度调整"})
		if o := appendOne(t, l, sub(early)); o.Code != events.CodeNotAdjustable {
			t.Fatalf("adjustment of %d before %d is closed: %+v", y+1, y, o)
		}
		if o := appendOne(t, l, sub(c)); o.Status != ledger.Accepted {
			t.Fatalf("close %d: %+v", y, o)
		}
		m.closed[y] = true
		m.accepted = append(m.accepted, c)
		m.accepted = append(m.accepted, carried...)
		snaps = append(snaps, snap())
		// Corrections of the closed year found later: 年初调整 of the next.
		for range rng.IntN(4) {
			adj := mk(y+1, events.OpeningAdjusted{Fund: events.FundGeneralBudget, Decrease: rng.IntN(2) == 0,
				Amount: events.Amount(1 + rng.Int64N(1_000_00)), Reason: "以前年度调整"})
			o := appendOne(t, l, sub(adj))
			if want := m.decide(adj); o.Status != want {
				t.Fatalf("adjustment %s: ledger %s %s %s, model %s", adj.ID, o.Status, o.Code, o.Reason, want)
			}
			snaps = append(snaps, snap())
		}
		// An event of the closed year is refused.
		late := mk(y, events.Expenditure{Functional: "2019999", Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 1})
		if o := appendOne(t, l, sub(late)); o.Code != events.CodeYearClosed {
			t.Fatalf("late event of a closed year: %+v", o)
		}
	}
	// Compare as of random dates, as known at random snapshots, for all
	// units or one.
	for range 300 {
		s := snaps[rng.IntN(len(snaps))]
		y := 2020 + rng.IntN(4)
		asOf := events.NewDate(y, time.Month(1+rng.IntN(12)), 1+rng.IntN(28))
		unit := []string{"", units[0], units[1]}[rng.IntN(3)]
		known := ledger.KnownAt{Seq: s.seq}
		if rng.IntN(2) == 0 {
			known = ledger.KnownAt{Time: s.at}
		}
		var scanErr error
		st, err := projections.FoldIncomeExpenditure(l.EventsKnownAt(context.Background(), name, known, &scanErr),
			projections.Filter{Ledger: name, FiscalYear: y, AsOf: asOf, Unit: unit})
		if err != nil || scanErr != nil {
			t.Fatal(err, scanErr)
		}
		f := s.state.naive(y, asOf, unit)
		want := map[string]events.Amount{"total:income": f.income, "total:expenditure": f.spent, "opening_balance": f.opening,
			"closing_balance": f.opening + f.income - f.spent}
		for _, class := range []string{"201", "208", "210", "221"} {
			want["functional:"+class] = f.byClass[class]
		}
		for key, want := range want {
			if r, _ := st.Row(key); r.Amount() != want {
				t.Fatalf("%d as of %s unit %q known at %+v: %s = %s, model %s", y, asOf, unit, known, key, r.Amount(), want)
			}
		}
		// The 收入决算表 and 支出决算表, every 项 row and column.
		f2 := projections.Filter{Ledger: name, FiscalYear: y, AsOf: asOf, Unit: unit}
		t2, err2 := projections.FoldIncome(l.EventsKnownAt(context.Background(), name, known, &scanErr), f2, events.DefaultCatalog())
		t3, err3 := projections.FoldExpenditure(l.EventsKnownAt(context.Background(), name, known, &scanErr), f2, events.DefaultCatalog())
		if err2 != nil || err3 != nil || scanErr != nil {
			t.Fatal(err2, err3, scanErr)
		}
		// A row whose amounts all cancel is not printed: it reads as zeros.
		amounts := func(st *projections.Statement, code string, n int) []events.Amount {
			if r, ok := st.Row("functional:" + code); ok {
				return r.Amounts[:n]
			}
			return make([]events.Amount, n)
		}
		for code, cols := range f.incomeBy {
			if got := amounts(t2, code, 7); !slices.Equal(got, cols[:]) {
				t.Fatalf("收入决算表 %d as of %s unit %q known at %+v: %s = %v, model %v", y, asOf, unit, known, code, got, cols[:])
			}
		}
		for code, cols := range f.spentBy {
			if got := amounts(t3, code, 3); !slices.Equal(got, cols[:]) {
				t.Fatalf("支出决算表 %d as of %s unit %q known at %+v: %s = %v, model %v", y, asOf, unit, known, code, got, cols[:])
			}
		}
	}
	if _, err := l.Verify(context.Background(), name); err != nil {
		t.Error(err)
	}
	t.Logf("%d events, %d snapshots", len(m.accepted), len(snaps))
}

// decide is what the model expects of an event, and records it.
func (m *modelState) decide(e events.Event) ledger.Status {
	if prev, ok := m.byID[e.ID]; ok {
		if fmt.Sprint(prev) == fmt.Sprint(e) {
			return ledger.Duplicate
		}
		return ledger.Rejected
	}
	if m.closed[e.FiscalYear] {
		return ledger.Rejected
	}
	if _, ok := e.Body.(events.OpeningAdjusted); ok && !m.closed[e.FiscalYear-1] {
		return ledger.Rejected
	}
	if r, ok := e.Body.(events.Reversal); ok {
		tgt, ok := m.byID[r.EventID]
		if !ok || m.reversed[r.EventID] || tgt.Unit != e.Unit || tgt.FiscalYear != e.FiscalYear || e.Date < tgt.Date {
			return ledger.Rejected
		}
		m.reversed[r.EventID] = true
	}
	m.byID[e.ID] = e
	m.accepted = append(m.accepted, e)
	return ledger.Accepted
}
