package wire

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
	pb "github.com/budgetledger/budgetledger/proto/budgetledger/v1"
)

// The Go enum constants and the protobuf enum numbers are the same numbers
// (FundGeneralBudget = 1 = FUND_GENERAL_BUDGET, and so on), so enums convert
// by number; wire_test.go checks that the two lists agree.

// DecodeEvent decodes one event from its protobuf form. Like
// events.DecodeJSON it checks the form (protobuf syntax, no undefined fields,
// a body, parsable amounts, dates and enum numbers) and leaves the rules to
// events.Validate. Errors are *events.ValidationError.
//
// Fields the schema does not define are rejected, not dropped: an event is
// kept for ever, and a field the publisher meant but the ledger ignored would
// be lost without anyone noticing.
func DecodeEvent(data []byte) (events.Event, error) {
	var m pb.Event
	if err := proto.Unmarshal(data, &m); err != nil {
		if field, ok := invalidUTF8(data, m.ProtoReflect().Descriptor(), ""); ok {
			return events.Event{}, &events.ValidationError{
				Code: events.CodeInvalidUTF8, Field: field, Expected: "text in UTF-8",
			}
		}
		return events.Event{}, &events.ValidationError{
			Code: events.CodeMalformedProtobuf, Field: "event", Value: "", Expected: "a protobuf budgetledger.v1.Event",
		}
	}
	// From here on the envelope is known: every error returns it, so the
	// rejection is filed under the event's id.
	e := events.Event{
		ID: m.Id, Ledger: m.Ledger, Unit: m.Unit, FiscalYear: int(m.FiscalYear),
		Source: m.Source, Voucher: m.Voucher, Memo: m.Memo,
	}
	if n, ok := unknownField(&m); ok {
		if m.Body == nil {
			// A body kind this schema does not know (from a newer
			// publisher) arrives as an unknown field and no body.
			return e, &events.ValidationError{
				Code: events.CodeUnknownBody, Field: "body", Value: fieldNumber(n),
				Expected: "exactly one known body: " + kindList(),
			}
		}
		return e, unknownFieldError("event", "Event", n)
	}
	if m.Date != "" {
		d, err := events.ParseDate(m.Date)
		if err != nil {
			return e, &events.ValidationError{
				Code: events.CodeInvalidDate, Field: "date", Value: m.Date, Expected: "a real calendar date as YYYY-MM-DD",
			}
		}
		e.Date = d
	}
	if m.Body == nil {
		return e, &events.ValidationError{
			Code: events.CodeMissingBody, Field: "body", Expected: "exactly one body: " + kindList(),
		}
	}
	body, err := decodeBody(&m)
	if err != nil {
		return e, err
	}
	e.Body = body
	return e, nil
}

// decodeBody converts the oneof body. Field paths and the order in which
// fields are checked are those of events.DecodeJSON, so both forms report the
// same first problem.
func decodeBody(m *pb.Event) (events.Body, error) {
	var d fieldDecoder
	switch b := m.Body.(type) {
	case *pb.Event_Appropriation:
		x := b.Appropriation
		d.known("appropriation", "Appropriation", x)
		body := events.Appropriation{
			Fund:       d.fund("appropriation.fund", x.GetFund()),
			Functional: x.GetFunctional(),
			Amount:     d.amount("appropriation.amount", x.GetAmount()),
		}
		return body, d.err
	case *pb.Event_OtherIncome:
		x := b.OtherIncome
		d.known("other_income", "OtherIncome", x)
		body := events.OtherIncome{
			IncomeKind: d.incomeKind("other_income.kind", x.GetKind()),
			Functional: x.GetFunctional(),
			Amount:     d.amount("other_income.amount", x.GetAmount()),
		}
		return body, d.err
	case *pb.Event_Expenditure:
		x := b.Expenditure
		d.known("expenditure", "Expenditure", x)
		body := events.Expenditure{
			Functional:      x.GetFunctional(),
			Economic:        x.GetEconomic(),
			ExpenditureKind: d.expenditureKind("expenditure.kind", x.GetKind()),
			Project:         x.GetProject(),
			Fund:            d.fund("expenditure.fund", x.GetFund()),
			Amount:          d.amount("expenditure.amount", x.GetAmount()),
		}
		if r := x.GetReception(); r != nil {
			d.known("expenditure.reception", "Reception", r)
			body.Reception = &events.Reception{
				Batches: int(r.GetBatches()), Visitors: int(r.GetVisitors()), ForeignVisitors: int(r.GetForeignVisitors()),
			}
		}
		return body, d.err
	case *pb.Event_Budget:
		x := b.Budget
		d.known("budget", "Budget", x)
		stage, err := decodeEnum("budget.stage", int32(x.GetStage()), events.BudgetStages,
			func(s events.BudgetStage) string { return pb.BudgetStage(s).String() })
		d.keep(err)
		body := events.Budget{
			Stage:           stage,
			Decrease:        x.GetDecrease(),
			Functional:      x.GetFunctional(),
			Economic:        x.GetEconomic(),
			ExpenditureKind: d.expenditureKind("budget.kind", x.GetKind()),
			Project:         x.GetProject(),
			Fund:            d.fund("budget.fund", x.GetFund()),
			Amount:          d.amount("budget.amount", x.GetAmount()),
		}
		return body, d.err
	case *pb.Event_AssetChanged:
		x := b.AssetChanged
		d.known("asset_changed", "AssetChanged", x)
		c, err := decodeEnum("asset_changed.class", int32(x.GetClass()), events.AssetClasses,
			func(c events.AssetClass) string { return pb.AssetClass(c).String() })
		d.keep(err)
		body := events.AssetChanged{Class: c, Decrease: x.GetDecrease(), Quantity: x.GetQuantity(),
			Amount: d.amount("asset_changed.amount", x.GetAmount())}
		if x.GetUnitPrice() != "" {
			body.UnitPrice = d.amount("asset_changed.unit_price", x.GetUnitPrice())
		}
		return body, d.err
	case *pb.Event_LiabilityChanged:
		x := b.LiabilityChanged
		d.known("liability_changed", "LiabilityChanged", x)
		return events.LiabilityChanged{Decrease: x.GetDecrease(), Amount: d.amount("liability_changed.amount", x.GetAmount())}, d.err
	case *pb.Event_ProcurementContracted:
		x := b.ProcurementContracted
		d.known("procurement_contracted", "ProcurementContracted", x)
		c, err := decodeEnum("procurement_contracted.category", int32(x.GetCategory()), events.ProcurementCategories,
			func(c events.ProcurementCategory) string { return pb.ProcurementCategory(c).String() })
		d.keep(err)
		enterprise := func(field string, v pb.Enterprise) events.Enterprise {
			e, err := decodeEnum(field, int32(v), events.Enterprises, func(e events.Enterprise) string { return pb.Enterprise(e).String() })
			d.keep(err)
			return e
		}
		return events.ProcurementContracted{Category: c, Reserved: enterprise("procurement_contracted.reserved", x.GetReserved()),
			Supplier: enterprise("procurement_contracted.supplier", x.GetSupplier()),
			Amount:   d.amount("procurement_contracted.amount", x.GetAmount())}, d.err
	case *pb.Event_PerformanceEvaluated:
		x := b.PerformanceEvaluated
		d.known("performance_evaluated", "PerformanceEvaluated", x)
		g, err := decodeEnum("performance_evaluated.grade", int32(x.GetGrade()), events.Grades,
			func(g events.Grade) string { return pb.Grade(g).String() })
		d.keep(err)
		return events.PerformanceEvaluated{Project: x.GetProject(), Score: int(x.GetScoreTenths()), Grade: g,
			ProblemsFound: int(x.GetProblemsFound()), ProblemsFixed: int(x.GetProblemsFixed())}, d.err
	case *pb.Event_OpeningAdjusted:
		x := b.OpeningAdjusted
		d.known("opening_adjusted", "OpeningAdjusted", x)
		return events.OpeningAdjusted{Fund: d.fund("opening_adjusted.fund", x.GetFund()), Functional: x.GetFunctional(),
			Decrease: x.GetDecrease(), Amount: d.amount("opening_adjusted.amount", x.GetAmount()), Reason: x.GetReason()}, d.err
	case *pb.Event_YearEndClosed:
		d.known("year_end_closed", "YearEndClosed", b.YearEndClosed)
		return events.YearEndClosed{}, d.err
	case *pb.Event_Reversal:
		x := b.Reversal
		d.known("reversal", "Reversal", x)
		r := events.Reversal{EventID: x.GetEventId(), Reason: x.GetReason()}
		if in := x.GetRestated(); in != nil {
			if in.Id != "" || in.Ledger != "" || in.Unit != "" || in.FiscalYear != 0 || in.Date != "" || in.Source != "" || in.Voucher != "" || in.Memo != "" {
				d.keep(&events.ValidationError{Code: events.CodeInvalidField, Field: "reversal.restated", Expected: "only the body of the event reversed, no envelope"})
			}
			if n, ok := unknownField(in); ok {
				if in.Body == nil {
					d.keep(&events.ValidationError{Code: events.CodeUnknownBody, Field: "reversal.body", Value: fieldNumber(n),
						Expected: "exactly one known body: " + kindList()})
				} else {
					d.keep(unknownFieldError("reversal.restated", "Event", n))
				}
			}
			if _, nested := in.Body.(*pb.Event_Reversal); nested {
				d.keep(&events.ValidationError{Code: events.CodeInvalidField, Field: "reversal.reversal", Expected: "the body of an ordinary event: a reversal cannot be reversed"})
			} else if in.Body != nil && d.err == nil {
				body, err := decodeBody(in)
				if v, ok := err.(*events.ValidationError); ok {
					w := *v
					w.Field = "reversal." + w.Field // the same paths as the JSON form
					err = &w
				}
				d.keep(err)
				r.Body = body
			}
		}
		return r, d.err
	case *pb.Event_UnitRegistered:
		x := b.UnitRegistered
		d.known("unit_registered", "UnitRegistered", x)
		t, err := decodeEnum("unit_registered.type", int32(x.GetType()), events.UnitTypes,
			func(t events.UnitType) string { return pb.UnitType(t).String() })
		d.keep(err)
		return events.UnitRegistered{Name: x.GetName(), Department: x.GetDepartment(), UnitType: t}, d.err
	case *pb.Event_OpeningBalance:
		x := b.OpeningBalance
		d.known("opening_balance", "OpeningBalance", x)
		body := events.OpeningBalance{
			Fund:       d.fund("opening_balance.fund", x.GetFund()),
			Functional: x.GetFunctional(),
			Amount:     d.amount("opening_balance.amount", x.GetAmount()),
		}
		return body, d.err
	case *pb.Event_NonFiscalSurplusUsed:
		x := b.NonFiscalSurplusUsed
		d.known("non_fiscal_surplus_used", "NonFiscalSurplusUsed", x)
		body := events.NonFiscalSurplusUsed{Amount: d.amount("non_fiscal_surplus_used.amount", x.GetAmount())}
		return body, d.err
	case *pb.Event_SurplusDistribution:
		x := b.SurplusDistribution
		d.known("surplus_distribution", "SurplusDistribution", x)
		body := events.SurplusDistribution{Amount: d.amount("surplus_distribution.amount", x.GetAmount())}
		return body, d.err
	}
	// Unreachable with the generated code: Body is one of the cases above.
	return nil, fmt.Errorf("decode event: body %T", m.Body)
}

// fieldDecoder converts body fields; the first error sticks, so a body is
// converted in one expression and checked once.
type fieldDecoder struct{ err error }

func (d *fieldDecoder) keep(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *fieldDecoder) known(field, message string, m proto.Message) {
	d.keep(checkKnown(field, message, m))
}

func (d *fieldDecoder) amount(field, s string) events.Amount {
	a, err := events.ParseAmount(field, s)
	d.keep(err)
	return a
}

func (d *fieldDecoder) fund(field string, v pb.Fund) events.Fund {
	f, err := decodeEnum(field, int32(v), events.Funds, func(f events.Fund) string { return pb.Fund(f).String() })
	d.keep(err)
	return f
}

func (d *fieldDecoder) incomeKind(field string, v pb.IncomeKind) events.IncomeKind {
	k, err := decodeEnum(field, int32(v), events.IncomeKinds,
		func(k events.IncomeKind) string { return pb.IncomeKind(k).String() })
	d.keep(err)
	return k
}

func (d *fieldDecoder) expenditureKind(field string, v pb.ExpenditureKind) events.ExpenditureKind {
	k, err := decodeEnum(field, int32(v), events.ExpenditureKinds,
		func(k events.ExpenditureKind) string { return pb.ExpenditureKind(k).String() })
	d.keep(err)
	return k
}

// enum is a Go enum of package events.
type enum interface {
	~uint8
	Name() string
}

// decodeEnum converts a protobuf enum number: UNSPECIFIED (0) is the zero Go
// value, which Validate reports as missing; a number that is not one of known
// is CodeInvalidEnum. wireName gives the protobuf name of a value for the
// message.
func decodeEnum[E enum](field string, n int32, known []E, wireName func(E) string) (E, error) {
	if n == 0 {
		return 0, nil
	}
	for _, v := range known {
		if int32(v) == n {
			return v, nil
		}
	}
	choices := make([]string, len(known))
	for i, v := range known {
		choices[i] = wireName(v) + " = " + strconv.Itoa(int(v)) + " (" + v.Name() + ")"
	}
	return 0, &events.ValidationError{
		Code: events.CodeInvalidEnum, Field: field, Value: strconv.Itoa(int(n)),
		Expected: "one of " + strings.Join(choices, ", "),
	}
}

// checkKnown rejects a message that carries fields the schema does not
// define.
func checkKnown(field, message string, m proto.Message) error {
	if n, ok := unknownField(m); ok {
		return unknownFieldError(field, message, n)
	}
	return nil
}

func unknownFieldError(field, message string, n protowire.Number) error {
	return &events.ValidationError{
		Code: events.CodeUnknownField, Field: field, Value: fieldNumber(n),
		Expected: "only the fields of budgetledger.v1." + message + " (see proto/budgetledger/v1/event.proto)",
	}
}

// unknownField returns the number of the first field of m that the schema
// does not define, if any.
func unknownField(m proto.Message) (protowire.Number, bool) {
	raw := m.ProtoReflect().GetUnknown()
	if len(raw) == 0 {
		return 0, false
	}
	n, _, _ := protowire.ConsumeTag(raw)
	return n, true
}

func fieldNumber(n protowire.Number) string { return "field number " + strconv.Itoa(int(n)) }

func kindList() string {
	s := make([]string, len(events.Kinds))
	for i, k := range events.Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// EncodeEvent returns the protobuf form of e. The encoding is deterministic
// (same event, same bytes, within one build of the protobuf library), but
// the canonical form that the log hashes is events' binary form, not this
// one.
func EncodeEvent(e events.Event) ([]byte, error) {
	if int(int32(e.FiscalYear)) != e.FiscalYear {
		return nil, fmt.Errorf("encode event %s: fiscal year %d out of range", e.ID, e.FiscalYear)
	}
	m := &pb.Event{
		Id: e.ID, Ledger: e.Ledger, Unit: e.Unit, FiscalYear: int32(e.FiscalYear),
		Source: e.Source, Voucher: e.Voucher, Memo: e.Memo,
	}
	if e.Date != 0 {
		m.Date = e.Date.String()
	}
	switch b := e.Body.(type) {
	case events.Appropriation:
		m.Body = &pb.Event_Appropriation{Appropriation: &pb.Appropriation{
			Fund: pb.Fund(b.Fund), Functional: b.Functional, Amount: b.Amount.String(),
		}}
	case events.OtherIncome:
		m.Body = &pb.Event_OtherIncome{OtherIncome: &pb.OtherIncome{
			Kind: pb.IncomeKind(b.IncomeKind), Functional: b.Functional, Amount: b.Amount.String(),
		}}
	case events.Expenditure:
		x := &pb.Expenditure{
			Functional: b.Functional, Economic: b.Economic, Kind: pb.ExpenditureKind(b.ExpenditureKind),
			Project: b.Project, Fund: pb.Fund(b.Fund), Amount: b.Amount.String(),
		}
		if r := b.Reception; r != nil {
			x.Reception = &pb.Reception{Batches: int32(r.Batches), Visitors: int32(r.Visitors), ForeignVisitors: int32(r.ForeignVisitors)}
		}
		m.Body = &pb.Event_Expenditure{Expenditure: x}
	case events.Budget:
		m.Body = &pb.Event_Budget{Budget: &pb.Budget{
			Stage: pb.BudgetStage(b.Stage), Decrease: b.Decrease, Functional: b.Functional, Economic: b.Economic,
			Kind: pb.ExpenditureKind(b.ExpenditureKind), Project: b.Project, Fund: pb.Fund(b.Fund), Amount: b.Amount.String(),
		}}
	case events.AssetChanged:
		m.Body = &pb.Event_AssetChanged{AssetChanged: &pb.AssetChanged{
			Class: pb.AssetClass(b.Class), Decrease: b.Decrease, Quantity: b.Quantity, Amount: b.Amount.String(),
			UnitPrice: unitPrice(b.UnitPrice),
		}}
	case events.LiabilityChanged:
		m.Body = &pb.Event_LiabilityChanged{LiabilityChanged: &pb.LiabilityChanged{Decrease: b.Decrease, Amount: b.Amount.String()}}
	case events.ProcurementContracted:
		m.Body = &pb.Event_ProcurementContracted{ProcurementContracted: &pb.ProcurementContracted{
			Category: pb.ProcurementCategory(b.Category), Reserved: pb.Enterprise(b.Reserved), Supplier: pb.Enterprise(b.Supplier),
			Amount: b.Amount.String(),
		}}
	case events.PerformanceEvaluated:
		m.Body = &pb.Event_PerformanceEvaluated{PerformanceEvaluated: &pb.PerformanceEvaluated{
			Project: b.Project, ScoreTenths: int32(b.Score), Grade: pb.Grade(b.Grade),
			ProblemsFound: int32(b.ProblemsFound), ProblemsFixed: int32(b.ProblemsFixed),
		}}
	case events.YearEndClosed:
		m.Body = &pb.Event_YearEndClosed{YearEndClosed: &pb.YearEndClosed{}}
	case events.OpeningAdjusted:
		m.Body = &pb.Event_OpeningAdjusted{OpeningAdjusted: &pb.OpeningAdjusted{
			Fund: pb.Fund(b.Fund), Functional: b.Functional, Decrease: b.Decrease, Amount: b.Amount.String(), Reason: b.Reason,
		}}
	case events.Reversal:
		inner, err := EncodeEvent(events.Event{Body: b.Body})
		if err != nil {
			return nil, fmt.Errorf("encode event %s: reversal: %w", e.ID, err)
		}
		var restated pb.Event
		if err := proto.Unmarshal(inner, &restated); err != nil {
			return nil, fmt.Errorf("encode event %s: reversal: %w", e.ID, err)
		}
		m.Body = &pb.Event_Reversal{Reversal: &pb.Reversal{EventId: b.EventID, Reason: b.Reason, Restated: &restated}}
	case events.UnitRegistered:
		m.Body = &pb.Event_UnitRegistered{UnitRegistered: &pb.UnitRegistered{
			Name: b.Name, Department: b.Department, Type: pb.UnitType(b.UnitType),
		}}
	case events.OpeningBalance:
		m.Body = &pb.Event_OpeningBalance{OpeningBalance: &pb.OpeningBalance{
			Fund: pb.Fund(b.Fund), Functional: b.Functional, Amount: b.Amount.String(),
		}}
	case events.NonFiscalSurplusUsed:
		m.Body = &pb.Event_NonFiscalSurplusUsed{NonFiscalSurplusUsed: &pb.NonFiscalSurplusUsed{
			Amount: b.Amount.String(),
		}}
	case events.SurplusDistribution:
		m.Body = &pb.Event_SurplusDistribution{SurplusDistribution: &pb.SurplusDistribution{
			Amount: b.Amount.String(),
		}}
	default:
		return nil, fmt.Errorf("encode event %s: body %T", e.ID, e.Body)
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return data, nil
}

// EncodeOutcome returns the protobuf form of o. A zero RecordedAt is left
// unset.
func EncodeOutcome(o ledger.Outcome) ([]byte, error) {
	m := &pb.Outcome{
		Ledger: o.Ledger, Id: o.ID, Seq: o.Seq, Code: string(o.Code), Reason: o.Reason,
		Via: o.Via, InboxSeq: o.InboxSeq,
	}
	switch o.Status {
	case ledger.Accepted:
		m.Status = pb.Outcome_STATUS_ACCEPTED
	case ledger.Duplicate:
		m.Status = pb.Outcome_STATUS_DUPLICATE
	case ledger.Rejected:
		m.Status = pb.Outcome_STATUS_REJECTED
	case ledger.Unknown:
		m.Status = pb.Outcome_STATUS_UNKNOWN
	default:
		return nil, fmt.Errorf("encode outcome %s/%s: status %q", o.Ledger, o.ID, o.Status)
	}
	if !o.RecordedAt.IsZero() {
		m.RecordedAt = timestamppb.New(o.RecordedAt)
	}
	data, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode outcome %s/%s: %w", o.Ledger, o.ID, err)
	}
	return data, nil
}

// DecodeOutcome decodes an outcome from its protobuf form. RecordedAt comes
// back in UTC, and an unset recorded_at as the zero time. Unlike DecodeEvent it ignores fields it does not know, so
// that a client keeps working when a newer ledger adds to its receipts.
func DecodeOutcome(data []byte) (ledger.Outcome, error) {
	var m pb.Outcome
	if err := proto.Unmarshal(data, &m); err != nil {
		return ledger.Outcome{}, fmt.Errorf("decode outcome: %w", err)
	}
	o := ledger.Outcome{
		Ledger: m.Ledger, ID: m.Id, Seq: m.Seq, Code: events.Code(m.Code), Reason: m.Reason,
		Via: m.Via, InboxSeq: m.InboxSeq,
	}
	switch m.Status {
	case pb.Outcome_STATUS_ACCEPTED:
		o.Status = ledger.Accepted
	case pb.Outcome_STATUS_DUPLICATE:
		o.Status = ledger.Duplicate
	case pb.Outcome_STATUS_REJECTED:
		o.Status = ledger.Rejected
	case pb.Outcome_STATUS_UNKNOWN:
		o.Status = ledger.Unknown
	default:
		return ledger.Outcome{}, fmt.Errorf("decode outcome %s/%s: status %v", m.Ledger, m.Id, m.Status)
	}
	if m.RecordedAt != nil {
		if err := m.RecordedAt.CheckValid(); err != nil {
			return ledger.Outcome{}, fmt.Errorf("decode outcome %s/%s: recorded_at: %w", m.Ledger, m.Id, err)
		}
		o.RecordedAt = m.RecordedAt.AsTime()
	}
	return o, nil
}

func unitPrice(a events.Amount) string {
	if a == 0 {
		return ""
	}
	return a.String()
}

// invalidUTF8 finds the first string field of message data (of type md)
// that is not UTF-8, with its dotted path, for the error protobuf gives
// without naming the field.
func invalidUTF8(data []byte, md protoreflect.MessageDescriptor, prefix string) (string, bool) {
	for len(data) > 0 {
		num, typ, n := protowire.ConsumeTag(data)
		if n < 0 {
			return "", false
		}
		data = data[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, data); n < 0 {
				return "", false
			}
			data = data[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(data)
		if n < 0 {
			return "", false
		}
		data = data[n:]
		fd := md.Fields().ByNumber(num)
		if fd == nil {
			continue
		}
		name := prefix + string(fd.Name())
		switch fd.Kind() {
		case protoreflect.StringKind:
			if !utf8.Valid(v) {
				return name, true
			}
		case protoreflect.MessageKind:
			if field, ok := invalidUTF8(v, fd.Message(), name+"."); ok {
				return field, true
			}
		}
	}
	return "", false
}
