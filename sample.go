// Package budgetledger is the root of the budget ledger module. It holds the
// sample ledger that ledgerd -demo publishes and the tests reproduce: the
// events of 上海市青浦区政务服务办公室 for 2020, whose statements equal the
// published 2020 部门决算 (see testdata/README.md).
package budgetledger

import _ "embed"

// SampleLedger is testdata/qingpu-2020.jsonl: one JSON event per line.
//
//go:embed testdata/qingpu-2020.jsonl
var SampleLedger []byte

// SampleLedgerName is the ledger the sample's events belong to.
const SampleLedgerName = "qingpu-zwb"
