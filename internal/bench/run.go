package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/wire"
)

// Config is a benchmark run. Zero values take the defaults of
// cmd/ledgerbench.
type Config struct {
	Only       []string // sections: ingest, ceiling, replay, peers (all when empty)
	Ways       []string // inbox, request
	Formats    []string // json, protobuf
	Publishers []int
	Events     int // publications per ingest row
	Window     int // requests in flight per request-reply publisher
	// LatencyRate is the steady load (events/s) of the latency row, which
	// publishes LatencyEvents at that rate; 0 leaves the row out.
	LatencyRate   float64
	LatencyEvents int
	Sizes         []int // log sizes of the replay and as-of rows
	Queries       int   // as-of queries per size
	PeerSize      int   // log size the peers are timed on
	Workload      Workload
	LogUnits      int     // budget units of the one ledger the replay rows build
	Dir           string  // working directory (logs, stores); kept
	Ledgerd       Ledgerd // its binary is built from the module when empty
	Self          string  // this program, started again as the ceiling server
	Progress      io.Writer
	Command       string // how this program is invoked, for the rows' command lines
}

func (c Config) runs(section string) bool {
	if len(c.Only) == 0 {
		return true
	}
	for _, s := range c.Only {
		if s == section {
			return true
		}
	}
	return false
}

// Row is one line of the results table.
type Row struct {
	What, Size, Figure, P50, P99, RSS, Disk, Target, Command string
}

// Run measures what cfg selects and returns the table's rows, written to
// w as they come so that a long run shows its figures early.
func Run(ctx context.Context, cfg Config, w io.Writer) ([]Row, error) {
	if cfg.Ledgerd.Bin == "" {
		bin, err := BuildLedgerd(ctx, cfg.Dir)
		if err != nil {
			return nil, err
		}
		cfg.Ledgerd.Bin = bin
	}
	t := &table{w: w, cores: runtime.NumCPU()}
	t.header()
	if cfg.runs("ingest") || cfg.runs("ceiling") {
		if err := runIngest(ctx, cfg, t); err != nil {
			return t.rows, err
		}
	}
	if cfg.runs("replay") {
		if err := runServing(ctx, cfg, t); err != nil {
			return t.rows, err
		}
	}
	if cfg.runs("peers") {
		if err := runPeers(ctx, cfg, t); err != nil {
			return t.rows, err
		}
	}
	return t.rows, nil
}

func (c Config) logf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

func encoder(format string) (func(events.Event) ([]byte, error), error) {
	switch format {
	case "json":
		return EncodeJSON, nil
	case "protobuf":
		return wire.EncodeEvent, nil
	}
	return nil, fmt.Errorf("format %q: want json or protobuf", format)
}

func runIngest(ctx context.Context, cfg Config, t *table) error {
	for _, format := range cfg.Formats {
		enc, err := encoder(format)
		if err != nil {
			return err
		}
		g, err := NewGenerator(cfg.Workload)
		if err != nil {
			return err
		}
		msgs, err := g.Messages(cfg.Events, enc)
		if err != nil {
			return err
		}
		var bytesPer int
		for _, m := range msgs {
			bytesPer += len(m.Data)
		}
		bytesPer /= len(msgs)
		size := fmt.Sprintf("%s events, %s, ~%d B each", count(cfg.Events), format, bytesPer)
		ceilings := map[int]Result{}
		if cfg.runs("ceiling") {
			for _, n := range cfg.Publishers {
				dir := filepath.Join(cfg.Dir, fmt.Sprintf("ceiling-js-%s-%d", format, n))
				cfg.logf("ceiling: raw JetStream, %s, %d publishers", format, n)
				r, err := CeilingJetStream(ctx, cfg.Self, dir, n, msgs)
				if err != nil {
					return fmt.Errorf("ceiling jetstream: %w", err)
				}
				ceilings[n] = r
				t.add(Row{What: fmt.Sprintf("ceiling: raw JetStream async publish + pull consume + ack, %d publisher%s", n, plural(n)), Size: size,
					Figure: rate(r), RSS: memory(r), Disk: "JetStream store peak " + perEvent(r.StoreBytes, r.Events),
					Command: cfg.command("-only ceiling -formats %s -publishers %d -events %d", format, n, cfg.Events)})
			}
			cfg.logf("ceiling: raw bbolt, %s", format)
			r, err := CeilingBolt(filepath.Join(cfg.Dir, "ceiling-bolt-"+format), msgs)
			if err != nil {
				return err
			}
			t.add(Row{What: "ceiling: raw bbolt, 1000 events per fsynced transaction", Size: size, Figure: rate(r),
				Disk:    "bbolt " + perEvent(r.LedgerBytes, r.Events),
				Command: cfg.command("-only ceiling -formats %s -publishers %d -events %d", format, cfg.Publishers[0], cfg.Events)})
		}
		if !cfg.runs("ingest") {
			continue
		}
		for _, way := range cfg.Ways {
			for _, n := range cfg.Publishers {
				dir := filepath.Join(cfg.Dir, fmt.Sprintf("ingest-%s-%s-%d", way, format, n))
				cfg.logf("ingest: %s, %s, %d publishers", way, format, n)
				var r Result
				var what string
				switch way {
				case "inbox":
					r, err = IngestInbox(ctx, cfg.Ledgerd, dir, n, msgs, 0)
					what = fmt.Sprintf("ingest: JetStream inbox, %d publisher%s, publish to outcome after commit", n, plural(n))
				case "request":
					r, err = IngestRequests(ctx, cfg.Ledgerd, dir, n, cfg.Window, msgs)
					what = fmt.Sprintf("ingest: request-reply, %d publisher%s × %d in flight", n, plural(n), cfg.Window)
				default:
					return fmt.Errorf("way %q: want inbox or request", way)
				}
				if err != nil {
					return fmt.Errorf("%s: %w", what, err)
				}
				target := "≥ 75k/s"
				if c, ok := ceilings[n]; ok && way == "inbox" {
					target = fmt.Sprintf("≥ 0.8 × ceiling and 75k/s: %.2f × ceiling, %s", r.PerSecond()/c.PerSecond(), verdict(r.PerSecond() >= 0.8*c.PerSecond() && r.PerSecond() >= 75_000))
				} else {
					target += ": " + verdict(r.PerSecond() >= 75_000)
				}
				t.add(Row{What: what, Size: size, Figure: rate(r) + fmt.Sprintf(" (%d accepted, %d rejected, %d duplicates)", r.Accepted, r.Rejected, r.Duplicates),
					P50: ms(r.P50), P99: ms(r.P99), RSS: memory(r),
					Disk:   fmt.Sprintf("bbolt %s, JetStream store peak %s", perEvent(r.LedgerBytes, r.Stored), perEvent(r.StoreBytes, r.Events)),
					Target: target, Command: cfg.command("-only ingest -ways %s -formats %s -publishers %d -events %d", way, format, n, cfg.Events)})
			}
		}
		if cfg.LatencyRate > 0 && slices.Contains(cfg.Ways, "inbox") {
			n := cfg.Publishers[len(cfg.Publishers)-1]
			some := msgs[:min(len(msgs), max(cfg.LatencyEvents, 1))]
			cfg.logf("ingest latency: inbox, %s, %d publishers at %.0f events/s", format, n, cfg.LatencyRate)
			r, err := IngestInbox(ctx, cfg.Ledgerd, filepath.Join(cfg.Dir, fmt.Sprintf("latency-%s-%d", format, n)), n, some, cfg.LatencyRate)
			if err != nil {
				return fmt.Errorf("latency: %w", err)
			}
			t.add(Row{What: fmt.Sprintf("ingest latency: JetStream inbox, %d publisher%s sending %s events/s together", n, plural(n), count(int(cfg.LatencyRate))),
				Size: fmt.Sprintf("%s events, %s", count(len(some)), format), Figure: rate(r), P50: ms(r.P50), P99: ms(r.P99), RSS: memory(r),
				Command: cfg.command("-only ingest -ways inbox -formats %s -publishers %d -events %d -latency-rate %.0f -latency-events %d", format, n, cfg.Events, cfg.LatencyRate, cfg.LatencyEvents)})
		}
	}
	return nil
}

// logWorkload is the workload of the replay and as-of rows: one ledger
// (the hardest case: a department whose every event a statement reads)
// with cfg.LogUnits units.
func logWorkload(cfg Config) Workload {
	w := cfg.Workload
	w.Departments, w.Units, w.DuplicateRate, w.InvalidRate = 1, cfg.LogUnits, 0, 0
	return w
}

// logDir builds (once) the log of n events the replay, as-of and peer rows
// share.
func logDir(ctx context.Context, cfg Config, n int) (string, error) {
	dir := filepath.Join(cfg.Dir, "log-"+strconv.Itoa(n))
	if _, err := os.Stat(filepath.Join(dir, "built")); err == nil {
		return dir, nil
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	g, err := NewGenerator(logWorkload(cfg))
	if err != nil {
		return "", err
	}
	cfg.logf("building a log of %s events in %s", count(n), dir)
	if err := BuildLog(ctx, dir, g, n, cfg.Progress); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "built"), nil, 0o640)
}

func runServing(ctx context.Context, cfg Config, t *table) error {
	for _, n := range cfg.Sizes {
		dir, err := logDir(ctx, cfg, n)
		if err != nil {
			return err
		}
		// A fresh copy of the log has no checkpoint: the first start is a
		// full replay.
		run := filepath.Join(cfg.Dir, "serve-"+strconv.Itoa(n))
		if err := copyLog(dir, run); err != nil {
			return err
		}
		cfg.logf("replay, restart and as-of on %s events", count(n))
		s, err := Serve(ctx, cfg.Ledgerd, run, n, cfg.Workload.Year, "dept-01", cfg.Queries, cfg.Workload.Seed)
		if err != nil {
			return fmt.Errorf("serve %d: %w", n, err)
		}
		size := fmt.Sprintf("%s events, 1 ledger, %d units", count(n), cfg.LogUnits)
		cmd := cfg.command("-only replay -sizes %d -queries %d", n, cfg.Queries)
		t.add(Row{What: "replay: first start, every event folded into the checkpoints", Size: size, Figure: rate(s.Replay),
			RSS: memory(s.Replay), Disk: "bbolt " + perEvent(s.Replay.LedgerBytes, n),
			Target: "≥ 2M events/s: " + verdict(s.Replay.PerSecond() >= 2_000_000), Command: cmd})
		t.add(Row{What: "restart to serving (checkpoints stored)", Size: size, Figure: ms(s.Restart.Elapsed), RSS: memory(s.Restart),
			Target: "< 1 s: " + verdict(s.Restart.Elapsed < time.Second), Command: cmd})
		t.add(Row{What: "restart to ready: the whole log verified before its first commit", Size: size,
			Figure: fmt.Sprintf("%s (%s)", ms(s.Ready.Elapsed), rate(s.Ready)), RSS: memory(s.Ready), Target: "–", Command: cmd})
		t.add(Row{What: fmt.Sprintf("as-of: T1 收入支出决算总表 over HTTP, %d random dates", cfg.Queries), Size: size,
			P50: ms(s.AsOf.P50), P99: ms(s.AsOf.P99), RSS: memory(s.AsOf),
			Target:  "p99 < 5 ms: " + verdict(s.AsOf.P99 < 5*time.Millisecond) + "; RSS < 512 MiB: " + rssVerdict(s.Replay, s.Restart, s.AsOf),
			Command: cmd})
	}
	return nil
}

// copyLog copies the bbolt file of a built log into a new data directory.
func copyLog(from, to string) error {
	if err := os.RemoveAll(to); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(to, "data"), 0o750); err != nil {
		return err
	}
	src, err := os.Open(filepath.Join(from, "data", "ledger.db"))
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(filepath.Join(to, "data", "ledger.db"))
	if err != nil {
		return err
	}
	// Synced, so that ledgerd's start does not pay for writing back the
	// copy: the benchmark's setup, not what a start costs.
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// table prints rows as a Markdown table.
type table struct {
	w     io.Writer
	cores int
	rows  []Row
}

func (t *table) header() {
	fmt.Fprintf(t.w, "| What | Workload | Result | p50 | p99 | ledgerd peak RSS | On disk | Target | Cores | Command |\n")
	fmt.Fprintf(t.w, "|---|---|---|---|---|---|---|---|---|---|\n")
}

func (t *table) add(r Row) {
	t.rows = append(t.rows, r)
	cell := func(s string) string {
		if s == "" {
			return "–"
		}
		return strings.ReplaceAll(s, "|", "\\|")
	}
	fmt.Fprintf(t.w, "| %s | %s | %s | %s | %s | %s | %s | %s | %d | `%s` |\n", cell(r.What), cell(r.Size), cell(r.Figure),
		cell(r.P50), cell(r.P99), cell(r.RSS), cell(r.Disk), cell(r.Target), t.cores, r.Command)
}

func (c Config) command(format string, args ...any) string {
	return c.Command + " " + fmt.Sprintf(format, args...)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func rate(r Result) string {
	return fmt.Sprintf("%s events/s", count(int(r.PerSecond())))
}

func count(n int) string {
	switch {
	case n >= 1_000_000 && n%100_000 == 0:
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + "M"
	case n >= 10_000:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + "k"
	}
	return strconv.Itoa(n)
}

func ms(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// memory prints the peak RSS and, where sampled, the peak of the
// process's own memory.
func memory(r Result) string {
	if r.PeakAnon == 0 {
		return mib(r.PeakRSS)
	}
	return fmt.Sprintf("%s (own %s)", mib(r.PeakRSS), mib(r.PeakAnon))
}

// rssVerdict judges the memory target on the whole RSS and, when that
// misses, says whether the process's own memory met it: the rest is the
// bbolt file's pages, which the kernel keeps in its page cache and drops
// under pressure.
func rssVerdict(rs ...Result) string {
	var rss, own int64
	for _, r := range rs {
		rss, own = max(rss, r.PeakRSS), max(own, r.PeakAnon)
	}
	if rss < 512<<20 {
		return "met"
	}
	return fmt.Sprintf("**missed** (own memory %s: %s)", mib(own), verdict(own < 512<<20))
}

func mib(b int64) string {
	if b == 0 {
		return ""
	}
	return strconv.FormatInt(b>>20, 10) + " MiB"
}

func perEvent(bytes int64, n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d B/event", bytes/int64(n))
}
