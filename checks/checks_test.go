package checks_test

import (
	"bufio"
	"bytes"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/checks"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/golden"
	"github.com/budgetledger/budgetledger/projections"
)

func sample(t *testing.T) []events.Event {
	t.Helper()
	var out []events.Event
	sc := bufio.NewScanner(bytes.NewReader(budgetledger.SampleLedger))
	for sc.Scan() {
		e, err := events.DecodeJSON(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// TestLedgerStatementsHold: the ledger's own statements keep every rule,
// exactly or within rounding.
func TestLedgerStatementsHold(t *testing.T) {
	evs := sample(t)
	sts := map[string]*projections.Statement{}
	for _, spec := range projections.Specs {
		st, err := spec.Fold(slices.Values(evs), projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020}, events.DefaultCatalog())
		if err != nil {
			t.Fatal(err)
		}
		sts[spec.Name] = st
	}
	results := checks.Run(checks.FromStatements(sts))
	if len(results) < 100 {
		t.Errorf("only %d rules evaluated", len(results))
	}
	rounding := 0
	for _, r := range results {
		switch r.Status {
		case checks.Fail, checks.Skipped:
			t.Errorf("rule %s %s: %s vs %s (%s) %s", r.Rule, r.Check, r.Left, r.Right, r.Status, r.Note)
		case checks.Rounding:
			rounding++
		}
	}
	// The published figures differ from their parts by a cent in places
	// (e.g. 本年支出合计 4,638.73 against lines adding to 4,638.74); the
	// statements reproduce that, and the checks must call it rounding.
	if rounding == 0 {
		t.Error("no difference within rounding found; the sample reproduces several")
	}
}

// TestPublishedReport runs the rules on the published 2020 report as typed
// in testdata/golden: they find exactly its deviations D1, D2, D3 and the
// narrative's errors of D4, and nothing else. (The share 1.35% is one the
// printed figures allow, so it is reported as within rounding; against the
// books, which know the exact amounts, it is an error.)
func TestPublishedReport(t *testing.T) {
	r, err := checks.LoadDir("../testdata/golden", 2020)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Tables) != 9 { // T1–T7, T10 and the narrative; the report prints the fund tables empty
		t.Errorf("loaded %d tables", len(r.Tables))
	}
	var failed []string
	for _, res := range checks.Run(r) {
		if res.Status == checks.Fail {
			failed = append(failed, res.Check+" ["+res.Left+" vs "+res.Right+"]")
		}
		if res.Status == checks.Skipped {
			t.Errorf("skipped: %s %s", res.Check, res.Note)
		}
	}
	want := []string{
		"基本支出决算表: 类 310 = Σ its 款 [13.39 vs 495.59]",                                               // D1
		"资产负债情况表 年末数: 固定资产 = 房屋 + 通用设备 + 专用设备 + 其他固定资产 [1,579.57 vs 1,579.47]",                     // D2
		"资产负债情况表 年末数: 资产合计 = 流动 + 固定 − 累计折旧 + 长期投资 + 在建工程 + 无形 − 累计摊销 + 其他 [1,536.91 vs 2,002.74]", // D2
		"资产负债情况表 年末数: 净资产合计 = 资产合计 − 负债合计 [1,988.16 vs 1,522.35]",                                  // D2
		"机关运行经费 ≤ 基本支出决算表 公用经费合计 [729.93 vs 187.90]",                                               // D3
		"情况说明 基本支出 = 支出决算表 合计 [1,154.28 vs 1,154.29]",                                              // D4
		"情况说明 general 增长率 = 增减额 / 上年数 [9.92 vs 11.01]",                                             // D4
		"情况说明 general:completion = general / general:initial_budget [145.71 vs 124.14]",            // D4
		"情况说明 general:221:share = general:221 / general [1.18 vs 1.19]",                            // D4
		"情况说明 绩效自评项目预算金额 = Σ 所列项目预算数 [5,290.51 vs 5,301.87]",                                       // D4
		"情况说明 平均得分 = 所列项目得分的平均数 [95.50 vs 95.60]",
		"情况说明 一般公共服务支出（类）支出决算 = 一般公共预算财政拨款支出决算表 201 [3,712.74 vs 3,712.75]",
		"情况说明 社会保障和就业支出（类）支出决算 = 一般公共预算财政拨款支出决算表 208 [138.76 vs 138.77]",
		"情况说明 住房保障支出（类）支出决算 = 一般公共预算财政拨款支出决算表 221 [46.84 vs 46.85]",
		"情况说明 three_public 增长率 = 增减额 / 上年数 [-52.72 vs -59.30]", // D4
	}
	slices.Sort(failed)
	slices.Sort(want)
	if !slices.Equal(failed, want) {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(failed, "\n"), strings.Join(want, "\n"))
	}
}

// TestExactRulesFailOnAnyDifference: on the ledger's own statements the
// amounts are exact, so a rule that is off by even one 分 fails, however many
// printed cells it spans; a printed difference with equal exact amounts is
// rounding.
func TestExactRulesFailOnAnyDifference(t *testing.T) {
	st := func(lines ...events.Amount) *projections.Statement {
		s := &projections.Statement{Columns: []string{"决算数"}}
		for i, a := range lines {
			name := []string{"本年支出合计", "一、一般公共服务支出", "二、外交支出"}[i]
			s.Rows = append(s.Rows, projections.Row{Side: "支出", Name: name, Amounts: []events.Amount{a}})
		}
		for _, n := range []string{"结余分配", "年末结转和结余", "总计"} {
			s.Rows = append(s.Rows, projections.Row{Side: "支出", Name: n, Amounts: []events.Amount{0}})
		}
		return s
	}
	find := func(results []checks.Result) checks.Result {
		for _, r := range results {
			if strings.Contains(r.Check, "本年支出合计 = the 24") {
				return r
			}
		}
		t.Fatal("rule not evaluated")
		return checks.Result{}
	}
	// 0.005 + 0.005 万元 printed 0.01 + 0.01, total exactly 0.01: rounding.
	r := find(checks.Run(checks.FromStatements(map[string]*projections.Statement{"income-expenditure": st(100_00, 50_00, 50_00)})))
	if r.Status != checks.Rounding {
		t.Errorf("exact total with printed gap: %+v", r)
	}
	// One 分 off: a failure, though well inside the printed tolerance.
	r = find(checks.Run(checks.FromStatements(map[string]*projections.Statement{"income-expenditure": st(100_01, 50_00, 50_00)})))
	if r.Status != checks.Fail {
		t.Errorf("one 分 off: %+v", r)
	}
}

// TestFundTablesHold: a ledger with 政府性基金 money (opening balances by
// 项, income, basic and project spending) gives fund tables whose rows add
// up and roll forward exactly.
func TestFundTablesHold(t *testing.T) {
	ev := func(id string, b events.Body) events.Event {
		return events.Event{ID: id, Ledger: "l", Unit: "本级", FiscalYear: 2021, Date: events.NewDate(2021, 5, 1), Source: "s", Voucher: "v", Body: b}
	}
	evs := []events.Event{
		ev("o1", events.OpeningBalance{Fund: events.FundGovernmentFund, Functional: "2120803", Amount: 1_000_00}),
		ev("o2", events.OpeningBalance{Fund: events.FundGovernmentFund, Functional: "2120399", Amount: 7_00}),
		ev("a", events.Appropriation{Fund: events.FundGovernmentFund, Functional: "2120803", Amount: 50_000_00}),
		ev("x", events.Expenditure{Functional: "2120803", Economic: "30201", ExpenditureKind: events.ExpenditureProject, Project: "p", Fund: events.FundGovernmentFund, Amount: 20_000_33}),
		ev("y", events.Expenditure{Functional: "2120399", Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGovernmentFund, Amount: 3_00}),
	}
	sts := map[string]*projections.Statement{}
	for _, name := range []string{"government-fund", "state-capital"} {
		spec, _ := projections.SpecByName(name)
		st, err := spec.Fold(slices.Values(evs), projections.Filter{Ledger: "l", FiscalYear: 2021}, events.DefaultCatalog())
		if err != nil {
			t.Fatal(err)
		}
		sts[name] = st
	}
	n := 0
	for _, r := range checks.Run(checks.FromStatements(sts)) {
		if r.Status == checks.Fail {
			t.Errorf("%s: %s vs %s (%s) %s", r.Check, r.Left, r.Right, r.Status, r.Note)
		}
		if strings.Contains(r.Check, "政府性基金") && strings.Contains(r.Check, "年末 = 年初") {
			n++
		}
	}
	if n != 6 { // 合计, 212, 21203, 2120399, 21208, 2120803
		t.Errorf("%d roll-forward rules on the 政府性基金 table, want one per row (6)", n)
	}
}

// TestPublishedAgainstBooks compares the published 2020 report, cell by
// cell, with the sample ledger's statements: the only cells that differ are
// the published deviations (D1–D5 in testdata/golden/deviations.tsv), each
// showing the published figure against the books.
func TestPublishedAgainstBooks(t *testing.T) {
	published, err := checks.LoadDir("../testdata/golden", 2020)
	if err != nil {
		t.Fatal(err)
	}
	evs := sample(t)
	sts := map[string]*projections.Statement{}
	for _, spec := range projections.Specs {
		st, err := spec.Fold(slices.Values(evs), projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020}, events.DefaultCatalog())
		if err != nil {
			t.Fatal(err)
		}
		sts[spec.Name] = st
	}
	var got []string
	compared := 0
	for _, r := range checks.Compare(published, checks.FromStatements(sts)) {
		compared++
		if r.Status == checks.Fail {
			got = append(got, r.Check+" ["+r.Left+" vs "+r.Right+"]")
		}
	}
	_, all, err := golden.Table("deviations")
	if err != nil {
		t.Fatal(err)
	}
	// Deviations the books can show (those of figures the ledger holds).
	var devs [][]string
	for _, d := range all {
		if !strings.HasPrefix(d[5], "(") {
			devs = append(devs, d)
		}
	}
	if compared < 300 {
		t.Errorf("only %d cells compared", compared)
	}
	if len(got) != len(devs) {
		t.Errorf("%d cells differ from the books, deviations.tsv lists %d:\n%s", len(got), len(devs), strings.Join(got, "\n"))
	}
	for _, d := range devs {
		want := d[2] + " "
		pair := "[" + norm(d[4]) + " vs " + norm(d[5]) + "]"
		found := false
		for _, g := range got {
			if strings.Contains(g, want) && strings.HasSuffix(normPair(g), pair) {
				found = true
			}
		}
		if !found {
			t.Errorf("deviation %s %s %s (%s vs %s) not found among:\n%s", d[0], d[1], d[2], d[4], d[5], strings.Join(got, "\n"))
		}
	}
}

// norm writes a printed figure with two decimals and no separators.
func norm(v string) string {
	v = strings.ReplaceAll(v, ",", "")
	whole, frac, ok := strings.Cut(v, ".")
	if !ok || v == "(blank)" {
		if v == "(blank)" {
			return v
		}
		return whole + ".00"
	}
	return whole + "." + (frac + "00")[:2]
}

// normPair normalises the "[a vs b]" at the end of a result line.
func normPair(g string) string {
	i := strings.LastIndex(g, "[")
	a, b, _ := strings.Cut(strings.TrimSuffix(g[i+1:], "]"), " vs ")
	return g[:i] + "[" + norm(a) + " vs " + norm(b) + "]"
}

// TestCarryForward: rule 12 compares next year's opening balances with this
// year's closing ones, in all and by fiscal fund.
func TestCarryForward(t *testing.T) {
	ev := func(id string, y int, b events.Body) events.Event {
		return events.Event{ID: id, Ledger: "l", Unit: "本级", FiscalYear: y, Date: events.NewDate(y, 1, 1), Source: "s", Voucher: "v", Body: b}
	}
	base := []events.Event{
		ev("a", 2020, events.Appropriation{Fund: events.FundGeneralBudget, Functional: "2019999", Amount: 100_00}),
		ev("x", 2020, events.Expenditure{Functional: "2019999", Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 30_00}),
	}
	run := func(opening events.Amount, adjustments ...events.OpeningAdjusted) []checks.Result {
		evs := append(slices.Clone(base), ev("o", 2021, events.OpeningBalance{Fund: events.FundGeneralBudget, Amount: opening}))
		for i, a := range adjustments {
			evs = append(evs, ev("adj"+strconv.Itoa(i), 2021, a))
		}
		sts := map[string]*projections.Statement{}
		for _, y := range []int{2020, 2021} {
			for _, name := range []string{"income-expenditure", "fiscal-summary"} {
				spec, _ := projections.SpecByName(name)
				st, err := spec.Fold(slices.Values(evs), projections.Filter{Ledger: "l", FiscalYear: y}, events.DefaultCatalog())
				if err != nil {
					t.Fatal(err)
				}
				key := name
				if y == 2021 {
					key = checks.NextYear + name
				}
				sts[key] = st
			}
		}
		var out []checks.Result
		for _, r := range checks.Run(checks.FromStatements(sts)) {
			if r.Rule == "12" {
				out = append(out, r)
			}
		}
		return out
	}
	for _, r := range run(70_00) {
		if r.Status != checks.Pass {
			t.Errorf("carried forward exactly: %+v", r)
		}
	}
	failed := 0
	for _, r := range run(70_01) {
		if r.Status == checks.Fail {
			failed++
		}
	}
	if failed != 2 { // in all, and 一般公共预算
		t.Errorf("one 分 too much carried forward: %d rules fail, want 2", failed)
	}
	// Net of a 年初调整 the rule holds exactly: a 分 off still fails.
	up := events.OpeningAdjusted{Fund: events.FundGeneralBudget, Amount: 12_34, Reason: "r"}
	down := events.OpeningAdjusted{Fund: events.FundGeneralBudget, Decrease: true, Amount: 60_00, Reason: "r"}
	for _, c := range []struct {
		opening events.Amount
		adj     []events.OpeningAdjusted
		fail    int
	}{{70_00, nil, 0}, {70_00, []events.OpeningAdjusted{up, down}, 0}, {10_00, []events.OpeningAdjusted{up, down}, 2},
		{70_00, []events.OpeningAdjusted{up}, 0}, {70_01, []events.OpeningAdjusted{up}, 2}, {70_00, []events.OpeningAdjusted{down}, 0}, {69_99, []events.OpeningAdjusted{down}, 2}} {
		// A printed gap with exact amounts that agree is only rounding.
		results, failed := run(c.opening, c.adj...), 0
		for _, r := range results {
			if r.Status == checks.Fail {
				failed++
			}
		}
		if failed != c.fail || len(results) != 4 {
			t.Errorf("opening %d with %+v: %d of %d fail, want %d", c.opening, c.adj, failed, len(results), c.fail)
		}
	}
}
