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
package checkpoint

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"sync"
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
}

// view is one ledger's checkpoint.
type view struct {
	mu    sync.Mutex // serialises bringing it up to date
	c     *projections.Compactor
	saved uint64 // the seq of the checkpoint last stored

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
	evs  []events.Event
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
	s.mu.Unlock()
	var errs []error
	for name, v := range views {
		snap, err := s.current(context.Background(), name, true)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v.mu.Lock()
		if snap.seq > v.saved {
			errs = append(errs, s.save(name, v, snap))
		}
		v.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Size tells how far a ledger's checkpoint reaches (its last record) and
// how many compacted events stand for the records up to there.
func (s *Store) Size(ledgerName string) (seq uint64, compacted int) {
	s.mu.Lock()
	v := s.views[ledgerName]
	s.mu.Unlock()
	if v == nil {
		return 0, 0
	}
	if snap := v.published(); snap != nil {
		return snap.seq, len(snap.evs)
	}
	return 0, 0
}

func (v *view) published() *snapshot {
	v.state.Lock()
	defer v.state.Unlock()
	return v.snap
}

// Events is ledger.Log.EventsKnownAt answered from the checkpoint: the
// compacted events up to it, then the records after it, bounded by k. Every
// statement folds them to the same figures as the log's own events.
func (s *Store) Events(ctx context.Context, ledgerName string, k ledger.KnownAt, errp *error) func(yield func(events.Event) bool) {
	return s.EventsUntil(ctx, ledgerName, math.MaxInt32, k, errp)
}

// EventsUntil is Events for a statement that counts nothing dated after
// until (projections.Filter.LastDate): the compaction is kept in date
// order, so a statement as of June reads only the first half of it.
func (s *Store) EventsUntil(ctx context.Context, ledgerName string, until events.Date, k ledger.KnownAt, errp *error) func(yield func(events.Event) bool) {
	snap, err := s.current(ctx, ledgerName, false)
	if err != nil {
		return func(func(events.Event) bool) { *errp = err }
	}
	if !k.Includes(snap.seq, snap.at) {
		return s.log.EventsKnownAt(ctx, ledgerName, k, errp)
	}
	return func(yield func(events.Event) bool) {
		end := sort.Search(len(snap.evs), func(i int) bool { return snap.evs[i].Date > until })
		for _, e := range snap.evs[:end] {
			if !yield(e) {
				return
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
	if v.c == nil {
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
	err = s.log.Scan(ctx, ledgerName, snap.seq, func(r ledger.Record) error {
		v.c.Add(r.Event)
		last = r
		folded++
		if folded%65536 == 0 && time.Since(reported) >= 2*time.Second {
			reported = time.Now()
			rate := float64(folded) / time.Since(start).Seconds()
			behind = max(behind, uint64(folded)) // records appended meanwhile
			s.logger.Info("folding the log into its checkpoint", "ledger", ledgerName, "events", folded, "of", behind,
				"events_per_s", int(rate), "eta", (time.Duration(float64(behind-uint64(folded)) / rate * float64(time.Second))).Round(time.Second))
		}
		return nil
	})
	// Publish what was folded even if the scan stopped early (a reader
	// gone, say): the compaction already holds those records, and the next
	// refresh must start after them, not fold them twice.
	if folded > 0 {
		snap = &snapshot{seq: last.Seq, at: last.RecordedAt, head: last.Hash, evs: byDate(v.c.Events())}
		v.state.Lock()
		v.snap = snap
		v.state.Unlock()
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint of %s: %w", ledgerName, err)
	}
	if snap.seq-v.saved >= s.every {
		if err := s.save(ledgerName, v, snap); err != nil {
			// The checkpoint in memory is still right; storing it again is
			// only a matter of time at the next one.
			s.logger.Warn("store checkpoint", "ledger", ledgerName, "err", err)
		}
	}
	return snap, nil
}

// load starts v from the stored checkpoint, or from nothing. A stored
// checkpoint is derived data: if it cannot be read it is rebuilt from the
// log, never a reason not to start.
func (s *Store) load(ledgerName string, v *view) error {
	v.c = projections.NewCompactor()
	empty := &snapshot{}
	cp, err := s.log.LoadCheckpoint(ledgerName)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		s.logger.Info("no checkpoint: folding the log", "ledger", ledgerName)
	case err != nil:
		s.logger.Warn("checkpoint unreadable: folding the log", "ledger", ledgerName, "err", err)
	case cp.Version != projections.CompactVersion:
		s.logger.Info("checkpoint of other rules: folding the log again", "ledger", ledgerName, "stored", cp.Version, "now", projections.CompactVersion)
	default:
		for _, e := range cp.Events {
			v.c.Add(e)
		}
		empty = &snapshot{seq: cp.Seq, at: cp.RecordedAt, head: cp.Head, evs: byDate(v.c.Events())}
		v.saved = cp.Seq
		s.logger.Info("checkpoint loaded", "ledger", ledgerName, "seq", cp.Seq, "events", len(cp.Events))
	}
	v.state.Lock()
	v.snap = empty
	v.state.Unlock()
	return nil
}

// byDate orders a compaction by effective date, which EventsUntil relies
// on; folds are sums, so the order they see does not change a figure.
func byDate(evs []events.Event) []events.Event {
	slices.SortFunc(evs, func(a, b events.Event) int { return cmp.Compare(a.Date, b.Date) })
	return evs
}

func (s *Store) save(ledgerName string, v *view, snap *snapshot) error {
	err := s.log.SaveCheckpoint(ledgerName, ledger.Checkpoint{Version: projections.CompactVersion, Seq: snap.seq, RecordedAt: snap.at, Head: snap.head, Events: snap.evs})
	if err == nil {
		v.saved = snap.seq
		s.logger.Debug("checkpoint stored", "ledger", ledgerName, "seq", snap.seq, "events", len(snap.evs))
	}
	return err
}
