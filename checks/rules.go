package checks

import (
	"fmt"
	"strings"
)

// Status is a rule's verdict.
type Status string

// The verdicts.
const (
	Pass     Status = "pass"     // both sides print the same figure
	Rounding Status = "rounding" // they differ by no more than the cells' rounding
	Fail     Status = "fail"     // they differ by more: a real discrepancy
	Skipped  Status = "skipped"  // a table the rule needs is not in the report
)

// Result is one evaluated rule.
type Result struct {
	Rule   string `json:"rule"`  // the number of the rule in the reference's list (勾稽关系)
	Check  string `json:"check"` // what was compared, in words
	Left   string `json:"left"`  // the figures, printed
	Right  string `json:"right"`
	Diff   string `json:"difference"`
	Cells  int    `json:"cells"` // printed cells involved; the tolerance is 0.005 万元 each
	Status Status `json:"status"`
	Note   string `json:"note,omitempty"` // e.g. which cell was printed blank
}

// side is a sum of printed cells.
type side struct {
	cents int64
	cells int
	blank []string
	label string
}

func (s side) plus(o side) side {
	return side{cents: s.cents + o.cents, cells: s.cells + o.cells, blank: append(append([]string(nil), s.blank...), o.blank...), label: s.label}
}

func (s side) minus(o side) side {
	o.cents = -o.cents
	return s.plus(o)
}

// checker accumulates results.
type checker struct {
	r       Report
	results []Result
}

// Run evaluates every rule whose tables are in the report.
func Run(r Report) []Result {
	c := &checker{r: r}
	c.incomeExpenditure()
	for _, t := range []string{"income", "expenditure", "general-budget-expenditure"} {
		c.functionalTree(t)
	}
	c.incomeAgainstT1()
	c.expenditureAgainstT1()
	c.fiscalSummary()
	c.generalBudget()
	c.basicExpenditure()
	c.threePublic()
	c.balanceSheet()
	return c.results
}

// compare records left = right.
func (c *checker) compare(rule, check string, left, right side) {
	res := Result{Rule: rule, Check: check, Left: formatCents(left.cents), Right: formatCents(right.cents),
		Diff: formatCents(left.cents - right.cents), Cells: left.cells + right.cells}
	d := abs(left.cents - right.cents)
	switch {
	case d == 0:
		res.Status = Pass
	case 2*d <= int64(res.Cells): // |d| ≤ 0.005 万元 × cells, in cents
		res.Status = Rounding
	default:
		res.Status = Fail
	}
	if blanks := append(left.blank, right.blank...); len(blanks) > 0 {
		res.Note = "printed blank, counted as 0: " + strings.Join(blanks, ", ")
	}
	c.results = append(c.results, res)
}

func (c *checker) skip(rule, check, table string) {
	c.results = append(c.results, Result{Rule: rule, Check: check, Status: Skipped, Note: "table " + table + " not in the report"})
}

// cell returns column col of the nth row (0-based) on side whose name is
// name, in table t.
func (c *checker) cell(t *Table, rowSide, name string, nth, col int) (side, bool) {
	for _, r := range t.Rows {
		if r.Name != name || (rowSide != "" && r.Side != rowSide) {
			continue
		}
		if nth > 0 {
			nth--
			continue
		}
		return cellOf(t, r, col), true
	}
	return side{}, false
}

func cellOf(t *Table, r Row, col int) side {
	label := t.Name + " " + r.Name
	if r.Code != "" {
		label = t.Name + " " + r.Code + " " + r.Name
	}
	if col < len(t.Columns) && len(t.Columns) > 1 {
		label += " " + t.Columns[col]
	}
	if col >= len(r.Cells) || r.Cells[col].Blank {
		return side{cells: 1, blank: []string{label}, label: label}
	}
	return side{cents: r.Cells[col].Cents, cells: 1, label: label}
}

// must is cell for rows every report of the table has; a missing row is a
// failure of the table's layout, recorded as such.
func (c *checker) must(t *Table, rowSide, name string, nth, col int) side {
	s, ok := c.cell(t, rowSide, name, nth, col)
	if !ok {
		c.results = append(c.results, Result{Rule: "layout", Check: fmt.Sprintf("%s has the row %s %s", t.Name, rowSide, name), Status: Fail,
			Note: "row missing: the table does not follow the official layout"})
	}
	return s
}

func sum(sides ...side) side {
	var s side
	for _, x := range sides {
		s = s.plus(x)
	}
	return s
}
