package ledger

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
)

// TestScanRawPartitioned: every record reaches the worker part gives it,
// once, each worker's in sequence order, and together they are Scan's; an
// error from fn or part, or a cancelled context, stops the scan and is
// returned.
func TestScanRawPartitioned(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "ledger.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const total = 20_000
	subs := make([]Submission, 0, total)
	for i := range total {
		e := internalEvent(fmt.Sprintf("e-%05d", i))
		e.Date = events.NewDate(2020, time.Month(1+i*7%12), 1+i*13%28)
		subs = append(subs, Submission{Ledger: e.Ledger, Event: e})
	}
	if _, err := l.Append(context.Background(), subs...); err != nil {
		t.Fatal(err)
	}
	var want []Record
	if err := l.Scan(context.Background(), "qingpu-zwb", 100, func(r Record) error {
		want = append(want, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	part := func(n int) func(RawRecord) (int, error) {
		return func(r RawRecord) (int, error) {
			d, err := events.BinaryDate(r.Event)
			return int(d) % n, err
		}
	}
	for _, n := range []int{1, 2, 3, 8} {
		got := make([][]Record, n)
		if err := l.ScanRawPartitioned(context.Background(), "qingpu-zwb", 100, n, part(n), func(w int, r RawRecord) error {
			var e events.Event
			if err := e.UnmarshalBinary(r.Event); err != nil {
				return err
			}
			got[w] = append(got[w], Record{Seq: r.Seq, Event: e})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		byWorker := make([][]Record, n)
		for _, r := range want {
			w := int(r.Event.Date) % n
			byWorker[w] = append(byWorker[w], r)
		}
		for w := range n {
			if len(got[w]) != len(byWorker[w]) {
				t.Fatalf("%d workers: worker %d got %d records, want %d", n, w, len(got[w]), len(byWorker[w]))
			}
			for i := range got[w] {
				g, x := got[w][i], byWorker[w][i]
				if g.Seq != x.Seq || g.Event.ID != x.Event.ID || g.Event.Date != x.Event.Date {
					t.Fatalf("%d workers: worker %d's record %d is seq %d (%s), want seq %d (%s)", n, w, i, g.Seq, g.Event.ID, x.Seq, x.Event.ID)
				}
			}
		}
	}

	boom := errors.New("boom")
	if err := l.ScanRawPartitioned(context.Background(), "qingpu-zwb", 0, 2, part(2), func(w int, r RawRecord) error {
		if w == 1 {
			return boom
		}
		return nil
	}); !errors.Is(err, boom) {
		t.Errorf("fn's error: got %v", err)
	}
	if err := l.ScanRawPartitioned(context.Background(), "qingpu-zwb", 0, 2, func(RawRecord) (int, error) { return 0, boom }, func(int, RawRecord) error { return nil }); !errors.Is(err, boom) {
		t.Errorf("part's error: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.ScanRawPartitioned(ctx, "qingpu-zwb", 0, 2, part(2), func(int, RawRecord) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
	if err := l.ScanRawPartitioned(context.Background(), "qingpu-zwb", 0, 2, func(RawRecord) (int, error) { return 2, nil }, func(int, RawRecord) error { return nil }); err == nil {
		t.Error("a part out of range: no error")
	}
}
