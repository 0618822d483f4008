package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

// BuildLog appends n valid events of g to a new ledger file in
// dir/data/ledger.db, as ledgerd would have, but without NATS and without
// fsync: it is the benchmark's setup, not a measurement.
func BuildLog(ctx context.Context, dir string, g *Generator, n int, progress io.Writer) error {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o750); err != nil {
		return err
	}
	l, err := ledger.Open(filepath.Join(data, "ledger.db"), ledger.Options{NoSync: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	subs := make([]ledger.Submission, 0, 10_000)
	for i := 0; i < n; {
		subs = subs[:0]
		for ; len(subs) < cap(subs) && i < n; i++ {
			e, _ := g.Next()
			subs = append(subs, ledger.Submission{Ledger: e.Ledger, Event: e, Via: "bench"})
		}
		outs, err := l.Append(ctx, subs...)
		if err != nil {
			l.Close()
			return fmt.Errorf("build log: %w", err)
		}
		for _, o := range outs {
			if o.Status != ledger.Accepted {
				l.Close()
				return fmt.Errorf("build log: %s %s: %s", o.ID, o.Status, o.Reason)
			}
		}
		if progress != nil && i%1_000_000 == 0 {
			fmt.Fprintf(progress, "  built %d of %d events\n", i, n)
		}
	}
	return l.Close()
}

// Serving is what ledgerd does with a large log: rebuild its checkpoints
// from the whole log at the first start (a replay), restart from them, and
// answer T1 as of random dates.
type Serving struct {
	Replay  Result // first start: every event folded into the checkpoints
	Restart Result // the second start, from the stored checkpoints
	Ready   Result // the second start until the log is verified and takes events
	AsOf    Result // Events = queries
}

// Serve runs the three on dir (made by BuildLog, holding n events).
func Serve(ctx context.Context, ld Ledgerd, dir string, n int, year int, ledgerName string, queries int, seed uint64) (Serving, error) {
	var s Serving
	data := filepath.Join(dir, "data")
	p, err := startLedgerd(ctx, ld, data)
	if err != nil {
		return s, err
	}
	s.Replay = Result{Elapsed: p.Ready, Events: n, Stored: n}
	s.Replay.PeakRSS, _ = p.PeakRSS()
	s.Replay.PeakAnon = p.PeakAnon()
	if err := p.Stop(); err != nil {
		return s, fmt.Errorf("stop after replay: %w", err)
	}
	s.Replay.LedgerBytes = dirSize(filepath.Join(data, "ledger.db"))

	if p, err = startLedgerd(ctx, ld, data); err != nil {
		return s, err
	}
	defer p.Stop()
	s.Restart = Result{Elapsed: p.Ready}
	s.Restart.PeakRSS, _ = p.PeakRSS()
	s.Restart.PeakAnon = p.PeakAnon()
	// Statements are served from the start; events are taken once the log
	// is verified. The as-of queries are measured after that, as the
	// steady state.
	ready, err := p.waitReady(ctx, 30*time.Minute)
	if err != nil {
		return s, err
	}
	s.Ready = Result{Elapsed: ready, Events: n}
	s.Ready.PeakRSS, _ = p.PeakRSS()
	s.Ready.PeakAnon = p.PeakAnon()

	rng := rand.New(rand.NewPCG(seed, 7))
	client := &http.Client{Timeout: time.Minute}
	lat := make([]time.Duration, 0, queries)
	first := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	days := int(first.AddDate(1, 0, 0).Sub(first).Hours() / 24)
	start := time.Now()
	for range queries {
		asOf := events.DateOf(first.AddDate(0, 0, rng.IntN(days)))
		t0 := time.Now()
		if _, err := statementT1(ctx, client, p.HTTP, ledgerName, year, asOf); err != nil {
			return s, err
		}
		lat = append(lat, time.Since(t0))
	}
	s.AsOf = Result{Elapsed: time.Since(start), Events: queries}
	slices.Sort(lat)
	s.AsOf.P50, s.AsOf.P99 = lat[len(lat)/2], lat[min(len(lat)-1, len(lat)*99/100)]
	s.AsOf.PeakRSS, _ = p.PeakRSS()
	s.AsOf.PeakAnon = p.PeakAnon()
	return s, nil
}

// t1 is the part of the statement's JSON the benchmark reads: the year's
// income and expenditure totals, which every tool must agree on.
type t1 struct {
	Rows []struct {
		Key        string `json:"key"`
		AmountYuan string `json:"amount_yuan"`
	} `json:"rows"`
}

func (t t1) totals() (income, expenditure int64, err error) {
	var seen int
	for _, r := range t.Rows {
		var dst *int64
		switch r.Key {
		case "total:income":
			dst = &income
		case "total:expenditure":
			dst = &expenditure
		default:
			continue
		}
		a, err := events.ParseAmount(r.Key, r.AmountYuan)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", r.Key, err)
		}
		*dst, seen = int64(a), seen+1
	}
	if seen != 2 {
		return 0, 0, fmt.Errorf("statement without both totals")
	}
	return income, expenditure, nil
}

func statementTotals(st *projections.Statement) (income, expenditure int64, err error) {
	in, ok1 := st.Row("total:income")
	out, ok2 := st.Row("total:expenditure")
	if !ok1 || !ok2 {
		return 0, 0, fmt.Errorf("statement without both totals")
	}
	return int64(in.Amount()), int64(out.Amount()), nil
}

// statementT1 asks ledgerd for the 收入支出决算总表 as of asOf and returns
// its JSON.
func statementT1(ctx context.Context, client *http.Client, base, ledgerName string, year int, asOf events.Date) ([]byte, error) {
	url := fmt.Sprintf("%s/v1/ledgers/%s/statements/income-expenditure?year=%d&as_of=%s", base, ledgerName, year, asOf)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("as-of query: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("as-of query %s: %s: %s", url, resp.Status, b)
	}
	return b, nil
}

// ColdT1 folds T1 as of asOf straight from the log file, with no
// checkpoint: what a replay costs for one question. It returns the
// fiscal year's income and expenditure totals in 分.
func ColdT1(ctx context.Context, dir, ledgerName string, year int, asOf events.Date) (income, expenditure int64, elapsed time.Duration, err error) {
	start := time.Now()
	l, err := ledger.Open(filepath.Join(dir, "data", "ledger.db"), ledger.Options{ReadOnly: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return 0, 0, 0, err
	}
	defer l.Close()
	var scanErr error
	st, err := projections.FoldIncomeExpenditure(l.Events(ctx, ledgerName, &scanErr),
		projections.Filter{Ledger: ledgerName, FiscalYear: year, AsOf: asOf})
	if err != nil {
		return 0, 0, 0, err
	}
	if scanErr != nil {
		return 0, 0, 0, scanErr
	}
	elapsed = time.Since(start)
	income, expenditure, err = statementTotals(st)
	return income, expenditure, elapsed, err
}

// WarmT1 asks a running ledgerd (from its checkpoints) for the same.
func WarmT1(ctx context.Context, base, ledgerName string, year int, asOf events.Date) (income, expenditure int64, elapsed time.Duration, err error) {
	start := time.Now()
	b, err := statementT1(ctx, &http.Client{Timeout: time.Minute}, base, ledgerName, year, asOf)
	if err != nil {
		return 0, 0, 0, err
	}
	elapsed = time.Since(start)
	var st t1
	if err := json.Unmarshal(b, &st); err != nil {
		return 0, 0, 0, fmt.Errorf("as-of answer: %w", err)
	}
	income, expenditure, err = st.totals()
	return income, expenditure, elapsed, err
}
