package wire

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
	pb "github.com/budgetledger/budgetledger/proto/budgetledger/v1"
)

// sampleEvents has one event of every body kind, with every envelope field
// set.
func sampleEvents() []events.Event {
	env := func(id string, b events.Body) events.Event {
		return events.Event{
			ID: id, Ledger: "qingpu-zwb", Unit: "本级", FiscalYear: 2024,
			Date: events.NewDate(2024, time.March, 15), Source: "用友GRP", Voucher: "记-0042",
			Memo: "第一季度\n拨款", Body: b,
		}
	}
	return []events.Event{
		env("a-1", events.Appropriation{Fund: events.FundGeneralBudget, Functional: "2010301", Amount: 123456}),
		env("o-1", events.OtherIncome{IncomeKind: events.IncomeOperations, Functional: "2050203", Amount: 1}),
		env("e-1", events.Expenditure{
			Functional: "2010301", Economic: "30201", ExpenditureKind: events.ExpenditureProject,
			Project: "智慧政务平台", Fund: events.FundNonFiscal, Amount: events.MaxAmount,
		}),
		env("e-2", events.Expenditure{
			Functional: "2010301", Economic: "30101", ExpenditureKind: events.ExpenditureBasic,
			Fund: events.FundGovernmentFund, Amount: 99,
		}),
		env("b-1", events.OpeningBalance{Fund: events.FundStateCapital, Functional: "2010301", Amount: 500000}),
		env("n-1", events.NonFiscalSurplusUsed{Amount: 10}),
		env("s-1", events.SurplusDistribution{Amount: 7000}),
		env("e-3", events.Expenditure{
			Functional: "2010301", Economic: "30217", ExpenditureKind: events.ExpenditureBasic,
			Fund: events.FundGeneralBudget, Amount: 150000, Reception: &events.Reception{Batches: 1, Visitors: 40, ForeignVisitors: 2},
		}),
		env("g-1", events.Budget{Stage: events.BudgetAdjustment, Decrease: true, Functional: "2010301", Economic: "30217",
			ExpenditureKind: events.ExpenditureProject, Project: "接待", Fund: events.FundGeneralBudget, Amount: 260000}),
		env("as-1", events.AssetChanged{Class: events.AssetVehicleOfficial, Quantity: 2, Amount: 36000000}),
		env("as-2", events.AssetChanged{Class: events.AssetDepreciation, Decrease: true, Amount: 100}),
		env("l-1", events.LiabilityChanged{Decrease: true, Amount: 26009}),
		env("p-1", events.ProcurementContracted{Category: events.ProcurementServices, Reserved: events.EnterpriseSME, Supplier: events.EnterpriseMicro, Amount: 237283000}),
		env("p-2", events.ProcurementContracted{Category: events.ProcurementGoods, Supplier: events.EnterpriseLarge, Amount: 1}),
		env("pe-1", events.PerformanceEvaluated{Project: "台式电脑", Score: 955, Grade: events.GradeExcellent, ProblemsFound: 2, ProblemsFixed: 1}),
		env("r-1", events.Reversal{EventID: "e-2", Reason: "重复记账", Body: events.Expenditure{
			Functional: "2010301", Economic: "30101", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGovernmentFund, Amount: 99,
		}}),
		events.Event{ID: "c-1", Ledger: "qingpu-zwb", Unit: "本级", FiscalYear: 2024, Date: events.NewDate(2024, time.December, 31),
			Source: "用友GRP", Voucher: "结-2024", Body: events.YearEndClosed{}},
		env("oa-1", events.OpeningAdjusted{Fund: events.FundGovernmentFund, Functional: "2010301", Decrease: true, Amount: 1230, Reason: "以前年度多计收入"}),
		env("u-1", events.UnitRegistered{Name: "上海市青浦区行政服务中心", Department: "上海市青浦区政务服务办公室", UnitType: events.UnitPublicInstitution}),
	}
}

func TestEventRoundTrip(t *testing.T) {
	seen := map[events.Kind]bool{}
	for _, want := range sampleEvents() {
		seen[want.Body.Kind()] = true
		data, err := EncodeEvent(want)
		if err != nil {
			t.Fatalf("encode %s: %v", want.ID, err)
		}
		got, err := DecodeEvent(data)
		if err != nil {
			t.Fatalf("decode %s: %v", want.ID, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip %s:\n got %+v\nwant %+v", want.ID, got, want)
		}
		again, err := EncodeEvent(got)
		if err != nil {
			t.Fatalf("encode again %s: %v", want.ID, err)
		}
		if string(again) != string(data) {
			t.Errorf("%s: encoding is not deterministic", want.ID)
		}
	}
	for _, k := range events.Kinds {
		if !seen[k] {
			t.Errorf("no round-trip sample for body kind %s", k)
		}
	}
}

// The conversion relies on the Go constants and the protobuf enum numbers
// being the same; this catches either side drifting.
func TestEnumNumbersAgree(t *testing.T) {
	for _, f := range events.Funds {
		if got, want := pb.Fund(f).String(), "FUND_"+strings.ToUpper(f.String()); got != want {
			t.Errorf("fund %d: protobuf %s, want %s", f, got, want)
		}
	}
	if n, m := len(pb.Fund_name), len(events.Funds)+1; n != m {
		t.Errorf("protobuf Fund has %d values, events has %d (+ UNSPECIFIED)", n, m)
	}
	for _, k := range events.IncomeKinds {
		if got, want := pb.IncomeKind(k).String(), "INCOME_KIND_"+strings.ToUpper(k.String()); got != want {
			t.Errorf("income kind %d: protobuf %s, want %s", k, got, want)
		}
	}
	if n, m := len(pb.IncomeKind_name), len(events.IncomeKinds)+1; n != m {
		t.Errorf("protobuf IncomeKind has %d values, events has %d (+ UNSPECIFIED)", n, m)
	}
	for _, k := range events.ExpenditureKinds {
		if got, want := pb.ExpenditureKind(k).String(), "EXPENDITURE_KIND_"+strings.ToUpper(k.String()); got != want {
			t.Errorf("expenditure kind %d: protobuf %s, want %s", k, got, want)
		}
	}
	if n, m := len(pb.ExpenditureKind_name), len(events.ExpenditureKinds)+1; n != m {
		t.Errorf("protobuf ExpenditureKind has %d values, events has %d (+ UNSPECIFIED)", n, m)
	}
}

// The body field names are the JSON keys (events.Kinds).
func TestBodyNamesAreKinds(t *testing.T) {
	oneof := (&pb.Event{}).ProtoReflect().Descriptor().Oneofs().ByName("body")
	var names []string
	for i := 0; i < oneof.Fields().Len(); i++ {
		names = append(names, string(oneof.Fields().Get(i).Name()))
	}
	var kinds []string
	for _, k := range events.Kinds {
		kinds = append(kinds, string(k))
	}
	if !reflect.DeepEqual(names, kinds) {
		t.Errorf("oneof body fields %v, want the body kinds %v", names, kinds)
	}
}

func marshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	data, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDecodeEventErrors(t *testing.T) {
	expenditure := func(x *pb.Expenditure) *pb.Event {
		return &pb.Event{Id: "x", Date: "2024-03-15", Body: &pb.Event_Expenditure{Expenditure: x}}
	}
	valid := func() *pb.Expenditure {
		return &pb.Expenditure{
			Functional: "2010301", Economic: "30101", Kind: pb.ExpenditureKind_EXPENDITURE_KIND_BASIC,
			Fund: pb.Fund_FUND_GENERAL_BUDGET, Amount: "12.34",
		}
	}
	withUnknown := func(m proto.Message, n protowire.Number) []byte {
		data := marshal(t, m)
		data = protowire.AppendTag(data, n, protowire.BytesType)
		return protowire.AppendBytes(data, []byte("x"))
	}
	badUTF8 := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), []byte{0xff, 0xfe})
	tests := []struct {
		name  string
		data  []byte
		code  events.Code
		field string
	}{
		{"garbage", []byte{0xff, 0xff, 0xff}, events.CodeMalformedProtobuf, "event"},
		{"truncated", marshal(t, expenditure(valid()))[:10], events.CodeMalformedProtobuf, "event"},
		// Strings in proto3 must be UTF-8; protobuf itself rejects them,
		// and the error names the field.
		{"invalid utf-8", badUTF8, events.CodeInvalidUTF8, "id"},
		{"invalid utf-8 in a body", bytes.Replace(marshal(t, expenditure(func() *pb.Expenditure { x := valid(); x.Project = "项目"; return x }())),
			[]byte("项"), []byte{0xe9, 0xa1, 0xff}, 1), events.CodeInvalidUTF8, "expenditure.project"},
		{"empty", nil, events.CodeMissingBody, "body"},
		{"no body", marshal(t, &pb.Event{Id: "x", Ledger: "l"}), events.CodeMissingBody, "body"},
		{"newer body kind", withUnknown(&pb.Event{Id: "x"}, 99), events.CodeUnknownBody, "body"},
		{"unknown envelope field", withUnknown(expenditure(valid()), 9), events.CodeUnknownField, "event"},
		{"unknown body field", func() []byte {
			return marshal(t, &pb.Event{Body: &pb.Event_Expenditure{Expenditure: func() *pb.Expenditure {
				x := valid()
				x.ProtoReflect().SetUnknown(protowire.AppendVarint(protowire.AppendTag(nil, 20, protowire.VarintType), 1))
				return x
			}()}})
		}(), events.CodeUnknownField, "expenditure"},
		{"bad date", marshal(t, &pb.Event{Date: "2024-02-30", Body: expenditure(valid()).Body}), events.CodeInvalidDate, "date"},
		{"date form", marshal(t, &pb.Event{Date: "2024/03/15", Body: expenditure(valid()).Body}), events.CodeInvalidDate, "date"},
		{"amount precision", marshal(t, expenditure(func() *pb.Expenditure { x := valid(); x.Amount = "12.345"; return x }())),
			events.CodeAmountPrecision, "expenditure.amount"},
		// Whatever events.ParseAmount says of an empty amount, as for JSON.
		{"amount missing", marshal(t, expenditure(func() *pb.Expenditure { x := valid(); x.Amount = ""; return x }())),
			events.CodeOf(func() error { _, err := events.ParseAmount("expenditure.amount", ""); return err }()), "expenditure.amount"},
		{"amount exponent", marshal(t, &pb.Event{Body: &pb.Event_OpeningBalance{OpeningBalance: &pb.OpeningBalance{
			Fund: pb.Fund_FUND_NON_FISCAL, Amount: "1e3"}}}), events.CodeInvalidAmount, "opening_balance.amount"},
		{"amount zero", marshal(t, &pb.Event{Body: &pb.Event_NonFiscalSurplusUsed{NonFiscalSurplusUsed: &pb.NonFiscalSurplusUsed{
			Amount: "0.00"}}}), events.CodeAmountNotPositive, "non_fiscal_surplus_used.amount"},
		{"unknown fund", marshal(t, expenditure(func() *pb.Expenditure { x := valid(); x.Fund = 9; return x }())),
			events.CodeInvalidEnum, "expenditure.fund"},
		{"unknown kind", marshal(t, &pb.Event{Body: &pb.Event_OtherIncome{OtherIncome: &pb.OtherIncome{
			Kind: -1, Functional: "2010301", Amount: "1"}}}), events.CodeInvalidEnum, "other_income.kind"},
		// The same first problem as the JSON form: kind before fund before amount.
		{"first problem", marshal(t, expenditure(&pb.Expenditure{Kind: 7, Fund: 8, Amount: "x"})),
			events.CodeInvalidEnum, "expenditure.kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DecodeEvent(tt.data)
			var v *events.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("got %+v, %v; want a *events.ValidationError", e, err)
			}
			if v.Code != tt.code || v.Field != tt.field {
				t.Errorf("got %s on %q (%v), want %s on %q", v.Code, v.Field, err, tt.code, tt.field)
			}
			if !errors.Is(err, events.ErrInvalid) {
				t.Errorf("%v does not match events.ErrInvalid", err)
			}
		})
	}
}

// Unset enums decode to the zero Go value, which Validate reports as
// missing; DecodeEvent itself accepts them.
func TestDecodeUnspecifiedEnum(t *testing.T) {
	data := marshal(t, &pb.Event{Body: &pb.Event_Expenditure{Expenditure: &pb.Expenditure{Amount: "1.5"}}})
	e, err := DecodeEvent(data)
	if err != nil {
		t.Fatal(err)
	}
	want := events.Expenditure{Amount: 150}
	if e.Body != want {
		t.Errorf("got %+v, want %+v", e.Body, want)
	}
}

func TestEncodeEventErrors(t *testing.T) {
	if _, err := EncodeEvent(events.Event{ID: "x"}); err == nil {
		t.Error("event without body encoded")
	}
	if _, err := EncodeEvent(events.Event{ID: "x", FiscalYear: 1 << 40, Body: events.SurplusDistribution{Amount: 1}}); err == nil {
		t.Error("out-of-range fiscal year encoded")
	}
}

func TestOutcomeRoundTrip(t *testing.T) {
	at := time.Date(2024, time.March, 15, 9, 30, 0, 123456789, time.UTC)
	for _, want := range []ledger.Outcome{
		{Ledger: "qingpu-zwb", ID: "a-1", Status: ledger.Accepted, Seq: 42, RecordedAt: at},
		{Ledger: "qingpu-zwb", ID: "a-1", Status: ledger.Duplicate, Seq: 42, RecordedAt: at},
		{
			Ledger: "qingpu-zwb", ID: "e-9", Status: ledger.Rejected, Seq: 3, RecordedAt: at,
			Code: events.CodeAmountPrecision, Reason: `expenditure.amount: amount_precision: got "12.345"`,
		},
		{Ledger: "l", ID: "z", Status: ledger.Accepted}, // zero time stays zero
	} {
		data, err := EncodeOutcome(want)
		if err != nil {
			t.Fatalf("encode %+v: %v", want, err)
		}
		got, err := DecodeOutcome(data)
		if err != nil {
			t.Fatalf("decode %+v: %v", want, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
}

func TestOutcomeErrors(t *testing.T) {
	if _, err := EncodeOutcome(ledger.Outcome{ID: "x", Status: "lost"}); err == nil {
		t.Error("unknown status encoded")
	}
	if _, err := DecodeOutcome([]byte{0xff}); err == nil {
		t.Error("garbage decoded")
	}
	if _, err := DecodeOutcome(marshal(t, &pb.Outcome{Id: "x"})); err == nil {
		t.Error("outcome without status decoded")
	}
	if _, err := DecodeOutcome(marshal(t, &pb.Outcome{Id: "x", Status: 9})); err == nil {
		t.Error("outcome with unknown status decoded")
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, e := range sampleEvents() {
		data, err := EncodeEvent(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeEvent(data)
		if err != nil {
			var v *events.ValidationError
			if !errors.As(err, &v) {
				t.Fatalf("error is not a *events.ValidationError: %v", err)
			}
			return
		}
		again, err := EncodeEvent(e)
		if err != nil {
			t.Fatalf("decoded %+v but cannot encode it: %v", e, err)
		}
		e2, err := DecodeEvent(again)
		if err != nil {
			t.Fatalf("decoded %+v, encoded, then: %v", e, err)
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("round trip changed the event:\n got %+v\nwant %+v", e2, e)
		}
	})
}

func BenchmarkDecodeEvent(b *testing.B) {
	data, err := EncodeEvent(sampleEvents()[2]) // the largest body
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeEvent(data); err != nil {
			b.Fatal(err)
		}
	}
}
