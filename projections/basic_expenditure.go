package projections

import (
	"fmt"
	"slices"

	"github.com/budgetledger/budgetledger/events"
)

// BasicExpenditureTitle is the official title of the 一般公共预算财政拨款基本支出
// 决算表 (T6).
const BasicExpenditureTitle = "一般公共预算财政拨款基本支出决算表"

var basicExpenditureLayout = loadLayout("basic-expenditure")

// personnelClasses are the 经济分类 类 of 人员经费; 302 and 310 are 公用经费.
var (
	personnelClasses = []string{"301", "303"}
	publicClasses    = []string{"302", "310"}
)

// FoldBasicExpenditure folds the 基本支出 paid by 一般公共预算财政拨款 into T6, by
// 经济分类: every 类 and 款 of the official layout (zeros printed), plus any
// other 款 of those 类 that has an amount, and 人员经费合计 (301 + 303) and
// 公用经费合计 (302 + 310).
func FoldBasicExpenditure(evs Events, f Filter, cat *events.Catalog) (*Statement, error) {
	sections := map[string]int64{}
	for e := range effective(evs) {
		b, ok := e.Body.(events.Expenditure)
		if !ok || b.ExpenditureKind != events.ExpenditureBasic || b.Fund != events.FundGeneralBudget || !f.Match(&e) {
			continue
		}
		if cl := b.Economic[:3]; !slices.Contains(personnelClasses, cl) && !slices.Contains(publicClasses, cl) {
			return nil, fmt.Errorf("fold %s: event %s: 经济分类 %s is neither 人员经费 nor 公用经费: %w", BasicExpenditureTitle, e.ID, b.Economic, ErrUnplaced)
		}
		v := sections[b.Economic]
		if err := add(&v, int64(b.Amount)); err != nil {
			return nil, fmt.Errorf("fold %s: event %s: %w", BasicExpenditureTitle, e.ID, err)
		}
		sections[b.Economic] = v
	}
	// The printed 款 of each 类, with any other 款 that has an amount.
	blocks := map[string][]string{}
	var classOrder []string
	for _, l := range basicExpenditureLayout {
		if len(l.code) == 3 {
			classOrder = append(classOrder, l.code)
		} else if len(l.code) == 5 {
			blocks[l.code[:3]] = append(blocks[l.code[:3]], l.code)
		}
	}
	for code := range sections {
		if !slices.Contains(blocks[code[:3]], code) {
			blocks[code[:3]] = append(blocks[code[:3]], code)
		}
	}
	classSum := func(cl string) (int64, error) {
		var s int64
		for _, c := range blocks[cl] {
			if err := add(&s, sections[c]); err != nil {
				return 0, err
			}
		}
		return s, nil
	}
	name := func(code string) (string, error) {
		n := cat.NameIn(events.Economic, code, f.FiscalYear)
		if n == "" {
			return "", fmt.Errorf("fold %s: 经济分类 %s has no name in the catalog: %w", BasicExpenditureTitle, code, ErrUnplaced)
		}
		return n, nil
	}
	st := &Statement{Title: BasicExpenditureTitle, Ledger: f.Ledger, Unit: f.Unit, FiscalYear: f.FiscalYear,
		AsOf: f.asOf(), Columns: []string{"决算数"}}
	sideOf := map[string]string{}
	for _, l := range basicExpenditureLayout {
		if l.code != "" {
			sideOf[l.code[:3]] = l.side
		}
	}
	total := func(side string, classes []string) error {
		var s int64
		for _, cl := range classes {
			v, err := classSum(cl)
			if err != nil {
				return err
			}
			if err := add(&s, v); err != nil {
				return err
			}
		}
		key := "total:personnel"
		name := "人员经费合计"
		if side == "公用经费" {
			key, name = "total:public", "公用经费合计"
		}
		st.Rows = append(st.Rows, Row{Side: side, Key: key, Name: name, Amounts: []events.Amount{events.Amount(s)}})
		return nil
	}
	for i, cl := range classOrder {
		v, err := classSum(cl)
		if err != nil {
			return nil, err
		}
		n, err := name(cl)
		if err != nil {
			return nil, err
		}
		side := sideOf[cl]
		st.Rows = append(st.Rows, Row{Side: side, Key: "economic:" + cl, Code: cl, Name: n, Amounts: []events.Amount{events.Amount(v)}})
		codes := blocks[cl]
		slices.Sort(codes)
		for _, c := range codes {
			n, err := name(c)
			if err != nil {
				return nil, err
			}
			st.Rows = append(st.Rows, Row{Side: side, Key: "economic:" + c, Code: c, Name: n, Amounts: []events.Amount{events.Amount(sections[c])}})
		}
		// Close a side after its last 类.
		if i == len(classOrder)-1 || sideOf[classOrder[i+1]] != side {
			classes := personnelClasses
			if side == "公用经费" {
				classes = publicClasses
			}
			if err := total(side, classes); err != nil {
				return nil, fmt.Errorf("fold %s: %w", BasicExpenditureTitle, err)
			}
		}
	}
	return st, nil
}
