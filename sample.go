// Package budgetledger is the root of the budget ledger module. It holds the
// sample ledger that ledgerd -demo publishes and the tests reproduce: the
// events of 上海市青浦区政务服务办公室 for 2020, whose statements equal the
// published 2020 部门决算 (see testdata/README.md).
package budgetledger

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/budgetledger/budgetledger/events"
)

// SampleLedger is testdata/qingpu-2020.jsonl: one JSON event per line.
//
//go:embed testdata/qingpu-2020.jsonl
var SampleLedger []byte

// SampleLedgerName is the ledger the sample's events belong to.
const SampleLedgerName = "qingpu-zwb"

// SampleEvents decodes SampleLedger and checks every event against the
// default catalog: the sample's events as the ledger accepts them.
func SampleEvents() ([]events.Event, error) {
	cat := events.DefaultCatalog()
	var out []events.Event
	for line := range bytes.SplitSeq(bytes.TrimSpace(SampleLedger), []byte("\n")) {
		e, err := events.DecodeJSON(line)
		if err != nil {
			return nil, fmt.Errorf("sample line %d: %w", len(out)+1, err)
		}
		if err := events.Validate(&e, cat); err != nil {
			return nil, fmt.Errorf("sample %s: %w", e.ID, err)
		}
		out = append(out, e)
	}
	return out, nil
}
