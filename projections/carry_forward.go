package projections

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/budgetledger/budgetledger/events"
)

// CarryForward computes 年末结转和结余 of a ledger's fiscal year for 年终结账:
// for each unit, each fund (and, for the earmarked 政府性基金 and 国有资本经营
// money, each 功能分类 项), what it brought forward, received and spent. It
// returns them as the next year's opening balances (年初结转和结余, rule 12),
// dated 1 January: their sum is the year's 年末结转和结余 in the
// 收入支出决算总表, and their fiscal part the 财政拨款收入支出决算总表's. The
// events carry only what the computation knows (unit, year, date, body);
// the ledger that appends them gives them ids and a source. A negative
// balance refuses the close with an *events.ValidationError.
func CarryForward(evs Events, ledger string, year int) ([]events.Event, error) {
	type key struct {
		unit       string
		fund       events.Fund
		functional string
	}
	balances := map[key]int64{}
	earmarked := func(f events.Fund) bool {
		return f == events.FundGovernmentFund || f == events.FundStateCapital
	}
	move := func(e *events.Event, fund events.Fund, functional string, amount int64) error {
		if !earmarked(fund) {
			functional = ""
		}
		k := key{e.Unit, fund, functional}
		v := balances[k]
		if err := add(&v, amount); err != nil {
			return fmt.Errorf("carry forward: event %s: %w", e.ID, err)
		}
		balances[k] = v
		return nil
	}
	for e := range effective(evs) {
		if e.Ledger != ledger || e.FiscalYear != year {
			continue
		}
		var err error
		switch b := e.Body.(type) {
		case events.OpeningBalance:
			err = move(&e, b.Fund, b.Functional, int64(b.Amount))
		case events.OpeningAdjusted:
			err = move(&e, b.Fund, b.Functional, int64(events.BodyAmount(b)))
		case events.Appropriation:
			err = move(&e, b.Fund, b.Functional, int64(b.Amount))
		case events.OtherIncome:
			err = move(&e, events.FundNonFiscal, "", int64(b.Amount))
		case events.NonFiscalSurplusUsed:
			err = move(&e, events.FundNonFiscal, "", int64(b.Amount))
		case events.Expenditure:
			err = move(&e, b.Fund, b.Functional, -int64(b.Amount))
		case events.SurplusDistribution:
			err = move(&e, events.FundNonFiscal, "", -int64(b.Amount))
		}
		if err != nil {
			return nil, err
		}
	}
	keys := make([]key, 0, len(balances))
	for k := range balances {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.unit, b.unit), cmp.Compare(a.fund, b.fund), cmp.Compare(a.functional, b.functional))
	})
	var out []events.Event
	for _, k := range keys {
		v := balances[k]
		switch {
		case v == 0:
			continue
		case v < 0:
			// A unit spent more of a fund than it had: the books cannot be
			// closed until that is corrected.
			return nil, &events.ValidationError{Code: events.CodeNegativeBalance, Field: "year_end_closed",
				Value:    fmt.Sprintf("%s %s%s %s 元", k.unit, k.fund.Name(), map[bool]string{true: " " + k.functional}[k.functional != ""], events.Amount(v)),
				Expected: "no negative balance to carry forward: correct the year's events first"}
		}
		out = append(out, events.Event{
			Ledger: ledger, Unit: k.unit, FiscalYear: year + 1, Date: events.NewDate(year+1, time.January, 1),
			Body: events.OpeningBalance{Fund: k.fund, Functional: k.functional, Amount: events.Amount(v)},
		})
	}
	return out, nil
}
