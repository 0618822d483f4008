// Package checkpoint serves statement folds from a checkpoint of each
// ledger's compacted events plus the records appended since, so that a
// statement as of any date does not read the whole log.
//
// When checkpoints are taken: a ledger's compaction (projections.Compactor)
// is brought up to date in memory whenever a read finds Refresh or more
// records after it, and stored in the ledger's bbolt file (ledger.Checkpoint)
// whenever Every or more records have been folded since the last one stored,
// and for every ledger, up to its last record, when the Store is closed. At start the stored
// checkpoint is loaded and only the records after it are read; a checkpoint
// made under other compaction rules (projections.CompactVersion), or whose
// record no longer carries the hash it was taken at, is rebuilt from the log.
//
// Reads as known at a moment before the checkpoint fold the log itself.
//
// # The date hierarchy
//
// A compaction keyed by day still holds an entry per unit, code pair and
// day, so a statement as of December would fold most of a busy ledger's
// year. Each checkpoint therefore keeps the compaction at three grains: by
// day, by month (each entry dated the last day of its month) and by year
// (dated 31 December). A statement as of D (EventsAsOf) reads the years
// before D's, the months of D's year before D's month and the days of D's
// month up to D: the fewest entries that stand for everything up to D.
//
// Why a coarser entry folds like the days it stands for. A fold reads an
// event's Date only to compare it with the statement's as-of date
// (Filter.Match: e.Date <= asOf; FoldBalanceSheet: e.Date > asOf) and with
// 1 January of the fiscal year (FoldBalanceSheet's opening position); the
// prior year FoldNotes quotes is folded as of its 31 December. Every other
// use of an event's date in projections makes new events (CarryForward) or
// keys the compaction. Moving a date within its month or year keeps it on
// its side of every 1 January, and the cover only holds months and years
// that end before D, whose entries count as of D at their real date and at
// their period's end alike. So the cover folds like the log for a
// statement as of D, but not for a statement as of an earlier date: the
// checks of httpapi fold a year as of several dates and next year's
// openings from one read. Such a read asks for math.MaxInt32 (Events),
// which reads days only and is exact as of any date.
//
// Registrations, evaluations, closes and asset changes, which the
// Compactor keeps one by one, are moved too: no fold reads their day (a
// unit's registration counts by fiscal year or as of D, a dear item keeps
// its own entry and price, a 年终结账 is read by no fold). Their order is
// the compaction's, not the log's: by period, then as the Compactor took
// them (the log's order, or the stored checkpoint's after a restart). Only
// a unit registered twice in a year under different names or types, or a
// project evaluated twice, could tell, since the folds keep only one of
// them; the daily compaction was never in the log's order either.
//
// Each grain keeps a Compactor per period (day, month or year), so that a
// refresh copies only the periods it changed and sorts nothing; a
// published snapshot shares the others with the one before. Only the daily
// compaction is stored, as before; the coarser grains are made from it
// again on load.
package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

// Defaults for Store.
const (
	DefaultRefresh = 1024
	DefaultEvery   = 100_000
)

// Store keeps one checkpoint per ledger of a log.
type Store struct {
	log     *ledger.Log
	logger  *slog.Logger
	refresh uint64
	every   uint64

	mu    sync.Mutex
	views map[string]*view

	// Checkpoints are stored in the background, so that a reader (or the
	// first start, which waits for its fold) does not wait for encoding
	// and syncing tens of megabytes; Close waits for them, then stores
	// every ledger's last state itself.
	storing sync.WaitGroup
	closing bool // guarded by mu
}

// view is one ledger's checkpoint.
type view struct {
	mu                  sync.Mutex // serialises bringing it up to date
	days, months, years *grain     // nil until loaded
	saved               uint64     // the seq of the checkpoint last stored
	storing             bool       // a store of it runs in the background
	resave              bool       // the stored one is damaged: store the next one whatever its size

	// state guards snap, which is replaced whole: a reader takes the
	// pointer and never waits for an update in progress.
	state sync.Mutex
	snap  *snapshot
}

// snapshot is an immutable checkpoint readers fold.
type snapshot struct {
	seq  uint64
	at   time.Time
	head [32]byte
	// The compaction at each grain, periods in date order.
	days, months, years []period
}

// period is the compaction of one day, month or year: entries all dated
// date (the day, or the last day of the month or year). Its evs are never
// changed once published.
type period struct {
	date events.Date
	evs  []events.Event
}

// grain compacts events by period: one Compactor per period, so that a
// refresh copies out only the periods it changed.
type grain struct {
	end   func(events.Date) events.Date // the date a day's period carries
	parts map[events.Date]*part
	dirty []events.Date // periods changed since the last publish
}

// part is one period's compaction, dirty until published.
type part struct {
	date  events.Date
	c     *projections.Compactor
	dirty bool
}

func newGrain(end func(events.Date) events.Date) *grain {
	return &grain{end: end, parts: map[events.Date]*part{}}
}

// part returns the period dated d, marked dirty.
func (g *grain) part(d events.Date) *part {
	p := g.parts[d]
	if p == nil {
		p = &part{date: d, c: projections.NewCompactor()}
		g.parts[d] = p
	}
	if !p.dirty {
		p.dirty = true
		g.dirty = append(g.dirty, d)
	}
	return p
}

func (g *grain) add(e events.Event) {
	e.Date = g.end(e.Date)
	g.part(e.Date).c.Add(e)
}

// load adds an event of a stored compaction of this grain (see
// projections.Compactor.Load).
func (g *grain) load(e events.Event) {
	g.part(g.end(e.Date)).c.Load(e)
}

// route is the worker of n that folds the period dated d: with two, days
// of a month alternate.
func route(d events.Date, n int) int { return int(d) % n }

// split hands g's periods out to n grains, one per worker of foldDays, each
// holding the periods route gives it; join takes them back. Between the
// two, worker w alone adds to the periods of grain w, old or new.
func (g *grain) split(n int) []*grain {
	gs := make([]*grain, n)
	for w := range gs {
		gs[w] = newGrain(g.end)
	}
	for d, p := range g.parts {
		gs[route(d, n)].parts[d] = p
	}
	return gs
}

func (g *grain) join(gs []*grain) {
	for _, w := range gs {
		for d, p := range w.parts {
			g.parts[d] = p
		}
		g.dirty = append(g.dirty, w.dirty...)
	}
}

// publish returns prev with the periods changed since replaced by copies
// of their compaction; prev itself is left as it was, for its readers.
func (g *grain) publish(prev []period) []period {
	if len(g.dirty) == 0 {
		return prev
	}
	slices.Sort(g.dirty)
	// Copying out the compactions is most of a publish after a long fold
	// (every day changed): it runs on every core.
	evs := make([][]events.Event, len(g.dirty))
	onEach(workers(), func(w, n int) {
		for j := w; j < len(g.dirty); j += n {
			evs[j] = g.parts[g.dirty[j]].c.Events()
		}
	})
	out := make([]period, 0, len(prev)+len(g.dirty))
	i := 0
	for j, d := range g.dirty {
		for i < len(prev) && prev[i].date < d {
			out = append(out, prev[i])
			i++
		}
		if i < len(prev) && prev[i].date == d {
			i++
		}
		g.parts[d].dirty = false
		out = append(out, period{date: d, evs: evs[j]})
	}
	out = append(out, prev[i:]...)
	g.dirty = g.dirty[:0]
	return out
}

// coarsen compacts the entries of ps into a grain of longer periods, on
// every core: each worker makes the periods route gives it.
func coarsen(ps []period, end func(events.Date) events.Date) *grain {
	n := workers()
	gs := make([]*grain, n)
	onEach(n, func(w, n int) {
		gs[w] = newGrain(end)
		for _, p := range ps {
			if route(end(p.date), n) == w {
				for _, e := range p.evs {
					gs[w].add(e)
				}
			}
		}
	})
	g := newGrain(end)
	g.join(gs)
	return g
}

// onEach runs f(w, n) for w of 0..n-1 on n goroutines, and returns when
// they have.
func onEach(n int, f func(w, n int)) {
	var wg sync.WaitGroup
	for w := range n {
		wg.Go(func() { f(w, n) })
	}
	wg.Wait()
}

func sameDay(d events.Date) events.Date { return d }

// monthEnd is the last day of d's month.
func monthEnd(d events.Date) events.Date {
	y, m := d.Year(), int(d)/100%100
	last := 31
	switch m {
	case 4, 6, 9, 11:
		last = 30
	case 2:
		last = 28
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			last = 29
		}
	}
	return events.Date(y*10000 + m*100 + last)
}

func yearEnd(d events.Date) events.Date { return events.YearEnd(d.Year()) }

// between returns the periods of ps dated from..to, both included.
func between(ps []period, from, to events.Date) []period {
	i := sort.Search(len(ps), func(i int) bool { return ps[i].date >= from })
	j := sort.Search(len(ps), func(i int) bool { return ps[i].date > to })
	if j < i {
		return nil
	}
	return ps[i:j]
}

// Options tune a Store; zero values take the defaults.
type Options struct {
	Logger  *slog.Logger
	Refresh uint64
	Every   uint64
}

// New returns a Store over l.
func New(l *ledger.Log, opts Options) *Store {
	s := &Store{log: l, logger: opts.Logger, refresh: opts.Refresh, every: opts.Every, views: map[string]*view{}}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.refresh == 0 {
		s.refresh = DefaultRefresh
	}
	if s.every == 0 {
		s.every = DefaultEvery
	}
	return s
}

// Open loads the stored checkpoint of every ledger and brings each up to
// date, so that the first statement after a restart reads only what was
// appended after the last checkpoint.
func (s *Store) Open(ctx context.Context) error {
	names, err := s.log.Ledgers()
	if err != nil {
		return fmt.Errorf("checkpoints: %w", err)
	}
	for _, name := range names {
		if _, err := s.current(ctx, name, true); err != nil {
			return err
		}
	}
	return nil
}

// Close brings every ledger's checkpoint up to date and stores it, so
// that a restart reads nothing twice.
func (s *Store) Close() error {
	s.mu.Lock()
	views := make(map[string]*view, len(s.views))
	for k, v := range s.views {
		views[k] = v
	}
	s.closing = true
	s.mu.Unlock()
	s.storing.Wait()
	var errs []error
	for name, v := range views {
		snap, err := s.current(context.Background(), name, true)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v.mu.Lock()
		if snap.seq > v.saved {
			err := s.save(name, snap)
			if err == nil {
				v.saved = snap.seq
			}
			errs = append(errs, err)
		}
		v.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Size tells how far a ledger's checkpoint reaches (its last record) and
// how many compacted events (by day) stand for the records up to there.
func (s *Store) Size(ledgerName string) (seq uint64, compacted int) {
	if snap := s.published(ledgerName); snap != nil {
		return snap.seq, entries(snap.days)
	}
	return 0, 0
}

// Grains tells how many compacted events a ledger's checkpoint holds by
// day, by month and by year.
func (s *Store) Grains(ledgerName string) (days, months, years int) {
	if snap := s.published(ledgerName); snap != nil {
		return entries(snap.days), entries(snap.months), entries(snap.years)
	}
	return 0, 0, 0
}

func entries(ps []period) int {
	n := 0
	for _, p := range ps {
		n += len(p.evs)
	}
	return n
}

func (s *Store) published(ledgerName string) *snapshot {
	s.mu.Lock()
	v := s.views[ledgerName]
	s.mu.Unlock()
	if v == nil {
		return nil
	}
	return v.published()
}

func (v *view) published() *snapshot {
	v.state.Lock()
	defer v.state.Unlock()
	return v.snap
}

// Events is ledger.Log.EventsKnownAt answered from the checkpoint: the
// compacted events up to it, by day, then the records after it, bounded by
// k. Every statement folds them to the same figures as the log's own
// events, as of any date.
func (s *Store) Events(ctx context.Context, ledgerName string, k ledger.KnownAt, errp *error) func(yield func(events.Event) bool) {
	return s.EventsAsOf(ctx, ledgerName, math.MaxInt32, k, errp)
}

// EventsAsOf is Events for a statement as of asOf (its
// projections.Filter.LastDate is asOf): the checkpoint is read by year up
// to asOf's year, by month up to its month, then by day, so that a
// statement as of December reads a year in a few thousand entries. The
// figures of a statement as of any other date would be wrong (see the
// package comment); an asOf that is no calendar date, such as
// math.MaxInt32, reads every day up to it, for folds as of any date.
func (s *Store) EventsAsOf(ctx context.Context, ledgerName string, asOf events.Date, k ledger.KnownAt, errp *error) func(yield func(events.Event) bool) {
	return s.events(ctx, ledgerName, k, errp, func(snap *snapshot) [][]period {
		if !asOf.Valid() {
			return [][]period{between(snap.days, 0, asOf)}
		}
		jan1 := events.NewDate(asOf.Year(), time.January, 1)
		first := asOf - asOf%100 + 1
		return [][]period{
			between(snap.years, 0, jan1-1),
			between(snap.months, jan1, first-1),
			between(snap.days, first, asOf),
		}
	})
}

// events yields the checkpoint's periods that read picks, then the
// records after the checkpoint, bounded by k.
func (s *Store) events(ctx context.Context, ledgerName string, k ledger.KnownAt, errp *error, read func(*snapshot) [][]period) func(yield func(events.Event) bool) {
	snap, err := s.current(ctx, ledgerName, false)
	if err != nil {
		return func(func(events.Event) bool) { *errp = err }
	}
	if !k.Includes(snap.seq, snap.at) {
		return s.log.EventsKnownAt(ctx, ledgerName, k, errp)
	}
	return func(yield func(events.Event) bool) {
		for _, ps := range read(snap) {
			for _, p := range ps {
				for _, e := range p.evs {
					if !yield(e) {
						return
					}
				}
			}
		}
		for e := range s.log.EventsKnownAtAfter(ctx, ledgerName, snap.seq, k, errp) {
			if !yield(e) {
				return
			}
		}
	}
}

// current returns ledgerName's checkpoint, first loading it and bringing it
// up to date when it is Refresh or more records behind (or always, with
// force).
func (s *Store) current(ctx context.Context, ledgerName string, force bool) (*snapshot, error) {
	n, err := s.log.Len(ledgerName)
	if err != nil {
		return nil, err // no view for a ledger that does not exist
	}
	s.mu.Lock()
	v, ok := s.views[ledgerName]
	if !ok {
		v = &view{}
		s.views[ledgerName] = v
	}
	s.mu.Unlock()

	if snap := v.published(); snap != nil && !force && n-snap.seq < s.refresh {
		return snap, nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.days == nil {
		if err := s.load(ledgerName, v); err != nil {
			return nil, err
		}
	}
	snap := v.published()
	var last ledger.Record
	folded := 0
	// A long fold (the first start, or new compaction rules) reports its
	// progress, as ledgerctl replay does on a terminal.
	start, reported := time.Now(), time.Now()
	behind := n - snap.seq
	progress := func(folded int) {
		if time.Since(reported) >= 2*time.Second {
			reported = time.Now()
			rate := float64(folded) / time.Since(start).Seconds()
			behind = max(behind, uint64(folded)) // records appended meanwhile
			s.logger.Info("folding the log into its checkpoint", "ledger", ledgerName, "events", folded, "of", behind,
				"events_per_s", int(rate), "eta", (time.Duration(float64(behind-uint64(folded)) / rate * float64(time.Second))).Round(time.Second))
		}
	}
	// A long fold (more records than the days hold: the first start, new
	// rules) compacts the days only, on every core (foldDays); the months
	// and years are then made from the days, which are fewer than the
	// records. A refresh folds each record
	// into every grain, so that it copies out only the periods it changed.
	long := behind > uint64(entries(snap.days))
	if long {
		last, folded, err = s.foldDays(ctx, ledgerName, snap.seq, 0, v.days, progress)
		if err != nil {
			// Each worker folded a part of its records, which together are
			// no prefix of the log: nothing of this fold can be published,
			// and the next read loads the view again.
			v.days, v.months, v.years = nil, nil, nil
			return nil, fmt.Errorf("checkpoint of %s: %w", ledgerName, err)
		}
	} else {
		err = s.log.Scan(ctx, ledgerName, snap.seq, func(r ledger.Record) error {
			v.days.add(r.Event)
			v.months.add(r.Event)
			v.years.add(r.Event)
			last = r
			if folded++; folded%65536 == 0 {
				progress(folded)
			}
			return nil
		})
	}
	// Publish what was folded even if the scan stopped early (a reader
	// gone, say): the compaction already holds those records, and the next
	// refresh must start after them, not fold them twice.
	if folded > 0 {
		foldedIn := time.Since(start)
		snap = v.publish(snap, last.Seq, last.RecordedAt, last.Hash, long)
		if long {
			// What an operator waits for at a first start; the two parts
			// tell which one to look at when it is slow.
			took := time.Since(start)
			s.logger.Info("log folded into its checkpoint", "ledger", ledgerName, "events", folded,
				"fold", foldedIn.Round(time.Millisecond), "publish", (took - foldedIn).Round(time.Millisecond),
				"events_per_s", int(float64(folded)/took.Seconds()))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint of %s: %w", ledgerName, err)
	}
	if (snap.seq-v.saved >= s.every || v.resave) && !v.storing && s.startStoring() {
		resave := v.resave
		v.storing, v.resave = true, false
		go func() {
			defer s.storing.Done()
			err := s.save(ledgerName, snap)
			v.mu.Lock()
			defer v.mu.Unlock()
			v.storing = false
			if err != nil {
				// The checkpoint in memory is still right; storing it again
				// is only a matter of time at the next one.
				s.logger.Warn("store checkpoint", "ledger", ledgerName, "err", err)
				v.resave = v.resave || resave // the damaged one is still stored
				return
			}
			v.saved = max(v.saved, snap.seq)
		}()
	}
	return snap, nil
}

// startStoring counts a store about to start in the background, unless
// the Store is closing.
func (s *Store) startStoring() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.storing.Add(1)
	return true
}

// publish makes the snapshot after prev that reaches record seq; with
// rebuild, the months and years (which then took no records) are made
// again from the days.
func (v *view) publish(prev *snapshot, seq uint64, at time.Time, head [32]byte, rebuild bool) *snapshot {
	snap := &snapshot{seq: seq, at: at, head: head, days: v.days.publish(prev.days)}
	if rebuild {
		v.months = coarsen(snap.days, monthEnd)
		snap.months = v.months.publish(nil)
		v.years = coarsen(snap.months, yearEnd)
		snap.years = v.years.publish(nil)
	} else {
		snap.months = v.months.publish(prev.months)
		snap.years = v.years.publish(prev.years)
	}
	v.state.Lock()
	v.snap = snap
	v.state.Unlock()
	return snap
}

// foldWorkers is the number of workers of a long fold and a publish (0:
// one per core, at most 8); a test changes it.
var foldWorkers = 0

func workers() int {
	if foldWorkers != 0 {
		return foldWorkers
	}
	return max(1, min(runtime.GOMAXPROCS(0), 8))
}

// foldDays folds the records of ledgerName after seq into days and
// returns the last of them and how many there were, calling progress
// (from one worker at a time) with the count so far.
//
// Design: ledger.ScanRawPartitioned reads the log and hands each record,
// undecoded, to the worker route gives its day, one per core; each worker
// adds its records to its own share of the days (split, then join) with
// Compactor.AddBinary, which decodes only the first event of each key.
// Periods are independent compactions, so the workers share nothing, and
// a period takes its records in sequence order. On an error the workers
// have each folded a part of their records: days must then be dropped, not
// published.
func (s *Store) foldDays(ctx context.Context, ledgerName string, after, until uint64, days *grain, progress func(int)) (last ledger.Record, folded int, err error) {
	workers := workers()
	gs := days.split(workers)
	type worker struct {
		d    events.Decoder
		last uint64 // the sequence of its last record
		n    atomic.Int64
		_    [64]byte // apart from the next worker's counter
	}
	ws := make([]worker, workers)
	err = s.log.ScanRawPartitioned(ctx, ledgerName, after, workers,
		func(r ledger.RawRecord) (int, error) {
			date, err := events.BinaryDate(r.Event)
			if err != nil {
				return 0, fmt.Errorf("record %d: %w", r.Seq, err)
			}
			return route(days.end(date), workers), nil
		},
		func(i int, r ledger.RawRecord) error {
			if until != 0 && r.Seq > until {
				return nil
			}
			v, ok := events.ViewAmount(r.Event)
			date := v.Date
			if !ok {
				var err error
				if date, err = events.BinaryDate(r.Event); err != nil {
					return fmt.Errorf("record %d: %w", r.Seq, err)
				}
			}
			g, w := gs[i], &ws[i]
			p := g.part(g.end(date))
			if err := p.c.AddView(v, ok, r.Event, p.date, &w.d); err != nil {
				return fmt.Errorf("record %d: %w", r.Seq, err)
			}
			w.last = r.Seq
			if n := w.n.Add(1); i == 0 && n%65536 == 0 {
				sum := 0
				for j := range ws {
					sum += int(ws[j].n.Load())
				}
				progress(sum)
			}
			return nil
		})
	onEach(workers, func(w, _ int) {
		for _, p := range gs[w].parts {
			p.c.SettleBinary()
		}
	})
	days.join(gs)
	var lastSeq uint64
	for i := range ws {
		folded += int(ws[i].n.Load())
		lastSeq = max(lastSeq, ws[i].last)
	}
	if err == nil && lastSeq > 0 {
		// The snapshot records the last record's time and hash.
		last, err = s.log.Get(ledgerName, lastSeq)
	}
	return last, folded, err
}

// Refold folds the first seq records of a ledger's log into the daily
// compaction a checkpoint taken at seq stores: what a deep verification
// compares the stored checkpoint with (ledger.Log.VerifyCheckpoint). The
// events come in the stored order's periods, and within a period in an
// order of the compaction's own, which a caller compares as a set.
func Refold(ctx context.Context, l *ledger.Log, ledgerName string, seq uint64) ([]events.Event, error) {
	s := New(l, Options{Logger: slog.New(slog.DiscardHandler)})
	days := newGrain(sameDay)
	if _, _, err := s.foldDays(ctx, ledgerName, 0, seq, days, func(int) {}); err != nil {
		return nil, fmt.Errorf("refold %s: %w", ledgerName, err)
	}
	var evs []events.Event
	for _, p := range days.publish(nil) {
		evs = append(evs, p.evs...)
	}
	return evs, nil
}

// load starts v from the stored checkpoint, or from nothing. A stored
// checkpoint is derived data: if it cannot be read it is rebuilt from the
// log, never a reason not to start.
func (s *Store) load(ledgerName string, v *view) error {
	v.days, v.months, v.years = newGrain(sameDay), newGrain(monthEnd), newGrain(yearEnd)
	snap := &snapshot{}
	cp, err := s.log.LoadCheckpoint(ledgerName)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		s.logger.Info("no checkpoint: folding the log", "ledger", ledgerName)
	case errors.Is(err, ledger.ErrCheckpointDamaged):
		// Derived data, so never a reason not to start; but something
		// changed the file behind the log's back, which an operator must
		// hear of.
		s.logger.Error("stored checkpoint damaged: rebuilding it from the log", "ledger", ledgerName, "err", err)
		v.resave = true
	case err != nil:
		// The log itself cannot be read (its chain broken at the
		// checkpoint's record, say): nothing is loaded, and the next read
		// tries again.
		v.days, v.months, v.years = nil, nil, nil
		return err
	case cp.Version != projections.CompactVersion:
		s.logger.Info("checkpoint of other rules: folding the log again", "ledger", ledgerName, "stored", cp.Version, "now", projections.CompactVersion)
	default:
		// The grains are independent: the days are compacted on a second
		// core while the months, and the years from the months (fewer
		// than the days), are on this one. The goroutine ends before load
		// returns.
		var days []period
		var wg sync.WaitGroup
		wg.Go(func() {
			for _, e := range cp.Events {
				v.days.load(e)
			}
			days = v.days.publish(nil)
		})
		for _, e := range cp.Events {
			v.months.add(e)
		}
		months := v.months.publish(nil)
		v.years = coarsen(months, yearEnd)
		years := v.years.publish(nil)
		wg.Wait()
		snap = &snapshot{seq: cp.Seq, at: cp.RecordedAt, head: cp.Head, days: days, months: months, years: years}
		v.saved = cp.Seq
		s.logger.Info("checkpoint loaded", "ledger", ledgerName, "seq", cp.Seq, "events", len(cp.Events))
	}
	v.state.Lock()
	v.snap = snap
	v.state.Unlock()
	return nil
}

// save stores the daily compaction of snap, the one grain the others are
// made from, in date order as it always was.
func (s *Store) save(ledgerName string, snap *snapshot) error {
	evs := make([]events.Event, 0, entries(snap.days))
	for _, p := range snap.days {
		evs = append(evs, p.evs...)
	}
	err := s.log.SaveCheckpoint(ledgerName, ledger.Checkpoint{Version: projections.CompactVersion, Seq: snap.seq, RecordedAt: snap.at, Head: snap.head, Events: evs})
	if err == nil {
		s.logger.Debug("checkpoint stored", "ledger", ledgerName, "seq", snap.seq, "events", len(evs))
	}
	return err
}
