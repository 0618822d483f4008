package projections

import "github.com/budgetledger/budgetledger/events"

// Fold is the signature every statement's fold has: the events, which of
// them count, and the catalog whose official names the statement prints.
type Fold func(evs Events, f Filter, cat *events.Catalog) (*Statement, error)

// Spec names a published statement.
type Spec struct {
	// Name is the statement's stable name in URLs and on the command line.
	Name  string
	Title string
	Fold  Fold
}

// Specs lists the statements, in the order the 部门决算 publishes them.
var Specs = []Spec{
	{"income-expenditure", IncomeExpenditureTitle, func(evs Events, f Filter, _ *events.Catalog) (*Statement, error) {
		return FoldIncomeExpenditure(evs, f)
	}},
	{"income", IncomeTitle, FoldIncome},
	{"expenditure", ExpenditureTitle, FoldExpenditure},
	{"fiscal-summary", FiscalSummaryTitle, FoldFiscalSummary},
	{"general-budget-expenditure", GeneralBudgetExpenditureTitle, FoldGeneralBudgetExpenditure},
	{"basic-expenditure", BasicExpenditureTitle, FoldBasicExpenditure},
}

// SpecByName returns the statement called name.
func SpecByName(name string) (Spec, bool) {
	for _, s := range Specs {
		if s.Name == name {
			return s, true
		}
	}
	return Spec{}, false
}
