package projections

import (
	"bufio"
	"embed"
	"fmt"
	"iter"
	"strings"

	"github.com/budgetledger/budgetledger/events"
)

// Statement is a published table: its rows in printed order, each amount
// exact in 元. Rendering (万元 strings, JSON, CSV, text) is left to the edges.
type Statement struct {
	Title      string
	Ledger     string
	Unit       string // empty: all units consolidated
	FiscalYear int
	AsOf       events.Date
	Columns    []string // column headings of the amount columns
	// SideColumns overrides Columns for one side of a two-sided table whose
	// halves have different columns (the 财政拨款收入支出决算总表).
	SideColumns map[string][]string
	Rows        []Row
	// Facts are figures that are not money (counts), printed with the
	// statement, such as the number of official receptions.
	Facts []Fact
	// Note is printed under the table, e.g. the official sentence of a
	// table without data (本表无数据).
	Note string
}

// Fact is a figure a statement reports beside its table: a count, a share,
// or an amount that is not a line of the table (such as a 年初调整).
type Fact struct {
	Key, Name, Value string
	// Money is set when Value prints an amount in 万元; Amount is then the
	// exact figure, so that rules on it hold to the 分.
	Money  bool
	Amount events.Amount
}

// Row is one printed line of a statement.
type Row struct {
	Side    string // the half of a two-sided table (收入 or 支出), else empty
	Key     string // stable machine key of the line, e.g. "functional:201"
	Code    string // classification code, where the line has one
	Name    string // exactly as printed in the official table
	Amounts []events.Amount
	// Quantities are the counts of a row that prints a 数量 (the
	// 资产负债情况表), one per column; nil for rows without.
	Quantities []int64
}

// ColumnsOf returns the column headings of the rows on side.
func (s *Statement) ColumnsOf(side string) []string {
	if c, ok := s.SideColumns[side]; ok {
		return c
	}
	return s.Columns
}

// Amount returns the row's first column.
func (r Row) Amount() events.Amount { return r.Amounts[0] }

// Row returns the row with the given key.
func (s *Statement) Row(key string) (Row, bool) {
	for _, r := range s.Rows {
		if r.Key == key {
			return r, true
		}
	}
	return Row{}, false
}

// Filter selects the events a statement covers.
type Filter struct {
	Ledger     string
	FiscalYear int
	// AsOf is the last effective date counted; zero means the year's end.
	AsOf events.Date
	// Unit restricts to one budget unit; empty consolidates all.
	Unit string
}

// LastDate is the last effective date any statement under f counts: no
// fold reads an event dated after it.
func (f Filter) LastDate() events.Date { return f.asOf() }

func (f Filter) asOf() events.Date {
	if f.AsOf == 0 {
		return events.YearEnd(f.FiscalYear)
	}
	return f.AsOf
}

// Match reports whether e is counted by f.
func (f Filter) Match(e *events.Event) bool {
	return e.FiscalYear == f.FiscalYear && e.Date <= f.asOf() &&
		(f.Ledger == "" || e.Ledger == f.Ledger) && (f.Unit == "" || e.Unit == f.Unit)
}

// Events is what folds read: any sequence of events (the log, a file, a
// slice). Errors of the source are the caller's to check after the fold.
type Events = iter.Seq[events.Event]

//go:embed layouts/*.tsv
var layoutFiles embed.FS

// layoutLine is one row of a layout file.
type layoutLine struct {
	side, key, code, name string
}

func loadLayout(name string) []layoutLine {
	f, err := layoutFiles.Open("layouts/" + name + ".tsv")
	if err != nil {
		panic(err) // embedded at build time
	}
	defer f.Close()
	var lines []layoutLine
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		t := sc.Text()
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if header {
			header = false
			continue
		}
		c := strings.Split(t, "\t")
		if len(c) != 4 {
			panic(fmt.Sprintf("layout %s: line %q: want 4 columns", name, t))
		}
		lines = append(lines, layoutLine{side: c[0], key: c[1], code: c[2], name: c[3]})
	}
	return lines
}
