package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/ledger"
)

// TestGroupCommit: 64 callers appending one event per call all get Accepted
// at distinct sequences 1..n with no gap, the chain verifies, and the writer
// shared transactions among them: it asked the clock (once per transaction)
// fewer times than there were events.
func TestGroupCommit(t *testing.T) {
	const (
		callers = 64
		each    = 200
		n       = callers * each
	)
	clock := newStepClock(epoch, time.Microsecond) // strictly increasing per call
	l := openLog(t, logPath(t), ledger.Options{Now: clock.Now})

	outs := make([][]ledger.Outcome, callers)
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := event(ledgerA, fmt.Sprintf("g%02d-%04d", c, i), 100)
				out, err := l.Append(context.Background(), sub(e))
				if err != nil {
					errs <- fmt.Errorf("caller %d append %d: %w", c, i, err)
					return
				}
				outs[c] = append(outs[c], out...)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	bySeq := make([]string, n+1)
	times := map[int64]bool{}
	for c, co := range outs {
		if len(co) != each {
			t.Fatalf("caller %d got %d outcomes, want %d", c, len(co), each)
		}
		var last uint64
		for _, o := range co {
			if o.Status != ledger.Accepted || o.Seq < 1 || o.Seq > n {
				t.Fatalf("caller %d: outcome %+v", c, o)
			}
			if bySeq[o.Seq] != "" {
				t.Fatalf("seq %d given to both %s and %s", o.Seq, bySeq[o.Seq], o.ID)
			}
			// One caller's appends are sequential, so its sequences rise.
			if o.Seq <= last {
				t.Errorf("caller %d: seq %d after %d", c, o.Seq, last)
			}
			last = o.Seq
			bySeq[o.Seq] = o.ID
			times[o.RecordedAt.UnixNano()] = true
		}
	}
	for seq := 1; seq <= n; seq++ {
		if bySeq[seq] == "" {
			t.Fatalf("seq %d was never given out", seq)
		}
	}

	recs := scanAll(t, l, ledgerA)
	if len(recs) != n {
		t.Fatalf("scan: %d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Event.ID != bySeq[r.Seq] {
			t.Fatalf("record %d: seq %d id %s, acknowledged %s", i, r.Seq, r.Event.ID, bySeq[r.Seq])
		}
		if i > 0 && r.RecordedAt.Before(recs[i-1].RecordedAt) {
			t.Fatalf("seq %d recorded before seq %d", r.Seq, recs[i-1].Seq)
		}
	}
	if v := verify(t, l, ledgerA); v.Events != n {
		t.Errorf("verify: %d events, want %d", v.Events, n)
	}

	// Each transaction reads the clock once and stamps all its events with
	// that time; the clock never repeats, so distinct times count
	// transactions. With 64 callers waiting on fsyncs they must have shared.
	txs := clock.Calls()
	t.Logf("%d events in %d transactions (%d distinct recorded times), %.1f events per transaction",
		n, txs, len(times), float64(n)/float64(txs))
	if txs >= n || len(times) >= n {
		t.Errorf("no group commit: %d events took %d transactions, %d distinct recorded times", n, txs, len(times))
	}
	if len(times) > txs {
		t.Errorf("%d distinct recorded times from %d clock readings", len(times), txs)
	}
}
