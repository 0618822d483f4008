package projections_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/golden"
	"github.com/budgetledger/budgetledger/projections"
)

// deviation is a published cell the ledger must not reproduce.
type deviation struct{ id, published, ledger string }

// deviations reads testdata/golden/deviations.tsv for one golden table, by
// row code.
func deviations(t *testing.T, table string) map[string]deviation {
	t.Helper()
	_, rows, err := golden.Table("deviations")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]deviation{}
	for _, r := range rows {
		if r[1] == table {
			out[r[2]] = deviation{id: r[0], published: r[3], ledger: r[4]}
		}
	}
	return out
}

// checkTable compares a statement with a golden table typed from the
// published report: same rows in the same order, same side, codes and
// names, every cell to the cent of 万元; a blank golden cell means the row
// has no such column. Cells listed in deviations.tsv must show the ledger's
// value, not the published one.
func checkTable(t *testing.T, st *projections.Statement, name string) {
	t.Helper()
	header, want, err := golden.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	dev := deviations(t, name)
	sided := header[0] == "side"
	first := 2
	if sided {
		first = 3
	}
	if !slices.Equal(st.Columns, header[first:]) {
		t.Errorf("%s columns %q, published %q", st.Title, st.Columns, header[first:])
	}
	if len(st.Rows) != len(want) {
		t.Errorf("%s has %d rows, the published table %d", st.Title, len(st.Rows), len(want))
	}
	for i := range min(len(st.Rows), len(want)) {
		r, w := st.Rows[i], slices.Clone(want[i])
		for len(w) > first && w[len(w)-1] == "" {
			w = w[:len(w)-1]
		}
		got := []string{r.Code, r.Name}
		if sided {
			got = append([]string{r.Side}, got...)
		}
		for _, a := range r.Amounts {
			got = append(got, projections.GroupThousands(projections.Wan(a)))
		}
		if d, ok := dev[r.Code]; ok && r.Code != "" {
			if got[first] != d.ledger || w[first] != d.published || d.ledger == d.published {
				t.Errorf("%s row %s: deviation %s: ledger shows %s, want %s (published %s)", st.Title, r.Code, d.id, got[first], d.ledger, w[first])
			}
			w[first] = d.ledger
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s row %d:\n got %q\nwant %q", st.Title, i+1, got, w)
		}
	}
}

// TestPublishedTables folds the sample ledger into every table the
// reference publishes and compares each cell with the published figure.
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
		{"fiscal-summary-2020", projections.FoldFiscalSummary},
		{"general-budget-expenditure-2020", projections.FoldGeneralBudgetExpenditure},
		{"basic-expenditure-2020", projections.FoldBasicExpenditure},
	} {
		t.Run(c.golden, func(t *testing.T) {
			st, err := c.fold(slices.Values(evs), f, cat)
			if err != nil {
				t.Fatal(err)
			}
			checkTable(t, st, c.golden)
		})
	}
}

// TestCheckCatalog: the embedded catalog is foldable; a deployment catalog
// adding a 功能分类 类 the statements have no line for is refused.
func TestCheckCatalog(t *testing.T) {
	cat := events.DefaultCatalog()
	if err := projections.CheckCatalog(cat); err != nil {
		t.Fatalf("embedded catalog: %v", err)
	}
	path := t.TempDir() + "/extra.tsv"
	if err := os.WriteFile(path, []byte("kind\tcode\tname\nfunctional\t227\t预备费\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cat.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := projections.CheckCatalog(cat); !errors.Is(err, projections.ErrUnplaced) || !strings.Contains(err.Error(), "227") {
		t.Errorf("catalog with 227: %v", err)
	}
}
