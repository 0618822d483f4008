package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/journal"
	"github.com/budgetledger/budgetledger/ledger"
)

// cmdExport writes a ledger's money as a journal that hledger and
// ledger-cli read, so that the statements can be checked with tools that
// share no code with the ledger.
//
// It reads the events exactly as replay does, over the API or from the
// file of a stopped ledgerd, with the hash chain checked on the way: the
// journal is the chained log's, or nothing.
func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("export")
	server := serverFlag(fs)
	dataDir := fs.String("data", "", "export the log file in this data directory (ledgerd stopped) instead of the API")
	ledgerName := fs.String("ledger", "", "ledger")
	format := fs.String("format", "ledger", "ledger: a journal hledger and ledger-cli read")
	outFile := fs.String("o", "", "write the journal to this file (default: standard output)")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *ledgerName == "" || fs.NArg() != 0 {
		return 2, fmt.Errorf("export: -ledger L is required, and nothing else after the flags")
	}
	if *format != "ledger" {
		return 2, fmt.Errorf("export: -format %q: expected ledger (a journal for hledger and ledger-cli)", *format)
	}

	// Replay's progress bar would say "replay"; an export shows none.
	var (
		list  []events.Event
		total uint64
		err   error
	)
	if *dataDir != "" {
		list, total, err = replayFile(ctx, filepath.Join(*dataDir, "ledger.db"), *ledgerName, io.Discard)
	} else {
		list, total, err = replayAPI(ctx, newClient(*server), *ledgerName, io.Discard)
	}
	if errors.Is(err, ledger.ErrChainBroken) {
		fmt.Fprintf(stdout, "%s: NOT VERIFIED, nothing exported: %v\n", *ledgerName, err)
		return 1, nil
	}
	if err != nil {
		return 2, err
	}

	summary, dest := stderr, "standard output"
	var st journal.Stats
	if *outFile == "" {
		if st, err = journal.Write(stdout, slices.Values(list)); err != nil {
			return 2, fmt.Errorf("export: %w", err)
		}
	} else {
		summary, dest = stdout, *outFile
		if st, err = writeFile(*outFile, slices.Values(list)); err != nil {
			return 2, fmt.Errorf("export: %w", err)
		}
	}
	fmt.Fprintf(summary, "%s: %d transactions from %d events (%d without money in the journal) to %s\n",
		*ledgerName, st.Transactions, total, st.Skipped, dest)
	for _, y := range slices.Sorted(maps.Keys(st.Years)) {
		t := st.Years[y]
		fmt.Fprintf(summary, "%d: 本年收入合计 %s 本年支出合计 %s 使用非财政拨款结余 %s 年初结转和结余 %s 结余分配 %s 年末结转和结余 %s\n",
			y, t.Income, t.Expenditure, t.SurplusUsed, t.Opening, t.SurplusDistribution, t.Closing)
	}
	if len(st.Years) > 0 {
		fmt.Fprintln(summary, "check: hledger -f FILE balance -b YEAR-01-01 -e YEAR+1-01-01 --depth 1 (ledger: --begin, --end); credits print negative, and 资金 + 年末结转和结余 is 年末结转和结余")
	}
	return 0, nil
}

// writeFile writes the journal next to path and renames it into place, so
// that a failed export never leaves a journal that looks whole.
func writeFile(path string, evs iter.Seq[events.Event]) (journal.Stats, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return journal.Stats{}, err
	}
	defer os.Remove(f.Name()) // after the rename, nothing is left to remove
	st, err := journal.Write(f, evs)
	if err != nil {
		f.Close()
		return st, err
	}
	if err := f.Close(); err != nil {
		return st, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return st, err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return st, err
	}
	return st, nil
}
