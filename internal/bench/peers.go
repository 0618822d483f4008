package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/journal"
	"github.com/budgetledger/budgetledger/ledger"
)

// toolVersion is the first part of what tool --version prints, e.g.
// "hledger 1.25".
func toolVersion(ctx context.Context, tool journal.Tool) string {
	out, err := exec.CommandContext(ctx, string(tool), "--version").Output()
	if err != nil {
		return string(tool)
	}
	v, _, _ := strings.Cut(strings.TrimSpace(string(out)), ",")
	v, _, _ = strings.Cut(v, "-")
	return v
}

// ExportJournal writes dir's log as a journal file for the peers.
func ExportJournal(ctx context.Context, dir, ledgerName, path string) (journal.Stats, time.Duration, error) {
	start := time.Now()
	l, err := ledger.Open(filepath.Join(dir, "data", "ledger.db"), ledger.Options{ReadOnly: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return journal.Stats{}, 0, err
	}
	defer l.Close()
	f, err := os.Create(path)
	if err != nil {
		return journal.Stats{}, 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var scanErr error
	st, err := journal.Write(w, l.Events(ctx, ledgerName, &scanErr))
	if err == nil {
		err = scanErr
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return st, time.Since(start), err
}

func runPeers(ctx context.Context, cfg Config, t *table) error {
	n := cfg.PeerSize
	dir, err := logDir(ctx, cfg, n)
	if err != nil {
		return err
	}
	const ledgerName = "dept-01"
	asOf := events.NewDate(cfg.Workload.Year, time.September, 30)
	file := filepath.Join(dir, "journal.ledger")
	cfg.logf("peers: exporting %s events as a journal", count(n))
	st, took, err := ExportJournal(ctx, dir, ledgerName, file)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	cfg.logf("peers: exported %d transactions in %s", st.Transactions, took.Round(time.Millisecond))
	size := fmt.Sprintf("%s events, 1 ledger, %d units; as of %s", count(n), cfg.LogUnits, asOf)

	// Ours, cold: a full fold of the log for the one question.
	coldIn, coldOut, cold, err := ColdT1(ctx, dir, ledgerName, cfg.Workload.Year, asOf)
	if err != nil {
		return fmt.Errorf("cold: %w", err)
	}
	// Ours, warm: ledgerd answering from its checkpoints.
	serve := filepath.Join(cfg.Dir, "peers-"+strconv.Itoa(n))
	if err := copyLog(dir, serve); err != nil {
		return err
	}
	p, err := startLedgerd(ctx, cfg.Ledgerd, filepath.Join(serve, "data"))
	if err != nil {
		return err
	}
	defer p.Stop()
	var warmIn, warmOut int64
	answers := make([]time.Duration, 0, 21)
	for range 21 { // the median of 21 answers
		in, out, d, err := WarmT1(ctx, p.HTTP, ledgerName, cfg.Workload.Year, asOf)
		if err != nil {
			return fmt.Errorf("warm: %w", err)
		}
		warmIn, warmOut = in, out
		answers = append(answers, d)
	}
	slices.Sort(answers)
	warm := answers[len(answers)/2]
	var warmMem Result
	warmMem.PeakRSS, _ = p.PeakRSS()
	warmMem.PeakAnon = p.PeakAnon()
	if warmIn != coldIn || warmOut != coldOut {
		return fmt.Errorf("warm and cold answers differ: income %d vs %d, expenditure %d vs %d 分", warmIn, coldIn, warmOut, coldOut)
	}

	var slowest journal.Tool
	runs := map[journal.Tool]journal.BalanceRun{}
	for _, tool := range []journal.Tool{journal.Ledger, journal.Hledger} {
		if _, err := exec.LookPath(string(tool)); err != nil {
			cfg.logf("peers: %s not installed (cmd/ledgerbench/bench.sh installs it); skipped", tool)
			continue
		}
		cfg.logf("peers: %s balance, income", tool)
		in, err := tool.RunBalance(ctx, file, asOf, "收入")
		if err != nil {
			return err
		}
		cfg.logf("peers: %s balance, expenditure", tool)
		out, err := tool.RunBalance(ctx, file, asOf, "支出")
		if err != nil {
			return err
		}
		agree := -int64(in.Total) == coldIn && int64(out.Total) == coldOut
		if !agree {
			return fmt.Errorf("%s disagrees: income %s, expenditure %s; budgetledger %s, %s", tool, events.Amount(-in.Total), out.Total,
				events.Amount(coldIn), events.Amount(coldOut))
		}
		runs[tool] = in
		if slowest == "" {
			slowest = tool
		}
		t.add(Row{What: fmt.Sprintf("peer: %s, `%s`", toolVersion(ctx, tool), strings.Join(append([]string{string(tool)}, tool.BalanceArgs("FILE", asOf, "收入")...), " ")),
			Size: size, Figure: fmt.Sprintf("%s s; totals equal budgetledger's (income %s, expenditure %s 元)", secs(in.Elapsed), events.Amount(coldIn), events.Amount(coldOut)),
			RSS: mib(in.MaxRSS) + " (" + string(tool) + ")", Command: cfg.command("-only peers -peer-size %d", n)})
	}
	ref, haveRef := runs[journal.Ledger]
	against := func(d time.Duration, want float64) string {
		if !haveRef {
			return "ledger-cli not run"
		}
		x := float64(ref.Elapsed) / float64(d)
		return fmt.Sprintf("≥ %.0f× ledger-cli: %.0f×, %s", want, x, verdict(x >= want))
	}
	t.add(Row{What: "budgetledger as-of T1, warm (ledgerd's checkpoints, over HTTP; median of 21)", Size: size, Figure: ms(warm),
		RSS: memory(warmMem), Target: against(warm, 100), Command: cfg.command("-only peers -peer-size %d", n)})
	t.add(Row{What: "budgetledger as-of T1, cold (full fold of the log, no checkpoint)", Size: size, Figure: ms(cold),
		Target: against(cold, 10), Command: cfg.command("-only peers -peer-size %d", n)})
	return nil
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) }
