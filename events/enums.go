package events

import "fmt"

// Fund is the source of money: one of the three fiscal fund types of the
// government budget, or money that is not a fiscal appropriation.
type Fund uint8

// The funds. The zero value is invalid so that a missing field is caught.
const (
	FundGeneralBudget  Fund = 1 // 一般公共预算
	FundGovernmentFund Fund = 2 // 政府性基金预算
	FundStateCapital   Fund = 3 // 国有资本经营预算
	FundNonFiscal      Fund = 4 // 非财政拨款
)

// Funds lists every fund in the order statements print them.
var Funds = []Fund{FundGeneralBudget, FundGovernmentFund, FundStateCapital, FundNonFiscal}

// Fiscal reports whether f is one of the three fiscal fund types.
func (f Fund) Fiscal() bool { return f >= FundGeneralBudget && f <= FundStateCapital }

// IncomeKind is the kind of a non-appropriation income.
type IncomeKind uint8

// The income kinds, in the order of the 收入支出决算总表.
const (
	IncomeSuperiorGrant         IncomeKind = 1 // 上级补助收入
	IncomeOperations            IncomeKind = 2 // 事业收入
	IncomeBusiness              IncomeKind = 3 // 经营收入
	IncomeSubordinateRemittance IncomeKind = 4 // 附属单位上缴收入
	IncomeOther                 IncomeKind = 5 // 其他收入
)

// IncomeKinds lists every income kind in statement order.
var IncomeKinds = []IncomeKind{IncomeSuperiorGrant, IncomeOperations, IncomeBusiness, IncomeSubordinateRemittance, IncomeOther}

// ExpenditureKind is the kind of an expenditure, the columns of the 支出决算表.
type ExpenditureKind uint8

// The expenditure kinds, in the order of the 支出决算表.
const (
	ExpenditureBasic              ExpenditureKind = 1 // 基本支出
	ExpenditureProject            ExpenditureKind = 2 // 项目支出
	ExpenditureRemitSuperior      ExpenditureKind = 3 // 上缴上级支出
	ExpenditureBusiness           ExpenditureKind = 4 // 经营支出
	ExpenditureSubsidySubordinate ExpenditureKind = 5 // 对附属单位补助支出
)

// ExpenditureKinds lists every expenditure kind in statement order.
var ExpenditureKinds = []ExpenditureKind{ExpenditureBasic, ExpenditureProject, ExpenditureRemitSuperior, ExpenditureBusiness, ExpenditureSubsidySubordinate}

// enumName is the wire code and the official name of one enum value. The
// wire accepts either; events always carry the value, so the same event
// written with either spelling has the same content.
type enumName struct{ code, name string }

var fundNames = map[Fund]enumName{
	FundGeneralBudget:  {"general_budget", "一般公共预算"},
	FundGovernmentFund: {"government_fund", "政府性基金预算"},
	FundStateCapital:   {"state_capital", "国有资本经营预算"},
	FundNonFiscal:      {"non_fiscal", "非财政拨款"},
}

var incomeKindNames = map[IncomeKind]enumName{
	IncomeSuperiorGrant:         {"superior_grant", "上级补助收入"},
	IncomeOperations:            {"operations", "事业收入"},
	IncomeBusiness:              {"business", "经营收入"},
	IncomeSubordinateRemittance: {"subordinate_remittance", "附属单位上缴收入"},
	IncomeOther:                 {"other", "其他收入"},
}

var expenditureKindNames = map[ExpenditureKind]enumName{
	ExpenditureBasic:              {"basic", "基本支出"},
	ExpenditureProject:            {"project", "项目支出"},
	ExpenditureRemitSuperior:      {"remit_superior", "上缴上级支出"},
	ExpenditureBusiness:           {"business", "经营支出"},
	ExpenditureSubsidySubordinate: {"subsidy_subordinate", "对附属单位补助支出"},
}

// String returns the wire code.
func (f Fund) String() string { return enumString(fundNames, f) }

// Name returns the official Chinese name.
func (f Fund) Name() string { return fundNames[f].name }

// String returns the wire code.
func (k IncomeKind) String() string { return enumString(incomeKindNames, k) }

// Name returns the official Chinese name.
func (k IncomeKind) Name() string { return incomeKindNames[k].name }

// String returns the wire code.
func (k ExpenditureKind) String() string { return enumString(expenditureKindNames, k) }

// Name returns the official Chinese name.
func (k ExpenditureKind) Name() string { return expenditureKindNames[k].name }

// ParseFund accepts a wire code or the official name.
func ParseFund(s string) (Fund, bool) { return parseEnum(fundNames, s) }

// ParseIncomeKind accepts a wire code or the official name.
func ParseIncomeKind(s string) (IncomeKind, bool) { return parseEnum(incomeKindNames, s) }

// ParseExpenditureKind accepts a wire code or the official name.
func ParseExpenditureKind(s string) (ExpenditureKind, bool) {
	return parseEnum(expenditureKindNames, s)
}

func enumString[E ~uint8](names map[E]enumName, v E) string {
	if n, ok := names[v]; ok {
		return n.code
	}
	return fmt.Sprintf("invalid(%d)", uint8(v))
}

func parseEnum[E ~uint8](names map[E]enumName, s string) (E, bool) {
	for v, n := range names {
		if s == n.code || s == n.name {
			return v, true
		}
	}
	return 0, false
}

// enumChoices lists the accepted spellings for an error message.
func enumChoices[E ~uint8](names map[E]enumName, order []E) string {
	s := ""
	for i, v := range order {
		if i > 0 {
			s += ", "
		}
		s += names[v].code + " (" + names[v].name + ")"
	}
	return s
}

// BudgetStage says which budget a Budget event belongs to.
type BudgetStage uint8

// The budget stages.
const (
	BudgetInitial    BudgetStage = 1 // 年初预算
	BudgetAdjustment BudgetStage = 2 // 调整预算
)

// BudgetStages lists the stages in order.
var BudgetStages = []BudgetStage{BudgetInitial, BudgetAdjustment}

var budgetStageNames = map[BudgetStage]enumName{
	BudgetInitial:    {"initial", "年初预算"},
	BudgetAdjustment: {"adjustment", "调整预算"},
}

// String returns the wire code.
func (s BudgetStage) String() string { return enumString(budgetStageNames, s) }

// Name returns the official Chinese name.
func (s BudgetStage) Name() string { return budgetStageNames[s].name }

// ParseBudgetStage accepts a wire code or the official name.
func ParseBudgetStage(s string) (BudgetStage, bool) { return parseEnum(budgetStageNames, s) }

// UnitType is the kind of budget unit, on which rules such as 机关运行经费
// (the running costs of 行政 and 参公 units) depend.
type UnitType uint8

// The unit types.
const (
	UnitAdministrative      UnitType = 1 // 行政单位
	UnitCivilServiceManaged UnitType = 2 // 参照公务员法管理事业单位 (参公)
	UnitPublicInstitution   UnitType = 3 // 事业单位
)

// UnitTypes lists the unit types in order.
var UnitTypes = []UnitType{UnitAdministrative, UnitCivilServiceManaged, UnitPublicInstitution}

var unitTypeNames = map[UnitType]enumName{
	UnitAdministrative:      {"administrative", "行政单位"},
	UnitCivilServiceManaged: {"civil_service_managed", "参照公务员法管理事业单位"},
	UnitPublicInstitution:   {"public_institution", "事业单位"},
}

// String returns the wire code.
func (t UnitType) String() string { return enumString(unitTypeNames, t) }

// Name returns the official Chinese name.
func (t UnitType) Name() string { return unitTypeNames[t].name }

// ParseUnitType accepts a wire code or the official name.
func ParseUnitType(s string) (UnitType, bool) { return parseEnum(unitTypeNames, s) }

// ChangeDirection reads the JSON "change" of a budget adjustment.
func parseChange(s string) (decrease, ok bool) {
	switch s {
	case "increase", "调增", "增加":
		return false, true
	case "decrease", "调减", "减少":
		return true, true
	}
	return false, false
}

// AssetClass is a line of the 资产负债情况表.
type AssetClass uint8

// The asset classes. Vehicles are 通用设备 too; depreciation and
// amortization are the contra accounts subtracted from fixed and intangible
// assets.
const (
	AssetCurrent                AssetClass = 1  // 流动资产
	AssetBuildings              AssetClass = 2  // 房屋
	AssetGeneralEquipment       AssetClass = 3  // 通用设备 (not vehicles)
	AssetVehicleOfficial        AssetClass = 4  // 一般公务用车
	AssetVehicleLawEnforcement  AssetClass = 5  // 执法执勤用车
	AssetVehicleSpecial         AssetClass = 6  // 特种专业技术用车
	AssetVehicleOther           AssetClass = 7  // 其他用车
	AssetSpecialEquipment       AssetClass = 8  // 专用设备
	AssetOtherFixed             AssetClass = 9  // 其他固定资产
	AssetDepreciation           AssetClass = 10 // 累计折旧及减值准备
	AssetLongTermEquity         AssetClass = 11 // 长期股权投资
	AssetLongTermBonds          AssetClass = 12 // 长期债券投资
	AssetConstructionInProgress AssetClass = 13 // 在建工程
	AssetIntangible             AssetClass = 14 // 无形资产
	AssetAmortization           AssetClass = 15 // 累计摊销
	AssetOther                  AssetClass = 16 // 其他资产
)

// AssetClasses lists every asset class in order.
var AssetClasses = []AssetClass{
	AssetCurrent, AssetBuildings, AssetGeneralEquipment, AssetVehicleOfficial, AssetVehicleLawEnforcement,
	AssetVehicleSpecial, AssetVehicleOther, AssetSpecialEquipment, AssetOtherFixed, AssetDepreciation,
	AssetLongTermEquity, AssetLongTermBonds, AssetConstructionInProgress, AssetIntangible, AssetAmortization, AssetOther,
}

var assetClassNames = map[AssetClass]enumName{
	AssetCurrent:                {"current", "流动资产"},
	AssetBuildings:              {"buildings", "房屋"},
	AssetGeneralEquipment:       {"general_equipment", "通用设备"},
	AssetVehicleOfficial:        {"vehicle_official", "一般公务用车"},
	AssetVehicleLawEnforcement:  {"vehicle_law_enforcement", "执法执勤用车"},
	AssetVehicleSpecial:         {"vehicle_special", "特种专业技术用车"},
	AssetVehicleOther:           {"vehicle_other", "其他用车"},
	AssetSpecialEquipment:       {"special_equipment", "专用设备"},
	AssetOtherFixed:             {"other_fixed", "其他固定资产"},
	AssetDepreciation:           {"depreciation", "累计折旧及减值准备"},
	AssetLongTermEquity:         {"long_term_equity", "长期股权投资"},
	AssetLongTermBonds:          {"long_term_bonds", "长期债券投资"},
	AssetConstructionInProgress: {"construction_in_progress", "在建工程"},
	AssetIntangible:             {"intangible", "无形资产"},
	AssetAmortization:           {"amortization", "累计摊销"},
	AssetOther:                  {"other", "其他资产"},
}

// String returns the wire code.
func (c AssetClass) String() string { return enumString(assetClassNames, c) }

// Name returns the official Chinese name.
func (c AssetClass) Name() string { return assetClassNames[c].name }

// ParseAssetClass accepts a wire code or the official name.
func ParseAssetClass(s string) (AssetClass, bool) { return parseEnum(assetClassNames, s) }

// Counted reports whether the 资产负债情况表 prints a 数量 for c.
func (c AssetClass) Counted() bool {
	return c == AssetBuildings || c == AssetGeneralEquipment || c == AssetSpecialEquipment || c.Vehicle()
}

// Vehicle reports whether c is one of the vehicle classes.
func (c AssetClass) Vehicle() bool { return c >= AssetVehicleOfficial && c <= AssetVehicleOther }

// ProcurementCategory is what a procurement bought.
type ProcurementCategory uint8

// The procurement categories.
const (
	ProcurementGoods    ProcurementCategory = 1 // 货物
	ProcurementWorks    ProcurementCategory = 2 // 工程
	ProcurementServices ProcurementCategory = 3 // 服务
)

// ProcurementCategories lists them in order.
var ProcurementCategories = []ProcurementCategory{ProcurementGoods, ProcurementWorks, ProcurementServices}

var procurementCategoryNames = map[ProcurementCategory]enumName{
	ProcurementGoods:    {"goods", "货物"},
	ProcurementWorks:    {"works", "工程"},
	ProcurementServices: {"services", "服务"},
}

// String returns the wire code.
func (c ProcurementCategory) String() string { return enumString(procurementCategoryNames, c) }

// Name returns the official Chinese name.
func (c ProcurementCategory) Name() string { return procurementCategoryNames[c].name }

// ParseProcurementCategory accepts a wire code or the official name.
func ParseProcurementCategory(s string) (ProcurementCategory, bool) {
	return parseEnum(procurementCategoryNames, s)
}

// Enterprise is the size class of an enterprise in procurement statistics.
// Small and micro enterprises are a part of small and medium ones.
type Enterprise uint8

// The enterprise classes. The zero value, EnterpriseNone, means "not
// reserved" in ProcurementContracted.Reserved.
const (
	EnterpriseNone  Enterprise = 0
	EnterpriseSME   Enterprise = 1 // 中小企业 (not small and micro)
	EnterpriseMicro Enterprise = 2 // 小微企业
	EnterpriseLarge Enterprise = 3 // 大型企业 (or any other supplier)
)

// Enterprises lists the classes a supplier can be.
var Enterprises = []Enterprise{EnterpriseSME, EnterpriseMicro, EnterpriseLarge}

var enterpriseNames = map[Enterprise]enumName{
	EnterpriseSME:   {"sme", "中小企业"},
	EnterpriseMicro: {"micro", "小微企业"},
	EnterpriseLarge: {"large", "大型企业"},
}

// String returns the wire code.
func (e Enterprise) String() string { return enumString(enterpriseNames, e) }

// Name returns the official Chinese name.
func (e Enterprise) Name() string { return enterpriseNames[e].name }

// ParseEnterprise accepts a wire code or the official name.
func ParseEnterprise(s string) (Enterprise, bool) { return parseEnum(enterpriseNames, s) }

// SmallOrMedium reports whether e counts as a 中小企业 (small and micro
// enterprises included).
func (e Enterprise) SmallOrMedium() bool { return e == EnterpriseSME || e == EnterpriseMicro }

// Grade is a performance evaluation grade (绩效评级).
type Grade uint8

// The grades, best first.
const (
	GradeExcellent Grade = 1 // 优
	GradeGood      Grade = 2 // 良
	GradePass      Grade = 3 // 合格
	GradeFail      Grade = 4 // 不合格
)

// Grades lists them in order.
var Grades = []Grade{GradeExcellent, GradeGood, GradePass, GradeFail}

var gradeNames = map[Grade]enumName{
	GradeExcellent: {"excellent", "优"},
	GradeGood:      {"good", "良"},
	GradePass:      {"pass", "合格"},
	GradeFail:      {"fail", "不合格"},
}

// String returns the wire code.
func (g Grade) String() string { return enumString(gradeNames, g) }

// Name returns the official Chinese name.
func (g Grade) Name() string { return gradeNames[g].name }

// ParseGrade accepts a wire code or the official name.
func ParseGrade(s string) (Grade, bool) { return parseEnum(gradeNames, s) }
