package checks

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Row names of the fixed layouts, as the official tables print them.
var (
	t1Income = []string{"一、一般公共预算财政拨款收入", "二、政府性基金预算财政拨款收入", "三、国有资本经营预算财政拨款收入",
		"四、上级补助收入", "五、事业收入", "六、经营收入", "七、附属单位上缴收入", "八、其他收入"}
	fundNames = []string{"一、一般公共预算财政拨款", "二、政府性基金预算财政拨款", "三、国有资本经营预算财政拨款"}
)

// expenditureLines are the rows of a table's expenditure side that carry a
// 功能分类 类 code (the 24 lines), or, for tables printed without codes, the
// rows between the first row and 本年支出合计.
func expenditureLines(t *Table) []Row {
	var out []Row
	for _, r := range t.Rows {
		if r.Side == "支出" && r.Name != "本年支出合计" && r.Name != "结余分配" && r.Name != "年末结转和结余" &&
			r.Name != "年末财政拨款结转和结余" && r.Name != "总计" {
			out = append(out, r)
		}
	}
	return out
}

// incomeExpenditure: rules 1 and 2 on the 收入支出决算总表.
func (c *checker) incomeExpenditure() {
	t := c.r.Tables["income-expenditure"]
	if t == nil {
		c.skip("1", "收入支出决算总表 totals", "income-expenditure")
		return
	}
	var income side
	for _, n := range t1Income {
		income = income.plus(c.must(t, "收入", n, 0, 0))
	}
	c.compare("1", "收入支出决算总表: 本年收入合计 = the eight income lines", c.must(t, "收入", "本年收入合计", 0, 0), income)
	var spent side
	for _, r := range expenditureLines(t) {
		spent = spent.plus(cellOf(t, r, 0))
	}
	c.compare("1", "收入支出决算总表: 本年支出合计 = the 24 expenditure lines", c.must(t, "支出", "本年支出合计", 0, 0), spent)
	totalIn := c.must(t, "收入", "总计", 0, 0)
	totalOut := c.must(t, "支出", "总计", 0, 0)
	c.compare("2", "收入支出决算总表: 总计 = 本年收入合计 + 使用非财政拨款结余 + 年初结转和结余", totalIn,
		sum(c.must(t, "收入", "本年收入合计", 0, 0), c.must(t, "收入", "使用非财政拨款结余", 0, 0), c.must(t, "收入", "年初结转和结余", 0, 0)))
	c.compare("2", "收入支出决算总表: 总计 = 本年支出合计 + 结余分配 + 年末结转和结余", totalOut,
		sum(c.must(t, "支出", "本年支出合计", 0, 0), c.must(t, "支出", "结余分配", 0, 0), c.must(t, "支出", "年末结转和结余", 0, 0)))
	c.compare("2", "收入支出决算总表: 总计 (收入) = 总计 (支出)", totalIn, totalOut)
}

// functionalTree: rule 3 on a table by 功能分类: in every column, 合计 = Σ 类,
// each 类 = Σ its 款, each 款 = Σ its 项; and, when sumColumns (rule 5 for the
// 支出决算表, the same identity for the others), the first column = Σ the
// other columns.
func (c *checker) functionalTree(name string, sumColumns bool) {
	t := c.r.Tables[name]
	if t == nil {
		return
	}
	title := tableTitle(name)
	byCode := map[string]Row{}
	var total Row
	for _, r := range t.Rows {
		if r.Code == "" {
			total = r
		} else {
			byCode[r.Code] = r
		}
	}
	for col := range t.Columns {
		children := map[string][]Row{}
		for code, r := range byCode {
			parent := ""
			switch len(code) {
			case 5:
				parent = code[:3]
			case 7:
				parent = code[:5]
			}
			children[parent] = append(children[parent], r)
		}
		for _, parent := range slices.Sorted(maps.Keys(children)) {
			kids := children[parent]
			slices.SortFunc(kids, func(a, b Row) int { return strings.Compare(a.Code, b.Code) })
			var s side
			for _, k := range kids {
				s = s.plus(cellOf(t, k, col))
			}
			if parent == "" {
				c.compare("3", fmt.Sprintf("%s %s: 合计 = Σ 类", title, t.Columns[col]), cellOf(t, total, col), s)
				continue
			}
			p, ok := byCode[parent]
			if !ok {
				c.results = append(c.results, Result{Rule: "3", Check: fmt.Sprintf("%s: %s has its parent row", title, kids[0].Code), Status: Fail,
					Note: "no row for " + parent})
				continue
			}
			c.compare("3", fmt.Sprintf("%s %s: %s %s = Σ its %s", title, t.Columns[col], p.Code, p.Name, map[int]string{3: "款", 5: "项"}[len(parent)]),
				cellOf(t, p, col), s)
		}
	}
	if sumColumns && len(t.Columns) > 1 {
		for _, r := range append([]Row{total}, rowsByCode(t)...) {
			var s side
			for col := 1; col < len(t.Columns); col++ {
				s = s.plus(cellOf(t, r, col))
			}
			c.compare(map[bool]string{true: "5", false: "3"}[name == "expenditure"], fmt.Sprintf("%s %s: %s = Σ the other columns", title, strings.TrimSpace(r.Code+" "+r.Name), t.Columns[0]), cellOf(t, r, 0), s)
		}
	}
}

func rowsByCode(t *Table) []Row {
	var out []Row
	for _, r := range t.Rows {
		if r.Code != "" {
			out = append(out, r)
		}
	}
	return out
}

// incomeAgainstT1: rule 4, the 收入决算表's 合计 against the 收入支出决算总表.
func (c *checker) incomeAgainstT1() {
	t1, t2 := c.r.Tables["income-expenditure"], c.r.Tables["income"]
	if t1 == nil || t2 == nil {
		return
	}
	total := c.must(t2, "", "合计", 0, 0)
	c.compare("4", "收入决算表 合计 = 收入支出决算总表 本年收入合计", total, c.must(t1, "收入", "本年收入合计", 0, 0))
	c.compare("4", "收入决算表 财政拨款收入 = 收入支出决算总表 一 + 二 + 三", c.must(t2, "", "合计", 0, 1),
		sum(c.must(t1, "收入", t1Income[0], 0, 0), c.must(t1, "收入", t1Income[1], 0, 0), c.must(t1, "收入", t1Income[2], 0, 0)))
	for i := 2; i < len(t2.Columns) && i+1 < len(t1Income); i++ {
		c.compare("4", fmt.Sprintf("收入决算表 %s = 收入支出决算总表 %s", t2.Columns[i], t1Income[i+1]),
			c.must(t2, "", "合计", 0, i), c.must(t1, "收入", t1Income[i+1], 0, 0))
	}
}

// expenditureAgainstT1: rule 5, the 支出决算表's 类 rows against the 24 lines.
func (c *checker) expenditureAgainstT1() {
	t1, t3 := c.r.Tables["income-expenditure"], c.r.Tables["expenditure"]
	if t1 == nil || t3 == nil {
		return
	}
	c.compare("5", "支出决算表 合计 = 收入支出决算总表 本年支出合计", c.must(t3, "", "合计", 0, 0), c.must(t1, "支出", "本年支出合计", 0, 0))
	classes := map[string]Row{}
	for _, r := range t3.Rows {
		if len(r.Code) == 3 {
			classes[r.Name] = r
		}
	}
	for _, l := range expenditureLines(t1) {
		name := l.Name
		if i := strings.Index(name, "、"); i >= 0 {
			name = name[i+len("、"):]
		}
		var t3side side
		if r, ok := classes[name]; ok {
			t3side = cellOf(t3, r, 0)
		} else {
			t3side = side{cells: 0}
		}
		left := cellOf(t1, l, 0)
		if left.cents == 0 && t3side.cells == 0 {
			continue // a zero line the 支出决算表 rightly leaves out
		}
		c.compare("5", "收入支出决算总表 "+l.Name+" = 支出决算表 类 "+name, left, t3side)
	}
}

// fiscalSummary: rule 6 (income lines against T1; per fund, 收入 + 年初 =
// 支出 + 年末) and rule 8 (the roll-forward, fiscal and non-fiscal).
func (c *checker) fiscalSummary() {
	t4 := c.r.Tables["fiscal-summary"]
	if t4 == nil {
		return
	}
	if t1 := c.r.Tables["income-expenditure"]; t1 != nil {
		for i, n := range fundNames {
			c.compare("6", "财政拨款收入支出决算总表 "+n+" = 收入支出决算总表 "+t1Income[i], c.must(t4, "收入", n, 0, 0), c.must(t1, "收入", t1Income[i], 0, 0))
		}
		// Non-fiscal money rolls forward on its own (rule 8): the parts of
		// T1 that are not in T4.
		nonFiscal := func(name4, name1, s string) side {
			return c.must(t1, s, name1, 0, 0).minus(c.must(t4, s, name4, 0, 0))
		}
		closing := nonFiscal("年末财政拨款结转和结余", "年末结转和结余", "支出")
		opening := nonFiscal("年初财政拨款结转和结余", "年初结转和结余", "收入")
		income := nonFiscal("本年收入合计", "本年收入合计", "收入")
		spent := nonFiscal("本年支出合计", "本年支出合计", "支出")
		c.compare("8", "non-fiscal: 年末 = 年初 + 收入 − 支出 + 使用非财政拨款结余 − 结余分配 (收入支出决算总表 less 财政拨款收入支出决算总表)",
			closing, opening.plus(income).minus(spent).plus(c.must(t1, "收入", "使用非财政拨款结余", 0, 0)).minus(c.must(t1, "支出", "结余分配", 0, 0)))
	}
	var opening side
	for _, n := range fundNames {
		opening = opening.plus(c.must(t4, "收入", n, 1, 0))
	}
	c.compare("6", "财政拨款收入支出决算总表: 年初财政拨款结转和结余 = Σ its funds", c.must(t4, "收入", "年初财政拨款结转和结余", 0, 0), opening)
	c.compare("6", "财政拨款收入支出决算总表: 总计 (收入) = 本年收入合计 + 年初财政拨款结转和结余", c.must(t4, "收入", "总计", 0, 0),
		c.must(t4, "收入", "本年收入合计", 0, 0).plus(c.must(t4, "收入", "年初财政拨款结转和结余", 0, 0)))
	c.compare("6", "财政拨款收入支出决算总表: 总计 (收入) = 总计 (支出)", c.must(t4, "收入", "总计", 0, 0), c.must(t4, "支出", "总计", 0, 0))
	for col := range t4.Columns {
		c.compare("6", "财政拨款收入支出决算总表 "+t4.Columns[col]+": 总计 = 本年支出合计 + 年末财政拨款结转和结余", c.must(t4, "支出", "总计", 0, col),
			c.must(t4, "支出", "本年支出合计", 0, col).plus(c.must(t4, "支出", "年末财政拨款结转和结余", 0, col)))
		var spent side
		for _, r := range expenditureLines(t4) {
			spent = spent.plus(cellOf(t4, r, col))
		}
		c.compare("6", "财政拨款收入支出决算总表 "+t4.Columns[col]+": 本年支出合计 = the 24 lines", c.must(t4, "支出", "本年支出合计", 0, col), spent)
	}
	for i, n := range fundNames {
		col := i + 1
		c.compare("8", "fiscal roll-forward, "+n+": 年末 = 年初 + 收入 − 支出",
			c.must(t4, "支出", "年末财政拨款结转和结余", 0, col),
			c.must(t4, "收入", n, 1, 0).plus(c.must(t4, "收入", n, 0, 0)).minus(c.must(t4, "支出", "本年支出合计", 0, col)))
	}
}

// generalBudget: rule 7, the 一般公共预算财政拨款支出决算表 against T4 and T6.
func (c *checker) generalBudget() {
	t5 := c.r.Tables["general-budget-expenditure"]
	if t5 == nil {
		return
	}
	if t4 := c.r.Tables["fiscal-summary"]; t4 != nil {
		c.compare("7", "一般公共预算财政拨款支出决算表 合计 = 财政拨款收入支出决算总表 本年支出合计 (一般公共预算)",
			c.must(t5, "", "合计", 0, 0), c.must(t4, "支出", "本年支出合计", 0, 1))
		classes := map[string]Row{}
		for _, r := range t5.Rows {
			if len(r.Code) == 3 {
				classes[r.Name] = r
			}
		}
		for _, l := range expenditureLines(t4) {
			name := l.Name[strings.Index(l.Name, "、")+len("、"):]
			left := cellOf(t4, l, 1)
			r, ok := classes[name]
			if !ok && left.cents == 0 {
				continue
			}
			right := side{}
			if ok {
				right = cellOf(t5, r, 0)
			}
			c.compare("7", "财政拨款收入支出决算总表 "+l.Name+" (一般公共预算) = 一般公共预算财政拨款支出决算表 类 "+name, left, right)
		}
	}
	if t6 := c.r.Tables["basic-expenditure"]; t6 != nil {
		c.compare("7", "一般公共预算财政拨款支出决算表 基本支出 = 基本支出决算表 人员经费合计 + 公用经费合计",
			c.must(t5, "", "合计", 0, 1), c.must(t6, "", "人员经费合计", 0, 0).plus(c.must(t6, "", "公用经费合计", 0, 0)))
	}
}

// basicExpenditure: rule 3 on the 经济分类 (each 类 = Σ its 款) and rule 7
// (人员经费 = 301 + 303, 公用经费 = 302 + 310).
func (c *checker) basicExpenditure() {
	t := c.r.Tables["basic-expenditure"]
	if t == nil {
		return
	}
	classes := map[string]side{}
	sums := map[string]side{}
	for _, r := range t.Rows {
		switch len(r.Code) {
		case 3:
			classes[r.Code] = cellOf(t, r, 0)
		case 5:
			sums[r.Code[:3]] = sums[r.Code[:3]].plus(cellOf(t, r, 0))
		}
	}
	for _, cl := range []string{"301", "302", "303", "310"} {
		if _, ok := classes[cl]; ok {
			c.compare("3", "基本支出决算表: 类 "+cl+" = Σ its 款", classes[cl], sums[cl])
		}
	}
	c.compare("7", "基本支出决算表: 人员经费合计 = 301 + 303", c.must(t, "", "人员经费合计", 0, 0), classes["301"].plus(classes["303"]))
	c.compare("7", "基本支出决算表: 公用经费合计 = 302 + 310", c.must(t, "", "公用经费合计", 0, 0), classes["302"].plus(classes["310"]))
}

// threePublic: rule 9, the "三公" table's own sums and its 决算数 against
// the 基本支出决算表.
func (c *checker) threePublic() {
	t := c.r.Tables["three-public"]
	if t == nil {
		return
	}
	for col := range t.Columns {
		c.compare("9", "\"三公\"经费 "+t.Columns[col]+": 合计 = 因公出国（境）费 + 公务用车购置及运行维护费 + 公务接待费", c.must(t, "", "合计", 0, col),
			sum(c.must(t, "", "因公出国（境）费", 0, col), c.must(t, "", "公务用车购置及运行维护费", 0, col), c.must(t, "", "公务接待费", 0, col)))
		c.compare("9", "\"三公\"经费 "+t.Columns[col]+": 公务用车购置及运行维护费 = 购置费 + 运行维护费", c.must(t, "", "公务用车购置及运行维护费", 0, col),
			c.must(t, "", "公务用车购置费", 0, col).plus(c.must(t, "", "公务用车运行维护费", 0, col)))
	}
	t6 := c.r.Tables["basic-expenditure"]
	if t6 == nil {
		return
	}
	var basic side
	for _, code := range []string{"30212", "31013", "30231", "30217"} {
		for _, r := range t6.Rows {
			if r.Code == code {
				basic = basic.plus(cellOf(t6, r, 0))
			}
		}
	}
	// T6 holds basic spending only, the "三公" table basic and project
	// spending: the basic part can never exceed the whole.
	c.atMost("9", "基本支出决算表 30212 + 31013 + 30231 + 30217 ≤ \"三公\"经费 决算数", basic, c.must(t, "", "合计", 0, 1))
}

// balanceSheet: rule 10, in both columns.
func (c *checker) balanceSheet() {
	t := c.r.Tables["balance-sheet"]
	if t == nil {
		return
	}
	for col := range t.Columns {
		g := func(name string) side { return c.must(t, "", name, 0, col) }
		fixed := sum(g("其中：1.房屋（平方米）"), g("2.通用设备（台/套/辆）"), g("3.专用设备（台/套）"), g("4.其他固定资产"))
		c.compare("10", "资产负债情况表 "+t.Columns[col]+": 固定资产 = 房屋 + 通用设备 + 专用设备 + 其他固定资产", g("（二）固定资产"), fixed)
		assets := sum(g("（一）流动资产"), g("（二）固定资产"), g("（三）长期股权投资"), g("（四）长期债券投资"), g("（五）在建工程"),
			g("（六）无形资产"), g("（七）其他资产")).minus(g("减：累计折旧及减值准备")).minus(g("减：累计摊销"))
		c.compare("10", "资产负债情况表 "+t.Columns[col]+": 资产合计 = 流动 + 固定 − 累计折旧 + 长期投资 + 在建工程 + 无形 − 累计摊销 + 其他", g("一、资产合计"), assets)
		c.compare("10", "资产负债情况表 "+t.Columns[col]+": 净资产合计 = 资产合计 − 负债合计", g("三、净资产合计"), g("一、资产合计").minus(g("二、负债合计")))
	}
}

func tableTitle(name string) string {
	return map[string]string{
		"income": "收入决算表", "expenditure": "支出决算表", "general-budget-expenditure": "一般公共预算财政拨款支出决算表",
		"government-fund": "政府性基金预算财政拨款收入支出决算表", "state-capital": "国有资本经营预算财政拨款收入支出决算表",
	}[name]
}

// fundRollForward: rule 8 for the fund tables, row by row: 年末 = 年初 +
// 本年收入 − 本年支出 (the columns are 年初, 收入, 支出 [, 基本, 项目], 年末).
func (c *checker) fundRollForward(name string) {
	t := c.r.Tables[name]
	if t == nil || len(t.Columns) < 4 {
		return
	}
	last := len(t.Columns) - 1
	for _, r := range t.Rows {
		c.compare("8", fmt.Sprintf("%s %s: 年末 = 年初 + 本年收入 − 本年支出", tableTitle(name), strings.TrimSpace(r.Code+" "+r.Name)),
			cellOf(t, r, last), cellOf(t, r, 0).plus(cellOf(t, r, 1)).minus(cellOf(t, r, 2)))
		if len(t.Columns) == 6 {
			c.compare("8", fmt.Sprintf("%s %s: 本年支出 = 基本支出 + 项目支出", tableTitle(name), strings.TrimSpace(r.Code+" "+r.Name)),
				cellOf(t, r, 2), cellOf(t, r, 3).plus(cellOf(t, r, 4)))
		}
	}
}

// runningCosts: rule 11, 机关运行经费 (a figure of the narrative) cannot
// exceed 公用经费合计 of the 基本支出决算表, of which it is a part.
func (c *checker) runningCosts() {
	notes, t6 := c.r.Tables["notes"], c.r.Tables["basic-expenditure"]
	if notes == nil || t6 == nil {
		return
	}
	for _, r := range notes.Rows {
		if r.Key == "running_costs" {
			c.atMost("11", "机关运行经费 ≤ 基本支出决算表 公用经费合计", cellOf(notes, r, 0), c.must(t6, "", "公用经费合计", 0, 0))
		}
	}
}

// NextYear is the prefix of the tables of the following fiscal year in a
// Report, which rule 12 compares with this year's.
const NextYear = "next:"

// carryForward: rule 12, next year's 年初结转和结余 is this year's 年末结转和
// 结余, in all and (财政拨款) by fund, net of next year's 年初调整 (以前年度
// 调整), which the statements show as facts.
func (c *checker) carryForward() {
	t1, n1 := c.r.Tables["income-expenditure"], c.r.Tables[NextYear+"income-expenditure"]
	if t1 == nil || n1 == nil {
		return
	}
	// Adjustments of the closed year (年初调整) are shown under next year's
	// tables; the rule holds net of them.
	adjusted := func(t *Table, key string) side {
		for _, r := range t.Rows {
			if r.Key == key {
				return cellOf(t, r, 0)
			}
		}
		return side{}
	}
	c.compare("12", "下年度 年初结转和结余 − 年初调整 = 本年度 年末结转和结余",
		c.must(n1, "收入", "年初结转和结余", 0, 0).minus(adjusted(n1, "opening_adjusted")), c.must(t1, "支出", "年末结转和结余", 0, 0))
	t4, n4 := c.r.Tables["fiscal-summary"], c.r.Tables[NextYear+"fiscal-summary"]
	if t4 == nil || n4 == nil {
		return
	}
	for i, fund := range fundNames {
		key := "opening_adjusted:" + []string{"general_budget", "government_fund", "state_capital"}[i]
		c.compare("12", "下年度 年初财政拨款结转和结余 "+fund+" − 年初调整 = 本年度 年末财政拨款结转和结余",
			c.must(n4, "收入", fund, 1, 0).minus(adjusted(n4, key)), c.must(t4, "支出", "年末财政拨款结转和结余", 0, i+1))
	}
}
