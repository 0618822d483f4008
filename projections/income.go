package projections

import (
	"fmt"

	"github.com/budgetledger/budgetledger/events"
)

// IncomeTitle is the official title of the 收入决算表 (T2).
const IncomeTitle = "收入决算表"

// incomeColumns are T2's columns; the first is the sum of the others.
var incomeColumns = []string{"本年收入合计", "财政拨款收入", "上级补助收入", "事业收入", "经营收入", "附属单位上缴收入", "其他收入"}

// FoldIncome folds the events f selects into the 收入决算表: income by the
// 功能分类 it is intended for, by source.
func FoldIncome(evs Events, f Filter, cat *events.Catalog) (*Statement, error) {
	t := newFunctionalTable(len(incomeColumns)-1, f.FiscalYear)
	for e := range effective(evs) {
		if !f.Match(&e) {
			continue
		}
		var err error
		switch b := e.Body.(type) {
		case events.Appropriation:
			err = t.add(&e, b.Functional, 0, b.Amount)
		case events.OtherIncome:
			err = t.add(&e, b.Functional, int(b.IncomeKind), b.Amount)
		}
		if err != nil {
			return nil, fmt.Errorf("fold %s: %w", IncomeTitle, err)
		}
	}
	rows, err := t.rows(cat)
	if err != nil {
		return nil, fmt.Errorf("fold %s: %w", IncomeTitle, err)
	}
	return &Statement{Title: IncomeTitle, Ledger: f.Ledger, Unit: f.Unit, FiscalYear: f.FiscalYear,
		AsOf: f.asOf(), Columns: incomeColumns, Rows: rows}, nil
}

// ExpenditureTitle is the official title of the 支出决算表 (T3).
const ExpenditureTitle = "支出决算表"

var expenditureColumns = []string{"本年支出合计", "基本支出", "项目支出", "上缴上级支出", "经营支出", "对附属单位补助支出"}

// FoldExpenditure folds the events f selects into the 支出决算表: all
// spending, whatever paid it, by 功能分类 and kind.
func FoldExpenditure(evs Events, f Filter, cat *events.Catalog) (*Statement, error) {
	return foldExpenditureTable(evs, f, cat, ExpenditureTitle, expenditureColumns, func(b events.Expenditure) (int, bool) {
		return int(b.ExpenditureKind) - 1, true
	})
}

// GeneralBudgetExpenditureTitle is the official title of the 一般公共预算财政拨款
// 支出决算表 (T5).
const GeneralBudgetExpenditureTitle = "一般公共预算财政拨款支出决算表"

var generalBudgetColumns = []string{"合计", "基本支出", "项目支出"}

// FoldGeneralBudgetExpenditure folds the spending paid by 一般公共预算财政拨款
// into T5. Fiscal appropriations fund only 基本支出 and 项目支出; spending of
// another kind paid from them has no column and is an error.
func FoldGeneralBudgetExpenditure(evs Events, f Filter, cat *events.Catalog) (*Statement, error) {
	return foldExpenditureTable(evs, f, cat, GeneralBudgetExpenditureTitle, generalBudgetColumns, func(b events.Expenditure) (int, bool) {
		if b.Fund != events.FundGeneralBudget {
			return -1, true
		}
		switch b.ExpenditureKind {
		case events.ExpenditureBasic:
			return 0, true
		case events.ExpenditureProject:
			return 1, true
		}
		return -1, false
	})
}

// foldExpenditureTable folds expenditures into a functional table; column
// says which detail column an expenditure goes to (-1: not in this table;
// false: it belongs here but has no column, an error).
func foldExpenditureTable(evs Events, f Filter, cat *events.Catalog, title string, columns []string,
	column func(events.Expenditure) (int, bool)) (*Statement, error) {
	t := newFunctionalTable(len(columns)-1, f.FiscalYear)
	for e := range effective(evs) {
		b, ok := e.Body.(events.Expenditure)
		if !ok || !f.Match(&e) {
			continue
		}
		col, ok := column(b)
		if !ok {
			return nil, fmt.Errorf("fold %s: event %s: %s paid by %s: %w", title, e.ID, b.ExpenditureKind.Name(), b.Fund.Name(), ErrUnplaced)
		}
		if col < 0 {
			continue
		}
		if err := t.add(&e, b.Functional, col, b.Amount); err != nil {
			return nil, fmt.Errorf("fold %s: %w", title, err)
		}
	}
	rows, err := t.rows(cat)
	if err != nil {
		return nil, fmt.Errorf("fold %s: %w", title, err)
	}
	return &Statement{Title: title, Ledger: f.Ledger, Unit: f.Unit, FiscalYear: f.FiscalYear,
		AsOf: f.asOf(), Columns: columns, Rows: rows}, nil
}
