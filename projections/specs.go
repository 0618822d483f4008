package projections

import (
	"fmt"
	"slices"

	"github.com/budgetledger/budgetledger/events"
)

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
	{"three-public", ThreePublicTitle, FoldThreePublic},
	{"government-fund", GovernmentFundTitle, FoldGovernmentFund},
	{"state-capital", StateCapitalTitle, FoldStateCapital},
	{"balance-sheet", BalanceSheetTitle, FoldBalanceSheet},
	{"notes", NotesTitle, FoldNotes},
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

// CheckCatalog reports catalog codes an accepted event could carry but no
// statement could place: a 功能分类 类 without a line in the 收入支出决算总表,
// or a 经济分类 类 that is neither 人员经费 nor 公用经费. ledgerd refuses such a
// catalog at start, so that every event it accepts can be folded.
func CheckCatalog(cat *events.Catalog) error {
	for _, c := range cat.Codes(events.Functional, events.Class) {
		if functionalLine(c) < 0 {
			return fmt.Errorf("catalog: 功能分类 类 %s %s has no line in the %s layout: %w", c, cat.Name(events.Functional, c), IncomeExpenditureTitle, ErrUnplaced)
		}
	}
	for _, c := range cat.Codes(events.Economic, events.Class) {
		if !slices.Contains(personnelClasses, c) && !slices.Contains(publicClasses, c) {
			return fmt.Errorf("catalog: 经济分类 类 %s %s is neither 人员经费 (301, 303) nor 公用经费 (302, 310): %w", c, cat.Name(events.Economic, c), ErrUnplaced)
		}
	}
	return nil
}
