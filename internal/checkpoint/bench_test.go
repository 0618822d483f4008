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
	"sync"
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

// benchUnits is the number of budget units of the benchmark ledger:
// BENCH_UNITS, or 4. A department's ledger has tens of them.
func benchUnits(b *testing.B) int {
	n := 4
	if s := os.Getenv("BENCH_UNITS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("BENCH_UNITS=%q: want a positive number", s)
		}
	}
	return n
}

// spread picks n codes evenly from codes, so that the mix reaches every
// part of the catalog rather than one 类.
func spread(codes []string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = codes[i*len(codes)/n]
	}
	return out
}

// benchLedger returns a ledger file of n events of a department's year:
// benchUnits units spending on any of 40 功能分类 项 × 15 经济分类 款 of the
// catalog (each pair from the general budget, as 基本 or 项目支出, or from
// non-fiscal money) on random days, with an appropriation and another
// income on the same 40 项 every fiftieth event each: about 680 code
// combinations per unit, which a day's postings only partly repeat, so the
// daily compaction stays large, as in a department's real books.
//
// A benchmark runs its function more than once and several benchmarks share
// a shape, so each shape is made once per process and copied.
func benchLedger(b *testing.B, n int) string {
	b.Helper()
	units := benchUnits(b)
	benchMade.Lock()
	defer benchMade.Unlock()
	key := strconv.Itoa(n) + "x" + strconv.Itoa(units)
	if benchMade.paths[key] == "" {
		dir, err := os.MkdirTemp("", "checkpoint-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchMade.dirs = append(benchMade.dirs, dir)
		path := filepath.Join(dir, "ledger.db")
		makeBenchLedger(b, path, n, units)
		benchMade.paths[key] = path
	}
	path := filepath.Join(b.TempDir(), "ledger.db")
	if err := copyFile(path, benchMade.paths[key]); err != nil {
		b.Fatal(err)
	}
	return path
}

var benchMade = struct {
	sync.Mutex
	paths map[string]string
	dirs  []string
}{paths: map[string]string{}}

// TestMain removes the ledgers the benchmarks made.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range benchMade.dirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func makeBenchLedger(b *testing.B, path string, n, nunits int) {
	b.Helper()
	l, err := ledger.Open(path, ledger.Options{NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	cat := events.DefaultCatalog()
	functional := spread(cat.Codes(events.Functional, events.Item), 40)
	economic := spread(cat.Codes(events.Economic, events.Section), 15)
	units := make([]string, nunits)
	for i := range units {
		units[i] = "单位" + strconv.Itoa(i)
	}
	subs := make([]ledger.Submission, 0, 10_000)
	for i := range n {
		t := time.Date(2020, 1, 1+rng.IntN(366), 0, 0, 0, 0, time.UTC)
		d := events.NewDate(t.Year(), t.Month(), t.Day())
		e := events.Event{ID: "b" + strconv.Itoa(i), Ledger: "bench", Unit: units[rng.IntN(len(units))], FiscalYear: 2020, Date: d, Source: "s", Voucher: "v" + strconv.Itoa(i)}
		fi, ei := rng.IntN(len(functional)), rng.IntN(len(economic))
		switch {
		case i%50 == 0:
			e.Body = events.Appropriation{Fund: events.FundGeneralBudget, Functional: functional[fi], Amount: 5_000_000_00}
		case i%50 == 1:
			e.Body = events.OtherIncome{IncomeKind: events.IncomeOperations, Functional: functional[fi], Amount: events.Amount(1 + rng.IntN(500_000))}
		default:
			x := events.Expenditure{Functional: functional[fi], Economic: economic[ei], ExpenditureKind: events.ExpenditureBasic,
				Fund: events.FundGeneralBudget, Amount: events.Amount(1 + rng.IntN(50_000))}
			// A code pair is spent one way: some from non-fiscal money,
			// some on the project of its 项.
			switch (fi*len(economic) + ei) % 10 {
			case 0:
				x.Fund = events.FundNonFiscal
			case 1, 2:
				x.ExpenditureKind, x.Project = events.ExpenditureProject, "项目"+functional[fi]
			}
			e.Body = x
		}
		if i < 10_000 {
			// Every shape of event occurs early: checking these is checking all.
			if err := events.Validate(&e, cat); err != nil {
				b.Fatal(err)
			}
		}
		subs = append(subs, ledger.Submission{Ledger: "bench", Event: e})
		if len(subs) == cap(subs) || i == n-1 {
			outs, err := l.Append(context.Background(), subs...)
			if err != nil {
				b.Fatal(err)
			}
			for _, o := range outs {
				if o.Status != ledger.Accepted {
					b.Fatalf("%s: %s %s", o.ID, o.Code, o.Reason)
				}
			}
			subs = subs[:0]
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStatementAsOf: the 收入支出决算总表 as of a date spread over the
// year, from checkpoints read by month and day up to it, on a ledger of
// benchEvents events.
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
		if _, ferr := projections.FoldIncomeExpenditure(s.EventsAsOf(context.Background(), "bench", f.LastDate(), ledger.KnownAt{}, &err), f); ferr != nil || err != nil {
			b.Fatal(ferr, err)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(n), "ledger-events")
	// What a statement reads, over the dates above (they repeat every 84):
	// the time it takes is about proportional.
	read, most := 0, 0
	for i := range 84 {
		var err error
		k := 0
		for range s.EventsAsOf(context.Background(), "bench", events.NewDate(2020, time.Month(1+i%12), 1+i%28), ledger.KnownAt{}, &err) {
			k++
		}
		read, most = read+k, max(most, k)
	}
	b.ReportMetric(float64(read)/84, "read-events")
	b.ReportMetric(float64(most), "read-events-max")
	days, months, years := s.Grains("bench")
	b.ReportMetric(float64(days), "compacted-events")
	b.ReportMetric(float64(months), "by-month")
	b.ReportMetric(float64(years), "by-year")
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

// BenchmarkFirstFold: opening a log that has no checkpoint yet (the first
// start, or new compaction rules) until ready to serve: the whole log is
// folded and the checkpoint stored.
func BenchmarkFirstFold(b *testing.B) {
	n := benchEvents(b)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		path := benchLedger(b, n)
		b.StartTimer()
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
	// ledgerd verifies the log only after this fold (VerifyAfter), so the
	// verification is left out of what is measured here.
	l, err := ledger.Open(path, ledger.Options{NoSync: true, Logger: quiet, NoVerify: true})
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
// publishing the periods they changed. The appends are not timed. The
// records are dated all over the year, so nearly every period changes.
func BenchmarkRefresh(b *testing.B) {
	benchRefresh(b, func(j int) events.Date { return events.NewDate(2020, time.Month(1+j%12), 1+j%28) })
}

// BenchmarkRefreshOneDay is BenchmarkRefresh with the records all dated one
// day, as a day's postings arrive: one day, month and year change.
func BenchmarkRefreshOneDay(b *testing.B) {
	benchRefresh(b, func(int) events.Date { return events.NewDate(2020, time.December, 30) })
}

func benchRefresh(b *testing.B, date func(j int) events.Date) {
	n := benchEvents(b)
	l, s := openBench(b, benchLedger(b, n))
	defer l.Close()
	subs := make([]ledger.Submission, checkpoint.DefaultRefresh)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j := range subs {
			id := "r" + strconv.Itoa(i) + "-" + strconv.Itoa(j)
			subs[j] = ledger.Submission{Ledger: "bench", Event: events.Event{ID: id, Ledger: "bench", Unit: "单位0", FiscalYear: 2020,
				Date: date(j), Source: "s", Voucher: id,
				Body: events.Expenditure{Functional: "2019999", Economic: "30201", ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 100}}}
		}
		if _, err := l.Append(context.Background(), subs...); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var err error
		for range s.EventsAsOf(context.Background(), "bench", 0, ledger.KnownAt{}, &err) {
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
