package journal

import "errors"

var (
	// ErrUnexportable is returned for an event the journal has no entry
	// for: a body type, fund or kind outside the events package's closed
	// sets. The log only holds validated events, so it means the events
	// package grew a body this package does not know yet.
	ErrUnexportable = errors.New("no journal entry for this event")

	// ErrOverflow is returned when a year's total no longer fits in int64
	// 分; the statements refuse such a year too.
	ErrOverflow = errors.New("total overflows")

	// ErrBalanceOutput is returned by ParseBalance for output that is not
	// one total in CNY, as hledger and ledger print for a journal Write
	// wrote.
	ErrBalanceOutput = errors.New("not a balance total")
)
