package projections

import (
	"fmt"
	"slices"

	"github.com/budgetledger/budgetledger/events"
)

// functionalTable accumulates amounts by 功能分类 项 and column, and prints
// them the way the 收入决算表, 支出决算表 and 一般公共预算财政拨款支出决算表 do:
// 合计 first, then every 类 with an amount, each followed by its 款 and their
// 项, in code order; each row's first column is the sum of the others.
type functionalTable struct {
	cols  int // detail columns, not counting the first (合计)
	year  int // the names printed are those of this fiscal year's edition
	items map[string][]int64
}

func newFunctionalTable(cols, year int) *functionalTable {
	return &functionalTable{cols: cols, year: year, items: map[string][]int64{}}
}

func (t *functionalTable) add(e *events.Event, item string, col int, amount events.Amount) error {
	v := t.items[item]
	if v == nil {
		v = make([]int64, t.cols)
		t.items[item] = v
	}
	if err := add(&v[col], int64(amount)); err != nil {
		return fmt.Errorf("event %s: %w", e.ID, err)
	}
	return nil
}

// rows renders the table with 合计 (the sum of every column) first; names
// come from the catalog.
func (t *functionalTable) rows(cat *events.Catalog) ([]Row, error) {
	return t.rowsWith(cat, func(_ string, v []int64) ([]events.Amount, error) { return totalFirst(v) })
}

// totalFirst returns the columns v preceded by their sum (合计).
func totalFirst(v []int64) ([]events.Amount, error) {
	out := make([]events.Amount, len(v)+1)
	var sum int64
	for i, a := range v {
		if err := add(&sum, a); err != nil {
			return nil, err
		}
		out[i+1] = events.Amount(a)
	}
	out[0] = events.Amount(sum)
	return out, nil
}

// rowsWith renders the table, each row's printed columns derived from its
// accumulated ones; code is "" for the 合计 row.
func (t *functionalTable) rowsWith(cat *events.Catalog, derive func(code string, v []int64) ([]events.Amount, error)) ([]Row, error) {
	sums := map[string][]int64{} // every 类, 款 and 项 code with its sums
	total := make([]int64, t.cols)
	for item, v := range t.items {
		for _, code := range []string{item[:3], item[:5], item} {
			s := sums[code]
			if s == nil {
				s = make([]int64, t.cols)
				sums[code] = s
			}
			for i := range v {
				if err := add(&s[i], v[i]); err != nil {
					return nil, err
				}
			}
		}
		for i := range v {
			if err := add(&total[i], v[i]); err != nil {
				return nil, err
			}
		}
	}
	row := func(code, name string, v []int64) (Row, error) {
		r := Row{Key: "functional:" + code, Code: code, Name: name}
		if code == "" {
			r.Key = "total"
		}
		var err error
		r.Amounts, err = derive(code, v)
		return r, err
	}
	r, err := row("", "合计", total)
	if err != nil {
		return nil, err
	}
	rows := []Row{r}
	codes := make([]string, 0, len(sums))
	for c := range sums {
		codes = append(codes, c)
	}
	// Code order puts each 类 before its 款 and each 款 before its 项,
	// because every code is a prefix of its children.
	slices.Sort(codes)
	for _, c := range codes {
		if !slices.ContainsFunc(sums[c], func(v int64) bool { return v != 0 }) {
			continue // nothing left (reversed): the official tables print only codes with amounts
		}
		name := cat.NameIn(events.Functional, c, t.year)
		if name == "" {
			return nil, fmt.Errorf("功能分类 %s: no name in the catalog: %w", c, ErrUnplaced)
		}
		r, err := row(c, name, sums[c])
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}
