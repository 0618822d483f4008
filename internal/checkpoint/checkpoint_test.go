package checkpoint_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/checkpoint"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

func sample(t *testing.T) []events.Event {
	t.Helper()
	var evs []events.Event
	sc := bufio.NewScanner(bytes.NewReader(budgetledger.SampleLedger))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		e, err := events.DecodeJSON(sc.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
	return evs
}

type stepClock struct{ t time.Time }

func (c *stepClock) Now() time.Time { c.t = c.t.Add(time.Millisecond); return c.t }

// TestStoreFoldsLikeTheLog appends the sample, shuffled, with red entries,
// in small batches through restarts, and after every batch compares every
// statement served from checkpoints (as of random dates, as known at random
// earlier sequences and times, and now) with the same statement folded from
// the log itself. Checkpoints are taken every few records so that stored
// ones are loaded, a checkpoint of other rules is rebuilt, and one whose
// record changed is refused.
func TestStoreFoldsLikeTheLog(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 3))
	path := filepath.Join(t.TempDir(), "ledger.db")
	clock := &stepClock{t: time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func() (*ledger.Log, *checkpoint.Store) {
		l, err := ledger.Open(path, ledger.Options{Now: clock.Now, NoSync: true, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		s := checkpoint.New(l, checkpoint.Options{Logger: quiet, Refresh: 5, Every: 40})
		if err := s.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		return l, s
	}
	l, s := open()
	name := budgetledger.SampleLedgerName
	evs := sample(t)
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	var accepted []events.Event
	var times []time.Time
	restarts := 0
	for len(evs) > 0 {
		k := min(len(evs), 1+rng.IntN(60))
		batch := slices.Clone(evs[:k])
		evs = evs[k:]
		// Red entries for some spending already in the log.
		for range rng.IntN(3) {
			if len(accepted) == 0 {
				break
			}
			e := accepted[rng.IntN(len(accepted))]
			if _, ok := e.Body.(events.Expenditure); !ok {
				continue
			}
			r := e
			r.ID, r.Voucher, r.Body = "red-"+e.ID, "红", events.Reversal{EventID: e.ID, Reason: "冲销", Body: e.Body}
			batch = append(batch, r)
		}
		var subs []ledger.Submission
		for _, e := range batch {
			subs = append(subs, ledger.Submission{Ledger: name, Event: e})
		}
		outs, err := l.Append(context.Background(), subs...)
		if err != nil {
			t.Fatal(err)
		}
		for i, o := range outs {
			if o.Status == ledger.Rejected && testing.Verbose() {
				t.Log(o.Code, o.Reason)
			}
			if o.Status == ledger.Accepted {
				accepted = append(accepted, batch[i])
				times = append(times, o.RecordedAt)
			}
		}
		for range 4 {
			year := 2019 + rng.IntN(2)
			f := projections.Filter{FiscalYear: year}
			if rng.IntN(2) == 0 {
				f.AsOf = events.NewDate(year, time.Month(1+rng.IntN(12)), 1+rng.IntN(28))
			}
			var known ledger.KnownAt
			switch i := rng.IntN(len(times)); rng.IntN(3) {
			case 0:
				known.Seq = uint64(i + 1)
			case 1:
				known.Time = times[i]
			}
			spec := projections.Specs[rng.IntN(len(projections.Specs))]
			var err1, err2 error
			want, e1 := spec.Fold(l.EventsKnownAt(context.Background(), name, known, &err1), f, events.DefaultCatalog())
			served := s.Events(context.Background(), name, known, &err2)
			if rng.IntN(2) == 0 {
				served = s.EventsAsOf(context.Background(), name, f.LastDate(), known, &err2)
			}
			got, e2 := spec.Fold(served, f, events.DefaultCatalog())
			if err := errorsOf(e1, e2, err1, err2); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s %+v known at %+v: from checkpoints\n%+v\nfrom the log\n%+v", spec.Name, f, known, got, want)
			}
		}
		if rng.IntN(6) == 0 {
			restarts++
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l, s = open()
		}
	}
	t.Logf("%d events, %d restarts", len(accepted), restarts)
	if seq, compacted := s.Size(name); seq != uint64(len(accepted)) || compacted == 0 || compacted > len(accepted) {
		// The last reads may have left a few records for the next one.
		if n, _ := l.Len(name); n-seq >= 5 || compacted == 0 {
			t.Errorf("checkpoint at seq %d of %d with %d compacted events", seq, n, compacted)
		}
	}

	// The stored checkpoint is loaded at start, and one made under other
	// rules, or at a record that changed, is rebuilt.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cp, err := l.LoadCheckpoint(name)
	if n, _ := l.Len(name); err != nil || cp.Seq != n || cp.Version != projections.CompactVersion || len(cp.Events) == 0 {
		t.Fatalf("stored checkpoint: seq %d of %d, %q, %d events, %v", cp.Seq, n, cp.Version, len(cp.Events), err)
	}
	want := fold(t, l.EventsKnownAt, name)
	for _, bad := range []ledger.Checkpoint{
		{Version: "compact-0", Seq: cp.Seq, RecordedAt: cp.RecordedAt, Head: cp.Head, Events: cp.Events[:1]},
		{Version: cp.Version, Seq: cp.Seq, RecordedAt: cp.RecordedAt, Head: [32]byte{1}, Events: cp.Events[:1]},
	} {
		if err := l.SaveCheckpoint(name, bad); err != nil {
			t.Fatal(err)
		}
		s = checkpoint.New(l, checkpoint.Options{Logger: quiet})
		if err := s.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := fold(t, s.Events, name); !reflect.DeepEqual(got, want) {
			t.Errorf("from a checkpoint %q with head %x: %+v, want %+v", bad.Version, bad.Head[:2], got, want)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func errorsOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func fold(t *testing.T, evs func(context.Context, string, ledger.KnownAt, *error) func(func(events.Event) bool), name string) *projections.Statement {
	t.Helper()
	var scanErr error
	st, err := projections.FoldIncomeExpenditure(evs(context.Background(), name, ledger.KnownAt{}, &scanErr), projections.Filter{FiscalYear: 2020})
	if err != nil || scanErr != nil {
		t.Fatal(err, scanErr)
	}
	return st
}

// TestStoreSurvivesBadTimes: a refresh cut short by its reader leaves the
// checkpoint right (nothing folded twice), and a stored checkpoint that
// cannot be read is rebuilt rather than stopping the start.
func TestStoreSurvivesBadTimes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := ledger.Open(path, ledger.Options{NoSync: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(i int) ledger.Submission {
		return ledger.Submission{Ledger: "l", Event: events.Event{ID: "e" + strconv.Itoa(i), Ledger: "l", Unit: "本级", FiscalYear: 2020,
			Date: events.NewDate(2020, 3, 1+i%28), Source: "s", Voucher: "v", Body: events.Expenditure{Functional: "2019999", Economic: "30201",
				ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: events.Amount(100 + i)}}}
	}
	if _, err := l.Append(context.Background(), ev(0)); err != nil {
		t.Fatal(err)
	}
	s := checkpoint.New(l, checkpoint.Options{Logger: quiet, Refresh: 1})
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	var subs []ledger.Submission
	for i := 1; i <= 5000; i++ {
		subs = append(subs, ev(i))
	}
	if _, err := l.Append(context.Background(), subs...); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	var scanErr error
	for range s.Events(cancelled, "l", ledger.KnownAt{}, &scanErr) {
	}
	if scanErr == nil {
		t.Fatal("a read with its context cancelled succeeded")
	}
	want := fold(t, l.EventsKnownAt, "l")
	if got := fold(t, s.Events, "l"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a cancelled refresh: %+v, want %+v", got.Rows, want.Rows)
	}
	if err := errorsOf(s.Close(), l.Close()); err != nil {
		t.Fatal(err)
	}

	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("checkpoints")).Put([]byte("l"), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 'x'})
	})
	if err := errorsOf(err, db.Close()); err != nil {
		t.Fatal(err)
	}
	l, err = ledger.Open(path, ledger.Options{NoSync: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s = checkpoint.New(l, checkpoint.Options{Logger: quiet})
	if err := s.Open(context.Background()); err != nil {
		t.Fatalf("start with an unreadable checkpoint: %v", err)
	}
	if got := fold(t, s.Events, "l"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after an unreadable checkpoint: %+v, want %+v", got.Rows, want.Rows)
	}
}

// TestFirstFoldByWorkers: a first fold of the sample, shuffled, by one to
// five workers serves what the log folds to, and reaches the log's last
// record; one stopped by its context publishes nothing, and the next read
// folds the log again.
func TestFirstFoldByWorkers(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 5))
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.db"), ledger.Options{NoSync: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	evs := sample(t)
	rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	name := budgetledger.SampleLedgerName
	for _, e := range evs {
		if _, err := l.Append(context.Background(), ledger.Submission{Ledger: name, Event: e}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := l.Len(name)
	if err != nil || n == 0 {
		t.Fatalf("log of %d records: %v", n, err)
	}
	want := fold(t, l.EventsKnownAt, name)
	for workers := 1; workers <= 5; workers++ {
		restore := checkpoint.SetFoldWorkers(workers)
		s := checkpoint.New(l, checkpoint.Options{Logger: quiet, Every: 1 << 40})
		if err := s.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := fold(t, s.Events, name); !reflect.DeepEqual(got, want) {
			t.Errorf("%d workers: %+v, want %+v", workers, got, want)
		}
		if seq, compacted := s.Size(name); seq != n || compacted == 0 {
			t.Errorf("%d workers: checkpoint at seq %d of %d, %d compacted events", workers, seq, n, compacted)
		}
		restore()
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := checkpoint.New(l, checkpoint.Options{Logger: quiet, Every: 1 << 40})
	if err := s.Open(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a fold with its context cancelled: %v", err)
	}
	if got := fold(t, s.Events, name); !reflect.DeepEqual(got, want) {
		t.Errorf("after a cancelled fold: %+v, want %+v", got, want)
	}
}
