package ledger_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	budgetledger "github.com/budgetledger/budgetledger"
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
	benchScan(b, path, n, 12345*n)
}

// BenchmarkScanSample is BenchmarkScan over a realistic ledger: the sample
// ledger's 741 events over and over (new ids and vouchers), with their
// memos, projects and every kind of body.
func BenchmarkScanSample(b *testing.B) {
	const n = 100_000
	var sample []events.Event
	for line := range bytes.Lines(budgetledger.SampleLedger) {
		if line = bytes.TrimSpace(line); len(line) == 0 {
			continue
		}
		e, err := events.DecodeJSON(line)
		if err != nil {
			b.Fatal(err)
		}
		sample = append(sample, e)
	}
	path := logPath(b)
	l := openLog(b, path, ledger.Options{NoSync: true})
	var total events.Amount
	subs := make([]ledger.Submission, 0, 1000)
	for i := 0; i < n; {
		subs = subs[:0]
		for ; len(subs) < cap(subs) && i < n; i++ {
			e := sample[i%len(sample)]
			e.ID = fmt.Sprintf("%s-%06d", e.ID, i)
			e.Voucher = fmt.Sprintf("%s-%06d", e.Voucher, i)
			total += events.BodyAmount(e.Body)
			subs = append(subs, sub(e))
		}
		out, err := l.Append(context.Background(), subs...)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range out {
			if o.Status != ledger.Accepted {
				b.Fatalf("outcome %+v", o)
			}
		}
	}
	closeLog(b, l)
	benchScan(b, path, n, total)
}

// benchScan scans the n events of ledgerA in the log at path, whose amounts
// add up to total.
func benchScan(b *testing.B, path string, n int, total events.Amount) {
	l := openLog(b, path, ledger.Options{ReadOnly: true})
	ctx := context.Background()
	scanned := 0
	b.ReportAllocs()
	for b.Loop() {
		var sum events.Amount
		err := l.Scan(ctx, ledgerA, 0, func(r ledger.Record) error {
			scanned++
			sum += events.BodyAmount(r.Event.Body)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		if sum != total {
			b.Fatalf("scanned total %v, want %v", sum, total)
		}
	}
	if scanned != n*b.N {
		b.Fatalf("scanned %d records in %d scans, want %d each", scanned, b.N, n)
	}
	b.ReportMetric(float64(scanned)/b.Elapsed().Seconds(), "events/s")
}
