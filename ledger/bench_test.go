package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
)

// Benchmarks report events per second; run them with
//
//	go test -run XXX -bench . ./ledger/
//
// On a real disk the durable ones measure fsync as much as the code.

// batchSubs builds n submissions with ids unique under prefix.
func batchSubs(prefix string, from, n int) []ledger.Submission {
	subs := make([]ledger.Submission, n)
	for i := range subs {
		subs[i] = sub(event(ledgerA, fmt.Sprintf("%s-%09d", prefix, from+i), 12345))
	}
	return subs
}

func benchAppendBatch(b *testing.B, opts ledger.Options, size int) {
	l := openLog(b, logPath(b), opts)
	ctx := context.Background()
	next := 0
	for b.Loop() {
		b.StopTimer()
		subs := batchSubs("b", next, size)
		next += size
		b.StartTimer()
		out, err := l.Append(ctx, subs...)
		if err != nil {
			b.Fatal(err)
		}
		if out[size-1].Status != ledger.Accepted {
			b.Fatalf("outcome %+v", out[size-1])
		}
	}
	b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendBatch1000: Append calls of 1000 new events each, fsync on
// every commit.
func BenchmarkAppendBatch1000(b *testing.B) {
	benchAppendBatch(b, ledger.Options{}, 1000)
}

// BenchmarkAppendNoSync: as BenchmarkAppendBatch1000 without fsync, so
// everything but the disk.
func BenchmarkAppendNoSync(b *testing.B) {
	benchAppendBatch(b, ledger.Options{NoSync: true}, 1000)
}

// BenchmarkAppendConcurrent64: 64 callers each appending one event per call,
// durable; the writer's group commit shares each fsync among them. One op is
// a round of 64 callers × 50 appends (3200 events), so that even a run of a
// few ops keeps all 64 busy.
func BenchmarkAppendConcurrent64(b *testing.B) {
	const callers, perCaller = 64, 50
	l := openLog(b, logPath(b), ledger.Options{})
	ctx := context.Background()
	round := 0
	for b.Loop() {
		var wg sync.WaitGroup
		for c := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perCaller {
					idv := fmt.Sprintf("c-%06d-%02d-%03d", round, c, i)
					out, err := l.Append(ctx, sub(event(ledgerA, idv, 12345)))
					if err != nil || out[0].Status != ledger.Accepted {
						b.Errorf("append %s: %v %+v", idv, err, out)
						return
					}
				}
			}()
		}
		wg.Wait()
		round++
	}
	b.ReportMetric(float64(round*callers*perCaller)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkScan reads a ledger of 100k events from the start, decoding every
// record.
func BenchmarkScan(b *testing.B) {
	const n = 100_000
	path := logPath(b)
	l := openLog(b, path, ledger.Options{NoSync: true})
	for i := 0; i < n; i += 1000 {
		if _, err := l.Append(context.Background(), batchSubs("s", i, 1000)...); err != nil {
			b.Fatal(err)
		}
	}
	closeLog(b, l)
	l = openLog(b, path, ledger.Options{ReadOnly: true})
	ctx := context.Background()
	scanned := 0
	for b.Loop() {
		var total events.Amount
		err := l.Scan(ctx, ledgerA, 0, func(r ledger.Record) error {
			scanned++
			total += events.BodyAmount(r.Event.Body)
			return nil
		})
		if total != 12345*n {
			b.Fatalf("scanned total %v", total)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if scanned != n*b.N {
		b.Fatalf("scanned %d records in %d scans, want %d each", scanned, b.N, n)
	}
	b.ReportMetric(float64(scanned)/b.Elapsed().Seconds(), "events/s")
}
