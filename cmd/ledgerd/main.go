// Command ledgerd runs the budget ledger: an embedded NATS server with
// JetStream (or an external one), the append-only bbolt log, and the HTTP
// API. With no flags it needs no other setup:
//
//	go run ./cmd/ledgerd -demo
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/budgetledger/budgetledger/internal/service"
)

func main() {
	var cfg service.Config
	flag.StringVar(&cfg.DataDir, "data", "./data", "data directory (ledger.db and the embedded NATS store)")
	flag.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8080", "HTTP API address")
	flag.StringVar(&cfg.NATSListen, "nats-listen", "127.0.0.1:4222", "client address of the embedded NATS server")
	flag.StringVar(&cfg.NATSURL, "nats-url", "", "use this NATS server instead of the embedded one, e.g. nats://10.0.0.5:4222")
	flag.IntVar(&cfg.InboxReplicas, "inbox-replicas", 1, "replicas of the JetStream inbox stream (3 on a NATS cluster)")
	flag.StringVar(&cfg.CatalogFile, "catalog", "", "TSV file of extra classification codes (columns: kind, code, name[, editions, sources])")
	flag.StringVar(&cfg.DepartmentsFile, "departments", "", "TSV file defining departments as sets of ledgers (columns: department, ledger)")
	flag.StringVar(&cfg.DebugAddr, "debug-addr", "", "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060")
	flag.BoolVar(&cfg.Demo, "demo", false, "publish the sample ledger (青浦区政务服务办公室 2020) through NATS at start")
	flag.BoolVar(&cfg.AcceptLog, "accept-log", false, "start on DATA/ledger.db as it is (a new, empty log when it is missing) although the data directory held another or a later log; events acknowledged before may be lost")
	flag.Int64Var(&cfg.InboxMaxBytes, "inbox-max-bytes", 0, "most bytes of events waiting in the inbox stream before publishes are refused (default: with the embedded NATS, half its disk's free space, at most 1 GiB; otherwise 1 GiB)")
	flag.Parse()
	tuneGC()
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := service.Run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ledgerd:", err)
		os.Exit(1)
	}
}

// tuneGC sets the collector for ledgerd's load unless GOGC or GOMEMLIMIT
// say otherwise. Ingest allocates for every event (decoded, encoded,
// acknowledged) against a live heap of a few tens of MiB, so the default
// GOGC=100 collects every few MiB: 15% of ledgerd's CPU on the inbox path.
// GOGC=400 collects a fifth as often; the memory limit stops that headroom
// from growing without bound when the checkpoints of a large ledger make
// the live heap large.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(448 << 20)
	}
}
