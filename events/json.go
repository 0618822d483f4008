package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// The JSON form is the import format: one event per line (JSON Lines), the
// envelope fields and exactly one body keyed by its Kind. Enum fields accept
// the wire code or the official Chinese name; amounts are decimal 元 as a
// string (or a JSON number, read from its text, never as a float).
type jsonEvent struct {
	ID         string `json:"id"`
	Ledger     string `json:"ledger"`
	Unit       string `json:"unit"`
	FiscalYear int    `json:"fiscal_year"`
	Date       string `json:"date"`
	Source     string `json:"source"`
	Voucher    string `json:"voucher"`
	Memo       string `json:"memo,omitempty"`
	jsonBodies
}

// jsonBodies holds one field per body kind; exactly one is set. A reversal
// restates the body it reverses in the same form.
type jsonBodies struct {
	Appropriation        *jsonAppropriation `json:"appropriation,omitempty"`
	OtherIncome          *jsonOtherIncome   `json:"other_income,omitempty"`
	Expenditure          *jsonExpenditure   `json:"expenditure,omitempty"`
	OpeningBalance       *jsonOpening       `json:"opening_balance,omitempty"`
	NonFiscalSurplusUsed *jsonAmountOnly    `json:"non_fiscal_surplus_used,omitempty"`
	SurplusDistribution  *jsonAmountOnly    `json:"surplus_distribution,omitempty"`
	Budget               *jsonBudget        `json:"budget,omitempty"`
	UnitRegistered       *jsonUnit          `json:"unit_registered,omitempty"`
	AssetChanged         *jsonAsset         `json:"asset_changed,omitempty"`
	LiabilityChanged     *jsonLiability     `json:"liability_changed,omitempty"`
	Procurement          *jsonProcurement   `json:"procurement_contracted,omitempty"`
	Performance          *jsonPerformance   `json:"performance_evaluated,omitempty"`
	Reversal             *jsonReversal      `json:"reversal,omitempty"`
	YearEndClosed        *struct{}          `json:"year_end_closed,omitempty"`
	OpeningAdjusted      *jsonAdjustment    `json:"opening_adjusted,omitempty"`
}

type jsonAdjustment struct {
	Fund       string     `json:"fund"`
	Functional string     `json:"functional,omitempty"`
	Change     string     `json:"change"`
	Amount     jsonAmount `json:"amount"`
	Reason     string     `json:"reason"`
}

type jsonReversal struct {
	EventID string `json:"event_id"`
	Reason  string `json:"reason"`
	jsonBodies
}

type jsonProcurement struct {
	Category string     `json:"category"`
	Reserved string     `json:"reserved,omitempty"`
	Supplier string     `json:"supplier"`
	Amount   jsonAmount `json:"amount"`
}

type jsonPerformance struct {
	Project       string     `json:"project"`
	Score         jsonAmount `json:"score"`
	Grade         string     `json:"grade"`
	ProblemsFound int        `json:"problems_found"`
	ProblemsFixed int        `json:"problems_fixed"`
}

type jsonAsset struct {
	Class     string     `json:"class"`
	Change    string     `json:"change"`
	Quantity  int64      `json:"quantity,omitempty"`
	UnitPrice jsonAmount `json:"unit_price,omitempty"`
	Amount    jsonAmount `json:"amount"`
}

type jsonLiability struct {
	Change string     `json:"change"`
	Amount jsonAmount `json:"amount"`
}

type jsonBudget struct {
	Stage      string     `json:"stage"`
	Change     string     `json:"change,omitempty"`
	Functional string     `json:"functional"`
	Economic   string     `json:"economic,omitempty"`
	Kind       string     `json:"kind"`
	Project    string     `json:"project,omitempty"`
	Fund       string     `json:"fund"`
	Amount     jsonAmount `json:"amount"`
}

type jsonUnit struct {
	Name       string `json:"name"`
	Department string `json:"department"`
	Type       string `json:"type"`
}

type jsonReception struct {
	Batches         int `json:"batches"`
	Visitors        int `json:"visitors"`
	ForeignVisitors int `json:"foreign_visitors"`
}

type jsonAppropriation struct {
	Fund       string     `json:"fund"`
	Functional string     `json:"functional"`
	Amount     jsonAmount `json:"amount"`
}

type jsonOtherIncome struct {
	Kind       string     `json:"kind"`
	Functional string     `json:"functional"`
	Amount     jsonAmount `json:"amount"`
}

type jsonExpenditure struct {
	Functional string         `json:"functional"`
	Economic   string         `json:"economic"`
	Kind       string         `json:"kind"`
	Project    string         `json:"project,omitempty"`
	Fund       string         `json:"fund"`
	Amount     jsonAmount     `json:"amount"`
	Reception  *jsonReception `json:"reception,omitempty"`
}

type jsonOpening struct {
	Fund       string     `json:"fund"`
	Functional string     `json:"functional,omitempty"`
	Amount     jsonAmount `json:"amount"`
}

type jsonAmountOnly struct {
	Amount jsonAmount `json:"amount"`
}

// jsonAmount keeps the literal text of a JSON string or number so that the
// amount is parsed exactly.
type jsonAmount string

func (a *jsonAmount) UnmarshalJSON(b []byte) error {
	if len(b) > 1 && b[0] == '"' && bytes.IndexByte(b, '\\') < 0 {
		*a = jsonAmount(b[1 : len(b)-1])
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = jsonAmount(s)
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	*a = jsonAmount(b)
	return nil
}

// DecodeJSON decodes one event from its JSON form. It checks the form (JSON
// syntax, known fields, exactly one body, parsable amounts, dates and enum
// values); Validate checks the rules and the catalog. Errors are
// *ValidationError; when the envelope could be read, the returned event
// still carries it (id, ledger, ...) so that the rejection can be filed
// under the event's id.
func DecodeJSON(data []byte) (Event, error) {
	if e, handled, err := decodeJSONFast(data); handled {
		return e, err
	}
	return decodeJSONStrict(data)
}

// decodeJSONStrict is DecodeJSON for any line, and the reference that
// decodeJSONFast must agree with. Every rejection of the JSON itself
// (syntax, types, keys) comes from here.
func decodeJSONStrict(data []byte) (Event, error) {
	var j jsonEvent
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return Event{}, invalid(CodeMalformedJSON, "event", "", "one JSON object per line, starting with {")
	}
	// Unmarshal checks the syntax of the whole line (one value, nothing
	// after it) and the types; checkKeys then rejects what Unmarshal
	// tolerates (unknown, repeated or wrongly cased keys).
	err := json.Unmarshal(data, &j)
	// After a type error Unmarshal has still read every other field, so
	// the envelope (the id above all) is kept with the rejection.
	e := Event{
		ID: j.ID, Ledger: j.Ledger, Unit: j.Unit, FiscalYear: j.FiscalYear,
		Source: j.Source, Voucher: j.Voucher, Memo: j.Memo,
	}
	if bad := utf8Error(data); bad != nil {
		return e, bad
	}
	if err != nil {
		return e, jsonError(err)
	}
	if err := checkKeys(data); err != nil {
		return e, err
	}
	if j.Date != "" {
		d, err := ParseDate(j.Date)
		if err != nil {
			return e, invalid(CodeInvalidDate, "date", j.Date, "a real calendar date as YYYY-MM-DD")
		}
		e.Date = d
	}
	body, err := j.jsonBodies.decode()
	if err != nil {
		return e, err
	}
	e.Body = body
	return e, nil
}

// decode converts the one body that is set.
func (j *jsonBodies) decode() (Body, error) {
	var bodies []Body
	var err error
	add := func(b Body, e error) {
		if err == nil {
			err = e
		}
		bodies = append(bodies, b)
	}
	if b := j.Appropriation; b != nil {
		add(decodeAppropriation(b))
	}
	if b := j.OtherIncome; b != nil {
		add(decodeOtherIncome(b))
	}
	if b := j.Expenditure; b != nil {
		add(decodeExpenditure(b))
	}
	if b := j.OpeningBalance; b != nil {
		f, ferr := parseFundField("opening_balance.fund", b.Fund)
		a, aerr := ParseAmount("opening_balance.amount", string(b.Amount))
		add(OpeningBalance{Fund: f, Functional: b.Functional, Amount: a}, errors.Join(ferr, aerr))
	}
	if b := j.NonFiscalSurplusUsed; b != nil {
		a, aerr := ParseAmount("non_fiscal_surplus_used.amount", string(b.Amount))
		add(NonFiscalSurplusUsed{Amount: a}, aerr)
	}
	if b := j.SurplusDistribution; b != nil {
		a, aerr := ParseAmount("surplus_distribution.amount", string(b.Amount))
		add(SurplusDistribution{Amount: a}, aerr)
	}
	if b := j.Budget; b != nil {
		add(decodeBudget(b))
	}
	if b := j.AssetChanged; b != nil {
		var cerr error
		c, ok := ParseAssetClass(b.Class)
		if !ok {
			cerr = enumError("asset_changed.class", b.Class, enumChoices(assetClassNames, AssetClasses))
		}
		dec, derr := parseChangeField("asset_changed.change", b.Change)
		var price Amount
		var perr error
		if b.UnitPrice != "" {
			price, perr = ParseAmount("asset_changed.unit_price", string(b.UnitPrice))
		}
		a, aerr := ParseAmount("asset_changed.amount", string(b.Amount))
		add(AssetChanged{Class: c, Decrease: dec, Quantity: b.Quantity, UnitPrice: price, Amount: a}, errors.Join(cerr, derr, perr, aerr))
	}
	if b := j.LiabilityChanged; b != nil {
		dec, derr := parseChangeField("liability_changed.change", b.Change)
		a, aerr := ParseAmount("liability_changed.amount", string(b.Amount))
		add(LiabilityChanged{Decrease: dec, Amount: a}, errors.Join(derr, aerr))
	}
	if b := j.Procurement; b != nil {
		var cerr, rerr, serr error
		c, ok := ParseProcurementCategory(b.Category)
		if !ok {
			cerr = enumError("procurement_contracted.category", b.Category, enumChoices(procurementCategoryNames, ProcurementCategories))
		}
		var reserved Enterprise
		if b.Reserved != "" {
			if reserved, ok = ParseEnterprise(b.Reserved); !ok {
				rerr = enumError("procurement_contracted.reserved", b.Reserved, "sme (中小企业) or micro (小微企业)")
			}
		}
		supplier, ok := ParseEnterprise(b.Supplier)
		if !ok {
			serr = enumError("procurement_contracted.supplier", b.Supplier, enumChoices(enterpriseNames, Enterprises))
		}
		a, aerr := ParseAmount("procurement_contracted.amount", string(b.Amount))
		add(ProcurementContracted{Category: c, Reserved: reserved, Supplier: supplier, Amount: a}, errors.Join(cerr, rerr, serr, aerr))
	}
	if b := j.Performance; b != nil {
		var gerr error
		g, ok := ParseGrade(b.Grade)
		if !ok {
			gerr = enumError("performance_evaluated.grade", b.Grade, enumChoices(gradeNames, Grades))
		}
		score, serr := parseScore("performance_evaluated.score", string(b.Score))
		add(PerformanceEvaluated{Project: b.Project, Score: score, Grade: g, ProblemsFound: b.ProblemsFound, ProblemsFixed: b.ProblemsFixed},
			errors.Join(serr, gerr))
	}
	if b := j.UnitRegistered; b != nil {
		var terr error
		t, ok := ParseUnitType(b.Type)
		if !ok {
			terr = enumError("unit_registered.type", b.Type, enumChoices(unitTypeNames, UnitTypes))
		}
		add(UnitRegistered{Name: b.Name, Department: b.Department, UnitType: t}, terr)
	}
	if j.YearEndClosed != nil {
		add(YearEndClosed{}, nil)
	}
	if b := j.OpeningAdjusted; b != nil {
		f, ferr := parseFundField("opening_adjusted.fund", b.Fund)
		dec, derr := parseChangeField("opening_adjusted.change", b.Change)
		a, aerr := ParseAmount("opening_adjusted.amount", string(b.Amount))
		add(OpeningAdjusted{Fund: f, Functional: b.Functional, Decrease: dec, Amount: a, Reason: b.Reason}, errors.Join(ferr, derr, aerr))
	}
	if b := j.Reversal; b != nil {
		inner, ierr := b.jsonBodies.decode()
		if v, ok := ierr.(*ValidationError); ok {
			w := *v
			w.Field = "reversal." + w.Field
			ierr = &w
		}
		add(Reversal{EventID: b.EventID, Reason: b.Reason, Body: inner}, ierr)
	}
	switch {
	case len(bodies) == 0:
		return nil, invalid(CodeMissingBody, "body", "", "exactly one body: "+kindList())
	case len(bodies) > 1:
		return nil, invalid(CodeMultipleBodies, "body", "", "exactly one body per event, not "+strconv.Itoa(len(bodies)))
	case err != nil:
		return nil, firstValidation(err)
	}
	return bodies[0], nil
}

// firstValidation unwraps errors.Join to the first *ValidationError.
func firstValidation(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if e != nil {
				return firstValidation(e)
			}
		}
	}
	return err
}

func decodeAppropriation(b *jsonAppropriation) (Body, error) {
	f, ferr := parseFundField("appropriation.fund", b.Fund)
	a, aerr := ParseAmount("appropriation.amount", string(b.Amount))
	return Appropriation{Fund: f, Functional: b.Functional, Amount: a}, errors.Join(ferr, aerr)
}

func decodeOtherIncome(b *jsonOtherIncome) (Body, error) {
	var kerr error
	k, ok := ParseIncomeKind(b.Kind)
	if !ok {
		kerr = enumError("other_income.kind", b.Kind, enumChoices(incomeKindNames, IncomeKinds))
	}
	a, aerr := ParseAmount("other_income.amount", string(b.Amount))
	return OtherIncome{IncomeKind: k, Functional: b.Functional, Amount: a}, errors.Join(kerr, aerr)
}

func decodeExpenditure(b *jsonExpenditure) (Body, error) {
	var kerr error
	k, ok := ParseExpenditureKind(b.Kind)
	if !ok {
		kerr = enumError("expenditure.kind", b.Kind, enumChoices(expenditureKindNames, ExpenditureKinds))
	}
	f, ferr := parseFundField("expenditure.fund", b.Fund)
	a, aerr := ParseAmount("expenditure.amount", string(b.Amount))
	x := Expenditure{
		Functional: b.Functional, Economic: b.Economic, ExpenditureKind: k,
		Project: b.Project, Fund: f, Amount: a,
	}
	if r := b.Reception; r != nil {
		x.Reception = &Reception{Batches: r.Batches, Visitors: r.Visitors, ForeignVisitors: r.ForeignVisitors}
	}
	return x, errors.Join(kerr, ferr, aerr)
}

// parseScore reads a score such as "95.5": 0 to 100 with at most one
// decimal, in tenths.
func parseScore(field, s string) (int, error) {
	const want = "a score from 0 to 100 with at most one decimal, such as 95.5"
	if s == "" {
		return 0, invalid(CodeMissingField, field, "", want)
	}
	whole, frac, dot := strings.Cut(s, ".")
	if !allDigits(whole) || len(whole) > 3 || (dot && (len(frac) != 1 || !allDigits(frac))) {
		return 0, invalid(CodeInvalidField, field, s, want)
	}
	v, _ := strconv.Atoi(whole)
	v *= 10
	if dot {
		v += int(frac[0] - '0')
	}
	if v > 1000 {
		return 0, invalid(CodeInvalidField, field, s, want)
	}
	return v, nil
}

func formatScore(v int) string { return strconv.Itoa(v/10) + "." + strconv.Itoa(v%10) }

// parseChangeField reads a required increase/decrease.
func parseChangeField(field, s string) (decrease bool, err error) {
	if s == "" {
		return false, invalid(CodeMissingField, field, "", "increase or decrease")
	}
	d, ok := parseChange(s)
	if !ok {
		return false, invalid(CodeInvalidEnum, field, s, "increase or decrease")
	}
	return d, nil
}

func changeString(decrease bool) string {
	if decrease {
		return "decrease"
	}
	return "increase"
}

func decodeBudget(b *jsonBudget) (Body, error) {
	var serr, cerr, kerr error
	st, ok := ParseBudgetStage(b.Stage)
	if !ok {
		serr = enumError("budget.stage", b.Stage, enumChoices(budgetStageNames, BudgetStages))
	}
	var decrease bool
	switch {
	case b.Change == "" && st == BudgetAdjustment:
		cerr = invalid(CodeMissingField, "budget.change", "", "increase (调增) or decrease (调减) for 调整预算")
	case b.Change != "":
		if decrease, ok = parseChange(b.Change); !ok {
			cerr = invalid(CodeInvalidEnum, "budget.change", b.Change, "increase (调增) or decrease (调减)")
		}
	}
	k, ok := ParseExpenditureKind(b.Kind)
	if !ok {
		kerr = enumError("budget.kind", b.Kind, enumChoices(expenditureKindNames, ExpenditureKinds))
	}
	f, ferr := parseFundField("budget.fund", b.Fund)
	a, aerr := ParseAmount("budget.amount", string(b.Amount))
	return Budget{
		Stage: st, Decrease: decrease, Functional: b.Functional, Economic: b.Economic,
		ExpenditureKind: k, Project: b.Project, Fund: f, Amount: a,
	}, errors.Join(serr, cerr, kerr, ferr, aerr)
}

func parseFundField(field, s string) (Fund, error) {
	f, ok := ParseFund(s)
	if !ok {
		return 0, enumError(field, s, enumChoices(fundNames, Funds))
	}
	return f, nil
}

func enumError(field, value, choices string) error {
	if value == "" {
		return invalid(CodeMissingField, field, "", "one of "+choices)
	}
	return invalid(CodeInvalidEnum, field, value, "one of "+choices)
}

// jsonError turns an encoding/json error into a ValidationError that names
// the field.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := strings.ReplaceAll(te.Field, "jsonBodies.", "") // the embedded struct is not part of the format
		if field == "" {
			return invalid(CodeMalformedJSON, "event", "", "a JSON object, got JSON "+te.Value)
		}
		return invalid(CodeInvalidField, field, "JSON "+te.Value, "a "+jsonTypeName(te.Type.Kind().String()))
	}
	return invalid(CodeMalformedJSON, "event", "", "one JSON object ("+err.Error()+")")
}

func jsonTypeName(kind string) string {
	switch kind {
	case "int", "int64":
		return "whole number"
	case "string":
		return "string"
	case "ptr", "struct":
		return "JSON object"
	}
	return kind
}

// set fills in the field of body.
func (j *jsonBodies) set(body Body) {
	switch b := body.(type) {
	case Appropriation:
		j.Appropriation = &jsonAppropriation{Fund: b.Fund.String(), Functional: b.Functional, Amount: jsonAmount(b.Amount.String())}
	case OtherIncome:
		j.OtherIncome = &jsonOtherIncome{Kind: b.IncomeKind.String(), Functional: b.Functional, Amount: jsonAmount(b.Amount.String())}
	case Expenditure:
		j.Expenditure = &jsonExpenditure{
			Functional: b.Functional, Economic: b.Economic, Kind: b.ExpenditureKind.String(),
			Project: b.Project, Fund: b.Fund.String(), Amount: jsonAmount(b.Amount.String()),
		}
		if r := b.Reception; r != nil {
			j.Expenditure.Reception = &jsonReception{Batches: r.Batches, Visitors: r.Visitors, ForeignVisitors: r.ForeignVisitors}
		}
	case Budget:
		j.Budget = &jsonBudget{
			Stage: b.Stage.String(), Functional: b.Functional, Economic: b.Economic, Kind: b.ExpenditureKind.String(),
			Project: b.Project, Fund: b.Fund.String(), Amount: jsonAmount(b.Amount.String()),
		}
		if b.Stage == BudgetAdjustment {
			j.Budget.Change = "increase"
			if b.Decrease {
				j.Budget.Change = "decrease"
			}
		}
	case UnitRegistered:
		j.UnitRegistered = &jsonUnit{Name: b.Name, Department: b.Department, Type: b.UnitType.String()}
	case AssetChanged:
		j.AssetChanged = &jsonAsset{Class: b.Class.String(), Change: changeString(b.Decrease), Quantity: b.Quantity, Amount: jsonAmount(b.Amount.String())}
		if b.UnitPrice != 0 {
			j.AssetChanged.UnitPrice = jsonAmount(b.UnitPrice.String())
		}
	case ProcurementContracted:
		j.Procurement = &jsonProcurement{Category: b.Category.String(), Supplier: b.Supplier.String(), Amount: jsonAmount(b.Amount.String())}
		if b.Reserved != EnterpriseNone {
			j.Procurement.Reserved = b.Reserved.String()
		}
	case PerformanceEvaluated:
		j.Performance = &jsonPerformance{Project: b.Project, Score: jsonAmount(formatScore(b.Score)), Grade: b.Grade.String(),
			ProblemsFound: b.ProblemsFound, ProblemsFixed: b.ProblemsFixed}
	case LiabilityChanged:
		j.LiabilityChanged = &jsonLiability{Change: changeString(b.Decrease), Amount: jsonAmount(b.Amount.String())}
	case OpeningBalance:
		j.OpeningBalance = &jsonOpening{Fund: b.Fund.String(), Functional: b.Functional, Amount: jsonAmount(b.Amount.String())}
	case NonFiscalSurplusUsed:
		j.NonFiscalSurplusUsed = &jsonAmountOnly{Amount: jsonAmount(b.Amount.String())}
	case SurplusDistribution:
		j.SurplusDistribution = &jsonAmountOnly{Amount: jsonAmount(b.Amount.String())}
	case YearEndClosed:
		j.YearEndClosed = &struct{}{}
	case OpeningAdjusted:
		j.OpeningAdjusted = &jsonAdjustment{Fund: b.Fund.String(), Functional: b.Functional, Change: changeString(b.Decrease),
			Amount: jsonAmount(b.Amount.String()), Reason: b.Reason}
	case Reversal:
		r := &jsonReversal{EventID: b.EventID, Reason: b.Reason}
		r.jsonBodies.set(b.Body)
		j.Reversal = r
	}
}

// MarshalJSON writes e in its JSON form with the wire codes.
func (e Event) MarshalJSON() ([]byte, error) {
	j := jsonEvent{
		ID: e.ID, Ledger: e.Ledger, Unit: e.Unit, FiscalYear: e.FiscalYear,
		Source: e.Source, Voucher: e.Voucher, Memo: e.Memo,
	}
	if e.Date != 0 {
		j.Date = e.Date.String()
	}
	j.jsonBodies.set(e.Body)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
