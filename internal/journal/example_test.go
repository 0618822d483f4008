package journal_test

import (
	"fmt"
	"os"
	"slices"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/journal"
)

func ExampleWrite() {
	evs := []events.Event{
		{ID: "qp2020-000005", Ledger: "qingpu-zwb", Unit: "本级", FiscalYear: 2020, Date: events.NewDate(2020, 1, 6),
			Source: "青浦区财务核算系统", Voucher: "记-202001-0005", Memo: "拨入1月经费",
			Body: events.Appropriation{Fund: events.FundGeneralBudget, Functional: "2019999", Amount: 173850000}},
		{ID: "qp2020-000004", Ledger: "qingpu-zwb", Unit: "行政服务中心", FiscalYear: 2020, Date: events.NewDate(2020, 1, 2),
			Source: "青浦区财务核算系统", Voucher: "记-202001-0004",
			Body: events.Expenditure{Functional: "2019999", Economic: "30205", ExpenditureKind: events.ExpenditureBasic,
				Fund: events.FundGeneralBudget, Amount: 272508}},
	}
	st, err := journal.Write(os.Stdout, slices.Values(evs))
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(st.Transactions, "transactions; 2020 本年收入合计", st.Years[2020].Income, "本年支出合计", st.Years[2020].Expenditure)
	// Output:
	// ; 部门决算 journal for hledger and ledger-cli; amounts in 元.
	// ; Credits are negative: 收入, 使用非财政拨款结余, 年初结转和结余.
	// ; A fiscal year as of D: balance -b YEAR-01-01 -e D+1 (ledger: --begin, --end).
	//
	// 2020-01-06 (记-202001-0005) qp2020-000005  ; 来源: 青浦区财务核算系统
	//     ; 单位: 本级
	//     ; 摘要: 拨入1月经费
	//     收入:一般公共预算财政拨款收入:2019999  -1738500.00 CNY
	//     资金:一般公共预算财政拨款  1738500.00 CNY
	//
	// 2020-01-02 (记-202001-0004) qp2020-000004  ; 来源: 青浦区财务核算系统
	//     ; 单位: 行政服务中心
	//     支出:一般公共预算财政拨款:2019999:30205  2725.08 CNY  ; 支出类型: 基本支出
	//     资金:一般公共预算财政拨款  -2725.08 CNY
	//
	// 2 transactions; 2020 本年收入合计 1738500.00 本年支出合计 2725.08
}
