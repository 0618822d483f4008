package events_test

import (
	"fmt"

	"github.com/budgetledger/budgetledger/events"
)

func ExampleDecodeJSON() {
	line := []byte(`{"id":"qp2020-000004","ledger":"qingpu-zwb","unit":"行政服务中心","fiscal_year":2020,"date":"2020-01-02","source":"青浦区财务核算系统","voucher":"记-202001-0004","memo":"支付1月水费","expenditure":{"functional":"2019999","economic":"30205","kind":"basic","fund":"general_budget","amount":"3120.55"}}`)

	e, err := events.DecodeJSON(line)
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	c := events.DefaultCatalog()
	if err := events.Validate(&e, c); err != nil {
		fmt.Println("rejected:", err)
		return
	}
	x := e.Body.(events.Expenditure)
	fmt.Println(e.Body.Kind(), events.BodyAmount(e.Body))
	fmt.Println(e.Date, x.ExpenditureKind.Name(), c.Name(events.Functional, x.Functional), c.Name(events.Economic, x.Economic))
	// Output:
	// expenditure 3120.55
	// 2020-01-02 基本支出 其他一般公共服务支出 水费
}

// A rejection carries a stable code for programs and names the field for
// people.
func ExampleValidate() {
	line := []byte(`{"id":"qp2020-000004","ledger":"qingpu-zwb","unit":"行政服务中心","fiscal_year":2020,"date":"2020-01-02","source":"青浦区财务核算系统","voucher":"记-202001-0004","expenditure":{"functional":"2019998","economic":"30205","kind":"basic","fund":"general_budget","amount":"3120.55"}}`)

	e, err := events.DecodeJSON(line)
	if err == nil {
		err = events.Validate(&e, events.DefaultCatalog())
	}
	fmt.Println(events.CodeOf(err))
	fmt.Println(err.(*events.ValidationError).Field)
	// Output:
	// unknown_code
	// expenditure.functional
}

func ExampleParseAmount() {
	a, err := events.ParseAmount("amount", "1234.5")
	fmt.Println(a, int64(a), err)

	_, err = events.ParseAmount("expenditure.amount", "12.345")
	fmt.Println(events.CodeOf(err))
	fmt.Println(err)
	// Output:
	// 1234.50 123450 <nil>
	// amount_precision
	// expenditure.amount: got "12.345", expected an amount in 元 with at most 2 decimal places (分)
}
