package ledger

// These tests live inside the package for one reason: a call to Append that
// never returns would hang the whole test binary. From inside, the test can
// see a request left in the writer's queue after the writer has gone, report
// it, and answer it itself so that the stuck caller returns: no timer, no
// hang, and a precise failure.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
)

func internalEvent(id string) events.Event {
	return events.Event{
		ID: id, Ledger: "qingpu-zwb", Unit: "本级", FiscalYear: 2020, Date: events.NewDate(2020, time.March, 1),
		Source: "test-gl", Voucher: "记-" + id,
		Body: events.Expenditure{Functional: "2019999", Economic: "30201",
			ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 100},
	}
}

func internalOpen(t *testing.T, path string) *Log {
	t.Helper()
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// answerOrphans waits until done is closed, answering (with ErrClosed) every
// request that reaches the queue of a closed log meanwhile; it returns how
// many there were. Such a request has no writer to answer it, so its caller
// would wait for ever.
func answerOrphans(l *Log, done <-chan struct{}) int {
	n := 0
	for {
		select {
		case r := <-l.reqs:
			n++
			r.err = ErrClosed
			close(r.done)
		case <-done:
			return n
		}
	}
}

// TestAppendAfterCloseReturns: Append on a closed log returns ErrClosed at
// once. Append picks at random among ready select cases, so it is called many
// times.
func TestAppendAfterCloseReturns(t *testing.T) {
	l := internalOpen(t, filepath.Join(t.TempDir(), "ledger.db"))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	const tries = 64
	orphans := 0
	for i := range tries {
		done := make(chan struct{})
		var err error
		go func() {
			defer close(done)
			e := internalEvent(fmt.Sprintf("after-close-%d", i))
			_, err = l.Append(context.Background(), Submission{Ledger: e.Ledger, Event: e})
		}()
		orphans += answerOrphans(l, done)
		if !errors.Is(err, ErrClosed) {
			t.Errorf("try %d: Append after Close: err = %v, want ErrClosed", i, err)
		}
	}
	if orphans > 0 {
		t.Errorf("%d of %d Append calls after Close queued a request no writer will answer; "+
			"without this test answering it the caller blocks for ever in Append's `<-r.done` (log.go, case <-l.quit)",
			orphans, tries)
	}
}

// TestCloseDuringAppends: Close while 16 callers append. Every call returns;
// whatever was acknowledged is in the file and the chain verifies.
func TestCloseDuringAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l := internalOpen(t, path)
	const callers, each = 16, 500
	acked := make(chan Outcome, callers*each)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := internalEvent(fmt.Sprintf("cd%02d-%04d", c, i))
				out, err := l.Append(context.Background(), Submission{Ledger: e.Ledger, Event: e})
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("caller %d: %v", c, err)
					}
					return
				}
				acked <- out[0]
			}
		}()
	}
	// Close once something is through; the test holds whatever the timing.
	first := <-acked
	acked <- first
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if n := answerOrphans(l, done); n > 0 {
		t.Errorf("%d Append calls racing with Close queued a request after the writer had drained the queue; "+
			"their callers would block for ever", n)
	}
	close(acked)

	l = internalOpen(t, path)
	v, err := l.Verify(context.Background(), "qingpu-zwb")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for o := range acked {
		n++
		r, err := l.Get("qingpu-zwb", o.Seq)
		if o.Status != Accepted || err != nil || r.Event.ID != o.ID {
			t.Fatalf("acknowledged %+v; the log has %q there (%v)", o, r.Event.ID, err)
		}
	}
	if uint64(n) > v.Events {
		t.Errorf("%d acknowledged, %d in the log", n, v.Events)
	}
	t.Logf("%d events acknowledged before Close, %d in the log", n, v.Events)
}
