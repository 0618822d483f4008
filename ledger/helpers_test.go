package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
)

const (
	ledgerA = "qingpu-zwb"
	ledgerB = "qingpu-czj"
	ledgerC = "qingpu-jyj"
)

// catalog is the embedded classification catalog every test event is
// validated against, so that the log only ever sees events the ingest path
// would accept.
var catalog = events.DefaultCatalog()

// event builds a valid expenditure for ledgerName. The amount (in 分) and
// voucher make the content; two calls with the same arguments give equal
// events.
func event(ledgerName, id string, amount events.Amount) events.Event {
	return events.Event{
		ID:         id,
		Ledger:     ledgerName,
		Unit:       "本级",
		FiscalYear: 2020,
		Date:       events.NewDate(2020, time.March, 1),
		Source:     "test-gl",
		Voucher:    "记-" + id,
		Body: events.Expenditure{
			Functional:      "2019999",
			Economic:        "30201",
			ExpenditureKind: events.ExpenditureBasic,
			Fund:            events.FundGeneralBudget,
			Amount:          amount,
		},
	}
}

// validEvent is event, checked by events.Validate.
func validEvent(t testing.TB, ledgerName, id string, amount events.Amount) events.Event {
	t.Helper()
	e := event(ledgerName, id, amount)
	if err := events.Validate(&e, catalog); err != nil {
		t.Fatalf("test event %s is invalid: %v", id, err)
	}
	return e
}

func sub(e events.Event) ledger.Submission {
	return ledger.Submission{Ledger: e.Ledger, Event: e}
}

// binaryOf is the canonical form of e, which is what the log stores and what
// idempotency compares.
func binaryOf(t testing.TB, e events.Event) []byte {
	t.Helper()
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatalf("marshal %s: %v", e.ID, err)
	}
	return b
}

func sameEvent(t testing.TB, got, want events.Event) bool {
	t.Helper()
	return bytes.Equal(binaryOf(t, got), binaryOf(t, want))
}

// logPath is a fresh bbolt file in the test's temporary directory.
func logPath(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "ledger.db")
}

// openLog opens the log at path and closes it when the test ends (Close is
// idempotent, so a test may also close it itself).
func openLog(t testing.TB, path string, opts ledger.Options) *ledger.Log {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	l, err := ledger.Open(path, opts)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func closeLog(t testing.TB, l *ledger.Log) {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// appendAll appends subs in one call and fails the test on a call error or a
// wrong number of outcomes.
func appendAll(t testing.TB, l *ledger.Log, subs ...ledger.Submission) []ledger.Outcome {
	t.Helper()
	out, err := l.Append(context.Background(), subs...)
	if err != nil {
		t.Fatalf("append %d submissions: %v", len(subs), err)
	}
	if len(out) != len(subs) {
		t.Fatalf("append %d submissions: got %d outcomes", len(subs), len(out))
	}
	return out
}

// appendOne appends one submission and returns its outcome.
func appendOne(t testing.TB, l *ledger.Log, s ledger.Submission) ledger.Outcome {
	t.Helper()
	return appendAll(t, l, s)[0]
}

// wantStatus fails the test unless o has status st (and, for Accepted and
// Duplicate, sequence seq).
func wantStatus(t testing.TB, o ledger.Outcome, st ledger.Status, seq uint64) {
	t.Helper()
	if o.Status != st || (st != ledger.Rejected && o.Seq != seq) {
		t.Fatalf("outcome of %s in %s: got %s seq %d (code %q: %s), want %s seq %d",
			o.ID, o.Ledger, o.Status, o.Seq, o.Code, o.Reason, st, seq)
	}
}

// scanAll reads every record of a ledger.
func scanAll(t testing.TB, l *ledger.Log, ledgerName string) []ledger.Record {
	t.Helper()
	var recs []ledger.Record
	err := l.Scan(context.Background(), ledgerName, 0, func(r ledger.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s: %v", ledgerName, err)
	}
	return recs
}

func length(t testing.TB, l *ledger.Log, ledgerName string) uint64 {
	t.Helper()
	n, err := l.Len(ledgerName)
	if err != nil {
		t.Fatalf("len %s: %v", ledgerName, err)
	}
	return n
}

func verify(t testing.TB, l *ledger.Log, ledgerName string) ledger.Verification {
	t.Helper()
	v, err := l.Verify(context.Background(), ledgerName)
	if err != nil {
		t.Fatalf("verify %s: %v", ledgerName, err)
	}
	return v
}

// stepClock is an injected clock: every call returns a distinct time, step
// after the previous one, and counts the calls. back, when set, makes the
// next call jump backwards by that much (to test that recorded times never
// decrease anyway).
type stepClock struct {
	mu    sync.Mutex
	t     time.Time
	step  time.Duration
	calls int
}

func newStepClock(start time.Time, step time.Duration) *stepClock {
	return &stepClock{t: start, step: step}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	c.t = c.t.Add(c.step)
	return c.t
}

func (c *stepClock) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// Set moves the clock so that the next call returns t+step.
func (c *stepClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var epoch = time.Date(2020, time.March, 1, 9, 0, 0, 0, time.UTC)

func id(prefix string, i int) string { return fmt.Sprintf("%s-%06d", prefix, i) }

// quietLogger drops the log's messages, for tests that cause the errors
// it reports.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
