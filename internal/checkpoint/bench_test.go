package checkpoint_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/checkpoint"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

// benchEvents is the ledger size of the benchmarks: BENCH_EVENTS, or
// 200,000 so that running every benchmark once stays quick.
func benchEvents(b *testing.B) int {
	n := 200_000
	if s := os.Getenv("BENCH_EVENTS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	return n
}

// benchLedger appends n events of a department's year: four units
// spending on 8 功能分类 × 3 经济分类 codes on any day, drawn at random (so
// that a day's postings compact to up to 96 events, as in real books), with
// an appropriation every hundredth event.
func benchLedger(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "ledger.db")
	l, err := ledger.Open(path, ledger.Options{NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	functional := []string{"2019999", "2080505", "2080506", "2101101", "2101102", "2210201", "2060199", "2013101"}
	economic := []string{"30201", "30101", "30108"}
	units := []string{"本级", "中心", "事务所", "服务站"}
	subs := make([]ledger.Submission, 0, 10_000)
	for i := range n {
		t := time.Date(2020, 1, 1+rng.IntN(366), 0, 0, 0, 0, time.UTC)
		d := events.NewDate(t.Year(), t.Month(), t.Day())
		e := events.Event{ID: "b" + strconv.Itoa(i), Ledger: "bench", Unit: units[rng.IntN(4)], FiscalYear: 2020, Date: d, Source: "s", Voucher: "v" + strconv.Itoa(i)}
		if i%100 == 0 {
			e.Body = events.Appropriation{Fund: events.FundGeneralBudget, Functional: functional[rng.IntN(8)], Amount: 5_000_000_00}
		} else {
			e.Body = events.Expenditure{Functional: functional[rng.IntN(8)], Economic: economic[rng.IntN(3)], ExpenditureKind: events.ExpenditureBasic,
				Fund: events.FundGeneralBudget, Amount: events.Amount(1 + rng.IntN(50_000))}
		}
		subs = append(subs, ledger.Submission{Ledger: "bench", Event: e})
		if len(subs) == cap(subs) || i == n-1 {
			if _, err := l.Append(context.Background(), subs...); err != nil {
				b.Fatal(err)
			}
			subs = subs[:0]
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkStatementAsOf: the 收入支出决算总表 as of a date spread over the
// year, from checkpoints, on a ledger of benchEvents events.
func BenchmarkStatementAsOf(b *testing.B) {
	n := benchEvents(b)
	l, s := openBench(b, benchLedger(b, n))
	defer l.Close()
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		f := projections.Filter{FiscalYear: 2020, AsOf: events.NewDate(2020, time.Month(1+i%12), 1+i%28)}
		var err error
		if _, ferr := projections.FoldIncomeExpenditure(s.EventsUntil(context.Background(), "bench", f.LastDate(), ledger.KnownAt{}, &err), f); ferr != nil || err != nil {
			b.Fatal(ferr, err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(n), "ledger-events")
	_, compacted := s.Size("bench")
	b.ReportMetric(float64(compacted), "compacted-events")
}

// BenchmarkStatementAsOfFromLog is the same statement folded from the whole
// log, as a statement known at a moment before any checkpoint still is.
func BenchmarkStatementAsOfFromLog(b *testing.B) {
	n := benchEvents(b)
	l, _ := openBench(b, benchLedger(b, n))
	defer l.Close()
	b.ResetTimer()
	for i := range b.N {
		f := projections.Filter{FiscalYear: 2020, AsOf: events.NewDate(2020, time.Month(1+i%12), 1+i%28)}
		var err error
		if _, ferr := projections.FoldIncomeExpenditure(l.EventsKnownAt(context.Background(), "bench", ledger.KnownAt{}, &err), f); ferr != nil || err != nil {
			b.Fatal(ferr, err)
		}
	}
	b.ReportMetric(float64(n), "ledger-events")
}

// BenchmarkRestart: from opening the log file to serving, with the stored
// checkpoint loaded (what ledgerd does at start besides NATS).
func BenchmarkRestart(b *testing.B) {
	n := benchEvents(b)
	path := benchLedger(b, n)
	l, s := openBench(b, path) // folds the log once and stores the checkpoint
	if err := errorsOf(s.Close(), l.Close()); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		l, s := openBench(b, path)
		b.StopTimer()
		if err := errorsOf(s.Close(), l.Close()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n), "ledger-events")
}

func openBench(b *testing.B, path string) (*ledger.Log, *checkpoint.Store) {
	b.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := ledger.Open(path, ledger.Options{NoSync: true, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	s := checkpoint.New(l, checkpoint.Options{Logger: quiet})
	if err := s.Open(context.Background()); err != nil {
		b.Fatal(fmt.Errorf("open checkpoints: %w", err))
	}
	return l, s
}

// BenchmarkRefresh: what a read pays when it finds the checkpoint 1,024
// records behind (the refresh threshold): folding them in, copying and
// ordering the compaction by date. The appends are not timed.
func BenchmarkRefresh(b *testing.B) {
	n := benchEvents(b)
	l, s := openBench(b, benchLedger(b, n))
	defer l.Close()
	subs := make([]ledger.Submission, checkpoint.DefaultRefresh)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j := range subs {
			id := "r" + strconv.Itoa(i) + "-" + strconv.Itoa(j)
			subs[j] = ledger.Submission{Ledger: "bench", Event: events.Event{ID: id, Ledger: "bench", Unit: "本级", FiscalYear: 2020,
				Date: events.NewDate(2020, time.Month(1+j%12), 1+j%28), Source: "s", Voucher: id,
				Body: events.Expenditure{Functional: "2019999", Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 100}}}
		}
		if _, err := l.Append(context.Background(), subs...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var err error
		for range s.EventsUntil(context.Background(), "bench", 0, ledger.KnownAt{}, &err) {
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
