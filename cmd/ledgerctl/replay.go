package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/report"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

// cmdReplay rebuilds every statement of a ledger from its log alone and,
// against a running ledgerd, proves the live statements are the same bytes.
//
// It reads the records either from ledgerd's HTTP API or, with -data, from
// the bbolt file of a stopped ledgerd (or a backup copy), recomputes the hash
// chain on the way, folds every statement of every fiscal year it saw, and
// compares each one, as CSV and as JSON, with the live one asked for at the same log
// sequence (known_at=seq), so events appended meanwhile cannot make a false
// difference.
func cmdReplay(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	fs := newFlags("replay")
	server := serverFlag(fs)
	dataDir := fs.String("data", "", "replay the log file in this data directory (ledgerd stopped) instead of the API; nothing to compare with")
	ledgerName := fs.String("ledger", "", "ledger")
	catalogFile := fs.String("catalog", "", "the deployment's extra classification codes (the file given to ledgerd -catalog)")
	outDir := fs.String("out", "", "write each replayed statement here as <year>-<statement>.csv and .json")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *ledgerName == "" {
		return 2, fmt.Errorf("replay: -ledger is required")
	}
	cat := events.DefaultCatalog()
	if *catalogFile != "" {
		if err := cat.LoadFile(*catalogFile); err != nil {
			return 2, fmt.Errorf("replay: %w", err)
		}
	}
	var prog io.Writer = stderr
	if *quiet {
		prog = io.Discard
	}
	c := newClient(*server)

	var (
		evs   []events.Event
		total uint64
		err   error
	)
	if *dataDir != "" {
		evs, total, err = replayFile(ctx, filepath.Join(*dataDir, "ledger.db"), *ledgerName, prog)
	} else {
		evs, total, err = replayAPI(ctx, c, *ledgerName, prog)
	}
	if errors.Is(err, ledger.ErrChainBroken) {
		fmt.Fprintf(stdout, "%s: NOT VERIFIED: %v\n", *ledgerName, err)
		return 1, nil
	}
	if err != nil {
		return 2, err
	}

	years := map[int]bool{}
	for i := range evs {
		years[evs[i].FiscalYear] = true
	}
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o755); err != nil {
			return 2, fmt.Errorf("replay: %w", err)
		}
	}
	differ := 0
	for _, year := range slices.Sorted(func(yield func(int) bool) {
		for y := range years {
			if !yield(y) {
				return
			}
		}
	}) {
		for _, spec := range projections.Specs {
			got, foldErr := replayStatement(evs, spec, *ledgerName, year, total, cat)
			if *outDir != "" && foldErr == nil {
				name := filepath.Join(*outDir, fmt.Sprintf("%d-%s", year, spec.Name))
				if err := errors.Join(os.WriteFile(name+".csv", got.csv, 0o644), os.WriteFile(name+".json", got.json, 0o644)); err != nil {
					return 2, fmt.Errorf("replay: %w", err)
				}
			}
			if *dataDir != "" {
				if foldErr != nil {
					differ++
					fmt.Fprintf(stdout, "%d %-28s REFUSED: %v\n", year, spec.Name, foldErr)
				} else {
					fmt.Fprintf(stdout, "%d %-28s rebuilt\n", year, spec.Name)
				}
				continue
			}
			live, liveErr := liveStatement(ctx, c, *ledgerName, spec.Name, year, total)
			switch {
			case foldErr != nil || liveErr != nil:
				// Even when both refuse, a statement that cannot be made is a
				// problem to report, not an agreement.
				differ++
				fmt.Fprintf(stdout, "%d %-28s DIFFERS: replay error %v, live error %v\n", year, spec.Name, foldErr, liveErr)
			case got.equal(live):
				fmt.Fprintf(stdout, "%d %-28s identical (CSV %d bytes, JSON %d bytes)\n", year, spec.Name, len(got.csv), len(got.json))
			default:
				differ++
				fmt.Fprintf(stdout, "%d %-28s DIFFERS at %s\n", year, spec.Name, got.firstDifference(live))
			}
		}
	}
	fmt.Fprintf(stdout, "%s: replayed %d events of %d fiscal years", *ledgerName, total, len(years))
	if *dataDir == "" {
		fmt.Fprintf(stdout, "; %d statements differ from the live ones", differ)
	} else {
		fmt.Fprintf(stdout, "; %d statements refused", differ)
	}
	fmt.Fprintln(stdout)
	if differ > 0 {
		return 1, nil
	}
	return 0, nil
}

// rendering is a statement in both of the API's formats: the CSV users
// download and the JSON document, which also carries the title, dates and
// known_at the CSV leaves to its file name.
type rendering struct{ csv, json []byte }

func (r rendering) equal(o rendering) bool {
	return bytes.Equal(r.csv, o.csv) && bytes.Equal(r.json, o.json)
}

// firstDifference names the format and line where two renderings part.
func (r rendering) firstDifference(o rendering) string {
	if !bytes.Equal(r.csv, o.csv) {
		return fmt.Sprintf("CSV line %d", firstDifferentLine(r.csv, o.csv))
	}
	return fmt.Sprintf("JSON line %d", firstDifferentLine(r.json, o.json))
}

// replayStatement folds one statement from the replayed events and renders
// it exactly as ledgerd's API renders a statement known at seq.
func replayStatement(evs []events.Event, spec projections.Spec, ledgerName string, year int, seq uint64, cat *events.Catalog) (rendering, error) {
	st, err := spec.Fold(slices.Values(evs), projections.Filter{FiscalYear: year}, cat)
	if err != nil {
		return rendering{}, err
	}
	st.Ledger = ledgerName
	doc := report.FromStatement(st)
	doc.KnownAt = "seq " + strconv.FormatUint(seq, 10)
	var c, j bytes.Buffer
	if err := report.WriteCSV(&c, doc); err != nil {
		return rendering{}, err
	}
	enc := json.NewEncoder(&j)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return rendering{}, err
	}
	return rendering{c.Bytes(), j.Bytes()}, nil
}

func liveStatement(ctx context.Context, c client, ledgerName, statement string, year int, seq uint64) (rendering, error) {
	var r rendering
	for _, format := range []string{"csv", "json"} {
		q := url.Values{"year": {strconv.Itoa(year)}, "known_at": {strconv.FormatUint(seq, 10)}, "format": {format}}
		_, body, err := c.raw(ctx, "/v1/ledgers/"+url.PathEscape(ledgerName)+"/statements/"+url.PathEscape(statement)+"?"+q.Encode())
		if err != nil {
			return r, err
		}
		if format == "csv" {
			r.csv = body
		} else {
			r.json = body
		}
	}
	return r, nil
}

// chain recomputes the hash chain record by record, as Verify does inside
// ledgerd, so a replay over the API also proves the events it folded are the
// ones the log chained.
func replayFile(ctx context.Context, path, ledgerName string, prog io.Writer) ([]events.Event, uint64, error) {
	l, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer l.Close()
	// The file is at hand, so check it all (chain and indexes) before
	// trusting it; the file of a stopped ledgerd does not change meanwhile.
	v, err := l.Verify(ctx, ledgerName)
	if err != nil {
		return nil, 0, err
	}
	bar := newProgress(prog, ledgerName, v.Events)
	evs := make([]events.Event, 0, v.Events)
	err = l.Scan(ctx, ledgerName, 0, func(r ledger.Record) error {
		evs = append(evs, r.Event)
		bar.set(r.Seq)
		return nil
	})
	bar.done()
	if err != nil {
		return nil, 0, err
	}
	if uint64(len(evs)) != v.Events {
		return nil, 0, fmt.Errorf("replay: read %d events of %d", len(evs), v.Events)
	}
	return evs, v.Events, nil
}

func replayAPI(ctx context.Context, c client, ledgerName string, prog io.Writer) ([]events.Event, uint64, error) {
	var list struct {
		Ledgers []struct {
			Ledger string `json:"ledger"`
			Events uint64 `json:"events"`
		} `json:"ledgers"`
	}
	if _, err := c.get(ctx, "/v1/ledgers", &list); err != nil {
		return nil, 0, err
	}
	var total uint64
	found := false
	for _, l := range list.Ledgers {
		if l.Ledger == ledgerName {
			total, found = l.Events, true
		}
	}
	if !found {
		return nil, 0, fmt.Errorf("replay: ledger %q: %w", ledgerName, ledger.ErrNotFound)
	}
	// Replay exactly the first total events, even if more arrive meanwhile:
	// the live statements are then asked for as known at that sequence.
	bar := newProgress(prog, ledgerName, total)
	defer bar.done()
	var ch ledger.Chain
	evs := make([]events.Event, 0, total)
	for ch.Seq() < total {
		var page struct {
			Events []struct {
				Seq        uint64          `json:"seq"`
				RecordedAt string          `json:"recorded_at"`
				Hash       string          `json:"hash"`
				Event      json.RawMessage `json:"event"`
			} `json:"events"`
		}
		path := fmt.Sprintf("/v1/ledgers/%s/events?after=%d&limit=10000", url.PathEscape(ledgerName), ch.Seq())
		if _, err := c.get(ctx, path, &page); err != nil {
			return nil, 0, err
		}
		if len(page.Events) == 0 {
			return nil, 0, fmt.Errorf("replay: the log ends at seq %d, expected %d events", ch.Seq(), total)
		}
		for _, r := range page.Events {
			if r.Seq > total {
				break
			}
			e, err := events.DecodeJSON(r.Event)
			if err != nil {
				return nil, 0, fmt.Errorf("replay: seq %d: %w", r.Seq, err)
			}
			at, err := time.Parse(time.RFC3339Nano, r.RecordedAt)
			if err != nil {
				return nil, 0, fmt.Errorf("replay: seq %d: recorded_at: %w", r.Seq, err)
			}
			var hash [32]byte
			if h, err := hex.DecodeString(r.Hash); err != nil || len(h) != len(hash) {
				return nil, 0, fmt.Errorf("replay: seq %d: hash %q is not 32 bytes of hex", r.Seq, r.Hash)
			} else {
				copy(hash[:], h)
			}
			if err := ch.Next(r.Seq, at, hash, &e); err != nil {
				return nil, 0, fmt.Errorf("replay: %w", err)
			}
			evs = append(evs, e)
		}
		bar.set(ch.Seq())
	}
	return evs, total, nil
}

// progress draws a one-line bar with events/s and the time left, redrawn at
// most five times a second so drawing never costs more than reading.
type progress struct {
	w     io.Writer
	name  string
	total uint64
	n     uint64
	start time.Time
	drawn time.Time
}

func newProgress(w io.Writer, name string, total uint64) *progress {
	now := time.Now()
	return &progress{w: w, name: name, total: total, start: now, drawn: now}
}

func (p *progress) set(n uint64) {
	p.n = n
	if now := time.Now(); now.Sub(p.drawn) >= 200*time.Millisecond {
		p.drawn = now
		p.draw(now)
	}
}

func (p *progress) draw(now time.Time) {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = float64(p.n) / float64(p.total)
	}
	filled := int(frac * width)
	elapsed := now.Sub(p.start).Seconds()
	rate, eta := 0.0, "?"
	if elapsed > 0 && p.n > 0 {
		rate = float64(p.n) / elapsed
		eta = time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\rreplay %s [%s%s] %d/%d events  %.0f events/s  ETA %s ", p.name,
		strings.Repeat("#", filled), strings.Repeat("-", width-filled), p.n, p.total, rate, eta)
}

func (p *progress) done() {
	p.draw(time.Now())
	fmt.Fprintln(p.w)
}

func firstDifferentLine(a, b []byte) int {
	la, lb := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range min(len(la), len(lb)) {
		if !bytes.Equal(la[i], lb[i]) {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}
