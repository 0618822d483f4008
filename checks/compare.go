package checks

import (
	"fmt"
	"slices"
	"strings"
)

// Compare checks a report about to be published against the books: every
// printed cell of published that the ledger's statements also print must
// show the same figure. A cell that differs is a failure of rule "books",
// named with its table, row and column, so the finance officer knows what
// to correct. Rows are matched by their key where they have one (the
// narrative), else by side, code and name.
func Compare(published, books Report) []Result {
	var out []Result
	for _, name := range sortedNames(published) {
		pt, bt := published.Tables[name], books.Tables[name]
		if bt == nil {
			out = append(out, Result{Rule: "books", Check: "table " + name, Status: Skipped, Note: "the ledger has no such statement"})
			continue
		}
		// Rows by id, and by side and name for tables printed without
		// codes; a name printed twice on a side (the 财政拨款收入支出决算总表's
		// fund lines) is matched in order.
		byID, byName := map[string][]Row{}, map[string][]Row{}
		for _, r := range bt.Rows {
			if r.Key != "" {
				byID["key:"+r.Key] = append(byID["key:"+r.Key], r)
			}
			id := rowID(Row{Side: r.Side, Code: r.Code, Name: r.Name})
			byID[id] = append(byID[id], r)
			byName[r.Side+"\x00"+r.Name] = append(byName[r.Side+"\x00"+r.Name], r)
		}
		take := func(m map[string][]Row, k string) (Row, bool) {
			q := m[k]
			if len(q) == 0 {
				return Row{}, false
			}
			m[k] = q[1:]
			return q[0], true
		}
		for _, pr := range pt.Rows {
			br, ok := take(byID, rowID(pr))
			if !ok && pr.Code == "" && pr.Key == "" {
				br, ok = take(byName, pr.Side+"\x00"+pr.Name)
			}
			if !ok {
				// A figure the books do not hold (a prior year the ledger
				// does not have): nothing to compare it with.
				out = append(out, Result{Rule: "books", Check: fmt.Sprintf("%s: row %s", name, rowLabel(pr)), Status: Skipped,
					Note: "the ledger's statement has no such row"})
				continue
			}
			for col := range pr.Cells {
				heading := ""
				if col < len(pt.Columns) {
					heading = pt.Columns[col]
				}
				check := fmt.Sprintf("%s %s %s = the books", name, rowLabel(pr), heading)
				if col >= len(br.Cells) {
					if !pr.Cells[col].Blank {
						out = append(out, Result{Rule: "books", Check: check, Status: Fail, Note: "the ledger prints no such cell"})
					}
					continue
				}
				p, b := pr.Cells[col], br.Cells[col]
				res := Result{Rule: "books", Check: strings.TrimSpace(check), Left: printed(p), Right: formatCents(b.Cents),
					Diff: formatCents(p.Cents - b.Cents), Cells: 1, Status: Pass}
				if p.Blank && b.Cents != 0 || !p.Blank && p.Cents != b.Cents {
					res.Status = Fail
				}
				out = append(out, res)
			}
		}
	}
	return out
}

func rowID(r Row) string {
	if r.Key != "" {
		return "key:" + r.Key
	}
	return r.Side + "\x00" + r.Code + "\x00" + r.Name
}

func rowLabel(r Row) string {
	if r.Key != "" {
		return r.Key
	}
	return strings.TrimSpace(strings.Join([]string{r.Side, r.Code, r.Name}, " "))
}

func printed(c Cell) string {
	if c.Blank {
		return "(blank)"
	}
	return formatCents(c.Cents)
}

func sortedNames(r Report) []string {
	var names []string
	for n := range r.Tables {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
