// Package report renders statements for people and spreadsheets: the JSON
// document of the HTTP API, CSV that opens in Excel, and the aligned text
// table of ledgerctl. Values are 万元 with 2 decimals, each rounded half up
// from the exact 元 sum; the exact 元 amount travels beside it.
package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/budgetledger/budgetledger/projections"
)

// AmountUnit is the unit statements are published in.
const AmountUnit = "万元"

// Document is a statement as the API returns it.
type Document struct {
	Title      string `json:"title"`
	Ledger     string `json:"ledger"`
	Unit       string `json:"unit,omitempty"`
	FiscalYear int    `json:"fiscal_year"`
	AsOf       string `json:"as_of"`
	// KnownAt is set when the statement shows only what the log knew at a
	// moment or sequence (known_at=).
	KnownAt    string   `json:"known_at,omitempty"`
	AmountUnit string   `json:"amount_unit"`
	Columns    []string `json:"columns"`
	// SideColumns gives the columns of a side whose columns differ from
	// Columns (the income side of the 财政拨款收入支出决算总表).
	SideColumns map[string][]string `json:"side_columns,omitempty"`
	Rows        []Row               `json:"rows"`
	// Facts are figures that are not money, such as reception counts.
	Facts []Fact `json:"facts,omitempty"`
	// Note is printed under the table (e.g. 本表无数据).
	Note string `json:"note,omitempty"`
}

// Fact is a figure that is not an amount.
type Fact struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (d Document) columnsOf(side string) []string {
	if c, ok := d.SideColumns[side]; ok {
		return c
	}
	return d.Columns
}

// Row is one printed line. Value and AmountYuan are the first column;
// Values and AmountsYuan list every column when there are several.
type Row struct {
	Side        string   `json:"side,omitempty"`
	Key         string   `json:"key"`
	Code        string   `json:"code,omitempty"`
	Name        string   `json:"name"`
	Value       string   `json:"value"`
	AmountYuan  string   `json:"amount_yuan"`
	Values      []string `json:"values,omitempty"`
	AmountsYuan []string `json:"amounts_yuan,omitempty"`
	// Quantities are the 数量 of a row that has them (资产负债情况表).
	Quantities []int64 `json:"quantities,omitempty"`
}

// FromStatement renders st.
func FromStatement(st *projections.Statement) Document {
	d := Document{
		Title: st.Title, Ledger: st.Ledger, Unit: st.Unit, FiscalYear: st.FiscalYear,
		AsOf: st.AsOf.String(), AmountUnit: AmountUnit, Columns: st.Columns, SideColumns: st.SideColumns,
		Note: st.Note,
	}
	for _, f := range st.Facts {
		d.Facts = append(d.Facts, Fact{Key: f.Key, Name: f.Name, Value: f.Value})
	}
	for _, r := range st.Rows {
		row := Row{Side: r.Side, Key: r.Key, Code: r.Code, Name: r.Name,
			Value: projections.Wan(r.Amounts[0]), AmountYuan: r.Amounts[0].String(), Quantities: r.Quantities}
		if len(r.Amounts) > 1 {
			for _, a := range r.Amounts {
				row.Values = append(row.Values, projections.Wan(a))
				row.AmountsYuan = append(row.AmountsYuan, a.String())
			}
		}
		d.Rows = append(d.Rows, row)
	}
	return d
}

func (r Row) values() []string {
	if len(r.Values) > 0 {
		return r.Values
	}
	return []string{r.Value}
}

func (r Row) amounts() []string {
	if len(r.AmountsYuan) > 0 {
		return r.AmountsYuan
	}
	return []string{r.AmountYuan}
}

// WriteCSV writes d as CSV with a UTF-8 byte order mark, which Excel needs to
// read Chinese text correctly. Columns: side, code, name, then each amount
// column in 万元 and then in 元.
func WriteCSV(w io.Writer, d Document) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := []string{"项目类别", "科目编码", "项目"}
	for _, c := range d.Columns {
		head = append(head, c+"（万元）")
	}
	for _, c := range d.Columns {
		head = append(head, c+"（元）")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	side := ""
	for i, r := range d.Rows {
		// A side with columns of its own (the income side of the
		// 财政拨款收入支出决算总表) gets its own headings above its rows.
		if _, own := d.SideColumns[r.Side]; own && (i == 0 || r.Side != side) {
			cols := d.columnsOf(r.Side)
			sub := []string{r.Side, "", ""}
			for _, c := range cols {
				sub = append(sub, c+"（万元）")
			}
			sub = append(sub, make([]string, max(0, len(d.Columns)-len(cols)))...)
			for _, c := range cols {
				sub = append(sub, c+"（元）")
			}
			if err := cw.Write(sub); err != nil {
				return err
			}
		}
		side = r.Side
		// A row with fewer columns leaves the rest blank, so that every
		// column keeps one meaning down the sheet.
		blank := make([]string, max(0, len(d.Columns)-len(r.values())))
		rec := append([]string{r.Side, r.Code, r.Name}, r.values()...)
		rec = append(rec, blank...)
		rec = append(rec, r.amounts()...)
		rec = append(rec, blank...)
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	// Counts and the note follow the table in the 项目 column, so that
	// nothing the statement says is lost in a sheet, and no count sits
	// under a heading in 万元.
	for _, f := range d.Facts {
		if err := cw.Write([]string{"说明", "", f.Name + "：" + f.Value}); err != nil {
			return err
		}
	}
	if d.Note != "" {
		if err := cw.Write([]string{"说明", "", d.Note}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteText writes d as an aligned table, like the printed statement: the
// title, the ledger and date, then code, name and 万元 value(s) with
// thousands separators. Two-sided tables print their sides one after the
// other, each under its own column headings.
func WriteText(w io.Writer, d Document) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", d.Title)
	unit := "全部单位"
	if d.Unit != "" {
		unit = d.Unit
	}
	fmt.Fprintf(&b, "%s  %d 年度  截至 %s  %s  单位：%s\n", d.Ledger, d.FiscalYear, d.AsOf, unit, d.AmountUnit)
	if d.KnownAt != "" {
		fmt.Fprintf(&b, "（按 %s 时账簿所知）\n", d.KnownAt)
	}
	codeWidth, nameWidth := 0, 0
	colWidth := map[string][]int{}
	for _, r := range d.Rows {
		codeWidth = max(codeWidth, len(r.Code))
		nameWidth = max(nameWidth, displayWidth(r.Name), displayWidth(r.Side))
		cw := colWidth[r.Side]
		if cw == nil {
			for _, c := range d.columnsOf(r.Side) {
				cw = append(cw, max(12, displayWidth(c)))
			}
			colWidth[r.Side] = cw
		}
		for i, v := range r.values() {
			if i < len(cw) {
				cw[i] = max(cw[i], len(projections.GroupThousands(v)))
			}
		}
	}
	lead := func(code, name string) {
		if codeWidth > 0 {
			b.WriteString(pad(code, codeWidth) + "  ")
		}
		b.WriteString(pad(name, nameWidth))
	}
	side, first := "", true
	for _, r := range d.Rows {
		if r.Side != side || first {
			side, first = r.Side, false
			b.WriteString("\n")
			lead("", side)
			for i, c := range d.columnsOf(side) {
				fmt.Fprintf(&b, "  %s", padLeft(c, colWidth[side][i]))
			}
			b.WriteString("\n")
		}
		lead(r.Code, r.Name)
		for i, v := range r.values() {
			fmt.Fprintf(&b, "  %s", padLeft(projections.GroupThousands(v), colWidth[side][i]))
		}
		b.WriteString("\n")
	}
	if len(d.Facts) > 0 {
		b.WriteString("\n")
	}
	for _, f := range d.Facts {
		fmt.Fprintf(&b, "%s  %s\n", pad(f.Name, nameWidth), f.Value)
	}
	if d.Note != "" {
		fmt.Fprintf(&b, "\n%s\n", d.Note)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// displayWidth counts CJK characters as two columns, as terminals show them.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x2E80 && utf8.RuneLen(r) > 1 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func pad(s string, w int) string {
	return s + strings.Repeat(" ", max(0, w-displayWidth(s)))
}

func padLeft(s string, w int) string {
	return strings.Repeat(" ", max(0, w-displayWidth(s))) + s
}
