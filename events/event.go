package events

// Event is one fact published by an accounting system. The envelope fields
// identify and trace it; Body says what happened. Events are values: once
// validated they are never mutated, and a correction is a new event.
type Event struct {
	// ID is chosen by the publisher and is the idempotency key: the ledger
	// keeps it for ever, so publishing the same event twice appends it once.
	ID string
	// Ledger is the reporting department, e.g. "qingpu-zwb".
	Ledger string
	// Unit is the budget unit inside the department, e.g. "本级".
	Unit string
	// FiscalYear is the budget year the event belongs to (the calendar year).
	FiscalYear int
	// Date is the effective accounting date; it lies inside FiscalYear.
	Date Date
	// Source names the publishing system and Voucher the voucher number in
	// it, so that every figure can be traced back to its 凭证.
	Source  string
	Voucher string
	Memo    string
	Body    Body
}

// Body is what an event records. Exactly one body per event; the set of body
// types is closed (see Kind).
type Body interface {
	// Kind names the body as it appears on the wire.
	Kind() Kind
	validate(c *Catalog) error
}

// Kind names a body type. The string is the JSON key of the body and the
// name used in logs and error messages; it never changes once published.
type Kind string

// The body kinds.
const (
	KindAppropriation        Kind = "appropriation"
	KindOtherIncome          Kind = "other_income"
	KindExpenditure          Kind = "expenditure"
	KindOpeningBalance       Kind = "opening_balance"
	KindNonFiscalSurplusUsed Kind = "non_fiscal_surplus_used"
	KindSurplusDistribution  Kind = "surplus_distribution"
	KindBudget               Kind = "budget"
	KindUnitRegistered       Kind = "unit_registered"
	KindAssetChanged         Kind = "asset_changed"
	KindLiabilityChanged     Kind = "liability_changed"
	KindProcurement          Kind = "procurement_contracted"
	KindPerformance          Kind = "performance_evaluated"
	KindReversal             Kind = "reversal"
	KindYearEndClosed        Kind = "year_end_closed"
	KindOpeningAdjusted      Kind = "opening_adjusted"
)

// Kinds lists every body kind in wire order.
var Kinds = []Kind{
	KindAppropriation, KindOtherIncome, KindExpenditure,
	KindOpeningBalance, KindNonFiscalSurplusUsed, KindSurplusDistribution,
	KindBudget, KindUnitRegistered, KindAssetChanged, KindLiabilityChanged,
	KindProcurement, KindPerformance, KindReversal, KindYearEndClosed, KindOpeningAdjusted,
}

// Appropriation is money received from the finance bureau (财政拨款收入), for
// the 功能分类 项 it is intended for.
type Appropriation struct {
	Fund       Fund   // one of the three fiscal fund types
	Functional string // 功能分类 项 code, 7 digits
	Amount     Amount
}

// OtherIncome is income that is not a fiscal appropriation: 上级补助收入,
// 事业收入, 经营收入, 附属单位上缴收入 or 其他收入.
type OtherIncome struct {
	IncomeKind IncomeKind
	Functional string // 功能分类 项 code, 7 digits
	Amount     Amount
}

// Expenditure is money spent, classified by function (功能分类 项) and by
// economic nature (经济分类 款), by kind (基本支出, 项目支出, ...), and by the
// fund that paid it.
type Expenditure struct {
	Functional      string // 功能分类 项 code, 7 digits
	Economic        string // 经济分类 款 code, 5 digits
	ExpenditureKind ExpenditureKind
	// Project names the project for 项目支出; it is empty for every other kind.
	Project string
	Fund    Fund // a fiscal fund type, or FundNonFiscal
	Amount  Amount
	// Reception counts the official receptions a 公务接待费 (30217) payment
	// paid for, for the "三公"经费 table; nil for any other payment.
	Reception *Reception
}

// Reception is what a 公务接待 payment covered: how many reception batches
// (批次), how many visitors (人次), and how many of them foreign (外宾).
type Reception struct {
	Batches, Visitors, ForeignVisitors int
}

// Budget is an approved budget (预算) or an adjustment of it, classified
// like an expenditure: 年初预算 as approved at the start of the year, and
// 调整预算 changes during it.
type Budget struct {
	Stage           BudgetStage
	Decrease        bool   // an adjustment that reduces the budget (调减)
	Functional      string // 功能分类 项, 7 digits
	Economic        string // 经济分类 款, 5 digits; optional
	ExpenditureKind ExpenditureKind
	Project         string // for 项目支出 only
	Fund            Fund
	Amount          Amount
}

// UnitRegistered records a budget unit's official name and type for the
// year, and the name of the department it reports in; statements print the
// names, and rules such as 机关运行经费 depend on the type.
type UnitRegistered struct {
	Name       string // e.g. 上海市青浦区行政服务中心
	Department string // e.g. 上海市青浦区政务服务办公室
	UnitType   UnitType
}

// OpeningBalance is 年初结转和结余 brought forward into the fiscal year, for
// one fiscal fund type or for non-fiscal money. 政府性基金 and 国有资本经营
// money is earmarked by 功能分类, so its balances name the 项 they belong to
// (their tables print 年初 by 项); for the others Functional is optional.
type OpeningBalance struct {
	Fund       Fund
	Functional string
	Amount     Amount
}

// NonFiscalSurplusUsed is 使用非财政拨款结余: earlier non-fiscal surplus drawn
// on to cover this year's spending.
type NonFiscalSurplusUsed struct {
	Amount Amount
}

// SurplusDistribution is 结余分配: surplus distributed (for example to funds
// or as tax) during the year.
type SurplusDistribution struct {
	Amount Amount
}

// Kind implements Body.
func (Appropriation) Kind() Kind { return KindAppropriation }

// Kind implements Body.
func (OtherIncome) Kind() Kind { return KindOtherIncome }

// Kind implements Body.
func (Expenditure) Kind() Kind { return KindExpenditure }

// Kind implements Body.
func (OpeningBalance) Kind() Kind { return KindOpeningBalance }

// Kind implements Body.
func (NonFiscalSurplusUsed) Kind() Kind { return KindNonFiscalSurplusUsed }

// Kind implements Body.
func (SurplusDistribution) Kind() Kind { return KindSurplusDistribution }

// Kind implements Body.
func (Budget) Kind() Kind { return KindBudget }

// Kind implements Body.
func (UnitRegistered) Kind() Kind { return KindUnitRegistered }

// Kind implements Body.
func (AssetChanged) Kind() Kind { return KindAssetChanged }

// Kind implements Body.
func (ProcurementContracted) Kind() Kind { return KindProcurement }

// Kind implements Body.
func (Reversal) Kind() Kind { return KindReversal }

// Kind implements Body.
func (YearEndClosed) Kind() Kind { return KindYearEndClosed }

// Kind implements Body.
func (OpeningAdjusted) Kind() Kind { return KindOpeningAdjusted }

// OpeningAdjusted is 年初调整 (以前年度调整): once a year is closed its events
// are final, and a correction found later is recorded in the next year as
// an adjustment of that year's 年初结转和结余, for one fund (and 项, for the
// earmarked funds), with its reason. Statements count it in 年初结转和结余
// and show it as such; the ledger accepts it only when the previous year is
// closed.
type OpeningAdjusted struct {
	Fund       Fund
	Functional string
	Decrease   bool
	Amount     Amount
	Reason     string
}

// YearEndClosed is 年终结账: the books of the event's fiscal year are closed.
// The ledger then carries each unit's 年末结转和结余 (by fund, and by 功能分类
// for earmarked funds) into the next year as 年初结转和结余, in the same
// transaction, and refuses further ordinary events of the closed year.
// Dated on the last day of the year it closes.
type YearEndClosed struct{}

// Reversal is a 红字冲销: it cancels an event appended earlier, naming it and
// restating its body, as a red voucher restates the entry it reverses. The
// ledger accepts it only if the event exists in the same ledger, unit and
// fiscal year, is not itself a reversal, has not been reversed before, and
// has exactly this body. From the reversal's date on, statements count
// neither; as of an earlier date the original still counts.
type Reversal struct {
	EventID string
	Reason  string
	Body    Body
}

// Kind implements Body.
func (PerformanceEvaluated) Kind() Kind { return KindPerformance }

// ProcurementContracted records a government procurement contract (政府采购),
// for the 政府采购 figures of the report: its category, whether it was
// reserved for small and medium enterprises (面向中小企业预留) or for small
// and micro ones (面向小微企业预留), and the size of the supplier it was
// awarded to.
type ProcurementContracted struct {
	Category ProcurementCategory
	Reserved Enterprise // EnterpriseNone when not reserved
	Supplier Enterprise // the winning supplier's size
	Amount   Amount
}

// PerformanceEvaluated records a project's performance self-evaluation
// (绩效自评): its score and grade and the problems it found and fixed. The
// project's budget and execution come from the budget and expenditure
// events, not from here, so the report's figures agree with the statements.
type PerformanceEvaluated struct {
	Project       string
	Score         int // in tenths of a point: 955 is 95.5
	Grade         Grade
	ProblemsFound int
	ProblemsFixed int
}

// Kind implements Body.
func (LiabilityChanged) Kind() Kind { return KindLiabilityChanged }

// AssetChanged records a change in the value (and, for counted classes,
// the quantity) of one class of assets: an acquisition or a disposal, or,
// for the contra classes, depreciation (累计折旧) and amortization (累计摊销)
// charged or written back. Balances are the running sums of these changes,
// so a department's opening position is recorded as changes dated before
// the year.
type AssetChanged struct {
	Class    AssetClass
	Decrease bool
	// Quantity is the number of items (台/套/辆) or, for buildings, square
	// metres; optional (0).
	Quantity int64
	// UnitPrice is the price of one item, for equipment: the table counts
	// items of 50 万元 (通用设备) or 100 万元 (专用设备) and more on lines of
	// their own. Optional; without it the average of the event is used.
	UnitPrice Amount
	Amount    Amount
}

// LiabilityChanged records an increase or a decrease of liabilities (负债).
type LiabilityChanged struct {
	Decrease bool
	Amount   Amount
}

// BodyAmount returns the amount an event body carries, signed: a budget
// decrease is negative. A UnitRegistered carries none (0).
func BodyAmount(b Body) Amount {
	switch b := b.(type) {
	case Appropriation:
		return b.Amount
	case OtherIncome:
		return b.Amount
	case Expenditure:
		return b.Amount
	case OpeningBalance:
		return b.Amount
	case NonFiscalSurplusUsed:
		return b.Amount
	case SurplusDistribution:
		return b.Amount
	case Budget:
		if b.Decrease {
			return -b.Amount
		}
		return b.Amount
	case AssetChanged:
		if b.Decrease {
			return -b.Amount
		}
		return b.Amount
	case LiabilityChanged:
		if b.Decrease {
			return -b.Amount
		}
		return b.Amount
	case ProcurementContracted:
		return b.Amount
	case OpeningAdjusted:
		if b.Decrease {
			return -b.Amount
		}
		return b.Amount
	}
	return 0
}
