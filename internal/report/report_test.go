package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/report"
	"github.com/budgetledger/budgetledger/projections"
)

func TestRender(t *testing.T) {
	st := &projections.Statement{
		Title: "表", Ledger: "l", FiscalYear: 2020, AsOf: events.NewDate(2020, 12, 31),
		Columns:     []string{"合计", "基本支出"},
		SideColumns: map[string][]string{"收入": {"决算数"}},
		Rows: []projections.Row{
			{Side: "收入", Key: "a", Name: "收入一", Amounts: []events.Amount{40966598_00 / 100}},
			{Side: "支出", Key: "b", Code: "201", Name: "一般公共服务支出", Amounts: []events.Amount{1234567_89, 5000}},
		},
		Facts: []projections.Fact{{Key: "k", Name: "公务接待批次", Value: "12"}},
		Note:  "说明：本表无数据。",
	}
	d := report.FromStatement(st)
	if d.Rows[1].Value != "123.46" || d.Rows[1].AmountYuan != "1234567.89" || len(d.Rows[1].Values) != 2 || d.Rows[1].Values[1] != "0.01" {
		t.Errorf("row: %+v", d.Rows[1])
	}
	var csv bytes.Buffer
	if err := report.WriteCSV(&csv, d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\uFEFF项目类别,科目编码,项目,合计（万元）,基本支出（万元）,合计（元）,基本支出（元）\n",
		"收入,,,决算数（万元）,,决算数（元）\n",
		"收入,,收入一,40.97,,409665.98,\n",
		"支出,201,一般公共服务支出,123.46,0.01,1234567.89,50.00\n",
		"说明,,公务接待批次：12\n",
		"说明,,说明：本表无数据。\n",
	} {
		if !strings.Contains(csv.String(), want) {
			t.Errorf("CSV lacks %q:\n%s", want, csv.String())
		}
	}
	var text bytes.Buffer
	if err := report.WriteText(&text, d); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"表\n", "决算数", "基本支出", "123.46", "公务接待批次", "说明：本表无数据。"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}
