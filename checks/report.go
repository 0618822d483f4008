package checks

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/budgetledger/budgetledger/projections"
)

// Report is a department's published tables as printed: for each
// statement (by its name in projections.Specs) the printed cells.
type Report struct {
	Tables map[string]*Table
}

// Table is one printed table.
type Table struct {
	Name    string
	Columns []string
	Rows    []Row
}

// Row is one printed row: its cells in cents of 万元, and which of them were
// printed blank. Key is the row's stable key where the table has one (the
// narrative's figures).
type Row struct {
	Side, Code, Name, Key string
	Cells                 []Cell
}

// Cell is one printed figure in cents of 万元 (0.01 万元 = 100 元), and, for
// the ledger's own statements, the exact amount it was rounded from.
type Cell struct {
	Cents int64
	Blank bool // printed empty; counts as zero
	// Fen is the exact amount in 分 when Exact; rules on exact cells must
	// hold exactly, and a printed difference is then only rounding.
	Fen   int64
	Exact bool
}

// FromStatements renders statements as they print: each cell rounded half
// up to 万元 from its exact amount.
func FromStatements(sts map[string]*projections.Statement) Report {
	r := Report{Tables: map[string]*Table{}}
	for name, st := range sts {
		t := &Table{Name: name, Columns: st.Columns}
		for _, row := range st.Rows {
			tr := Row{Side: row.Side, Code: row.Code, Name: row.Name, Key: row.Key}
			for _, a := range row.Amounts {
				c, err := parseCents(projections.Wan(a))
				if err != nil {
					panic(err) // Wan always prints a parsable figure
				}
				tr.Cells = append(tr.Cells, Cell{Cents: c, Fen: int64(a), Exact: true})
			}
			t.Rows = append(t.Rows, tr)
		}
		// Figures that are not money (shares, counts, scores) are compared
		// as printed, in hundredths; words (grades) are left out. Money
		// facts are exact like cells.
		for _, f := range st.Facts {
			if c, err := parseCents(f.Value); err == nil {
				t.Rows = append(t.Rows, Row{Name: f.Name, Key: f.Key, Cells: []Cell{{Cents: c, Fen: int64(f.Amount), Exact: f.Money}}})
			}
		}
		r.Tables[name] = t
	}
	return r
}

// LoadDir reads a published report typed as one TSV file per table, named
// <statement>-<year>.tsv (e.g. income-expenditure-2020.tsv), each with a
// header line "[side] [code] name column…" and one line per printed row, in
// printed order; figures in 万元 as printed ("4,096.66"), a blank cell
// empty or "(blank)". Lines starting with # are comments. Files for other
// years or names are ignored.
func LoadDir(dir string, year int) (Report, error) {
	r := Report{Tables: map[string]*Table{}}
	for _, spec := range projections.Specs {
		path := filepath.Join(dir, fmt.Sprintf("%s-%d.tsv", spec.Name, year))
		t, err := loadTable(path, spec.Name)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return Report{}, err
		}
		r.Tables[spec.Name] = t
	}
	if len(r.Tables) == 0 {
		return Report{}, fmt.Errorf("published report %s: no table files for %d (want e.g. income-expenditure-%d.tsv)", dir, year, year)
	}
	return r, nil
}

func loadTable(path, name string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t := &Table{Name: name}
	var header []string
	sideCol, codeCol, nameCol, keyCol := -1, -1, -1, -1
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		c := strings.Split(text, "\t")
		if header == nil {
			header = c
			for i, h := range c {
				switch h {
				case "side":
					sideCol = i
				case "code":
					codeCol = i
				case "name":
					nameCol = i
				case "key":
					keyCol = i
				}
			}
			if nameCol < 0 || nameCol == len(c)-1 {
				return nil, fmt.Errorf("%s line %d: header needs a name column followed by the figure columns", path, line)
			}
			t.Columns = c[nameCol+1:]
			continue
		}
		if len(c) > len(header) {
			return nil, fmt.Errorf("%s line %d: %d cells, the header has %d", path, line, len(c), len(header))
		}
		get := func(i int) string {
			if i >= 0 && i < len(c) {
				return c[i]
			}
			return ""
		}
		row := Row{Side: get(sideCol), Code: get(codeCol), Name: get(nameCol), Key: get(keyCol)}
		for i := nameCol + 1; i < len(header); i++ {
			v := strings.TrimSpace(get(i))
			if v == "" || v == "(blank)" {
				row.Cells = append(row.Cells, Cell{Blank: true})
				continue
			}
			cents, err := parseCents(v)
			if err != nil {
				return nil, fmt.Errorf("%s line %d, %s: %w", path, line, header[i], err)
			}
			row.Cells = append(row.Cells, Cell{Cents: cents})
		}
		t.Rows = append(t.Rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// ParseCell reads a printed figure (万元, a share or a count) and, when
// exactYuan is not empty, the exact amount in 元 it was rounded from.
func ParseCell(printed, exactYuan string) (Cell, error) {
	c, err := parseCents(printed)
	if err != nil {
		return Cell{}, err
	}
	cell := Cell{Cents: c}
	if exactYuan != "" {
		f, err := parseCents(exactYuan)
		if err != nil {
			return Cell{}, err
		}
		cell.Fen, cell.Exact = f, true
	}
	return cell, nil
}

// parseCents reads a printed figure with at most 2 decimals, such as
// "4,096.66", "-0.01", "95.5" or "12", in hundredths.
func parseCents(s string) (int64, error) {
	s = strings.ReplaceAll(s, ",", "")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if len(frac) > 2 {
		return 0, fmt.Errorf("figure %q: want at most 2 decimals", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	w, err1 := strconv.ParseInt(whole, 10, 64)
	f, err2 := strconv.ParseInt(frac, 10, 64)
	if err1 != nil || err2 != nil || w < 0 || f < 0 {
		return 0, fmt.Errorf("figure %q: want 万元 such as 4,096.66", s)
	}
	c := w*100 + f
	if neg {
		c = -c
	}
	return c, nil
}

// formatCents prints cents of 万元 as the tables do.
func formatCents(c int64) string {
	return projections.GroupThousands(fmt.Sprintf("%s%d.%02d", map[bool]string{true: "-"}[c < 0], abs(c)/100, abs(c)%100))
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
