package projections

import (
	"errors"
	"fmt"

	"github.com/budgetledger/budgetledger/events"
)

// FiscalSummaryTitle is the official title of the 财政拨款收入支出决算总表 (T4).
const FiscalSummaryTitle = "财政拨款收入支出决算总表"

var (
	fiscalSummaryLayout = loadLayout("fiscal-summary")
	// The expenditure side's columns: 合计, then one per fiscal fund.
	fiscalSummaryColumns = []string{"合计", "一般公共预算财政拨款", "政府性基金预算财政拨款", "国有资本经营预算财政拨款"}
)

// FoldFiscalSummary folds the fiscal money only (appropriations, spending
// paid by a fiscal fund, fiscal opening balances) into T4. Its income side
// has one column; its expenditure side one column per fiscal fund.
func FoldFiscalSummary(evs Events, f Filter, _ *events.Catalog) (*Statement, error) {
	var (
		approp, opening [3]int64
		adjusted        [3]int64     // of opening: 年初调整
		lines           [35][3]int64 // by 功能分类 类 − 200, by fund
	)
	for e := range effective(evs) {
		if !f.Match(&e) {
			continue
		}
		var err error
		switch b := e.Body.(type) {
		case events.Appropriation:
			err = add(&approp[b.Fund-1], int64(b.Amount))
		case events.OpeningBalance:
			if b.Fund.Fiscal() {
				err = add(&opening[b.Fund-1], int64(b.Amount))
			}
		case events.OpeningAdjusted:
			if b.Fund.Fiscal() {
				err = errorsJoin(add(&opening[b.Fund-1], int64(events.BodyAmount(b))), add(&adjusted[b.Fund-1], int64(events.BodyAmount(b))))
			}
		case events.Expenditure:
			if !b.Fund.Fiscal() {
				continue
			}
			i := functionalLine(b.Functional)
			if i < 0 {
				return nil, fmt.Errorf("fold %s: event %s: 功能分类 %s: %w", FiscalSummaryTitle, e.ID, b.Functional, ErrUnplaced)
			}
			err = add(&lines[i][b.Fund-1], int64(b.Amount))
		}
		if err != nil {
			return nil, fmt.Errorf("fold %s: event %s: %w", FiscalSummaryTitle, e.ID, err)
		}
	}
	// byFund returns the four columns (合计 and the three funds).
	byFund := func(v [3]int64) ([]events.Amount, error) { return totalFirst(v[:]) }
	var spent, closing, grand [3]int64
	for _, l := range lines {
		for fund, a := range l {
			if err := add(&spent[fund], a); err != nil {
				return nil, err
			}
		}
	}
	for fund := range 3 {
		// 年末 = 年初 + 收入 − 支出, per fund (rule 8 of the published rules).
		closing[fund] = opening[fund]
		grand[fund] = spent[fund]
		if err := errors.Join(add(&closing[fund], approp[fund]), add(&closing[fund], -spent[fund]), add(&grand[fund], closing[fund])); err != nil {
			return nil, fmt.Errorf("fold %s: %w", FiscalSummaryTitle, err)
		}
	}
	var income, openingTotal int64
	for fund := range 3 {
		if err := add(&income, approp[fund]); err != nil {
			return nil, err
		}
		if err := add(&openingTotal, opening[fund]); err != nil {
			return nil, err
		}
	}
	one := func(v int64) []events.Amount { return []events.Amount{events.Amount(v)} }
	st := &Statement{
		Title: FiscalSummaryTitle, Ledger: f.Ledger, Unit: f.Unit, FiscalYear: f.FiscalYear, AsOf: f.asOf(),
		Columns:     fiscalSummaryColumns,
		SideColumns: map[string][]string{"收入": {"决算数"}},
	}
	for _, l := range fiscalSummaryLayout {
		r := Row{Side: l.side, Key: l.key, Code: l.code, Name: l.name}
		var err error
		switch l.key {
		case "appropriation:general_budget", "appropriation:government_fund", "appropriation:state_capital":
			r.Amounts = one(approp[fundOfKey(l.key)-1])
		case "opening_balance:general_budget", "opening_balance:government_fund", "opening_balance:state_capital":
			r.Amounts = one(opening[fundOfKey(l.key)-1])
		case "total:income":
			r.Amounts = one(income)
		case "opening_balance":
			r.Amounts = one(openingTotal)
		case "grand_total:income":
			g := income
			if err := add(&g, openingTotal); err != nil {
				return nil, fmt.Errorf("fold %s: %w", FiscalSummaryTitle, err)
			}
			r.Amounts = one(g)
		case "functional_lines":
			for _, fl := range incomeExpenditureLayout {
				if fl.code == "" {
					continue
				}
				amounts, err := byFund(lines[functionalLine(fl.code)])
				if err != nil {
					return nil, err
				}
				st.Rows = append(st.Rows, Row{Side: l.side, Key: fl.key, Code: fl.code, Name: fl.name, Amounts: amounts})
			}
			continue
		case "total:expenditure":
			r.Amounts, err = byFund(spent)
		case "closing_balance":
			r.Amounts, err = byFund(closing)
		case "grand_total:expenditure":
			r.Amounts, err = byFund(grand)
		default:
			return nil, fmt.Errorf("layout %s: unknown key %s", FiscalSummaryTitle, l.key)
		}
		if err != nil {
			return nil, fmt.Errorf("fold %s: %w", FiscalSummaryTitle, err)
		}
		st.Rows = append(st.Rows, r)
	}
	for i, a := range adjusted {
		if a != 0 {
			fund := events.Funds[i]
			st.Facts = append(st.Facts, Fact{Key: "opening_adjusted:" + fund.String(),
				Name: "年初财政拨款结转和结余中：" + fund.Name() + "年初调整（万元）", Value: Wan(events.Amount(a)),
				Money: true, Amount: events.Amount(a)})
		}
	}
	return st, nil
}

// fundOfKey reads the fund from a layout key such as
// "appropriation:general_budget".
func fundOfKey(key string) events.Fund {
	for i := len(key) - 1; i >= 0; i-- {
		if key[i] == ':' {
			f, _ := events.ParseFund(key[i+1:])
			return f
		}
	}
	return 0
}
