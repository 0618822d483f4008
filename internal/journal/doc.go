// Package journal writes a ledger's money as a plain-text double-entry
// journal that hledger and ledger-cli both read, so that the 收入支出决算总表
// can be checked with accounting tools that share no code with the ledger.
//
// # Transactions
//
// Each event that moves money is one transaction, in the order given (the
// log's order), dated with the event's date, with the voucher as the
// transaction code and the event id as the description. Source, unit and
// memo ride along as tags (来源, 单位, 摘要), an expenditure's kind and
// project as posting tags (支出类型, 项目). Budgets, assets, liabilities,
// registrations, procurement and evaluations are not income or expenditure
// and are skipped, as the 收入支出决算总表 skips them.
//
// Amounts are 元 with two decimals and the commodity CNY. Without a commodity
// ledger-cli prints 1000.00 as 1000; with it both tools print the same
// figures, byte for byte.
//
// # Accounts
//
// Fund labels are the events package's names with 财政拨款 for the three
// fiscal funds (一般公共预算财政拨款, 政府性基金预算财政拨款,
// 国有资本经营预算财政拨款) and 非财政拨款; 功能分类 项 and 经济分类 款 are
// their codes.
//
//	收入:<fund>收入:<项>                 财政拨款收入 (credit)
//	收入:<收入类型>:<项>                  上级补助收入 … 其他收入 (credit)
//	支出:<fund>:<项>:<款>                 expenditure (debit)
//	使用非财政拨款结余                    (credit)
//	年初结转和结余:<fund>[:<项>]           opening balance (credit)
//	年初结转和结余:年初调整:<fund>[:<项>]   年初调整 (credit when it adds)
//	结余分配                              (debit)
//	年末结转和结余:<fund>[:<项>]           年终结账 (debit)
//	资金:<fund>                           the other side of every entry
//
// Over one fiscal year the top-level accounts are then the lines of the
// 收入支出决算总表, credits negative: 收入 is −本年收入合计, 支出 is
// 本年支出合计, and 资金 plus 年末结转和结余 is 年末结转和结余.
//
// # Reproducing the 收入支出决算总表
//
// A journal spans years, so a fiscal year's figures as of date D are the
// balance from 1 January of that year up to D; both tools' end dates are
// exclusive. For 2020 as of 2020-12-31:
//
//	hledger -f FILE balance -b 2020-01-01 -e 2021-01-01 收入
//	ledger  -f FILE balance --begin 2020-01-01 --end 2021-01-01 收入
//
// print −本年收入合计 on their last line (支出: 本年支出合计); with --depth 1
// instead of an account, every line of the table at once. Without -b the
// balance would include the earlier years' income. hledger reads the file
// only under a UTF-8 locale (LANG=C.UTF-8); under LANG=C it fails with
// "invalid byte sequence". One unit's table: add tag:单位=^本级$ for
// hledger, and %单位=^本级$ for ledger with "and" before it, as ledger
// reads query terms as alternatives. Tool.Balance runs these commands and
// ParseBalance reads their output.
//
// # Reversals and 年终结账
//
// A reversal (红字冲销) is written as the entry of the event it reverses,
// negated, on the reversal's date and tagged 冲销 with the reversed id: as
// of an earlier date the original still counts, from then on neither does,
// as in the statements.
//
// At 年终结账 the ledger appends the next year's opening balances right
// after the close. Each is written twice: on the close's date, moving the
// money from 资金 to 年末结转和结余 of the closed year, and on 1 January
// as the next year's 年初结转和结余 back into 资金. So over a closed year
// 资金 nets to zero and 年末结转和结余 holds what was carried; over an open
// year 资金 holds it; and over all time 资金 is the money on hand, never
// counted twice.
package journal
