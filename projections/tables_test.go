package projections_test

import (
	"slices"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/golden"
	"github.com/budgetledger/budgetledger/projections"
)

// checkTable compares a multi-column statement with a golden table typed
// from the published report: same rows in the same order, same codes and
// names, every cell to the cent of 万元.
func checkTable(t *testing.T, st *projections.Statement, name string) {
	t.Helper()
	header, want, err := golden.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Columns, header[2:]) {
		t.Errorf("%s columns %q, published %q", st.Title, st.Columns, header[2:])
	}
	if len(st.Rows) != len(want) {
		t.Errorf("%s has %d rows, the published table %d", st.Title, len(st.Rows), len(want))
	}
	for i := range min(len(st.Rows), len(want)) {
		r, w := st.Rows[i], want[i]
		got := []string{r.Code, r.Name}
		for _, a := range r.Amounts {
			got = append(got, projections.GroupThousands(projections.Wan(a)))
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s row %d:\n got %q\nwant %q", st.Title, i+1, got, w)
		}
	}
}

func TestPublishedTables(t *testing.T) {
	evs := sampleEvents(t)
	f := projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020}
	cat := events.DefaultCatalog()
	for _, c := range []struct {
		golden string
		fold   func(projections.Events, projections.Filter, *events.Catalog) (*projections.Statement, error)
	}{
		{"income-2020", projections.FoldIncome},
		{"expenditure-2020", projections.FoldExpenditure},
		{"general-budget-expenditure-2020", projections.FoldGeneralBudgetExpenditure},
	} {
		st, err := c.fold(slices.Values(evs), f, cat)
		if err != nil {
			t.Fatal(err)
		}
		checkTable(t, st, c.golden)
	}
}
