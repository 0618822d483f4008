package checks

import (
	"fmt"
	"slices"
	"strings"
)

// narrative checks the figures of the report's narrative (第三部分, the
// "notes" table, rows by key) against its tables and against each other:
// figures that restate a table cell equal it; shares, growth rates and
// completion rates are the ratios of the printed figures they name (within
// what rounding those figures allows); the performance summary is the sum
// and mean of its projects.
func (c *checker) narrative() {
	n := c.r.Tables["notes"]
	if n == nil {
		return
	}
	keys := map[string]Row{}
	for _, r := range n.Rows {
		if r.Key != "" {
			keys[r.Key] = r
		}
	}
	get := func(k string) (side, bool) {
		r, ok := keys[k]
		if !ok {
			return side{}, false
		}
		return cellOf(n, r, 0), true
	}
	// Figures that restate a table cell.
	restate := func(key, what, table, rowSide, row string, nth, col int) {
		t := c.r.Tables[table]
		v, ok := get(key)
		if !ok || t == nil {
			return
		}
		cell, ok := c.cell(t, rowSide, row, nth, col)
		if !ok {
			return
		}
		c.same("情况说明 "+what+" = "+tableTitleOf(table)+" "+row, v, cell)
	}
	restate("total", "收入支出总计", "income-expenditure", "收入", "总计", 0, 0)
	restate("income", "本年收入合计", "income-expenditure", "收入", "本年收入合计", 0, 0)
	restate("income:other", "其他收入", "income-expenditure", "收入", "八、其他收入", 0, 0)
	restate("expenditure", "本年支出合计", "income-expenditure", "支出", "本年支出合计", 0, 0)
	restate("expenditure:basic", "基本支出", "expenditure", "", "合计", 0, 1)
	restate("expenditure:project", "项目支出", "expenditure", "", "合计", 0, 2)
	restate("fiscal_total", "财政拨款收入支出总计", "fiscal-summary", "收入", "总计", 0, 0)
	restate("general", "一般公共预算财政拨款支出", "general-budget-expenditure", "", "合计", 0, 0)
	restate("basic", "一般公共预算财政拨款基本支出", "general-budget-expenditure", "", "合计", 0, 1)
	restate("basic:personnel", "人员经费", "basic-expenditure", "", "人员经费合计", 0, 0)
	restate("basic:public", "公用经费", "basic-expenditure", "", "公用经费合计", 0, 0)
	restate("three_public:total:budget", "\"三公\"经费年初预算", "three-public", "", "合计", 0, 0)
	restate("three_public:total:actual", "\"三公\"经费决算", "three-public", "", "合计", 0, 1)
	restate("three_public:economic:30217:actual", "公务接待费决算", "three-public", "", "公务接待费", 0, 1)
	if t := c.r.Tables["general-budget-expenditure"]; t != nil {
		for _, r := range t.Rows {
			if len(r.Code) != 3 {
				continue
			}
			if v, ok := get("general:" + r.Code); ok {
				c.same("情况说明 "+r.Name+"（类） = 一般公共预算财政拨款支出决算表 "+r.Code, v, cellOf(t, r, 0))
			}
			if v, ok := get("general:initial_budget:" + r.Code + ":actual"); ok {
				c.same("情况说明 "+r.Name+"（类）支出决算 = 一般公共预算财政拨款支出决算表 "+r.Code, v, cellOf(t, r, 0))
			}
		}
	}
	// Ratios: every key ending in :share, :growth, :completion, :rate.
	for _, k := range slices.Sorted(mapsKeys(keys)) {
		var part, whole string
		switch {
		case strings.HasSuffix(k, ":share"):
			base := strings.TrimSuffix(k, ":share")
			part = base
			switch {
			case strings.HasPrefix(base, "income:"):
				whole = "income"
			case strings.HasPrefix(base, "expenditure:"), base == "general":
				whole = "expenditure"
			case strings.HasPrefix(base, "general:"):
				whole = "general"
			}
		case k == "general:completion":
			part, whole = "general", "general:initial_budget"
		case strings.HasSuffix(k, ":completion"):
			base := strings.TrimSuffix(k, ":completion")
			part, whole = base+":actual", base+":budget"
		case strings.HasSuffix(k, ":rate") && strings.HasPrefix(k, "performance:"):
			base := strings.TrimSuffix(k, ":rate")
			part, whole = base+":executed", base+":budget"
		case strings.HasSuffix(k, ":growth"):
			c.growth(n, keys, strings.TrimSuffix(k, ":growth"))
			continue
		}
		if part == "" || whole == "" {
			continue
		}
		p, ok1 := get(part)
		w, ok2 := get(whole)
		if !ok1 || !ok2 {
			c.results = append(c.results, Result{Rule: "narrative", Check: "情况说明 " + k, Status: Skipped,
				Note: "the narrative does not print " + part + " and " + whole})
			continue
		}
		q, _ := get(k)
		c.ratio("情况说明 "+k+" = "+part+" / "+whole, q, p, w)
	}
	c.performanceSummary(n, keys)
}

// same records that the narrative prints a table's figure unchanged: both
// are the same exact amount rounded the same way, so any difference is an
// error, however small.
func (c *checker) same(check string, narrative, table side) {
	res := Result{Rule: "narrative", Check: check, Left: formatCents(narrative.cents), Right: formatCents(table.cents),
		Diff: formatCents(narrative.cents - table.cents), Cells: 2, Status: Pass}
	if narrative.cents != table.cents {
		res.Status = Fail
	}
	c.results = append(c.results, res)
}

// growth checks key:growth = key:change / (key − key:change), the prior
// year's figure being what the narrative's own change implies.
func (c *checker) growth(n *Table, keys map[string]Row, key string) {
	current := key
	if key == "three_public" {
		current = "three_public:total:actual" // the "三公" change is of its 决算数
	}
	cur, ok1 := keys[current]
	chg, ok2 := keys[key+":change"]
	g, ok3 := keys[key+":growth"]
	if !ok1 || !ok2 || !ok3 {
		c.results = append(c.results, Result{Rule: "narrative", Check: "情况说明 " + key + " 增长率", Status: Skipped,
			Note: "the narrative does not print both this year's figure and the change"})
		return
	}
	change := cellOf(n, chg, 0)
	// The prior year, printed or implied by this year less the change: an
	// implied figure carries the rounding of both.
	prior := cellOf(n, cur, 0).minus(change)
	if p, ok := keys[key+":prior"]; ok {
		prior = cellOf(n, p, 0)
	}
	c.ratio("情况说明 "+key+" 增长率 = 增减额 / 上年数", cellOf(n, g, 0), change, prior)
}

// ratio records that the printed percentage q is part/whole: pass when it
// is the ratio of the printed figures rounded half up; rounding when some
// amounts the printed figures could stand for (each ±0.005) give it; else
// fail. Percentages are in hundredths of a percent, amounts in cents.
func (c *checker) ratio(check string, q, part, whole side) {
	res := Result{Rule: "narrative", Check: check, Left: formatCents(q.cents), Cells: 1 + part.cells + whole.cells}
	// Each printed cell stands for an amount within half a cent of it:
	// the part and the whole within half a cent per cell they add up.
	pt, wt := int64(part.cells), int64(whole.cells)
	if whole.cents-wt <= 0 && whole.cents+wt >= 0 {
		// The whole could be zero: any percentage is possible.
		res.Status, res.Note = Skipped, "the base could be zero"
		c.results = append(c.results, res)
		return
	}
	exact := roundDiv(part.cents*10000, whole.cents)
	// The extremes of (part ± pt/2) / (whole ± wt/2), in hundredths of a
	// percent, over the four corners.
	lo, hi := int64(1<<62), int64(-1<<62)
	for _, p := range []int64{2*part.cents - pt, 2*part.cents + pt} {
		for _, w := range []int64{2*whole.cents - wt, 2*whole.cents + wt} {
			v := roundDiv(p*10000, w)
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	res.Right, res.Diff = formatCents(exact), formatCents(q.cents-exact)
	switch {
	case q.cents == exact:
		res.Status = Pass
	case q.cents >= lo && q.cents <= hi:
		res.Status = Rounding
		res.Note = fmt.Sprintf("the printed figures allow %s to %s", formatCents(lo), formatCents(hi))
	default:
		res.Status = Fail
	}
	c.results = append(c.results, res)
}

// roundDiv is a/b rounded half up (away from zero).
func roundDiv(a, b int64) int64 {
	neg := (a < 0) != (b < 0)
	a, b = abs(a), abs(b)
	q := a / b
	if 2*(a%b) >= b {
		q++
	}
	if neg {
		return -q
	}
	return q
}

// performanceSummary: the narrative's count, total budget and average score
// of the evaluated projects are those of the projects it lists.
func (c *checker) performanceSummary(n *Table, keys map[string]Row) {
	var budget side
	var scores []int64
	projects := 0
	for _, k := range slices.Sorted(mapsKeys(keys)) {
		rest, ok := strings.CutPrefix(k, "performance:")
		if !ok {
			continue
		}
		if name, ok := strings.CutSuffix(rest, ":budget"); ok && name != "" {
			budget = budget.plus(cellOf(n, keys[k], 0))
			projects++
		}
		if _, ok := strings.CutSuffix(rest, ":score"); ok {
			scores = append(scores, cellOf(n, keys[k], 0).cents)
		}
	}
	if projects == 0 {
		return
	}
	if r, ok := keys["performance:projects"]; ok {
		c.compare("narrative", "情况说明 绩效自评项目个数 = 所列项目", cellOf(n, r, 0), side{cents: int64(projects) * 100, cells: 1})
	}
	if r, ok := keys["performance:budget"]; ok {
		c.compare("narrative", "情况说明 绩效自评项目预算金额 = Σ 所列项目预算数", cellOf(n, r, 0), budget)
	}
	if r, ok := keys["performance:average"]; ok && len(scores) > 0 {
		var sum int64
		for _, s := range scores {
			sum += s
		}
		// Scores are printed with one decimal (in hundredths: multiples of
		// 10); the mean, rounded half up to one decimal.
		mean := roundDiv(sum, int64(len(scores))*10) * 10
		c.compare("narrative", "情况说明 平均得分 = 所列项目得分的平均数", cellOf(n, r, 0), side{cents: mean, cells: 1})
	}
}

func mapsKeys(m map[string]Row) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func tableTitleOf(name string) string {
	if t := tableTitle(name); t != "" {
		return t
	}
	return map[string]string{
		"income-expenditure": "收入支出决算总表", "fiscal-summary": "财政拨款收入支出决算总表",
		"basic-expenditure": "基本支出决算表", "three-public": "\"三公\"经费支出决算表",
	}[name]
}
