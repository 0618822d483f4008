package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/budgetledger/budgetledger/events"
)

// Valid lines of the import format, one per body shape the rules differ on.
const (
	baseExpenditure   = `{"id":"qp2020-000004","ledger":"qingpu-zwb","unit":"行政服务中心","fiscal_year":2020,"date":"2020-01-02","source":"青浦区财务核算系统","voucher":"记-202001-0004","memo":"支付1月水费","expenditure":{"functional":"2019999","economic":"30205","kind":"basic","fund":"general_budget","amount":"3120.55"}}`
	baseProject       = `{"id":"qp2020-000105","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-02-24","source":"青浦区财务核算系统","voucher":"记-202002-0048","memo":"支付“互联网+政务服务”管理服务费（第1期）","expenditure":{"functional":"2019999","economic":"30227","kind":"project","project":"“互联网+政务服务”管理经费","fund":"general_budget","amount":"586849.00"}}`
	baseAppropriation = `{"id":"qp2020-000005","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-01-06","source":"青浦区财务核算系统","voucher":"记-202001-0005","memo":"拨入1月经费","appropriation":{"fund":"general_budget","functional":"2019999","amount":"1738500.00"}}`
	baseOtherIncome   = `{"id":"qp2020-000137","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-03-16","source":"青浦区财务核算系统","voucher":"记-202003-0023","memo":"收到智慧城市项目资金","other_income":{"kind":"other","functional":"2069999","amount":"2187600.00"}}`
	baseOpening       = `{"id":"qp2020-000001","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-01-01","source":"青浦区财务核算系统","voucher":"记-202001-0001","memo":"年初结转","opening_balance":{"fund":"general_budget","amount":"6000.00"}}`
	baseSurplus       = `{"id":"x-2","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-31","source":"s","voucher":"v-2","surplus_distribution":{"amount":"1.00"}}`
)

// mutation edits the generic form of a JSON line.
type mutation func(m map[string]any)

func set(k string, v any) mutation { return func(m map[string]any) { m[k] = v } }
func del(k string) mutation        { return func(m map[string]any) { delete(m, k) } }
func setIn(body, k string, v any) mutation {
	return func(m map[string]any) { m[body].(map[string]any)[k] = v }
}
func delIn(body, k string) mutation {
	return func(m map[string]any) { delete(m[body].(map[string]any), k) }
}

// edit returns base with the mutations applied. Numbers keep their text
// (json.Number), so set("x", json.Number("12.5")) writes a JSON number.
func edit(tb testing.TB, base string, ms ...mutation) string {
	tb.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(base))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("edit: base is not JSON: %v", err)
	}
	for _, f := range ms {
		f(m)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		tb.Fatalf("edit: %v", err)
	}
	return strings.TrimSpace(buf.String())
}

// TestIngestRejects runs one bad line per rule through DecodeJSON and then
// Validate, as the ingest does, and checks the stable code and that the
// error names the offending field.
func TestIngestRejects(t *testing.T) {
	const exp, app = "expenditure", "appropriation"
	long := strings.Repeat("a", events.MaxIDLen+1)
	tests := []struct {
		name  string
		raw   string     // the line as is, when set
		base  string     // else base (default baseExpenditure) ...
		edits []mutation // ... with these edits
		code  events.Code
		field string
		value string // when set, ValidationError.Value must be this
	}{
		// The form.
		{name: "not JSON", raw: `not json`, code: events.CodeMalformedJSON, field: "event"},
		{name: "empty line", raw: ``, code: events.CodeMalformedJSON, field: "event"},
		{name: "truncated object", raw: baseExpenditure[:len(baseExpenditure)-1], code: events.CodeMalformedJSON, field: "event"},
		{name: "JSON array", raw: `[` + baseExpenditure + `]`, code: events.CodeMalformedJSON, field: "event"},
		{name: "JSON string", raw: `"qp2020-000004"`, code: events.CodeMalformedJSON, field: "event"},
		{name: "two objects on one line", raw: baseExpenditure + baseExpenditure, code: events.CodeMalformedJSON, field: "event"},
		{name: "two objects with a space", raw: baseExpenditure + " " + baseOpening, code: events.CodeMalformedJSON, field: "event"},
		{name: "unknown body", edits: []mutation{set("asset_acquired", map[string]any{"amount": "1.00"})}, code: events.CodeUnknownBody, field: "asset_acquired"},
		{name: "unknown body alone", edits: []mutation{del(exp), set("asset_acquired", map[string]any{"amount": "1.00"})}, code: events.CodeUnknownBody, field: "asset_acquired"},
		{name: "unknown top-level field", edits: []mutation{set("colour", "red")}, code: events.CodeUnknownField, field: "colour"},
		{name: "missing body", edits: []mutation{del(exp)}, code: events.CodeMissingBody, field: "body"},
		{name: "null body", edits: []mutation{set(exp, nil)}, code: events.CodeMissingBody, field: "body"},
		{name: "two bodies", edits: []mutation{set(app, map[string]any{"fund": "general_budget", "functional": "2019999", "amount": "1.00"})}, code: events.CodeMultipleBodies, field: "body"},
		{name: "body not an object", edits: []mutation{set(exp, "3120.55")}, code: events.CodeInvalidField, field: exp},

		// The envelope.
		{name: "missing id", edits: []mutation{del("id")}, code: events.CodeMissingField, field: "id"},
		{name: "id with spaces", edits: []mutation{set("id", "qp2020 000004")}, code: events.CodeInvalidID, field: "id", value: "qp2020 000004"},
		{name: "id with a slash", edits: []mutation{set("id", "qp2020/4")}, code: events.CodeInvalidID, field: "id"},
		{name: "id in Chinese", edits: []mutation{set("id", "青浦-4")}, code: events.CodeInvalidID, field: "id"},
		{name: "id too long", edits: []mutation{set("id", long)}, code: events.CodeInvalidID, field: "id"},
		{name: "id a number", edits: []mutation{set("id", json.Number("4"))}, code: events.CodeInvalidField, field: "id"},
		{name: "missing ledger", edits: []mutation{del("ledger")}, code: events.CodeMissingField, field: "ledger"},
		{name: "ledger upper case", edits: []mutation{set("ledger", "Qingpu-zwb")}, code: events.CodeInvalidLedger, field: "ledger", value: "Qingpu-zwb"},
		{name: "ledger starts with dash", edits: []mutation{set("ledger", "-qingpu")}, code: events.CodeInvalidLedger, field: "ledger"},
		{name: "ledger with dot", edits: []mutation{set("ledger", "qingpu.zwb")}, code: events.CodeInvalidLedger, field: "ledger"},
		{name: "ledger too long", edits: []mutation{set("ledger", strings.Repeat("q", events.MaxLedgerLen+1))}, code: events.CodeInvalidLedger, field: "ledger"},
		{name: "missing unit", edits: []mutation{del("unit")}, code: events.CodeMissingField, field: "unit"},
		{name: "unit with line break", edits: []mutation{set("unit", "本级\n")}, code: events.CodeInvalidField, field: "unit"},
		{name: "unit too long", edits: []mutation{set("unit", strings.Repeat("单", events.MaxTextLen+1))}, code: events.CodeInvalidField, field: "unit"},
		{name: "missing source", edits: []mutation{del("source")}, code: events.CodeMissingField, field: "source"},
		{name: "missing voucher", edits: []mutation{del("voucher")}, code: events.CodeMissingField, field: "voucher"},
		{name: "memo with control character", edits: []mutation{set("memo", "支付\a水费")}, code: events.CodeInvalidField, field: "memo"},
		{name: "memo with tab", edits: []mutation{set("memo", "支付\t水费")}, code: events.CodeInvalidField, field: "memo"},
		{name: "memo with carriage return", edits: []mutation{set("memo", "支付\r\n水费")}, code: events.CodeInvalidField, field: "memo"},
		{name: "memo with NUL", edits: []mutation{set("memo", "支付\x00")}, code: events.CodeInvalidField, field: "memo"},
		{name: "memo too long", edits: []mutation{set("memo", strings.Repeat("费", events.MaxMemoLen+1))}, code: events.CodeInvalidField, field: "memo"},

		// Year and date.
		{name: "missing fiscal year", edits: []mutation{del("fiscal_year")}, code: events.CodeMissingField, field: "fiscal_year"},
		{name: "fiscal year as string", edits: []mutation{set("fiscal_year", "2020")}, code: events.CodeInvalidField, field: "fiscal_year"},
		{name: "fiscal year fractional", edits: []mutation{set("fiscal_year", json.Number("2020.5"))}, code: events.CodeInvalidField, field: "fiscal_year"},
		{name: "fiscal year before 2000", edits: []mutation{set("fiscal_year", json.Number("1999")), set("date", "1999-01-02")}, code: events.CodeInvalidFiscalYear, field: "fiscal_year", value: "1999"},
		{name: "fiscal year after 2100", edits: []mutation{set("fiscal_year", json.Number("2101")), set("date", "2101-01-02")}, code: events.CodeInvalidFiscalYear, field: "fiscal_year"},
		{name: "missing date", edits: []mutation{del("date")}, code: events.CodeMissingField, field: "date"},
		{name: "date outside fiscal year", edits: []mutation{set("date", "2021-01-01")}, code: events.CodeDateOutsideYear, field: "date", value: "2021-01-01"},
		{name: "date the year before", edits: []mutation{set("date", "2019-12-31")}, code: events.CodeDateOutsideYear, field: "date"},
		{name: "invalid date", edits: []mutation{set("date", "2020-02-30")}, code: events.CodeInvalidDate, field: "date", value: "2020-02-30"},
		{name: "invalid month", edits: []mutation{set("date", "2020-13-01")}, code: events.CodeInvalidDate, field: "date"},
		{name: "bad date format slashes", edits: []mutation{set("date", "2020/01/02")}, code: events.CodeInvalidDate, field: "date"},
		{name: "bad date format no padding", edits: []mutation{set("date", "2020-1-2")}, code: events.CodeInvalidDate, field: "date"},
		{name: "date with time", edits: []mutation{set("date", "2020-01-02T00:00:00Z")}, code: events.CodeInvalidDate, field: "date"},
		{name: "date as number", edits: []mutation{set("date", json.Number("20200102"))}, code: events.CodeInvalidField, field: "date"},

		// Amounts.
		{name: "fiscal money for 上缴上级支出", edits: []mutation{setIn(exp, "kind", "remit_superior")}, code: events.CodeFundNotAllowed, field: "expenditure.fund"},
		{name: "reception without batches", edits: []mutation{setIn(exp, "economic", "30217"), setIn(exp, "reception", map[string]any{"batches": 0, "visitors": 3})}, code: events.CodeInvalidField, field: "expenditure.reception.batches"},
		{name: "quantity on depreciation", edits: []mutation{del(exp), set("asset_changed", map[string]any{"class": "depreciation", "change": "increase", "quantity": 3, "amount": "1.00"})}, code: events.CodeInvalidField, field: "asset_changed.quantity"},
		{name: "政府性基金 opening without 功能分类", edits: []mutation{del(exp), set("opening_balance", map[string]any{"fund": "government_fund", "amount": "1.00"})}, code: events.CodeMissingField, field: "opening_balance.functional"},
		{name: "procurement reserved for large", edits: []mutation{del(exp), set("procurement_contracted", map[string]any{"category": "goods", "reserved": "large", "supplier": "sme", "amount": "1.00"})}, code: events.CodeInvalidEnum, field: "procurement_contracted.reserved"},
		{name: "procurement unknown category", edits: []mutation{del(exp), set("procurement_contracted", map[string]any{"category": "land", "supplier": "sme", "amount": "1.00"})}, code: events.CodeInvalidEnum, field: "procurement_contracted.category"},
		{name: "grade above its score", edits: []mutation{del(exp), set("performance_evaluated", map[string]any{"project": "p", "score": "50.0", "grade": "excellent", "problems_found": 0, "problems_fixed": 0})}, code: events.CodeInvalidField, field: "performance_evaluated.grade"},
		{name: "more problems fixed than found", edits: []mutation{del(exp), set("performance_evaluated", map[string]any{"project": "p", "score": "95.0", "grade": "excellent", "problems_found": 1, "problems_fixed": 2})}, code: events.CodeInvalidField, field: "performance_evaluated.problems_fixed"},
		{name: "score with two decimals", edits: []mutation{del(exp), set("performance_evaluated", map[string]any{"project": "p", "score": "95.55", "grade": "excellent", "problems_found": 0, "problems_fixed": 0})}, code: events.CodeInvalidField, field: "performance_evaluated.score"},
		{name: "unit price on other fixed assets", edits: []mutation{del(exp), set("asset_changed", map[string]any{"class": "other_fixed", "change": "increase", "unit_price": "10.00", "amount": "10.00"})}, code: events.CodeInvalidField, field: "asset_changed.unit_price"},
		{name: "reversal without body", edits: []mutation{del(exp), set("reversal", map[string]any{"event_id": "qp2020-000004", "reason": "错"})}, code: events.CodeMissingBody, field: "reversal.body"},
		{name: "reversal without reason", edits: []mutation{del(exp), set("reversal", map[string]any{"event_id": "qp2020-000004", "surplus_distribution": map[string]any{"amount": "1.00"}})}, code: events.CodeMissingField, field: "reversal.reason"},
		{name: "reversal of a reversal", edits: []mutation{del(exp), set("reversal", map[string]any{"event_id": "r1", "reason": "错", "reversal": map[string]any{"event_id": "r0", "reason": "错", "surplus_distribution": map[string]any{"amount": "1.00"}}})}, code: events.CodeInvalidField, field: "reversal.reversal"},
		{name: "reversal with a bad body", edits: []mutation{del(exp), set("reversal", map[string]any{"event_id": "qp2020-000004", "reason": "错", "surplus_distribution": map[string]any{"amount": "1.001"}})}, code: events.CodeAmountPrecision, field: "reversal.surplus_distribution.amount"},
		// Reception counts, budgets and units.
		{name: "reception on another payment", edits: []mutation{setIn(exp, "reception", map[string]any{"batches": 1, "visitors": 3, "foreign_visitors": 0})}, code: events.CodeInvalidField, field: "expenditure.reception"},
		{name: "reception unknown field", edits: []mutation{setIn(exp, "economic", "30217"), setIn(exp, "reception", map[string]any{"batches": 1, "guests": 3})}, code: events.CodeUnknownField, field: "expenditure.reception.guests"},
		{name: "reception more foreign than visitors", edits: []mutation{setIn(exp, "economic", "30217"), setIn(exp, "reception", map[string]any{"batches": 1, "visitors": 3, "foreign_visitors": 4})}, code: events.CodeInvalidField, field: "expenditure.reception.foreign_visitors"},
		{name: "reception negative", edits: []mutation{setIn(exp, "economic", "30217"), setIn(exp, "reception", map[string]any{"batches": -1})}, code: events.CodeInvalidField, field: "expenditure.reception.batches"},
		{name: "budget decrease at the start", edits: []mutation{del(exp), set("budget", map[string]any{"stage": "initial", "change": "decrease", "functional": "2019999", "kind": "basic", "fund": "general_budget", "amount": "1.00"})}, code: events.CodeInvalidField, field: "budget.change"},
		{name: "budget adjustment without change", edits: []mutation{del(exp), set("budget", map[string]any{"stage": "adjustment", "functional": "2019999", "kind": "basic", "fund": "general_budget", "amount": "1.00"})}, code: events.CodeMissingField, field: "budget.change"},
		{name: "budget unknown stage", edits: []mutation{del(exp), set("budget", map[string]any{"stage": "final", "functional": "2019999", "kind": "basic", "fund": "general_budget", "amount": "1.00"})}, code: events.CodeInvalidEnum, field: "budget.stage"},
		{name: "budget project missing", edits: []mutation{del(exp), set("budget", map[string]any{"stage": "initial", "functional": "2019999", "kind": "project", "fund": "general_budget", "amount": "1.00"})}, code: events.CodeProjectRequired, field: "budget.project"},
		{name: "budget unknown economic", edits: []mutation{del(exp), set("budget", map[string]any{"stage": "initial", "functional": "2019999", "economic": "30298", "kind": "basic", "fund": "general_budget", "amount": "1.00"})}, code: events.CodeUnknownCode, field: "budget.economic"},
		{name: "unit type missing", edits: []mutation{del(exp), set("unit_registered", map[string]any{"name": "某单位", "department": "某部门"})}, code: events.CodeMissingField, field: "unit_registered.type"},
		{name: "unit name missing", edits: []mutation{del(exp), set("unit_registered", map[string]any{"department": "某部门", "type": "行政单位"})}, code: events.CodeMissingField, field: "unit_registered.name"},

		{name: "amount 3 decimals", edits: []mutation{setIn(exp, "amount", "12.345")}, code: events.CodeAmountPrecision, field: "expenditure.amount", value: "12.345"},
		{name: "amount 3 decimals as number", edits: []mutation{setIn(exp, "amount", json.Number("12.345"))}, code: events.CodeAmountPrecision, field: "expenditure.amount"},
		{name: "amount zero", edits: []mutation{setIn(exp, "amount", "0.00")}, code: events.CodeAmountNotPositive, field: "expenditure.amount"},
		{name: "amount zero as number", edits: []mutation{setIn(exp, "amount", json.Number("0"))}, code: events.CodeAmountNotPositive, field: "expenditure.amount"},
		{name: "amount minus zero", edits: []mutation{setIn(exp, "amount", "-0")}, code: events.CodeAmountNotPositive, field: "expenditure.amount"},
		{name: "amount negative", edits: []mutation{setIn(exp, "amount", "-5.00")}, code: events.CodeAmountNotPositive, field: "expenditure.amount", value: "-5.00"},
		{name: "amount negative as number", edits: []mutation{setIn(exp, "amount", json.Number("-5"))}, code: events.CodeAmountNotPositive, field: "expenditure.amount"},
		{name: "amount abc", edits: []mutation{setIn(exp, "amount", "abc")}, code: events.CodeInvalidAmount, field: "expenditure.amount", value: "abc"},
		{name: "amount thousands separator", edits: []mutation{setIn(exp, "amount", "1,000.00")}, code: events.CodeInvalidAmount, field: "expenditure.amount"},
		{name: "amount exponent", edits: []mutation{setIn(exp, "amount", "1e3")}, code: events.CodeInvalidAmount, field: "expenditure.amount"},
		{name: "amount exponent as number", edits: []mutation{setIn(exp, "amount", json.Number("1e3"))}, code: events.CodeInvalidAmount, field: "expenditure.amount"},
		{name: "amount with spaces", edits: []mutation{setIn(exp, "amount", " 12.50")}, code: events.CodeInvalidAmount, field: "expenditure.amount"},
		{name: "amount with 元", edits: []mutation{setIn(exp, "amount", "12.50元")}, code: events.CodeInvalidAmount, field: "expenditure.amount"},
		{name: "amount full-width digits", edits: []mutation{setIn(exp, "amount", "１２.５０")}, code: events.CodeInvalidAmount, field: "expenditure.amount"},
		{name: "amount two dots", edits: []mutation{setIn(exp, "amount", "1.2.3")}, code: events.CodeInvalidAmount, field: "expenditure.amount"},
		{name: "amount bool", edits: []mutation{setIn(exp, "amount", true)}, code: events.CodeInvalidAmount, field: "expenditure.amount"},
		{name: "amount 1万亿", edits: []mutation{setIn(exp, "amount", "1000000000000.00")}, code: events.CodeAmountTooLarge, field: "expenditure.amount"},
		{name: "amount beyond int64", edits: []mutation{setIn(exp, "amount", "99999999999999999999999999.99")}, code: events.CodeAmountTooLarge, field: "expenditure.amount"},
		{name: "amount huge number", edits: []mutation{setIn(exp, "amount", json.Number("123456789012345678901234567890"))}, code: events.CodeAmountTooLarge, field: "expenditure.amount"},
		{name: "appropriation amount negative", base: baseAppropriation, edits: []mutation{setIn(app, "amount", "-1")}, code: events.CodeAmountNotPositive, field: "appropriation.amount"},
		{name: "surplus amount precision", base: baseSurplus, edits: []mutation{setIn("surplus_distribution", "amount", "0.001")}, code: events.CodeAmountPrecision, field: "surplus_distribution.amount"},
		{name: "opening balance amount zero", base: baseOpening, edits: []mutation{setIn("opening_balance", "amount", "0")}, code: events.CodeAmountNotPositive, field: "opening_balance.amount"},

		// Classification codes.
		{name: "functional unknown", edits: []mutation{setIn(exp, "functional", "2019998")}, code: events.CodeUnknownCode, field: "expenditure.functional", value: "2019998"},
		{name: "functional unknown 款", edits: []mutation{setIn(exp, "functional", "2019899")}, code: events.CodeUnknownCode, field: "expenditure.functional"},
		{name: "functional unknown 类", edits: []mutation{setIn(exp, "functional", "2009999")}, code: events.CodeUnknownCode, field: "expenditure.functional"},
		{name: "functional 6 digits", edits: []mutation{setIn(exp, "functional", "201999")}, code: events.CodeMalformedCode, field: "expenditure.functional", value: "201999"},
		{name: "functional letters", edits: []mutation{setIn(exp, "functional", "20199AB")}, code: events.CodeMalformedCode, field: "expenditure.functional"},
		{name: "functional class where 项 required", edits: []mutation{setIn(exp, "functional", "201")}, code: events.CodeMalformedCode, field: "expenditure.functional", value: "201"},
		{name: "functional 款 where 项 required", edits: []mutation{setIn(exp, "functional", "20199")}, code: events.CodeMalformedCode, field: "expenditure.functional"},
		{name: "functional missing", edits: []mutation{delIn(exp, "functional")}, code: events.CodeMissingField, field: "expenditure.functional"},
		{name: "functional as number", edits: []mutation{setIn(exp, "functional", json.Number("2019999"))}, code: events.CodeInvalidField, field: "expenditure.functional"},
		{name: "economic unknown", edits: []mutation{setIn(exp, "economic", "30298")}, code: events.CodeUnknownCode, field: "expenditure.economic", value: "30298"},
		{name: "economic unknown 类", edits: []mutation{setIn(exp, "economic", "39901")}, code: events.CodeUnknownCode, field: "expenditure.economic"},
		{name: "economic 6 digits", edits: []mutation{setIn(exp, "economic", "302011")}, code: events.CodeMalformedCode, field: "expenditure.economic", value: "302011"},
		{name: "economic class where 款 required", edits: []mutation{setIn(exp, "economic", "302")}, code: events.CodeMalformedCode, field: "expenditure.economic"},
		{name: "economic missing", edits: []mutation{delIn(exp, "economic")}, code: events.CodeMissingField, field: "expenditure.economic"},
		{name: "appropriation functional unknown", base: baseAppropriation, edits: []mutation{setIn(app, "functional", "2019998")}, code: events.CodeUnknownCode, field: "appropriation.functional"},
		{name: "other income functional malformed", base: baseOtherIncome, edits: []mutation{setIn("other_income", "functional", "206")}, code: events.CodeMalformedCode, field: "other_income.functional"},

		// Funds and kinds.
		{name: "fund unknown", edits: []mutation{setIn(exp, "fund", "local_budget")}, code: events.CodeInvalidEnum, field: "expenditure.fund", value: "local_budget"},
		{name: "fund missing", edits: []mutation{delIn(exp, "fund")}, code: events.CodeMissingField, field: "expenditure.fund"},
		{name: "fund wrong case", edits: []mutation{setIn(exp, "fund", "General_Budget")}, code: events.CodeInvalidEnum, field: "expenditure.fund"},
		{name: "appropriation fund non_fiscal", base: baseAppropriation, edits: []mutation{setIn(app, "fund", "non_fiscal")}, code: events.CodeFundNotAllowed, field: "appropriation.fund"},
		{name: "appropriation fund 非财政拨款", base: baseAppropriation, edits: []mutation{setIn(app, "fund", "非财政拨款")}, code: events.CodeFundNotAllowed, field: "appropriation.fund"},
		{name: "opening balance fund unknown", base: baseOpening, edits: []mutation{setIn("opening_balance", "fund", "x")}, code: events.CodeInvalidEnum, field: "opening_balance.fund"},
		{name: "project missing on project expenditure", base: baseProject, edits: []mutation{delIn(exp, "project")}, code: events.CodeProjectRequired, field: "expenditure.project"},
		{name: "project too long", base: baseProject, edits: []mutation{setIn(exp, "project", strings.Repeat("项", events.MaxTextLen+1))}, code: events.CodeInvalidField, field: "expenditure.project"},
		{name: "project with control character", base: baseProject, edits: []mutation{setIn(exp, "project", "经费\n")}, code: events.CodeInvalidField, field: "expenditure.project"},
		{name: "project on basic expenditure", edits: []mutation{setIn(exp, "project", "智慧城市")}, code: events.CodeProjectNotAllowed, field: "expenditure.project", value: "智慧城市"},
		{name: "expenditure kind unknown", edits: []mutation{setIn(exp, "kind", "capital")}, code: events.CodeInvalidEnum, field: "expenditure.kind", value: "capital"},
		{name: "expenditure kind missing", edits: []mutation{delIn(exp, "kind")}, code: events.CodeMissingField, field: "expenditure.kind"},
		{name: "other income kind unknown", base: baseOtherIncome, edits: []mutation{setIn("other_income", "kind", "gift")}, code: events.CodeInvalidEnum, field: "other_income.kind"},
		{name: "other income kind missing", base: baseOtherIncome, edits: []mutation{delIn("other_income", "kind")}, code: events.CodeMissingField, field: "other_income.kind"},
	}
	c := events.DefaultCatalog()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.raw
			if line == "" && tt.edits != nil {
				base := tt.base
				if base == "" {
					base = baseExpenditure
				}
				line = edit(t, base, tt.edits...)
			}
			_, err := ingest([]byte(line), c)
			if err == nil {
				t.Fatalf("accepted %s", line)
			}
			var ve *events.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v (%T), want a *ValidationError", err, err)
			}
			if !errors.Is(err, events.ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			if ve.Code != tt.code || events.CodeOf(err) != tt.code {
				t.Errorf("code = %s, want %s (%v)", ve.Code, tt.code, err)
			}
			if ve.Field != tt.field {
				t.Errorf("field = %q, want %q (%v)", ve.Field, tt.field, err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name the field %q", err, tt.field)
			}
			if ve.Expected == "" {
				t.Errorf("%v: says nothing about what was expected", err)
			}
			if tt.value != "" && ve.Value != tt.value {
				t.Errorf("value = %q, want %q", ve.Value, tt.value)
			}
		})
	}
}

// TestIngestAccepts checks the spellings the format allows besides the
// canonical one, and that they give the same content (binary form) as the
// canonical spelling.
func TestIngestAccepts(t *testing.T) {
	const exp = "expenditure"
	tests := []struct {
		name string
		line string
		same string // when set, the event must equal this line's event
		want events.Amount
	}{
		{name: "amount as JSON number", line: edit(t, baseExpenditure, setIn(exp, "amount", json.Number("12.5"))),
			same: edit(t, baseExpenditure, setIn(exp, "amount", "12.50")), want: 1250},
		{name: "amount integer number", line: edit(t, baseExpenditure, setIn(exp, "amount", json.Number("3"))),
			same: edit(t, baseExpenditure, setIn(exp, "amount", "3.00")), want: 300},
		{name: "amount one decimal", line: edit(t, baseExpenditure, setIn(exp, "amount", "3120.5")),
			same: edit(t, baseExpenditure, setIn(exp, "amount", "3120.50")), want: 312050},
		{name: "amount trailing zero", line: edit(t, baseExpenditure, setIn(exp, "amount", "3120.550")),
			same: baseExpenditure, want: 312055},
		{name: "amount maximum", line: edit(t, baseExpenditure, setIn(exp, "amount", "999999999999.99")), want: events.MaxAmount},
		{name: "amount one 分", line: edit(t, baseExpenditure, setIn(exp, "amount", "0.01")), want: 1},
		{name: "fund and kind in Chinese", line: edit(t, baseExpenditure, setIn(exp, "fund", "一般公共预算"), setIn(exp, "kind", "基本支出")),
			same: baseExpenditure, want: 312055},
		{name: "project kind in Chinese", line: edit(t, baseProject, setIn(exp, "kind", "项目支出")), same: baseProject, want: 58684900},
		{name: "appropriation fund in Chinese", line: edit(t, baseAppropriation, setIn("appropriation", "fund", "一般公共预算")),
			same: baseAppropriation, want: 173850000},
		{name: "other income kind in Chinese", line: edit(t, baseOtherIncome, setIn("other_income", "kind", "其他收入")),
			same: baseOtherIncome, want: 218760000},
		{name: "opening balance 非财政拨款", line: edit(t, baseOpening, setIn("opening_balance", "fund", "非财政拨款")),
			same: edit(t, baseOpening, setIn("opening_balance", "fund", "non_fiscal")), want: 600000},
		{name: "non-fiscal expenditure", line: edit(t, baseExpenditure, setIn(exp, "fund", "non_fiscal")), want: 312055},
		{name: "id of 128 characters", line: edit(t, baseExpenditure, set("id", strings.Repeat("a", events.MaxIDLen))), want: 312055},
		{name: "id with . _ :", line: edit(t, baseExpenditure, set("id", "qp.2020_x:4")), want: 312055},
		{name: "memo with line break", line: edit(t, baseExpenditure, set("memo", "支付1月水费\n第二行")), want: 312055},
		{name: "memo absent", line: edit(t, baseExpenditure, del("memo")), want: 312055},
		{name: "memo of 1024 characters", line: edit(t, baseExpenditure, set("memo", strings.Repeat("费", events.MaxMemoLen))), want: 312055},
		{name: "whitespace around", line: "  " + baseExpenditure + " \n", same: baseExpenditure, want: 312055},
		{name: "key order", line: `{"expenditure":{"amount":"3120.55","fund":"general_budget","kind":"basic","economic":"30205","functional":"2019999"},"memo":"支付1月水费","voucher":"记-202001-0004","source":"青浦区财务核算系统","date":"2020-01-02","fiscal_year":2020,"unit":"行政服务中心","ledger":"qingpu-zwb","id":"qp2020-000004"}`,
			same: baseExpenditure, want: 312055},
	}
	c := events.DefaultCatalog()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ingest([]byte(tt.line), c)
			if err != nil {
				t.Fatalf("rejected: %v\n%s", err, tt.line)
			}
			if got := events.BodyAmount(e.Body); got != tt.want {
				t.Errorf("amount = %d 分, want %d", got, tt.want)
			}
			if tt.same == "" {
				return
			}
			want, err := ingest([]byte(tt.same), c)
			if err != nil {
				t.Fatalf("reference line rejected: %v", err)
			}
			if g, w := mustBinary(t, e), mustBinary(t, want); !bytes.Equal(g, w) {
				t.Errorf("content differs from the canonical spelling\n got %+v\nwant %+v", e, want)
			}
		})
	}
}

// TestEnumSpellings checks that every enum value parses from both its wire
// code and its official name, and prints its wire code.
func TestEnumSpellings(t *testing.T) {
	for _, f := range events.Funds {
		for _, s := range []string{f.String(), f.Name()} {
			if got, ok := events.ParseFund(s); !ok || got != f {
				t.Errorf("ParseFund(%q) = %v, %v; want %v", s, got, ok, f)
			}
		}
		if f.Name() == "" || f.String() == f.Name() {
			t.Errorf("fund %d: code %q, name %q", f, f.String(), f.Name())
		}
	}
	for _, k := range events.IncomeKinds {
		for _, s := range []string{k.String(), k.Name()} {
			if got, ok := events.ParseIncomeKind(s); !ok || got != k {
				t.Errorf("ParseIncomeKind(%q) = %v, %v; want %v", s, got, ok, k)
			}
		}
	}
	for _, k := range events.ExpenditureKinds {
		for _, s := range []string{k.String(), k.Name()} {
			if got, ok := events.ParseExpenditureKind(s); !ok || got != k {
				t.Errorf("ParseExpenditureKind(%q) = %v, %v; want %v", s, got, ok, k)
			}
		}
	}
	for _, s := range []string{"", "GENERAL_BUDGET", " general_budget", "一般公共预算 "} {
		if f, ok := events.ParseFund(s); ok {
			t.Errorf("ParseFund(%q) = %v, want not ok", s, f)
		}
	}
	if got := events.Fund(9).String(); got != "invalid(9)" {
		t.Errorf("Fund(9).String() = %q", got)
	}
}

// TestValidateGoValues checks rules that the JSON form cannot reach: bodies
// built in Go (e.g. from protobuf) with zero or out-of-range enums and
// amounts.
func TestValidateGoValues(t *testing.T) {
	c := events.DefaultCatalog()
	base, err := ingest([]byte(baseExpenditure), c)
	if err != nil {
		t.Fatal(err)
	}
	exp := base.Body.(events.Expenditure)
	tests := []struct {
		name  string
		edit  func(e *events.Event)
		code  events.Code
		field string
	}{
		{"nil body", func(e *events.Event) { e.Body = nil }, events.CodeMissingBody, "body"},
		{"zero fund", func(e *events.Event) { b := exp; b.Fund = 0; e.Body = b }, events.CodeMissingField, "expenditure.fund"},
		{"fund out of range", func(e *events.Event) { b := exp; b.Fund = 9; e.Body = b }, events.CodeInvalidEnum, "expenditure.fund"},
		{"kind out of range", func(e *events.Event) { b := exp; b.ExpenditureKind = 9; e.Body = b }, events.CodeInvalidEnum, "expenditure.kind"},
		{"zero amount", func(e *events.Event) { b := exp; b.Amount = 0; e.Body = b }, events.CodeAmountNotPositive, "expenditure.amount"},
		{"amount above max", func(e *events.Event) { b := exp; b.Amount = events.MaxAmount + 1; e.Body = b }, events.CodeAmountTooLarge, "expenditure.amount"},
		{"invalid date", func(e *events.Event) { e.Date = 20200230 }, events.CodeInvalidDate, "date"},
		{"invalid UTF-8 unit", func(e *events.Event) { e.Unit = "\xff" }, events.CodeInvalidField, "unit"},
		{"other income zero kind", func(e *events.Event) {
			e.Body = events.OtherIncome{Functional: "2019999", Amount: 1}
		}, events.CodeMissingField, "other_income.kind"},
		{"appropriation zero fund", func(e *events.Event) {
			e.Body = events.Appropriation{Functional: "2019999", Amount: 1}
		}, events.CodeMissingField, "appropriation.fund"},
		{"opening balance negative", func(e *events.Event) {
			e.Body = events.OpeningBalance{Fund: events.FundGeneralBudget, Amount: -1}
		}, events.CodeAmountNotPositive, "opening_balance.amount"},
		{"surplus used zero", func(e *events.Event) {
			e.Body = events.NonFiscalSurplusUsed{}
		}, events.CodeAmountNotPositive, "non_fiscal_surplus_used.amount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			tt.edit(&e)
			err := events.Validate(&e, c)
			var ve *events.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a *ValidationError", err)
			}
			if ve.Code != tt.code || ve.Field != tt.field {
				t.Errorf("Validate = %s at %q, want %s at %q (%v)", ve.Code, ve.Field, tt.code, tt.field, err)
			}
		})
	}
}
