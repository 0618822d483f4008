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
// row (code, or name) and column heading.
func deviations(t *testing.T, table string) map[[2]string]deviation {
	t.Helper()
	_, rows, err := golden.Table("deviations")
	if err != nil {
		t.Fatal(err)
	}
	out := map[[2]string]deviation{}
	for _, r := range rows {
		if r[1] == table {
			out[[2]string{r[2], r[3]}] = deviation{id: r[0], published: r[4], ledger: r[5]}
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
		for c, col := range header[first:] {
			row := r.Code
			if row == "" {
				row = r.Name
			}
			d, ok := dev[[2]string{row, col}]
			if !ok {
				continue
			}
			i := first + c
			if i >= len(got) || i >= len(w) || got[i] != d.ledger || w[i] != d.published || d.ledger == d.published {
				t.Errorf("%s row %s %s: deviation %s: want the ledger to show %s where %s was published; got %q", st.Title, row, col, d.id, d.ledger, d.published, got)
				continue
			}
			w[i] = d.ledger
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
		{"three-public-2020", projections.FoldThreePublic},
		{"balance-sheet-2020", projections.FoldBalanceSheet},
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

// TestThreePublicReceptions: the published narrative counts 12 reception
// batches, 476 visitors and no foreign visitors in 2020.
func TestThreePublicReceptions(t *testing.T) {
	st, err := projections.FoldThreePublic(slices.Values(sampleEvents(t)),
		projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020}, events.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"reception:batches": "12", "reception:visitors": "476", "reception:foreign_visitors": "0"}
	if len(st.Facts) != len(want) {
		t.Fatalf("facts %+v", st.Facts)
	}
	for _, f := range st.Facts {
		if want[f.Key] != f.Value {
			t.Errorf("%s (%s) = %s, published %s", f.Name, f.Key, f.Value, want[f.Key])
		}
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

// TestEmptyFundTables: the department had no 政府性基金 or 国有资本经营
// money in 2020; both tables print empty with the published sentence.
func TestEmptyFundTables(t *testing.T) {
	evs := sampleEvents(t)
	f := projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020}
	for _, c := range []struct {
		fold projections.Fold
		note string
		cols int
	}{
		{projections.FoldGovernmentFund, "说明：上海市青浦区政务服务办公室本年度没有政府性基金预算财政拨款收入和支出，故本表无数据。", 6},
		{projections.FoldStateCapital, "说明：上海市青浦区政务服务办公室本年度没有国有资本经营预算财政拨款收入和支出，故本表无数据。", 4},
	} {
		st, err := c.fold(slices.Values(evs), f, events.DefaultCatalog())
		if err != nil {
			t.Fatal(err)
		}
		if st.Note != c.note {
			t.Errorf("%s note %q, published %q", st.Title, st.Note, c.note)
		}
		if len(st.Rows) != 1 || st.Rows[0].Name != "合计" || len(st.Rows[0].Amounts) != c.cols || len(st.Columns) != c.cols {
			t.Errorf("%s rows %+v", st.Title, st.Rows)
		}
	}
}

// TestGovernmentFundTable: with 政府性基金 money the table has its 功能分类
// rows, 年末 = 年初 + 收入 − 支出, and no "no data" sentence.
func TestGovernmentFundTable(t *testing.T) {
	ev := func(id string, b events.Body) events.Event {
		return events.Event{ID: id, Ledger: "l", Unit: "本级", FiscalYear: 2021, Date: events.NewDate(2021, 5, 1), Source: "s", Voucher: "v", Body: b}
	}
	evs := []events.Event{
		ev("o", events.OpeningBalance{Fund: events.FundGovernmentFund, Functional: "2120803", Amount: 1_000_00}),
		ev("a", events.Appropriation{Fund: events.FundGovernmentFund, Functional: "2120803", Amount: 50_000_00}),
		ev("x", events.Expenditure{Functional: "2120803", Economic: "30201", ExpenditureKind: events.ExpenditureProject, Project: "p", Fund: events.FundGovernmentFund, Amount: 20_000_00}),
		ev("y", events.Expenditure{Functional: "2120803", Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 7_00}),
	}
	st, err := projections.FoldGovernmentFund(slices.Values(evs), projections.Filter{Ledger: "l", FiscalYear: 2021}, events.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	if st.Note != "" {
		t.Errorf("note %q", st.Note)
	}
	want := map[string][]events.Amount{
		"":        {1_000_00, 50_000_00, 20_000_00, 0, 20_000_00, 31_000_00},
		"212":     {1_000_00, 50_000_00, 20_000_00, 0, 20_000_00, 31_000_00},
		"21208":   {1_000_00, 50_000_00, 20_000_00, 0, 20_000_00, 31_000_00},
		"2120803": {1_000_00, 50_000_00, 20_000_00, 0, 20_000_00, 31_000_00},
	}
	if len(st.Rows) != len(want) {
		t.Fatalf("rows %+v", st.Rows)
	}
	for _, r := range st.Rows {
		if !slices.Equal(r.Amounts, want[r.Code]) {
			t.Errorf("row %s %s: %v, want %v", r.Code, r.Name, r.Amounts, want[r.Code])
		}
	}
}

// TestNotesReference compares every narrative figure the ledger computes
// with the published narrative; the figures the narrative gets wrong (D3,
// D4, D5 in deviations.tsv) must show the ledger's value instead.
func TestNotesReference(t *testing.T) {
	st, err := projections.FoldNotes(slices.Values(sampleEvents(t)), projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020}, events.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range st.Rows {
		got[r.Key] = projections.Wan(r.Amount())
	}
	for _, f := range st.Facts {
		got[f.Key] = f.Value
	}
	_, want, err := golden.Table("notes-2020")
	if err != nil {
		t.Fatal(err)
	}
	dev := deviations(t, "notes-2020")
	deviating := 0
	for _, w := range want {
		key, published := w[0], w[2]
		g, ok := got[key]
		if !ok && (strings.HasSuffix(key, ":change") || strings.HasSuffix(key, ":growth")) {
			continue // changes on 2019: the sample ledger holds no 2019
		}
		if !ok {
			t.Errorf("notes lack %s (%s)", key, w[1])
			continue
		}
		if d, ok := dev[[2]string{key, "value"}]; ok {
			deviating++
			if g != d.ledger || published != d.published {
				t.Errorf("%s: deviation %s: ledger shows %s, want %s (published %s)", key, d.id, g, d.ledger, published)
			}
			continue
		}
		if g != published {
			t.Errorf("%s (%s) = %s, published %s", key, w[1], g, published)
		}
	}
	if deviating != 14 {
		t.Errorf("%d deviating narrative figures checked, want the 14 deviations.tsv lists for figures the ledger holds", deviating)
	}
}

// TestNotesPriorYear: with the prior fiscal year in the same ledger, the
// narrative's changes are this year's figures less last year's, and the
// growth is their ratio to last year's, rounded half up.
func TestNotesPriorYear(t *testing.T) {
	ev := func(id string, y int, b events.Body) events.Event {
		return events.Event{ID: id, Ledger: "l", Unit: "本级", FiscalYear: y, Date: events.NewDate(y, 6, 1), Source: "s", Voucher: "v", Body: b}
	}
	evs := []events.Event{
		ev("a19", 2019, events.Appropriation{Fund: events.FundGeneralBudget, Functional: "2019999", Amount: 3_000_000_00}),
		ev("x19", 2019, events.Expenditure{Functional: "2019999", Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 2_000_000_00}),
		ev("a20", 2020, events.Appropriation{Fund: events.FundGeneralBudget, Functional: "2019999", Amount: 4_000_000_00}),
		ev("x20", 2020, events.Expenditure{Functional: "2019999", Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 2_200_000_00}),
	}
	st, err := projections.FoldNotes(slices.Values(evs), projections.Filter{Ledger: "l", FiscalYear: 2020}, events.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range st.Rows {
		got[r.Key] = projections.Wan(r.Amount())
	}
	for _, f := range st.Facts {
		got[f.Key] = f.Value
	}
	for k, want := range map[string]string{
		"total": "400.00", "total:prior": "300.00", "total:change": "100.00", "total:growth": "33.33",
		"general": "220.00", "general:prior": "200.00", "general:change": "20.00", "general:growth": "10.00",
	} {
		if got[k] != want {
			t.Errorf("%s = %q, want %s", k, got[k], want)
		}
	}
}

// TestBalanceSheetLines: vehicles count as 通用设备 and on their own lines,
// dear equipment on the 50万/100万 lines, decreases and depreciation
// subtract, and the totals follow the official formulas.
func TestBalanceSheetLines(t *testing.T) {
	ev := func(id string, date events.Date, b events.AssetChanged) events.Event {
		return events.Event{ID: id, Ledger: "l", Unit: "本级", FiscalYear: date.Year(), Date: date, Source: "s", Voucher: "v", Body: b}
	}
	d19, d20 := events.NewDate(2019, 12, 31), events.NewDate(2020, 6, 30)
	evs := []events.Event{
		ev("car", d19, events.AssetChanged{Class: events.AssetVehicleOfficial, Quantity: 2, Amount: 400_000_00}),
		ev("srv", d20, events.AssetChanged{Class: events.AssetGeneralEquipment, Quantity: 1, UnitPrice: 600_000_00, Amount: 600_000_00}),
		ev("pcs", d20, events.AssetChanged{Class: events.AssetGeneralEquipment, Quantity: 10, Amount: 50_000_00}),
		ev("mri", d20, events.AssetChanged{Class: events.AssetSpecialEquipment, Quantity: 1, Amount: 2_000_000_00}),
		ev("old", d20, events.AssetChanged{Class: events.AssetVehicleOfficial, Decrease: true, Quantity: 1, Amount: 150_000_00}),
		ev("dep", d20, events.AssetChanged{Class: events.AssetDepreciation, Amount: 100_000_00}),
	}
	st, err := projections.FoldBalanceSheet(slices.Values(evs), projections.Filter{Ledger: "l", FiscalYear: 2020}, events.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]events.Amount{
		"general_equipment":           {400_000_00, 900_000_00},
		"vehicles":                    {400_000_00, 250_000_00},
		"vehicle_official":            {400_000_00, 250_000_00},
		"general_equipment_over_500k": {0, 600_000_00},
		"special_equipment":           {0, 2_000_000_00},
		"special_equipment_over_1m":   {0, 2_000_000_00},
		"fixed":                       {400_000_00, 2_900_000_00},
		"depreciation":                {0, 100_000_00},
		"total_assets":                {400_000_00, 2_800_000_00},
		"net_assets":                  {400_000_00, 2_800_000_00},
	}
	wantQty := map[string][2]int64{"general_equipment": {2, 12}, "vehicles": {2, 1}, "general_equipment_over_500k": {0, 1}, "special_equipment_over_1m": {0, 1}}
	for _, r := range st.Rows {
		if w, ok := want[r.Key]; ok && (r.Amounts[0] != w[0] || r.Amounts[1] != w[1]) {
			t.Errorf("%s %s: %v, want %v", r.Key, r.Name, r.Amounts, w)
		}
		if w, ok := wantQty[r.Key]; ok && (len(r.Quantities) != 2 || r.Quantities[0] != w[0] || r.Quantities[1] != w[1]) {
			t.Errorf("%s quantities %v, want %v", r.Key, r.Quantities, w)
		}
	}
}

// TestExecutionScore: the band is chosen on the exact amounts; the
// published evaluations scored 台式电脑 (70.41%) 4, within its band.
func TestExecutionScore(t *testing.T) {
	for _, c := range []struct {
		executed, budget events.Amount
		want             string
	}{
		{90_000_00, 100_000_00, "8"}, {89_999_99, 100_000_00, "6-8"}, {80_000_00, 100_000_00, "6-8"},
		{79_999_99, 100_000_00, "4-6"}, {70_000_00, 100_000_00, "4-6"},
		{69_995_00, 100_000_00, "0"}, // 69.995% would round to 70.00%: still below 70
		{79_984_00, 113_600_00, "4-6"}, {3_135_297_22, 3_146_000_00, "8"},
	} {
		if got := projections.ExecutionScore(c.executed, c.budget); got != c.want {
			t.Errorf("%s / %s: %s, want %s", c.executed, c.budget, got, c.want)
		}
	}
}

// TestReversalInStatements: as of a date before a reversal the original
// counts; from the reversal's date both are gone, in every statement.
func TestReversalInStatements(t *testing.T) {
	evs := sampleEvents(t)
	var orig events.Event
	for _, e := range evs {
		if e.ID == "qp2020-000004" {
			orig = e
		}
	}
	rev := orig
	rev.ID, rev.Date, rev.Voucher = "red-1", events.NewDate(2020, 12, 30), "红-1"
	rev.Body = events.Reversal{EventID: orig.ID, Reason: "重复记账", Body: orig.Body}
	with := append(slices.Clone(evs), rev)
	amount := events.BodyAmount(orig.Body)
	for _, asOf := range []events.Date{events.NewDate(2020, 12, 29), events.NewDate(2020, 12, 31)} {
		f := projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020, AsOf: asOf}
		for _, spec := range projections.Specs {
			a, err := spec.Fold(slices.Values(evs), f, events.DefaultCatalog())
			if err != nil {
				t.Fatal(err)
			}
			b, err := spec.Fold(slices.Values(with), f, events.DefaultCatalog())
			if err != nil {
				t.Fatal(err)
			}
			diff := rowDiff(a, b)
			switch {
			case asOf < rev.Date && diff != 0:
				t.Errorf("%s as of %s: the reversal counts before its date (%d)", spec.Name, asOf, diff)
			case asOf >= rev.Date && spec.Name == "income-expenditure":
				r1, _ := a.Row("total:expenditure")
				r2, _ := b.Row("total:expenditure")
				if r1.Amount()-r2.Amount() != amount {
					t.Errorf("as of %s: 本年支出合计 %s → %s, want less %s", asOf, r1.Amount(), r2.Amount(), amount)
				}
			}
		}
	}
}

// rowDiff sums the absolute differences of two statements' cells.
func rowDiff(a, b *projections.Statement) events.Amount {
	var d events.Amount
	for i := range min(len(a.Rows), len(b.Rows)) {
		for j := range min(len(a.Rows[i].Amounts), len(b.Rows[i].Amounts)) {
			x := a.Rows[i].Amounts[j] - b.Rows[i].Amounts[j]
			if x < 0 {
				x = -x
			}
			d += x
		}
	}
	if len(a.Rows) != len(b.Rows) {
		d++
	}
	return d
}

// TestReversalCancels: an event and its reversal give, as of any date after
// the reversal, exactly the statements of the ledger without the event:
// every cell, count, quantity and note, for an expenditure, a reception, an
// opening balance of a fund table and a dear piece of equipment.
func TestReversalCancels(t *testing.T) {
	base := sampleEvents(t)
	ev := func(id string, b events.Body) events.Event {
		return events.Event{ID: id, Ledger: budgetledger.SampleLedgerName, Unit: "本级", FiscalYear: 2020, Date: events.NewDate(2020, 5, 6), Source: "s", Voucher: "v-" + id, Body: b}
	}
	originals := []events.Event{
		ev("x-exp", events.Expenditure{Functional: "2080505", Economic: "30108", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 1_234_56}),
		ev("x-rec", events.Expenditure{Functional: "2019999", Economic: "30217", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 800_00,
			Reception: &events.Reception{Batches: 1, Visitors: 9}}),
		ev("x-gf", events.OpeningBalance{Fund: events.FundGovernmentFund, Functional: "2120803", Amount: 5_000_00}),
		ev("x-srv", events.AssetChanged{Class: events.AssetGeneralEquipment, Quantity: 2, Amount: 1_200_000_00}),
		ev("x-bud", events.Budget{Stage: events.BudgetInitial, Functional: "2210201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 10_00}),
		ev("x-pro", events.ProcurementContracted{Category: events.ProcurementWorks, Supplier: events.EnterpriseLarge, Amount: 99_00}),
	}
	with := slices.Clone(base)
	for _, o := range originals {
		r := o
		r.ID, r.Voucher, r.Date = "red-"+o.ID, "红-"+o.ID, events.NewDate(2020, 11, 30)
		r.Body = events.Reversal{EventID: o.ID, Reason: "冲销", Body: o.Body}
		with = append(with, o, r)
	}
	f := projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020}
	for _, spec := range projections.Specs {
		want, err := spec.Fold(slices.Values(base), f, events.DefaultCatalog())
		if err != nil {
			t.Fatal(err)
		}
		got, err := spec.Fold(slices.Values(with), f, events.DefaultCatalog())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got.Rows, want.Rows, func(a, b projections.Row) bool {
			return a.Key == b.Key && slices.Equal(a.Amounts, b.Amounts) && slices.Equal(a.Quantities, b.Quantities)
		}) || !slices.Equal(got.Facts, want.Facts) || got.Note != want.Note {
			t.Errorf("%s: reversed events still show:\n got %+v %+v %q\nwant %+v %+v %q", spec.Name, got.Rows, got.Facts, got.Note, want.Rows, want.Facts, want.Note)
		}
	}
}

// TestCarryForward: the balances carried forward add up to the year's
// 年末结转和结余; a unit that overspent a fund cannot be closed.
func TestCarryForward(t *testing.T) {
	evs := sampleEvents(t)
	carried, err := projections.CarryForward(slices.Values(evs), budgetledger.SampleLedgerName, 2020)
	if err != nil {
		t.Fatal(err)
	}
	var sum events.Amount
	for _, e := range carried {
		if e.FiscalYear != 2021 || e.Date != events.NewDate(2021, 1, 1) || e.Unit == "" {
			t.Errorf("carried %+v", e)
		}
		sum += events.BodyAmount(e.Body)
	}
	st, _ := projections.FoldIncomeExpenditure(slices.Values(evs), projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020})
	if closing, _ := st.Row("closing_balance"); closing.Amount() != sum || projections.Wan(sum) != "146.35" {
		t.Errorf("carried %s, 年末结转和结余 %s (published 146.35)", sum, closing.Amount())
	}
	over := events.Event{ID: "over", Ledger: "l", Unit: "本级", FiscalYear: 2020, Date: events.NewDate(2020, 5, 1), Source: "s", Voucher: "v",
		Body: events.Expenditure{Functional: "2019999", Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 1_00}}
	_, err = projections.CarryForward(slices.Values([]events.Event{over}), "l", 2020)
	if events.CodeOf(err) != events.CodeNegativeBalance {
		t.Errorf("overspent: %v", err)
	}
}
