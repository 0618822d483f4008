package projections_test

import (
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/projections"
)

// naiveLine names the 收入支出决算总表 line an event lands on, written out
// independently of the fold: the model of what the table means.
func naiveLine(e events.Event) string {
	switch b := e.Body.(type) {
	case events.Appropriation:
		return map[events.Fund]string{
			events.FundGeneralBudget:  "一、一般公共预算财政拨款收入",
			events.FundGovernmentFund: "二、政府性基金预算财政拨款收入",
			events.FundStateCapital:   "三、国有资本经营预算财政拨款收入",
		}[b.Fund]
	case events.OtherIncome:
		return map[events.IncomeKind]string{
			events.IncomeSuperiorGrant:         "四、上级补助收入",
			events.IncomeOperations:            "五、事业收入",
			events.IncomeBusiness:              "六、经营收入",
			events.IncomeSubordinateRemittance: "七、附属单位上缴收入",
			events.IncomeOther:                 "八、其他收入",
		}[b.IncomeKind]
	case events.Expenditure:
		return map[string]string{
			"201": "一、一般公共服务支出", "204": "四、公共安全支出", "205": "五、教育支出", "206": "六、科学技术支出",
			"207": "七、文化旅游体育与传媒支出", "208": "八、社会保障和就业支出", "210": "九、卫生健康支出",
			"212": "十一、城乡社区支出", "213": "十二、农林水支出", "215": "十四、资源勘探工业信息等支出",
			"216": "十五、商业服务业等支出", "220": "十八、自然资源海洋气象等支出", "221": "十九、住房保障支出",
			"224": "二十二、灾害防治及应急管理支出",
		}[b.Functional[:3]]
	case events.OpeningBalance:
		return "年初结转和结余"
	case events.NonFiscalSurplusUsed:
		return "使用非财政拨款结余"
	case events.SurplusDistribution:
		return "结余分配"
	}
	return ""
}

// TestIncomeExpenditureAgainstModel folds random ledgers (several years,
// units, every body kind, codes from the catalog, events in random order)
// and compares every line, as of random dates and per unit, with a naive sum
// of the events. Set PROJECTIONS_SEED to replay a failure.
func TestIncomeExpenditureAgainstModel(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PROJECTIONS_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (PROJECTIONS_SEED to replay)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	cat := events.DefaultCatalog()
	var items []string
	for _, c := range []string{"2010301", "2019999", "2040601", "2050205", "2069999", "2070101", "2080505", "2101101",
		"2120101", "2130306", "2150899", "2169999", "2200150", "2210201", "2240299"} {
		if _, ok := cat.Lookup(events.Functional, c); !ok {
			t.Fatalf("catalog lacks %s", c)
		}
		items = append(items, c)
	}
	units := []string{"本级", "一中心", "二中心"}

	for round := range 20 {
		var evs []events.Event
		for i := range 200 + rng.IntN(800) {
			year := 2019 + rng.IntN(3)
			e := events.Event{
				ID: "e" + strconv.Itoa(round) + "-" + strconv.Itoa(i), Ledger: "l", Unit: units[rng.IntN(len(units))],
				FiscalYear: year, Date: events.NewDate(year, time.Month(1+rng.IntN(12)), 1+rng.IntN(28)),
				Source: "s", Voucher: "v",
			}
			amt := events.Amount(1 + rng.Int64N(100_000_000))
			fn := items[rng.IntN(len(items))]
			switch rng.IntN(8) {
			case 0, 1:
				e.Body = events.Appropriation{Fund: events.Funds[rng.IntN(3)], Functional: fn, Amount: amt}
			case 2:
				e.Body = events.OtherIncome{IncomeKind: events.IncomeKinds[rng.IntN(5)], Functional: fn, Amount: amt}
			case 3, 4, 5:
				e.Body = events.Expenditure{Functional: fn, Economic: "30201", ExpenditureKind: events.ExpenditureBasic,
					Fund: events.Funds[rng.IntN(4)], Amount: amt}
			case 6:
				e.Body = events.OpeningBalance{Fund: events.Funds[rng.IntN(4)], Functional: fn, Amount: amt}
			default:
				if rng.IntN(2) == 0 {
					e.Body = events.NonFiscalSurplusUsed{Amount: amt}
				} else {
					e.Body = events.SurplusDistribution{Amount: amt}
				}
			}
			if err := events.Validate(&e, cat); err != nil {
				t.Fatalf("generated an invalid event: %v", err)
			}
			evs = append(evs, e)
		}
		for range 5 {
			f := projections.Filter{Ledger: "l", FiscalYear: 2020, AsOf: events.NewDate(2020, time.Month(1+rng.IntN(12)), 1+rng.IntN(28))}
			if rng.IntN(2) == 0 {
				f.Unit = units[rng.IntN(len(units))]
			}
			want := map[string]events.Amount{}
			var income, expenditure, extra events.Amount
			for _, e := range evs {
				if e.FiscalYear != 2020 || e.Date > f.AsOf || (f.Unit != "" && e.Unit != f.Unit) {
					continue
				}
				a := events.BodyAmount(e.Body)
				want[naiveLine(e)] += a
				switch e.Body.(type) {
				case events.Appropriation, events.OtherIncome:
					income += a
				case events.Expenditure:
					expenditure += a
				case events.OpeningBalance, events.NonFiscalSurplusUsed:
					extra += a
				}
			}
			want["本年收入合计"] = income
			want["本年支出合计"] = expenditure
			total := income + extra
			want["年末结转和结余"] = total - expenditure - want["结余分配"]

			rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
			st, err := projections.FoldIncomeExpenditure(slices.Values(evs), f)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range st.Rows {
				w := want[r.Name]
				if r.Name == "总计" {
					w = total
				}
				if r.Amount() != w {
					t.Fatalf("round %d, %+v: %s = %s, naive sum %s", round, f, r.Name, r.Amount(), w)
				}
			}
		}
	}
}
