// Command ledgerbench measures budgetledger on a synthetic workload and
// prints one Markdown table: ingest through the JetStream inbox and by
// request-reply against the ceiling of JetStream and bbolt alone, replay,
// restart and as-of statements on large logs, ledgerd's peak memory, and
// the same as-of question put to hledger and ledger-cli. Every row names
// the machine's cores and the command that reproduces it. Run it from the
// module's root (it builds ledgerd), through bench.sh to have the peers
// installed:
//
//	cmd/ledgerbench/bench.sh                   # the full run (about 15 minutes on 2 cores)
//	go run ./cmd/ledgerbench -events 20000 -sizes 20000 -peer-size 20000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/budgetledger/budgetledger/internal/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "ledgerbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ledgerbench", flag.ContinueOnError)
	only := fs.String("only", "", "comma-separated sections to run: ingest, ceiling, replay, peers (default all)")
	ways := fs.String("ways", "inbox,request", "ways in: inbox, request")
	formats := fs.String("formats", "json", "publication formats: json, protobuf")
	publishers := fs.String("publishers", "1,64", "concurrent publishers of each ingest row")
	events := fs.Int("events", 1_000_000, "publications per ingest row")
	window := fs.Int("window", 64, "requests each request-reply publisher keeps in flight")
	latencyRate := fs.Float64("latency-rate", 20000, "steady load (events/s) of the inbox latency row; 0 leaves it out")
	latencyEvents := fs.Int("latency-events", 300_000, "events the latency row publishes")
	sizes := fs.String("sizes", "1000000,10000000", "log sizes of the replay, restart and as-of rows")
	queries := fs.Int("queries", 2000, "as-of queries per log size")
	peerSize := fs.Int("peer-size", 1_000_000, "log size the peers are timed on")
	departments := fs.Int("departments", 8, "departments (ledgers) of the ingest workload")
	units := fs.Int("units", 8, "budget units per department of the ingest workload")
	logUnits := fs.Int("log-units", 8, "budget units of the one ledger of the replay and peer rows")
	year := fs.Int("year", 2025, "fiscal year of the workload")
	seed := fs.Uint64("seed", 1, "workload seed")
	dir := fs.String("dir", "", "working directory, kept for inspection (default: a new temporary one, removed)")
	ledgerd := fs.String("ledgerd", "", "ledgerd binary (default: built from this module)")
	ledgerdFlags := fs.String("ledgerd-flags", "", "flags added to every ledgerd started, e.g. \"-debug-addr 127.0.0.1:6060\" to profile it")
	ceilingServer := fs.String("ceiling-server", "", "internal: run the JetStream ceiling's server on this directory")
	ceilingListen := fs.String("ceiling-listen", "127.0.0.1:0", "internal: the ceiling server's address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ceilingServer != "" {
		return bench.RunCeilingServer(ctx, *ceilingServer, *ceilingListen)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg := bench.Config{
		Ways: list(*ways), Formats: list(*formats), Events: *events, Window: *window, LatencyRate: *latencyRate, LatencyEvents: *latencyEvents, Queries: *queries, PeerSize: *peerSize,
		LogUnits: *logUnits, Ledgerd: bench.Ledgerd{Bin: *ledgerd, Flags: strings.Fields(*ledgerdFlags)}, Self: self, Progress: os.Stderr,
		Workload: bench.Workload{Departments: *departments, Units: *units, Year: *year, Seed: *seed, DuplicateRate: 0.01, InvalidRate: 0.001},
		Command:  "go run ./cmd/ledgerbench",
	}
	if *only != "" {
		cfg.Only = list(*only)
	}
	if cfg.Publishers, err = ints(*publishers); err != nil {
		return fmt.Errorf("-publishers: %w", err)
	}
	if cfg.Sizes, err = ints(*sizes); err != nil {
		return fmt.Errorf("-sizes: %w", err)
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "ledgerbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	} else if err := os.MkdirAll(*dir, 0o750); err != nil {
		return err
	}
	cfg.Dir = *dir
	_, err = bench.Run(ctx, cfg, os.Stdout)
	return err
}

func list(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func ints(s string) ([]int, error) {
	var out []int
	for _, p := range list(s) {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q: want positive whole numbers, comma-separated", p)
		}
		out = append(out, n)
	}
	return out, nil
}
