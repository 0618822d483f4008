package events

import (
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Limits on envelope fields. They are generous for real vouchers and keep a
// single bad publisher from bloating the log.
const (
	MaxIDLen     = 128
	MaxLedgerLen = 64
	MaxTextLen   = 128  // unit, source, voucher, project
	MaxMemoLen   = 1024 // in characters
	MinYear      = 2000
	MaxYear      = 2100
)

// Validate checks every field of e against the rules and the catalog c and
// returns the first problem as a *ValidationError, or nil.
func Validate(e *Event, c *Catalog) error {
	if err := ValidateID(e.ID); err != nil {
		return err
	}
	if err := ValidateLedger(e.Ledger); err != nil {
		return err
	}
	if err := checkText("unit", e.Unit, MaxTextLen, true); err != nil {
		return err
	}
	if e.FiscalYear < MinYear || e.FiscalYear > MaxYear {
		v := ""
		if e.FiscalYear != 0 {
			v = strconv.Itoa(e.FiscalYear)
		}
		code := CodeInvalidFiscalYear
		if e.FiscalYear == 0 {
			code = CodeMissingField
		}
		return invalid(code, "fiscal_year", v, "a year between 2000 and 2100")
	}
	if e.Date == 0 {
		return invalid(CodeMissingField, "date", "", "the accounting date as YYYY-MM-DD")
	}
	if !e.Date.Valid() {
		return invalid(CodeInvalidDate, "date", e.Date.String(), "a real calendar date as YYYY-MM-DD")
	}
	if e.Date.Year() != e.FiscalYear {
		return invalid(CodeDateOutsideYear, "date", e.Date.String(),
			"a date inside fiscal year "+strconv.Itoa(e.FiscalYear)+" (the fiscal year is the calendar year)")
	}
	if err := checkText("source", e.Source, MaxTextLen, true); err != nil {
		return err
	}
	if err := checkText("voucher", e.Voucher, MaxTextLen, true); err != nil {
		return err
	}
	if err := checkText("memo", e.Memo, MaxMemoLen, false); err != nil {
		return err
	}
	if e.Body == nil {
		return invalid(CodeMissingBody, "body", "", "exactly one body: "+kindList())
	}
	if _, ok := e.Body.(YearEndClosed); ok && e.Date != YearEnd(e.FiscalYear) {
		return invalid(CodeInvalidDate, "date", e.Date.String(), "the last day of the year closed, "+YearEnd(e.FiscalYear).String())
	}
	return e.Body.validate(c)
}

// ValidateID checks an event id: 1 to 128 characters of letters, digits and
// . _ : -, so that it can travel unchanged as a NATS header and a URL path.
func ValidateID(id string) error {
	const want = "1 to 128 characters of letters, digits and . _ : -"
	if id == "" {
		return invalid(CodeMissingField, "id", "", "a publisher-chosen unique id: "+want)
	}
	if len(id) > MaxIDLen {
		return invalid(CodeInvalidID, "id", truncate(id, 32), want)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return invalid(CodeInvalidID, "id", id, want)
		}
	}
	return nil
}

// ValidateLedger checks a ledger name: lower-case letters, digits, - and _,
// starting with a letter or digit, at most 64 long. The name is a NATS subject
// token and a URL path segment.
func ValidateLedger(name string) error {
	const want = "a ledger name of lower-case letters, digits, - and _ (at most 64), e.g. qingpu-zwb"
	if name == "" {
		return invalid(CodeMissingField, "ledger", "", want)
	}
	if len(name) > MaxLedgerLen {
		return invalid(CodeInvalidLedger, "ledger", name, want)
	}
	for i, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || (i > 0 && (c == '-' || c == '_'))) {
			return invalid(CodeInvalidLedger, "ledger", name, want)
		}
	}
	return nil
}

func checkText(field, s string, max int, required bool) error {
	if s == "" {
		if required {
			return invalid(CodeMissingField, field, "", "a non-empty "+field)
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return invalid(CodeInvalidField, field, "", "UTF-8 text")
	}
	if utf8.RuneCountInString(s) > max {
		return invalid(CodeInvalidField, field, truncate(s, 16), "at most "+strconv.Itoa(max)+" characters")
	}
	for _, c := range s {
		if unicode.IsControl(c) && !(field == "memo" && c == '\n') {
			return invalid(CodeInvalidField, field, s, "text without control characters")
		}
	}
	return nil
}

func kindList() string {
	s := ""
	for i, k := range Kinds {
		if i > 0 {
			s += ", "
		}
		s += string(k)
	}
	return s
}

func checkAmount(field string, a Amount) error {
	if a <= 0 {
		return invalid(CodeAmountNotPositive, field, a.String(), "an amount greater than zero")
	}
	if a > MaxAmount {
		return invalid(CodeAmountTooLarge, field, a.String(), "at most "+MaxAmount.String()+" 元")
	}
	return nil
}

func checkFund(field string, f Fund, allowNonFiscal bool) error {
	if f == 0 {
		return invalid(CodeMissingField, field, "", "one of "+fundChoices(allowNonFiscal))
	}
	if _, ok := fundNames[f]; !ok {
		return invalid(CodeInvalidEnum, field, f.String(), "one of "+fundChoices(allowNonFiscal))
	}
	if f == FundNonFiscal && !allowNonFiscal {
		return invalid(CodeFundNotAllowed, field, f.String(), "a fiscal fund: "+fundChoices(false))
	}
	return nil
}

func fundChoices(nonFiscal bool) string {
	if nonFiscal {
		return enumChoices(fundNames, Funds)
	}
	return enumChoices(fundNames, Funds[:3])
}

func (b Appropriation) validate(c *Catalog) error {
	if err := checkFund("appropriation.fund", b.Fund, false); err != nil {
		return err
	}
	if err := c.checkCode(Functional, "appropriation.functional", b.Functional, Item); err != nil {
		return err
	}
	return checkAmount("appropriation.amount", b.Amount)
}

func (b OtherIncome) validate(c *Catalog) error {
	if _, ok := incomeKindNames[b.IncomeKind]; !ok {
		code := CodeInvalidEnum
		if b.IncomeKind == 0 {
			code = CodeMissingField
		}
		return invalid(code, "other_income.kind", "", "one of "+enumChoices(incomeKindNames, IncomeKinds))
	}
	if err := c.checkCode(Functional, "other_income.functional", b.Functional, Item); err != nil {
		return err
	}
	return checkAmount("other_income.amount", b.Amount)
}

func (b Expenditure) validate(c *Catalog) error {
	if err := c.checkCode(Functional, "expenditure.functional", b.Functional, Item); err != nil {
		return err
	}
	if err := c.checkCode(Economic, "expenditure.economic", b.Economic, Section); err != nil {
		return err
	}
	if _, ok := expenditureKindNames[b.ExpenditureKind]; !ok {
		code := CodeInvalidEnum
		if b.ExpenditureKind == 0 {
			code = CodeMissingField
		}
		return invalid(code, "expenditure.kind", "", "one of "+enumChoices(expenditureKindNames, ExpenditureKinds))
	}
	if b.ExpenditureKind == ExpenditureProject {
		if b.Project == "" {
			return invalid(CodeProjectRequired, "expenditure.project", "", "the project name for 项目支出")
		}
		if err := checkText("expenditure.project", b.Project, MaxTextLen, true); err != nil {
			return err
		}
	} else if b.Project != "" {
		return invalid(CodeProjectNotAllowed, "expenditure.project", b.Project,
			"no project for "+b.ExpenditureKind.Name()+"; only 项目支出 (kind project) names a project")
	}
	if err := checkFund("expenditure.fund", b.Fund, true); err != nil {
		return err
	}
	if b.Fund.Fiscal() && b.ExpenditureKind != ExpenditureBasic && b.ExpenditureKind != ExpenditureProject {
		// Fiscal appropriations fund only 基本支出 and 项目支出; the fiscal
		// tables have no column for anything else.
		return invalid(CodeFundNotAllowed, "expenditure.fund", b.Fund.String(),
			"non_fiscal (非财政拨款) for "+b.ExpenditureKind.Name()+": 财政拨款 pays only 基本支出 and 项目支出")
	}
	if err := checkAmount("expenditure.amount", b.Amount); err != nil {
		return err
	}
	if r := b.Reception; r != nil {
		if b.Economic != EconomicReception {
			return invalid(CodeInvalidField, "expenditure.reception", "", "no reception counts except on 公务接待费 ("+EconomicReception+")")
		}
		for _, f := range []struct {
			name string
			v    int
		}{{"batches", r.Batches}, {"visitors", r.Visitors}, {"foreign_visitors", r.ForeignVisitors}} {
			if f.v < 0 || f.v > 1_000_000 {
				return invalid(CodeInvalidField, "expenditure.reception."+f.name, strconv.Itoa(f.v), "a count from 0 to 1000000")
			}
		}
		if r.Batches < 1 {
			return invalid(CodeInvalidField, "expenditure.reception.batches", strconv.Itoa(r.Batches), "at least 1 reception batch (批次)")
		}
		if r.ForeignVisitors > r.Visitors {
			return invalid(CodeInvalidField, "expenditure.reception.foreign_visitors", strconv.Itoa(r.ForeignVisitors),
				"at most the number of visitors, "+strconv.Itoa(r.Visitors))
		}
	}
	return nil
}

// EconomicReception is the 经济分类 款 of 公务接待费, the only expenditure that
// carries reception counts.
const EconomicReception = "30217"

func (b Budget) validate(c *Catalog) error {
	if _, ok := budgetStageNames[b.Stage]; !ok {
		return invalid(CodeMissingField, "budget.stage", "", "one of "+enumChoices(budgetStageNames, BudgetStages))
	}
	if b.Decrease && b.Stage != BudgetAdjustment {
		return invalid(CodeInvalidField, "budget.change", "decrease", "a decrease only for 调整预算 (stage adjustment)")
	}
	if err := c.checkCode(Functional, "budget.functional", b.Functional, Item); err != nil {
		return err
	}
	if b.Economic != "" {
		if err := c.checkCode(Economic, "budget.economic", b.Economic, Section); err != nil {
			return err
		}
	}
	if _, ok := expenditureKindNames[b.ExpenditureKind]; !ok {
		return invalid(CodeMissingField, "budget.kind", "", "one of "+enumChoices(expenditureKindNames, ExpenditureKinds))
	}
	if b.ExpenditureKind == ExpenditureProject && b.Project == "" {
		return invalid(CodeProjectRequired, "budget.project", "", "the project name for a 项目支出 budget")
	}
	if b.ExpenditureKind != ExpenditureProject && b.Project != "" {
		return invalid(CodeProjectNotAllowed, "budget.project", b.Project, "no project except for 项目支出 (kind project)")
	}
	if err := checkText("budget.project", b.Project, MaxTextLen, false); err != nil {
		return err
	}
	if err := checkFund("budget.fund", b.Fund, true); err != nil {
		return err
	}
	return checkAmount("budget.amount", b.Amount)
}

func (b UnitRegistered) validate(*Catalog) error {
	if err := checkText("unit_registered.name", b.Name, MaxTextLen, true); err != nil {
		return err
	}
	if err := checkText("unit_registered.department", b.Department, MaxTextLen, true); err != nil {
		return err
	}
	if _, ok := unitTypeNames[b.UnitType]; !ok {
		return invalid(CodeMissingField, "unit_registered.type", "", "one of "+enumChoices(unitTypeNames, UnitTypes))
	}
	return nil
}

func (b OpeningBalance) validate(c *Catalog) error {
	if err := checkFund("opening_balance.fund", b.Fund, true); err != nil {
		return err
	}
	earmarked := b.Fund == FundGovernmentFund || b.Fund == FundStateCapital
	if b.Functional != "" || earmarked {
		if err := c.checkCode(Functional, "opening_balance.functional", b.Functional, Item); err != nil {
			return err
		}
	}
	return checkAmount("opening_balance.amount", b.Amount)
}

func (b NonFiscalSurplusUsed) validate(*Catalog) error {
	return checkAmount("non_fiscal_surplus_used.amount", b.Amount)
}

func (b SurplusDistribution) validate(*Catalog) error {
	return checkAmount("surplus_distribution.amount", b.Amount)
}

func (b AssetChanged) validate(*Catalog) error {
	if _, ok := assetClassNames[b.Class]; !ok {
		return invalid(CodeMissingField, "asset_changed.class", "", "one of "+enumChoices(assetClassNames, AssetClasses))
	}
	if b.Quantity < 0 || b.Quantity > 1_000_000_000 {
		return invalid(CodeInvalidField, "asset_changed.quantity", strconv.FormatInt(b.Quantity, 10), "a quantity from 0 to 1000000000")
	}
	if b.UnitPrice != 0 {
		if b.Class != AssetGeneralEquipment && b.Class != AssetSpecialEquipment {
			return invalid(CodeInvalidField, "asset_changed.unit_price", b.UnitPrice.String(), "a unit price only for 通用设备 and 专用设备")
		}
		if err := checkAmount("asset_changed.unit_price", b.UnitPrice); err != nil {
			return err
		}
		if b.Quantity == 0 || b.UnitPrice > b.Amount/Amount(b.Quantity) {
			return invalid(CodeInvalidField, "asset_changed.unit_price", b.UnitPrice.String(),
				"a unit price with a quantity, no more than amount / quantity allows")
		}
	}
	if b.Quantity != 0 && !b.Class.Counted() {
		return invalid(CodeInvalidField, "asset_changed.quantity", strconv.FormatInt(b.Quantity, 10),
			"no quantity for "+b.Class.Name()+": only 房屋, 通用设备, 车辆 and 专用设备 are counted")
	}
	return checkAmount("asset_changed.amount", b.Amount)
}

func (b LiabilityChanged) validate(*Catalog) error {
	return checkAmount("liability_changed.amount", b.Amount)
}

func (b ProcurementContracted) validate(*Catalog) error {
	if _, ok := procurementCategoryNames[b.Category]; !ok {
		return invalid(CodeMissingField, "procurement_contracted.category", "", "one of "+enumChoices(procurementCategoryNames, ProcurementCategories))
	}
	if _, ok := enterpriseNames[b.Reserved]; !ok && b.Reserved != EnterpriseNone {
		return invalid(CodeInvalidEnum, "procurement_contracted.reserved", b.Reserved.String(), "sme or micro, or absent when not reserved")
	}
	if b.Reserved == EnterpriseLarge {
		return invalid(CodeInvalidEnum, "procurement_contracted.reserved", "large", "sme (中小企业) or micro (小微企业); leave it out when not reserved")
	}
	if _, ok := enterpriseNames[b.Supplier]; !ok {
		return invalid(CodeMissingField, "procurement_contracted.supplier", "", "one of "+enumChoices(enterpriseNames, Enterprises))
	}
	return checkAmount("procurement_contracted.amount", b.Amount)
}

func (b PerformanceEvaluated) validate(*Catalog) error {
	if err := checkText("performance_evaluated.project", b.Project, MaxTextLen, true); err != nil {
		return err
	}
	if b.Score < 0 || b.Score > 1000 {
		return invalid(CodeInvalidField, "performance_evaluated.score", strconv.Itoa(b.Score/10)+"."+strconv.Itoa(abs(b.Score%10)), "a score from 0 to 100 with at most one decimal")
	}
	if _, ok := gradeNames[b.Grade]; !ok {
		return invalid(CodeMissingField, "performance_evaluated.grade", "", "one of "+enumChoices(gradeNames, Grades))
	}
	if lo, hi := gradeScores(b.Grade); b.Score < lo || b.Score > hi {
		return invalid(CodeInvalidField, "performance_evaluated.grade", b.Grade.Name(),
			fmt.Sprintf("the grade of a score of %d.%d: 优 from 90, 良 from 80, 合格 from 60, 不合格 below 60", b.Score/10, b.Score%10))
	}
	if b.ProblemsFound > 1_000_000 {
		return invalid(CodeInvalidField, "performance_evaluated.problems_found", strconv.Itoa(b.ProblemsFound), "at most 1000000 problems")
	}
	if b.ProblemsFound < 0 || b.ProblemsFixed < 0 || b.ProblemsFixed > b.ProblemsFound {
		return invalid(CodeInvalidField, "performance_evaluated.problems_fixed", strconv.Itoa(b.ProblemsFixed),
			"a count from 0 to the problems found, "+strconv.Itoa(b.ProblemsFound))
	}
	return nil
}

// gradeScores is the score range, in tenths, of each grade (the common
// bands of 绩效评价: 优 90 and above, 良 80 to 90, 合格 60 to 80).
func gradeScores(g Grade) (lo, hi int) {
	switch g {
	case GradeExcellent:
		return 900, 1000
	case GradeGood:
		return 800, 899
	case GradePass:
		return 600, 799
	}
	return 0, 599
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func (YearEndClosed) validate(*Catalog) error { return nil }

func (b OpeningAdjusted) validate(c *Catalog) error {
	if err := checkFund("opening_adjusted.fund", b.Fund, true); err != nil {
		return err
	}
	if b.Functional != "" || b.Fund == FundGovernmentFund || b.Fund == FundStateCapital {
		if err := c.checkCode(Functional, "opening_adjusted.functional", b.Functional, Item); err != nil {
			return err
		}
	}
	if err := checkText("opening_adjusted.reason", b.Reason, MaxMemoLen, true); err != nil {
		return err
	}
	return checkAmount("opening_adjusted.amount", b.Amount)
}

func (b Reversal) validate(c *Catalog) error {
	if err := ValidateID(b.EventID); err != nil {
		v := *err.(*ValidationError)
		v.Field = "reversal.event_id"
		return &v
	}
	if err := checkText("reversal.reason", b.Reason, MaxMemoLen, true); err != nil {
		return err
	}
	switch b.Body.(type) {
	case nil:
		return invalid(CodeMissingBody, "reversal.body", "", "the body of the event reversed, restated")
	case Reversal:
		return invalid(CodeInvalidField, "reversal.reversal", "", "the body of an ordinary event: a reversal cannot be reversed")
	case UnitRegistered, PerformanceEvaluated, YearEndClosed:
		return invalid(CodeInvalidField, "reversal."+string(b.Body.Kind()), "", "a body that moves money or counts; publish a corrected "+string(b.Body.Kind())+" instead")
	}
	if err := b.Body.validate(c); err != nil {
		if v, ok := err.(*ValidationError); ok {
			w := *v
			w.Field = "reversal." + w.Field
			return &w
		}
		return err
	}
	return nil
}
