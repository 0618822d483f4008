package projections

import (
	"fmt"
	"strconv"

	"github.com/budgetledger/budgetledger/events"
)

// ThreePublicTitle is the official title of the "三公"经费 table (T7).
const ThreePublicTitle = "一般公共预算财政拨款“三公”经费支出决算表"

var threePublicLayout = loadLayout("three-public")

// FoldThreePublic folds the "三公"经费 (因公出国（境）费, 公务用车购置及运行维护
// 费, 公务接待费) paid by 一般公共预算财政拨款 into T7: 预算数 is the 年初预算 of
// their 经济分类 款 (30212, 31013, 30231, 30217), 决算数 the spending on them,
// basic and project alike. The official reception counts (批次, 人次, 外宾) the
// 公务接待费 payments carry are given as facts.
func FoldThreePublic(evs Events, f Filter, _ *events.Catalog) (*Statement, error) {
	budget, actual := map[string]int64{}, map[string]int64{}
	var batches, visitors, foreign int
	for e := range effective(evs) {
		if !f.Match(&e) {
			continue
		}
		var err error
		switch b := e.Body.(type) {
		case events.Expenditure:
			if b.Fund != events.FundGeneralBudget {
				continue
			}
			v := actual[b.Economic]
			err = add(&v, int64(b.Amount))
			actual[b.Economic] = v
			if r := b.Reception; r != nil {
				batches += r.Batches
				visitors += r.Visitors
				foreign += r.ForeignVisitors
			}
		case events.Budget:
			if b.Fund != events.FundGeneralBudget || b.Stage != events.BudgetInitial {
				continue
			}
			v := budget[b.Economic]
			err = add(&v, int64(b.Amount))
			budget[b.Economic] = v
		}
		if err != nil {
			return nil, fmt.Errorf("fold %s: event %s: %w", ThreePublicTitle, e.ID, err)
		}
	}
	sum := func(m map[string]int64, codes ...string) (events.Amount, error) {
		var s int64
		for _, c := range codes {
			if err := add(&s, m[c]); err != nil {
				return 0, err
			}
		}
		return events.Amount(s), nil
	}
	st := &Statement{Title: ThreePublicTitle, Ledger: f.Ledger, Unit: f.Unit, FiscalYear: f.FiscalYear,
		AsOf: f.asOf(), Columns: []string{"预算数", "决算数"}}
	for _, l := range threePublicLayout {
		var codes []string
		switch l.key {
		case "total":
			codes = []string{"30212", "31013", "30231", "30217"}
		case "vehicles":
			codes = []string{"31013", "30231"}
		default:
			codes = []string{l.code}
		}
		b, err := sum(budget, codes...)
		if err != nil {
			return nil, fmt.Errorf("fold %s: %w", ThreePublicTitle, err)
		}
		a, err := sum(actual, codes...)
		if err != nil {
			return nil, fmt.Errorf("fold %s: %w", ThreePublicTitle, err)
		}
		st.Rows = append(st.Rows, Row{Key: l.key, Code: l.code, Name: l.name, Amounts: []events.Amount{b, a}})
	}
	st.Facts = []Fact{
		{Key: "reception:batches", Name: "公务接待批次", Value: strconv.Itoa(batches)},
		{Key: "reception:visitors", Name: "公务接待人次", Value: strconv.Itoa(visitors)},
		{Key: "reception:foreign_visitors", Name: "其中：外宾人次", Value: strconv.Itoa(foreign)},
	}
	return st, nil
}
