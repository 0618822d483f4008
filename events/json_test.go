package events_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/budgetledger/budgetledger/events"
)

// samplePath is the 2020 ledger of 青浦区政务服务办公室: 741 real-shaped
// events of every body the report needs (see testdata/README.md).
const samplePath = "../testdata/qingpu-2020.jsonl"

// sampleLines returns the non-empty lines of the sample ledger.
func sampleLines(tb testing.TB) [][]byte {
	tb.Helper()
	data, err := os.ReadFile(samplePath)
	if err != nil {
		tb.Fatalf("read sample: %v", err)
	}
	var lines [][]byte
	for l := range bytes.Lines(data) {
		l = bytes.TrimRight(l, "\r\n")
		if len(l) > 0 {
			lines = append(lines, l)
		}
	}
	return lines
}

// extraLines covers what the sample ledger does not: the two surplus bodies,
// every fund, income kind and expenditure kind, a memo with a line break and
// an event without memo.
var extraLines = []string{
	`{"id":"x-1","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-31","source":"s","voucher":"v-1","non_fiscal_surplus_used":{"amount":"0.01"}}`,
	`{"id":"x-2","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-31","source":"s","voucher":"v-2","memo":"结余分配\n第二行","surplus_distribution":{"amount":"999999999999.99"}}`,
	`{"id":"x-3","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-06-30","source":"s","voucher":"v-3","appropriation":{"fund":"government_fund","functional":"2019999","amount":"10.00"}}`,
	`{"id":"x-4","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-06-30","source":"s","voucher":"v-4","appropriation":{"fund":"state_capital","functional":"2019999","amount":"10.00"}}`,
	`{"id":"x-5","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-06-30","source":"s","voucher":"v-5","other_income":{"kind":"superior_grant","functional":"2019999","amount":"1.00"}}`,
	`{"id":"x-6","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-06-30","source":"s","voucher":"v-6","other_income":{"kind":"operations","functional":"2019999","amount":"1.00"}}`,
	`{"id":"x-7","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-06-30","source":"s","voucher":"v-7","other_income":{"kind":"business","functional":"2019999","amount":"1.00"}}`,
	`{"id":"x-8","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-06-30","source":"s","voucher":"v-8","other_income":{"kind":"subordinate_remittance","functional":"2019999","amount":"1.00"}}`,
	`{"id":"x-9","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-06-30","source":"s","voucher":"v-9","expenditure":{"functional":"2019999","economic":"30201","kind":"remit_superior","fund":"non_fiscal","amount":"1.00"}}`,
	`{"id":"x-10","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-06-30","source":"s","voucher":"v-10","expenditure":{"functional":"2019999","economic":"30201","kind":"business","fund":"non_fiscal","amount":"1.00"}}`,
	`{"id":"x-11","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-06-30","source":"s","voucher":"v-11","expenditure":{"functional":"2019999","economic":"30201","kind":"subsidy_subordinate","fund":"non_fiscal","amount":"1.00"}}`,
	`{"id":"x-12","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-01-01","source":"s","voucher":"v-12","opening_balance":{"fund":"state_capital","functional":"2019999","amount":"1.00"}}`,
	`{"id":"x-13","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-01-02","source":"s","voucher":"v-13","budget":{"stage":"initial","functional":"2019999","economic":"30217","kind":"basic","fund":"general_budget","amount":"26000.00"}}`,
	`{"id":"x-14","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-07-01","source":"s","voucher":"v-14","budget":{"stage":"adjustment","change":"decrease","functional":"2019999","kind":"project","project":"台式电脑","fund":"general_budget","amount":"100.00"}}`,
	`{"id":"x-15","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-07-01","source":"s","voucher":"v-15","budget":{"stage":"adjustment","change":"increase","functional":"2069999","kind":"project","project":"智慧城市","fund":"non_fiscal","amount":"100.00"}}`,
	`{"id":"x-16","ledger":"qingpu-zwb","unit":"行政服务中心","fiscal_year":2020,"date":"2020-01-01","source":"s","voucher":"v-16","unit_registered":{"name":"上海市青浦区行政服务中心","department":"上海市青浦区政务服务办公室","type":"public_institution"}}`,
	`{"id":"x-18","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2019,"date":"2019-12-31","source":"s","voucher":"v-18","asset_changed":{"class":"vehicle_official","change":"increase","quantity":2,"amount":"360000.00"}}`,
	`{"id":"x-19","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-31","source":"s","voucher":"v-19","asset_changed":{"class":"depreciation","change":"decrease","amount":"1.00"}}`,
	`{"id":"x-20","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-31","source":"s","voucher":"v-20","liability_changed":{"change":"increase","amount":"260.09"}}`,
	`{"id":"x-21","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-05-20","source":"s","voucher":"v-21","procurement_contracted":{"category":"services","reserved":"sme","supplier":"micro","amount":"2372830.00"}}`,
	`{"id":"x-22","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-05-20","source":"s","voucher":"v-22","procurement_contracted":{"category":"works","supplier":"large","amount":"1.00"}}`,
	`{"id":"x-23","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-31","source":"s","voucher":"v-23","performance_evaluated":{"project":"台式电脑","score":"95.5","grade":"excellent","problems_found":1,"problems_fixed":1}}`,
	`{"id":"x-24","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-30","source":"s","voucher":"v-24","reversal":{"event_id":"qp2020-000004","reason":"重复记账","expenditure":{"functional":"2019999","economic":"30205","kind":"basic","fund":"general_budget","amount":"3120.55"}}}`,
	`{"id":"x-25","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-31","source":"s","voucher":"v-25","year_end_closed":{}}`,
	`{"id":"x-26","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2021,"date":"2021-03-10","source":"s","voucher":"v-26","opening_adjusted":{"fund":"general_budget","change":"decrease","amount":"12.30","reason":"以前年度多计收入"}}`,
	`{"id":"x-17","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-03-02","source":"s","voucher":"v-17","expenditure":{"functional":"2019999","economic":"30217","kind":"basic","fund":"general_budget","amount":"1500.00","reception":{"batches":1,"visitors":40,"foreign_visitors":0}}}`,
}

// ingest does what the ingest path does with one line: decode, and when that
// succeeds, validate against c.
func ingest(line []byte, c *events.Catalog) (events.Event, error) {
	e, err := events.DecodeJSON(line)
	if err != nil {
		return e, err
	}
	return e, events.Validate(&e, c)
}

func mustBinary(tb testing.TB, e events.Event) []byte {
	tb.Helper()
	b, err := e.MarshalBinary()
	if err != nil {
		tb.Fatalf("MarshalBinary(%s): %v", e.ID, err)
	}
	return b
}

// TestRoundTripSample decodes and validates every sample event, and checks
// that the JSON form and the binary form both give back the same event.
func TestRoundTripSample(t *testing.T) {
	c := events.DefaultCatalog()
	lines := sampleLines(t)
	if len(lines) != 741 {
		t.Errorf("sample has %d events, want 741", len(lines))
	}
	for _, s := range extraLines {
		lines = append(lines, []byte(s))
	}
	kinds := map[events.Kind]int{}
	for i, line := range lines {
		e, err := ingest(line, c)
		if err != nil {
			t.Errorf("line %d: %v\n%s", i+1, err, line)
			continue
		}
		kinds[e.Body.Kind()]++
		bin := mustBinary(t, e)

		// JSON: MarshalJSON -> DecodeJSON gives the same content.
		j, err := e.MarshalJSON()
		if err != nil {
			t.Errorf("line %d: MarshalJSON: %v", i+1, err)
			continue
		}
		// The sample lines are written in the canonical export form, so
		// what we export is what the publisher sent, byte for byte.
		if !bytes.Equal(j, line) {
			t.Errorf("line %d: MarshalJSON differs from the input\n got %s\nwant %s", i+1, j, line)
		}
		e2, err := ingest(j, c)
		if err != nil {
			t.Errorf("line %d: re-decode of %s: %v", i+1, j, err)
			continue
		}
		if got := mustBinary(t, e2); !bytes.Equal(got, bin) {
			t.Errorf("line %d: JSON round trip changed the binary form\n got %x\nwant %x", i+1, got, bin)
		}

		// Binary: UnmarshalBinary -> MarshalBinary is the identity and
		// gives back an equal value.
		var e3 events.Event
		if err := e3.UnmarshalBinary(bin); err != nil {
			t.Errorf("line %d: UnmarshalBinary: %v", i+1, err)
			continue
		}
		if !reflect.DeepEqual(e3, e) {
			t.Errorf("line %d: binary round trip\n got %+v\nwant %+v", i+1, e3, e)
		}
		if got := mustBinary(t, e3); !bytes.Equal(got, bin) {
			t.Errorf("line %d: binary round trip changed the bytes", i+1)
		}
	}
	for _, k := range events.Kinds {
		if kinds[k] == 0 {
			t.Errorf("no %s event exercised", k)
		}
	}
}

// TestDecodeJSONKeepsEnvelope checks that a rejected body still returns the
// envelope, so that the rejection can be filed under the event's id.
func TestDecodeJSONKeepsEnvelope(t *testing.T) {
	line := edit(t, baseExpenditure, setIn("expenditure", "amount", "abc"))
	e, err := events.DecodeJSON([]byte(line))
	if events.CodeOf(err) != events.CodeInvalidAmount {
		t.Fatalf("err = %v, want %s", err, events.CodeInvalidAmount)
	}
	if e.ID != "qp2020-000004" || e.Ledger != "qingpu-zwb" || e.Voucher != "记-202001-0004" {
		t.Errorf("envelope lost: %+v", e)
	}
}

// TestDecodeJSONRejectsTrailingBracket: a line is exactly one JSON object.
// A stray closing bracket after it is as malformed as a second object.
func TestDecodeJSONRejectsTrailingBracket(t *testing.T) {
	for _, tail := range []string{"}", "]", " }", "}}", "]]"} {
		line := baseExpenditure + tail
		_, err := events.DecodeJSON([]byte(line))
		if events.CodeOf(err) != events.CodeMalformedJSON {
			t.Errorf("DecodeJSON(<valid event>%q) = %v, want %s", tail, err, events.CodeMalformedJSON)
		}
	}
}

// TestMarshalJSONMemoOmitted checks the export form of an event without a
// memo: no "memo" key at all.
func TestMarshalJSONMemoOmitted(t *testing.T) {
	e, err := ingest([]byte(extraLines[0]), events.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	j, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(j, []byte(`"memo"`)) {
		t.Errorf("MarshalJSON = %s, want no memo key", j)
	}
}

// TestDecodeJSONErrorsAreValidationErrors: every rejection is a
// *ValidationError matching ErrInvalid.
func TestDecodeJSONErrorsAreValidationErrors(t *testing.T) {
	for _, in := range []string{"", "{", "[]", "null", "1", `{"id":1}`, `{"expenditure":[]}`} {
		_, err := events.DecodeJSON([]byte(in))
		var ve *events.ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, events.ErrInvalid) {
			t.Errorf("DecodeJSON(%q) = %v (%T), want a *ValidationError", in, err, err)
		}
	}
}

// TestDecodeJSONUnknownFieldInBody: an unknown field inside a body is named
// by its dotted path, like every other field error (ValidationError.Field),
// and is never mistaken for an unknown body even when it shares a body's
// name.
func TestDecodeJSONUnknownFieldInBody(t *testing.T) {
	tests := []struct {
		line  string
		field string
	}{
		{edit(t, baseExpenditure, setIn("expenditure", "colour", "red")), "expenditure.colour"},
		{edit(t, baseExpenditure, setIn("expenditure", "expenditure", map[string]any{})), "expenditure.expenditure"},
		{edit(t, baseAppropriation, setIn("appropriation", "project", "x")), "appropriation.project"},
	}
	for _, tt := range tests {
		_, err := events.DecodeJSON([]byte(tt.line))
		var ve *events.ValidationError
		if !errors.As(err, &ve) || ve.Code != events.CodeUnknownField || ve.Field != tt.field {
			t.Errorf("DecodeJSON(%s)\n = %v, want %s at %s", tt.line, err, events.CodeUnknownField, tt.field)
		}
	}
}

// TestDecodeJSONRejectsDuplicateBodies: a second body must not silently
// replace the first, whether its key repeats exactly or differs in case
// (encoding/json matches keys case-insensitively and keeps the last).
func TestDecodeJSONRejectsDuplicateBodies(t *testing.T) {
	second := `"expenditure":{"functional":"2019999","economic":"30205","kind":"basic","fund":"general_budget","amount":"1.00"}`
	for _, key := range []string{`"expenditure"`, `"Expenditure"`, `"EXPENDITURE"`} {
		line := baseExpenditure[:len(baseExpenditure)-1] + "," + strings.Replace(second, `"expenditure"`, key, 1) + "}"
		e, err := ingest([]byte(line), events.DefaultCatalog())
		if err == nil {
			t.Errorf("accepted two bodies (second key %s), kept amount %s:\n%s", key, events.BodyAmount(e.Body), line)
		}
	}
}

// TestDecodeJSONRejectsInvalidUTF8: a byte that is not UTF-8, anywhere in
// an event, is refused with its own code and the field it lies in, never
// read as U+FFFD (the event stored would not be the one sent).
func TestDecodeJSONRejectsInvalidUTF8(t *testing.T) {
	cases := []struct {
		from, to, field string
	}{
		{`"source":"`, "\"source\":\"gl\xff", "source"},
		{`"memo":"`, "\"memo\":\"\xe4\xb8", "memo"},
		{`"functional":"`, "\"functional\":\"\xc0\xaf", "expenditure.functional"},
		{`"unit":"`, "\"unit\":\"\xed\xa0\x80", "unit"}, // a surrogate half
	}
	for _, tc := range cases {
		line := baseExpenditure
		if !strings.Contains(line, tc.from) {
			line = strings.Replace(line, `"source":`, `"memo":"x","source":`, 1)
		}
		line = strings.Replace(line, tc.from, tc.to, 1)
		e, err := events.DecodeJSON([]byte(line))
		var v *events.ValidationError
		if !errors.As(err, &v) || v.Code != events.CodeInvalidUTF8 || v.Field != tc.field || !strings.Contains(v.Value, "byte ") {
			t.Errorf("%q: err = %#v, want %s in field %s naming the byte", tc.to, err, events.CodeInvalidUTF8, tc.field)
			continue
		}
		if e.ID != "qp2020-000004" {
			t.Errorf("%q: envelope lost: %+v", tc.to, e)
		}
	}
	// In a key.
	line := strings.Replace(baseExpenditure, `"source"`, "\"sou\xffrce\"", 1)
	if _, err := events.DecodeJSON([]byte(line)); events.CodeOf(err) != events.CodeInvalidUTF8 {
		t.Errorf("invalid UTF-8 in a key: err = %v", err)
	}
}
