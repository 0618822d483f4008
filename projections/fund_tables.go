package projections

import (
	"fmt"
	"slices"

	"github.com/budgetledger/budgetledger/events"
)

// The two fund tables print the money of one fiscal fund by 功能分类: what was
// brought forward, received, spent and carried forward. A department
// without such money prints the table empty with the official sentence.
const (
	GovernmentFundTitle = "政府性基金预算财政拨款收入支出决算表"
	StateCapitalTitle   = "国有资本经营预算财政拨款收入支出决算表"
)

var (
	governmentFundColumns = []string{"年初结转和结余", "本年收入", "本年支出小计", "基本支出", "项目支出", "年末结转和结余"}
	stateCapitalColumns   = []string{"年初结转和结余", "本年收入", "本年支出合计", "年末结转和结余"}
)

// FoldGovernmentFund folds the 政府性基金预算财政拨款 money into T8.
func FoldGovernmentFund(evs Events, f Filter, cat *events.Catalog) (*Statement, error) {
	return foldFundTable(evs, f, cat, events.FundGovernmentFund, GovernmentFundTitle, governmentFundColumns, true)
}

// FoldStateCapital folds the 国有资本经营预算财政拨款 money into T9.
func FoldStateCapital(evs Events, f Filter, cat *events.Catalog) (*Statement, error) {
	return foldFundTable(evs, f, cat, events.FundStateCapital, StateCapitalTitle, stateCapitalColumns, false)
}

// foldFundTable accumulates, per 功能分类 项, the opening balance, income,
// basic and project spending of one fund (its opening balances name their
// 项), and each row's 年末 is 年初 + 收入 − 支出.
func foldFundTable(evs Events, f Filter, cat *events.Catalog, fund events.Fund, title string, columns []string, byKind bool) (*Statement, error) {
	const opening, income, basic, project = 0, 1, 2, 3
	t := newFunctionalTable(4, f.FiscalYear)
	names := newNames(f)
	hasMoney := false
	for e := range effective(evs) {
		if !f.Match(&e) {
			continue
		}
		var err error
		switch b := e.Body.(type) {
		case events.UnitRegistered:
			names.add(e.Unit, b)
		case events.Appropriation:
			if b.Fund == fund {
				hasMoney = true
				err = t.add(&e, b.Functional, income, b.Amount)
			}
		case events.Expenditure:
			if b.Fund == fund {
				hasMoney = true
				col := project
				if b.ExpenditureKind == events.ExpenditureBasic {
					col = basic
				}
				err = t.add(&e, b.Functional, col, b.Amount)
			}
		case events.OpeningBalance:
			if b.Fund == fund {
				hasMoney = true
				err = t.add(&e, b.Functional, opening, b.Amount)
			}
		case events.OpeningAdjusted:
			if b.Fund == fund {
				hasMoney = true
				err = t.add(&e, b.Functional, opening, events.BodyAmount(b))
			}
		}
		if err != nil {
			return nil, fmt.Errorf("fold %s: %w", title, err)
		}
	}
	rows, err := t.rowsWith(cat, func(code string, v []int64) ([]events.Amount, error) {
		open := v[opening]
		spent := v[basic]
		closing := open
		if err := errorsJoin(add(&spent, v[project]), add(&closing, v[income]), add(&closing, -spent)); err != nil {
			return nil, err
		}
		if byKind {
			return amounts(open, v[income], spent, v[basic], v[project], closing), nil
		}
		return amounts(open, v[income], spent, closing), nil
	})
	if err != nil {
		return nil, fmt.Errorf("fold %s: %w", title, err)
	}
	st := &Statement{Title: title, Ledger: f.Ledger, Unit: f.Unit, FiscalYear: f.FiscalYear, AsOf: f.asOf(),
		Columns: columns, Rows: rows}
	// Money seen but all reversed is no money: the net sums decide.
	hasMoney = hasMoney && slices.ContainsFunc(rows[0].Amounts, func(a events.Amount) bool { return a != 0 })
	if !hasMoney {
		// The official sentence of an empty fund table.
		st.Note = "说明：" + names.subject() + "本年度没有" + fund.Name() + "财政拨款收入和支出，故本表无数据。"
	}
	return st, nil
}

func amounts(v ...int64) []events.Amount {
	out := make([]events.Amount, len(v))
	for i, a := range v {
		out[i] = events.Amount(a)
	}
	return out
}

// names remembers the registered names of the units a statement covers.
type names struct {
	f          Filter
	department string
	unit       string
}

func newNames(f Filter) *names { return &names{f: f} }

func (n *names) add(unit string, b events.UnitRegistered) {
	if n.department == "" {
		n.department = b.Department
	}
	if unit == n.f.Unit {
		n.unit = b.Name
	}
}

// subject is who the statement speaks of: the unit for a unit's statement,
// else the department, else (nothing registered) the ledger name.
func (n *names) subject() string {
	switch {
	case n.f.Unit != "" && n.unit != "":
		return n.unit
	case n.f.Unit != "":
		return n.f.Unit
	case n.department != "":
		return n.department
	case n.f.Ledger != "":
		return n.f.Ledger
	}
	return "本部门"
}
