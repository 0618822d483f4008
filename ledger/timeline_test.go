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

// naive sums the T1 figures of year y as of asOf straight from the events:
// income, expenditure and opening balances, a reversal cancelling its
// original from the reversal's date.
func (m *modelState) naive(y int, asOf events.Date) (income, spent, opening events.Amount) {
	for _, e := range m.accepted {
		if e.FiscalYear != y || e.Date > asOf {
			continue
		}
		sign, body := events.Amount(1), e.Body
		if r, ok := body.(events.Reversal); ok {
			sign, body = -1, r.Body
		}
		switch b := body.(type) {
		case events.Appropriation:
			income += sign * b.Amount
		case events.OtherIncome:
			income += sign * b.Amount
		case events.Expenditure:
			spent += sign * b.Amount
		case events.OpeningBalance:
			opening += sign * b.Amount
		}
	}
	return
}

// TestTimelineAgainstModel publishes years of events late, out of order,
// with duplicates, reversals, year-end closes and restarts, and compares
// the 收入支出决算总表 as of random dates and as known at random moments of
// the log with a naive model. LEDGER_TIMELINE_SEED replays a run.
func TestTimelineAgainstModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("LEDGER_TIMELINE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (LEDGER_TIMELINE_SEED to replay)", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	path := logPath(t)
	l := openLog(t, path, ledger.Options{CarryForward: projections.CarryForward})
	const name = "timeline"
	units := []string{"本级", "中心"}
	m := &modelState{byID: map[string]events.Event{}, reversed: map[string]bool{}, closed: map[int]bool{}}
	type snapshot struct {
		seq   uint64
		state *modelState
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
				batch = append(batch, mk(y, events.Expenditure{Functional: "2019999", Economic: "30201", ExpenditureKind: events.ExpenditureBasic,
					Fund: events.FundGeneralBudget, Amount: amt}))
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
				switch tgt.Body.(type) {
				case events.OpeningBalance, events.Appropriation, events.YearEndClosed:
					continue // keep every unit's balance positive: the close refuses a negative one
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
				l = openLog(t, path, ledger.Options{CarryForward: projections.CarryForward})
			}
			last, _ := l.Len(name)
			snaps = append(snaps, snapshot{last, m.clone()})
		}
		// Close the year: the model carries its closing into next year.
		income, spent, opening := m.naive(y, events.YearEnd(y))
		n++
		c := events.Event{ID: "close-" + strconv.Itoa(y), Ledger: name, Unit: "本级", FiscalYear: y, Date: events.YearEnd(y), Source: "s", Voucher: "结", Body: events.YearEndClosed{}}
		if o := appendOne(t, l, sub(c)); o.Status != ledger.Accepted {
			t.Fatalf("close %d: %+v", y, o)
		}
		m.closed[y] = true
		m.accepted = append(m.accepted, c)
		// The carried opening balances, as one naive amount dated 1 January.
		m.accepted = append(m.accepted, events.Event{ID: c.ID + ":carried", FiscalYear: y + 1, Date: events.NewDate(y+1, 1, 1),
			Body: events.OpeningBalance{Fund: events.FundGeneralBudget, Amount: opening + income - spent}})
		last, _ := l.Len(name)
		snaps = append(snaps, snapshot{last, m.clone()})
		// An event of the closed year is refused.
		late := mk(y, events.Expenditure{Functional: "2019999", Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 1})
		if o := appendOne(t, l, sub(late)); o.Code != events.CodeYearClosed {
			t.Fatalf("late event of a closed year: %+v", o)
		}
	}
	// Compare as of random dates, as known at random snapshots.
	for range 200 {
		s := snaps[rng.IntN(len(snaps))]
		y := 2020 + rng.IntN(4)
		asOf := events.NewDate(y, time.Month(1+rng.IntN(12)), 1+rng.IntN(28))
		var scanErr error
		st, err := projections.FoldIncomeExpenditure(l.EventsKnownAt(context.Background(), name, ledger.KnownAt{Seq: s.seq}, &scanErr),
			projections.Filter{Ledger: name, FiscalYear: y, AsOf: asOf})
		if err != nil || scanErr != nil {
			t.Fatal(err, scanErr)
		}
		income, spent, opening := s.state.naive(y, asOf)
		for key, want := range map[string]events.Amount{"total:income": income, "total:expenditure": spent, "opening_balance": opening} {
			if r, _ := st.Row(key); r.Amount() != want {
				t.Fatalf("%d as of %s known at seq %d: %s = %s, model %s", y, asOf, s.seq, key, r.Amount(), want)
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
