package projections

import (
	"fmt"
	"strconv"

	"github.com/budgetledger/budgetledger/events"
)

// IncomeExpenditureTitle is the official title of the 收入支出决算总表.
const IncomeExpenditureTitle = "收入支出决算总表"

var incomeExpenditureLayout = loadLayout("income-expenditure")

// IncomeExpenditure is the running state of the 收入支出决算总表 (T1): exact
// sums in 分 for every line. The zero value is an empty statement; Add folds
// one event in. It is a plain value so that it can be copied as a
// checkpoint.
type IncomeExpenditure struct {
	Appropriation        [3]int64 // by events.Fund - 1 (fiscal funds only)
	OtherIncome          [5]int64 // by events.IncomeKind - 1
	Expenditure          [35]int64
	NonFiscalSurplusUsed int64
	OpeningBalance       int64 // 年初结转和结余, adjustments included
	OpeningAdjusted      int64 // of which 年初调整 (以前年度调整)
	SurplusDistribution  int64
}

// functionalLine maps a 功能分类 类 code (201..234) to its index in
// Expenditure, or -1 when the layout has no line for it.
func functionalLine(code string) int {
	// Three digits by hand: this runs once per event of every T1 fold.
	if len(code) < 3 || code[0] != '2' || code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9' {
		return -1
	}
	n := int(code[1]-'0')*10 + int(code[2]-'0')
	if n >= len(IncomeExpenditure{}.Expenditure) || !t1Classes[n] {
		return -1
	}
	return n
}

var t1Classes = func() (m [35]bool) {
	for _, l := range incomeExpenditureLayout {
		if l.code != "" {
			n, _ := strconv.Atoi(l.code)
			m[n-200] = true
		}
	}
	return m
}()

// Add folds one event (already selected by a Filter) into s.
func (s *IncomeExpenditure) Add(e *events.Event) error {
	var err error
	switch b := e.Body.(type) {
	case events.Appropriation:
		err = add(&s.Appropriation[b.Fund-1], int64(b.Amount))
	case events.OtherIncome:
		err = add(&s.OtherIncome[b.IncomeKind-1], int64(b.Amount))
	case events.Expenditure:
		i := functionalLine(b.Functional)
		if i < 0 {
			return fmt.Errorf("event %s: 功能分类 %s: %w", e.ID, b.Functional, ErrUnplaced)
		}
		err = add(&s.Expenditure[i], int64(b.Amount))
	case events.OpeningBalance:
		err = add(&s.OpeningBalance, int64(b.Amount))
	case events.OpeningAdjusted:
		err = errorsJoin(add(&s.OpeningBalance, int64(events.BodyAmount(b))), add(&s.OpeningAdjusted, int64(events.BodyAmount(b))))
	case events.NonFiscalSurplusUsed:
		err = add(&s.NonFiscalSurplusUsed, int64(b.Amount))
	case events.SurplusDistribution:
		err = add(&s.SurplusDistribution, int64(b.Amount))
	case events.Reversal:
		red := *e
		if red.Body = negate(b.Body); red.Body == nil {
			return nil
		}
		return s.Add(&red)
	case events.Budget, events.UnitRegistered, events.AssetChanged, events.LiabilityChanged,
		events.ProcurementContracted, events.PerformanceEvaluated, events.YearEndClosed:
		// Budgets, registrations and balance sheet changes are not income
		// or expenditure.
	default:
		return fmt.Errorf("event %s: body %T: %w", e.ID, e.Body, ErrUnplaced)
	}
	if err != nil {
		return fmt.Errorf("event %s: %w", e.ID, err)
	}
	return nil
}

// FoldIncomeExpenditure folds the events f selects into the 收入支出决算总表.
func FoldIncomeExpenditure(evs Events, f Filter) (*Statement, error) {
	var s IncomeExpenditure
	var err error
	for e := range effective(evs) {
		if !f.Match(&e) {
			continue
		}
		if err = s.Add(&e); err != nil {
			return nil, fmt.Errorf("fold %s: %w", IncomeExpenditureTitle, err)
		}
	}
	return s.Statement(f)
}

// Statement renders the state as the official table, every line in printed
// order, zero lines included.
func (s *IncomeExpenditure) Statement(f Filter) (*Statement, error) {
	var income, expenditure int64
	for _, v := range s.Appropriation {
		if err := add(&income, v); err != nil {
			return nil, err
		}
	}
	for _, v := range s.OtherIncome {
		if err := add(&income, v); err != nil {
			return nil, err
		}
	}
	for _, v := range s.Expenditure {
		if err := add(&expenditure, v); err != nil {
			return nil, err
		}
	}
	grand := income
	if err := add(&grand, s.NonFiscalSurplusUsed); err != nil {
		return nil, err
	}
	if err := add(&grand, s.OpeningBalance); err != nil {
		return nil, err
	}
	// 年末结转和结余 is what remains: 总计 − 本年支出合计 − 结余分配. It may be
	// negative mid-year, and is printed as such.
	closing := grand
	if err := add(&closing, -expenditure); err != nil {
		return nil, err
	}
	if err := add(&closing, -s.SurplusDistribution); err != nil {
		return nil, err
	}

	st := &Statement{
		Title: IncomeExpenditureTitle, Ledger: f.Ledger, Unit: f.Unit, FiscalYear: f.FiscalYear,
		AsOf: f.asOf(), Columns: []string{"决算数"},
	}
	for _, l := range incomeExpenditureLayout {
		var v int64
		switch l.key {
		case "appropriation:general_budget":
			v = s.Appropriation[events.FundGeneralBudget-1]
		case "appropriation:government_fund":
			v = s.Appropriation[events.FundGovernmentFund-1]
		case "appropriation:state_capital":
			v = s.Appropriation[events.FundStateCapital-1]
		case "income:superior_grant":
			v = s.OtherIncome[events.IncomeSuperiorGrant-1]
		case "income:operations":
			v = s.OtherIncome[events.IncomeOperations-1]
		case "income:business":
			v = s.OtherIncome[events.IncomeBusiness-1]
		case "income:subordinate_remittance":
			v = s.OtherIncome[events.IncomeSubordinateRemittance-1]
		case "income:other":
			v = s.OtherIncome[events.IncomeOther-1]
		case "total:income":
			v = income
		case "non_fiscal_surplus_used":
			v = s.NonFiscalSurplusUsed
		case "opening_balance":
			v = s.OpeningBalance
		case "grand_total:income", "grand_total:expenditure":
			v = grand
		case "total:expenditure":
			v = expenditure
		case "surplus_distribution":
			v = s.SurplusDistribution
		case "closing_balance":
			v = closing
		default:
			i := functionalLine(l.code)
			if i < 0 {
				return nil, fmt.Errorf("layout line %s: unknown key", l.key)
			}
			v = s.Expenditure[i]
		}
		st.Rows = append(st.Rows, Row{Side: l.side, Key: l.key, Code: l.code, Name: l.name, Amounts: []events.Amount{events.Amount(v)}})
	}
	if s.OpeningAdjusted != 0 {
		// The official table has no line for it: shown under the table.
		st.Facts = append(st.Facts, Fact{Key: "opening_adjusted", Name: "年初结转和结余中：年初调整（以前年度调整）（万元）", Value: Wan(events.Amount(s.OpeningAdjusted)),
			Money: true, Amount: events.Amount(s.OpeningAdjusted)})
	}
	return st, nil
}
