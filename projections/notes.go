package projections

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/budgetledger/budgetledger/events"
)

// NotesTitle names the figures of the report's narrative (第三部分 情况说明).
const NotesTitle = "部门决算情况说明（数据）"

// FoldNotes computes every figure the narrative of a 部门决算 quotes, from the
// same events as the tables, so that the narrative can never disagree with
// them: totals and their shares, the change on the prior fiscal year (taken
// from the same ledger, when it holds that year), the completion of the
// 年初预算, the "三公" explanations, 机关运行经费, 政府采购 and the performance
// self-evaluation of each project. Amounts are rows (万元); shares, rates,
// counts and scores are facts.
func FoldNotes(evs Events, f Filter, cat *events.Catalog) (*Statement, error) {
	all := slices.Collect(effective(evs))
	year := func(y int) Filter {
		g := f
		g.FiscalYear = y
		if y != f.FiscalYear {
			g.AsOf = events.YearEnd(y)
		}
		return g
	}
	cur, prior := year(f.FiscalYear), year(f.FiscalYear-1)
	fold := func(fn Fold, g Filter) (*Statement, error) { return fn(slices.Values(all), g, cat) }
	n := &notes{st: &Statement{Title: NotesTitle, Ledger: f.Ledger, Unit: f.Unit, FiscalYear: f.FiscalYear,
		AsOf: f.asOf(), Columns: []string{"金额"}}}

	t1, err := FoldIncomeExpenditure(slices.Values(all), cur)
	if err != nil {
		return nil, err
	}
	t1p, err := FoldIncomeExpenditure(slices.Values(all), prior)
	if err != nil {
		return nil, err
	}
	t3, err := fold(FoldExpenditure, cur)
	if err != nil {
		return nil, err
	}
	t4, err := fold(FoldFiscalSummary, cur)
	if err != nil {
		return nil, err
	}
	t4p, err := fold(FoldFiscalSummary, prior)
	if err != nil {
		return nil, err
	}
	t5, err := fold(FoldGeneralBudgetExpenditure, cur)
	if err != nil {
		return nil, err
	}
	t5p, err := fold(FoldGeneralBudgetExpenditure, prior)
	if err != nil {
		return nil, err
	}
	t6, err := fold(FoldBasicExpenditure, cur)
	if err != nil {
		return nil, err
	}
	t7, err := fold(FoldThreePublic, cur)
	if err != nil {
		return nil, err
	}
	t7p, err := fold(FoldThreePublic, prior)
	if err != nil {
		return nil, err
	}
	// The prior year counts only if the ledger holds its income or
	// spending, net of reversals (an opening position of assets dated in it
	// is not enough).
	hasPrior := t1p.amount("grand_total:income") != 0 || t1p.amount("total:expenditure") != 0

	// 一、收入支出决算总体情况.
	total := t1.amount("grand_total:income")
	n.money("total", "收入支出总计", total)
	if hasPrior {
		n.change("total", "收入支出总计", total, t1p.amount("grand_total:income"))
	}
	// 二、收入决算情况: each source's share of 本年收入合计.
	income := t1.amount("total:income")
	n.money("income", "本年收入合计", income)
	fiscalIncome := t1.amount("appropriation:general_budget") + t1.amount("appropriation:government_fund") + t1.amount("appropriation:state_capital")
	n.money("income:fiscal", "财政拨款收入", fiscalIncome)
	n.percent("income:fiscal:share", "财政拨款收入占本年收入合计", fiscalIncome, income)
	for _, k := range events.IncomeKinds {
		a := t1.amount("income:" + k.String())
		if a == 0 {
			continue
		}
		n.money("income:"+k.String(), k.Name(), a)
		n.percent("income:"+k.String()+":share", k.Name()+"占本年收入合计", a, income)
	}
	// 三、支出决算情况: each kind's share of 本年支出合计.
	spent := t1.amount("total:expenditure")
	n.money("expenditure", "本年支出合计", spent)
	for i, k := range events.ExpenditureKinds {
		a := t3.Rows[0].Amounts[i+1]
		if a == 0 {
			continue
		}
		n.money("expenditure:"+k.String(), k.Name(), a)
		n.percent("expenditure:"+k.String()+":share", k.Name()+"占本年支出合计", a, spent)
	}
	// 四、财政拨款收入支出决算总体情况.
	fiscalTotal := t4.amount("grand_total:income")
	n.money("fiscal_total", "财政拨款收入支出总计", fiscalTotal)
	if hasPrior {
		n.change("fiscal_total", "财政拨款收入支出总计", fiscalTotal, t4p.amount("grand_total:income"))
	}
	// 五、一般公共预算财政拨款支出: share, change, structure, 年初预算.
	general := t5.Rows[0].Amounts[0]
	n.money("general", "一般公共预算财政拨款支出", general)
	n.percent("general:share", "一般公共预算财政拨款支出占本年支出合计", general, spent)
	if hasPrior {
		n.change("general", "一般公共预算财政拨款支出", general, t5p.Rows[0].Amounts[0])
	}
	for _, r := range t5.Rows[1:] {
		if len(r.Code) == 3 {
			n.money("general:"+r.Code, r.Name+"（类）", r.Amounts[0])
			n.percent("general:"+r.Code+":share", r.Name+"（类）占一般公共预算财政拨款支出", r.Amounts[0], general)
		}
	}
	initial, byClass, err := initialBudget(all, cur)
	if err != nil {
		return nil, err
	}
	n.money("general:initial_budget", "一般公共预算财政拨款支出年初预算", initial)
	n.percent("general:completion", "一般公共预算财政拨款支出完成年初预算", general, initial)
	for _, code := range slices.Sorted(maps.Keys(byClass)) {
		if byClass[code] == 0 {
			continue // budgeted, then reversed
		}
		name := cat.NameIn(events.Functional, code, f.FiscalYear)
		n.money("general:initial_budget:"+code, name+"（类）年初预算", byClass[code])
		// The narrative restates each 类's spending beside its budget.
		var actual events.Amount
		if r, ok := t5.Row("functional:" + code); ok {
			actual = r.Amount()
		}
		n.money("general:initial_budget:"+code+":actual", name+"（类）支出决算", actual)
	}
	// 六、基本支出.
	personnel, _ := t6.Row("total:personnel")
	public, _ := t6.Row("total:public")
	n.money("basic", "一般公共预算财政拨款基本支出", personnel.Amount()+public.Amount())
	n.money("basic:personnel", "人员经费", personnel.Amount())
	n.money("basic:public", "公用经费", public.Amount())
	// 七、"三公"经费.
	for _, r := range t7.Rows {
		key := "three_public:" + r.Key
		n.money(key+":budget", r.Name+"年初预算", r.Amounts[0])
		n.money(key+":actual", r.Name+"决算", r.Amounts[1])
		n.percent(key+":completion", r.Name+"完成预算", r.Amounts[1], r.Amounts[0])
	}
	if hasPrior {
		n.change("three_public", "\"三公\"经费支出决算", t7.Rows[0].Amounts[1], t7p.Rows[0].Amounts[1])
	}
	n.st.Facts = append(n.st.Facts, t7.Facts...)
	// 十一、机关运行经费 and 政府采购.
	running, err := runningCosts(all, cur)
	if err != nil {
		return nil, err
	}
	n.money("running_costs", "机关运行经费", running)
	if err := n.procurement(all, cur); err != nil {
		return nil, err
	}
	// 十、预算绩效管理.
	if err := n.performance(all, cur); err != nil {
		return nil, err
	}
	return n.st, nil
}

type notes struct{ st *Statement }

func (s *Statement) amount(key string) events.Amount {
	r, ok := s.Row(key)
	if !ok {
		return 0
	}
	return r.Amount()
}

func (n *notes) money(key, name string, a events.Amount) {
	n.st.Rows = append(n.st.Rows, Row{Key: key, Name: name, Amounts: []events.Amount{a}})
}

func (n *notes) fact(key, name, value string) {
	n.st.Facts = append(n.st.Facts, Fact{Key: key, Name: name, Value: value})
}

// percent adds part/whole as a percentage with 2 decimals, rounded half up
// from the exact amounts; nothing when whole is zero.
func (n *notes) percent(key, name string, part, whole events.Amount) {
	if whole == 0 {
		return
	}
	n.fact(key, name, Percent(part, whole))
}

// change adds the change on the prior year and its rate.
func (n *notes) change(key, name string, cur, prior events.Amount) {
	if _, ok := n.st.Row(key); !ok {
		n.money(key, name, cur)
	}
	n.money(key+":prior", "上年"+name, prior)
	n.money(key+":change", name+"比上年增减", cur-prior)
	n.percent(key+":growth", name+"比上年增减率", cur-prior, prior)
}

// Percent returns part/whole in percent with 2 decimals, rounded half up
// (away from zero), e.g. "85.63".
func Percent(part, whole events.Amount) string {
	q := percentHundredths(part, whole)
	s := strconv.FormatInt(abs64(q)/100, 10) + "." + fmt.Sprintf("%02d", abs64(q)%100)
	if q < 0 {
		return "-" + s
	}
	return s
}

// percentHundredths is part/whole in hundredths of a percent, rounded half
// up (away from zero). Amounts up to 9.2e14 分 cannot overflow.
func percentHundredths(part, whole events.Amount) int64 {
	num, den := abs64(int64(part))*10000, abs64(int64(whole))
	q := num / den
	if 2*(num%den) >= den {
		q++
	}
	if (part < 0) != (whole < 0) {
		return -q
	}
	return q
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// initialBudget sums the 年初预算 paid from 一般公共预算, in all and by 类.
func initialBudget(all []events.Event, f Filter) (events.Amount, map[string]events.Amount, error) {
	var total int64
	byClass := map[string]events.Amount{}
	for _, e := range all {
		b, ok := e.Body.(events.Budget)
		if !ok || !f.Match(&e) || b.Stage != events.BudgetInitial || b.Fund != events.FundGeneralBudget {
			continue
		}
		if err := add(&total, int64(b.Amount)); err != nil {
			return 0, nil, err
		}
		byClass[b.Functional[:3]] += b.Amount
	}
	return events.Amount(total), byClass, nil
}

// runningCosts is 机关运行经费: the 公用经费 (经济分类 302 and 310) of 基本支出
// paid by 一般公共预算财政拨款 in units registered as 行政单位 or 参公.
func runningCosts(all []events.Event, f Filter) (events.Amount, error) {
	kind := map[string]events.UnitType{}
	for _, e := range all {
		if b, ok := e.Body.(events.UnitRegistered); ok && e.FiscalYear == f.FiscalYear {
			kind[e.Ledger+"\x00"+e.Unit] = b.UnitType
		}
	}
	var total int64
	for _, e := range all {
		b, ok := e.Body.(events.Expenditure)
		if !ok || !f.Match(&e) || b.ExpenditureKind != events.ExpenditureBasic || b.Fund != events.FundGeneralBudget {
			continue
		}
		if t := kind[e.Ledger+"\x00"+e.Unit]; t != events.UnitAdministrative && t != events.UnitCivilServiceManaged {
			continue
		}
		if cl := b.Economic[:3]; cl == "302" || cl == "310" {
			if err := add(&total, int64(b.Amount)); err != nil {
				return 0, err
			}
		}
	}
	return events.Amount(total), nil
}

func (n *notes) procurement(all []events.Event, f Filter) error {
	var total, reservedSME, reservedMicro, awardedSME, awardedMicro, otherSME int64
	byCategory := map[events.ProcurementCategory]int64{}
	for _, e := range all {
		b, ok := e.Body.(events.ProcurementContracted)
		if !ok || !f.Match(&e) {
			continue
		}
		a := int64(b.Amount)
		sums := []*int64{&total}
		c := byCategory[b.Category]
		sums = append(sums, &c)
		// A reservation for 小微企业 is part of the reservation for 中小企业
		// (其中), and so is its award.
		switch b.Reserved {
		case events.EnterpriseSME:
			sums = append(sums, &reservedSME)
			if b.Supplier.SmallOrMedium() {
				sums = append(sums, &awardedSME)
			}
		case events.EnterpriseMicro:
			sums = append(sums, &reservedSME, &reservedMicro)
			if b.Supplier.SmallOrMedium() {
				sums = append(sums, &awardedSME)
			}
			if b.Supplier == events.EnterpriseMicro {
				sums = append(sums, &awardedMicro)
			}
		default:
			if b.Supplier.SmallOrMedium() {
				sums = append(sums, &otherSME)
			}
		}
		for _, s := range sums {
			if err := add(s, a); err != nil {
				return fmt.Errorf("procurement %s: %w", e.ID, err)
			}
		}
		byCategory[b.Category] = c
	}
	n.money("procurement", "政府采购金额", events.Amount(total))
	for _, c := range events.ProcurementCategories {
		n.money("procurement:"+c.String(), c.Name()+"采购金额", events.Amount(byCategory[c]))
	}
	n.money("procurement:reserved_sme", "面向中小企业预留政府采购项目金额", events.Amount(reservedSME))
	n.money("procurement:reserved_micro", "其中：面向小微企业预留政府采购项目金额", events.Amount(reservedMicro))
	n.money("procurement:reserved_sme:awarded", "面向中小企业预留项目中由中小企业中标或成交金额", events.Amount(awardedSME))
	n.money("procurement:reserved_micro:awarded", "面向小微企业预留项目中由小微企业中标或成交金额", events.Amount(awardedMicro))
	n.money("procurement:other:awarded_sme", "其他政府采购项目中由中小企业中标或成交金额", events.Amount(otherSME))
	return nil
}

// ExecutionScore is the score band of the 预算执行率 indicator (weight 8)
// under the rule of the published evaluations (参考分值区间，按实际完成情况
// 打分): "8" at 90% or more, "6-8" from 80% to under 90%, "4-6" from 70% to
// under 80%, "0" below 70%. The band is chosen on the exact amounts, not on
// a rounded rate; within a band the evaluator scores, so a band is given.
func ExecutionScore(executed, budget events.Amount) string {
	// executed/budget ≥ p% ⟺ executed × 100 ≥ budget × p, in 分, exact.
	at := func(p int64) bool { return int64(executed)*100 >= int64(budget)*p }
	switch {
	case at(90):
		return "8"
	case at(80):
		return "6-8"
	case at(70):
		return "4-6"
	}
	return "0"
}

func (n *notes) performance(all []events.Event, f Filter) error {
	type project struct {
		budget, executed int64
		eval             *events.PerformanceEvaluated
	}
	projects := map[string]*project{}
	get := func(name string) *project {
		p := projects[name]
		if p == nil {
			p = &project{}
			projects[name] = p
		}
		return p
	}
	for _, e := range all {
		if !f.Match(&e) {
			continue
		}
		var err error
		switch b := e.Body.(type) {
		case events.Budget:
			if b.Project != "" {
				err = add(&get(b.Project).budget, int64(events.BodyAmount(b)))
			}
		case events.Expenditure:
			if b.Project != "" {
				err = add(&get(b.Project).executed, int64(b.Amount))
			}
		case events.PerformanceEvaluated:
			get(b.Project).eval = &b
		}
		if err != nil {
			return fmt.Errorf("performance: event %s: %w", e.ID, err)
		}
	}
	var count, scoreSum, found, fixed int
	var budget int64
	grades := map[events.Grade]int{}
	for _, name := range slices.Sorted(maps.Keys(projects)) {
		p := projects[name]
		if p.eval == nil {
			continue
		}
		count++
		budget += p.budget
		scoreSum += p.eval.Score
		grades[p.eval.Grade]++
		found += p.eval.ProblemsFound
		fixed += p.eval.ProblemsFixed
		key := "performance:" + name
		n.money(key+":budget", name+"预算数", events.Amount(p.budget))
		n.money(key+":executed", name+"预算执行数", events.Amount(p.executed))
		if p.budget > 0 {
			n.fact(key+":rate", name+"预算执行率（%）", Percent(events.Amount(p.executed), events.Amount(p.budget)))
			n.fact(key+":rate_score", name+"预算执行率得分区间（满分 8）", ExecutionScore(events.Amount(p.executed), events.Amount(p.budget)))
		}
		n.fact(key+":score", name+"自评得分", fmt.Sprintf("%d.%d", p.eval.Score/10, p.eval.Score%10))
		n.fact(key+":grade", name+"绩效等级", p.eval.Grade.Name())
	}
	n.fact("performance:projects", "绩效自评项目个数", strconv.Itoa(count))
	n.money("performance:budget", "绩效自评项目预算金额", events.Amount(budget))
	if count > 0 {
		// Scores are in tenths; the average too, rounded half up.
		avg := (2*scoreSum + count) / (2 * count)
		n.fact("performance:average", "平均得分", fmt.Sprintf("%d.%d", avg/10, avg%10))
	}
	for _, g := range events.Grades {
		n.fact("performance:grade:"+g.String(), "绩效评级为“"+g.Name()+"”的项目个数", strconv.Itoa(grades[g]))
	}
	n.fact("performance:problems_found", "绩效自评中发现问题个数", strconv.Itoa(found))
	n.fact("performance:problems_fixed", "已经完成整改的问题个数", strconv.Itoa(fixed))
	return nil
}
