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

// side is a sum of printed cells, and of their exact amounts when every
// cell came with one (the ledger's own statements).
type side struct {
	cents   int64
	fen     int64
	inexact int // cells without an exact amount
	cells   int
	blank   []string
	label   string
}

func (s side) plus(o side) side {
	return side{cents: s.cents + o.cents, fen: s.fen + o.fen, inexact: s.inexact + o.inexact, cells: s.cells + o.cells,
		blank: append(append([]string(nil), s.blank...), o.blank...), label: s.label}
}

func (s side) minus(o side) side {
	o.cents, o.fen = -o.cents, -o.fen
	return s.plus(o)
}

func (s side) exact() bool { return s.inexact == 0 && s.cells > 0 }

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
		c.functionalTree(t, true)
	}
	for _, t := range []string{"government-fund", "state-capital"} {
		c.functionalTree(t, false)
		c.fundRollForward(t)
	}
	c.incomeAgainstT1()
	c.expenditureAgainstT1()
	c.fiscalSummary()
	c.generalBudget()
	c.basicExpenditure()
	c.threePublic()
	c.balanceSheet()
	c.runningCosts()
	c.narrative()
	c.carryForward()
	return c.results
}

// atMost records left ≤ right, within the cells' rounding.
func (c *checker) atMost(rule, check string, left, right side) {
	if left.cents <= right.cents && (!left.exact() || !right.exact() || left.fen <= right.fen) {
		res := Result{Rule: rule, Check: check, Left: formatCents(left.cents), Right: formatCents(right.cents),
			Diff: formatCents(left.cents - right.cents), Cells: left.cells + right.cells, Status: Pass}
		c.results = append(c.results, res)
		return
	}
	c.compare(rule, check, left, right)
}

// compare records left = right.
func (c *checker) compare(rule, check string, left, right side) {
	res := Result{Rule: rule, Check: check, Left: formatCents(left.cents), Right: formatCents(right.cents),
		Diff: formatCents(left.cents - right.cents), Cells: left.cells + right.cells}
	d := abs(left.cents - right.cents)
	switch {
	case left.exact() && right.exact():
		// The ledger knows the amounts: the rule must hold exactly, and a
		// printed difference can only be rounding.
		switch {
		case left.fen != right.fen:
			res.Status = Fail
			res.Note = "exact amounts differ: " + fenString(left.fen) + " 元 vs " + fenString(right.fen) + " 元"
		case d == 0:
			res.Status = Pass
		default:
			res.Status = Rounding
		}
	case d == 0:
		res.Status = Pass
	case 2*d <= int64(res.Cells): // |d| ≤ 0.005 万元 × cells, in cents
		res.Status = Rounding
	default:
		res.Status = Fail
	}
	if blanks := append(left.blank, right.blank...); len(blanks) > 0 {
		res.Note = strings.TrimPrefix(res.Note+"; printed blank, counted as 0: "+strings.Join(blanks, ", "), "; ")
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
		return side{cells: 1, inexact: 1, blank: []string{label}, label: label}
	}
	c := r.Cells[col]
	s := side{cents: c.Cents, fen: c.Fen, cells: 1, label: label}
	if !c.Exact {
		s.inexact = 1
	}
	return s
}

func fenString(f int64) string {
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	return fmt.Sprintf("%s%d.%02d", sign, f/100, f%100)
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
