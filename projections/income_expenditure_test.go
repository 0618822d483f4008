package projections_test

import (
	"slices"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/golden"
	"github.com/budgetledger/budgetledger/projections"
)

func sampleEvents(t testing.TB) []events.Event {
	t.Helper()
	evs, err := budgetledger.SampleEvents()
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestIncomeExpenditureReference folds the sample ledger and compares every
// cell with the published 2020 收入支出决算总表.
func TestIncomeExpenditureReference(t *testing.T) {
	evs := sampleEvents(t)
	want, err := golden.Load("income-expenditure-2020")
	if err != nil {
		t.Fatal(err)
	}
	st, err := projections.FoldIncomeExpenditure(slices.Values(evs), projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Rows) != len(want) {
		t.Fatalf("statement has %d rows, the published table %d", len(st.Rows), len(want))
	}
	for i, w := range want {
		r := st.Rows[i]
		got := projections.GroupThousands(projections.Wan(r.Amount()))
		if r.Side != w.Side || r.Name != w.Name || got != w.Value {
			t.Errorf("row %d: got %s %s %s, published %s %s %s", i+1, r.Side, r.Name, got, w.Side, w.Name, w.Value)
		}
	}
}

// TestIncomeExpenditureAsOf: only events dated on or before as_of count, and
// unit= restricts to one budget unit; the units add up to the department.
func TestIncomeExpenditureAsOf(t *testing.T) {
	evs := sampleEvents(t)
	f := projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020, AsOf: events.NewDate(2020, 6, 30)}
	st, err := projections.FoldIncomeExpenditure(slices.Values(evs), f)
	if err != nil {
		t.Fatal(err)
	}
	var wantIncome events.Amount
	for _, e := range evs {
		if e.Date > f.AsOf {
			continue
		}
		switch e.Body.(type) {
		case events.Appropriation, events.OtherIncome:
			wantIncome += events.BodyAmount(e.Body)
		}
	}
	got, _ := st.Row("total:income")
	if got.Amount() != wantIncome || wantIncome == 0 {
		t.Errorf("本年收入合计 as of 2020-06-30 = %s, want %s", got.Amount(), wantIncome)
	}
	full, _ := projections.FoldIncomeExpenditure(slices.Values(evs), projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020})
	if r, _ := full.Row("total:income"); r.Amount() <= got.Amount() {
		t.Errorf("full year income %s not above half year %s", r.Amount(), got.Amount())
	}
	var sum [2]events.Amount
	for i, unit := range []string{"本级", "行政服务中心"} {
		u, err := projections.FoldIncomeExpenditure(slices.Values(evs), projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020, Unit: unit})
		if err != nil {
			t.Fatal(err)
		}
		r, _ := u.Row("total:expenditure")
		if r.Amount() == 0 {
			t.Errorf("unit %s has no expenditure", unit)
		}
		sum[i] = r.Amount()
	}
	if r, _ := full.Row("total:expenditure"); sum[0]+sum[1] != r.Amount() {
		t.Errorf("units' expenditure %s + %s != department %s", sum[0], sum[1], r.Amount())
	}
}

func TestWanRoundsHalfUp(t *testing.T) {
	for _, c := range []struct {
		fen  events.Amount
		want string
	}{
		{0, "0.00"}, {4999, "0.00"}, {5000, "0.01"}, {9465000, "9.47"}, {9464999, "9.46"},
		{4096659800, "4096.66"}, {-5000, "-0.01"}, {-4999, "0.00"}, {100000000, "100.00"},
	} {
		if got := projections.Wan(c.fen); got != c.want {
			t.Errorf("Wan(%d 分) = %s, want %s", c.fen, got, c.want)
		}
	}
	if got := projections.GroupThousands("1234567.89"); got != "1,234,567.89" {
		t.Errorf("GroupThousands = %s", got)
	}
}

func BenchmarkFoldIncomeExpenditure(b *testing.B) {
	evs := sampleEvents(b)
	// Repeat the sample to a ledger of 100k events.
	big := make([]events.Event, 0, 100_000)
	for len(big) < 100_000 {
		big = append(big, evs...)
	}
	f := projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020}
	b.ResetTimer()
	for b.Loop() {
		if _, err := projections.FoldIncomeExpenditure(slices.Values(big), f); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(big))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
