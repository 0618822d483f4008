package ledger

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/budgetledger/budgetledger/events"
)

// formatVersion is the on-disk format described in doc.go. Open reads
// format 1 too and, when it may write, upgrades it to 2 (initFormat).
const formatVersion = "2"

const recordVersion = 1

// UnroutedLedger holds rejections whose ledger name could not be used.
const UnroutedLedger = "_unrouted"

var (
	bucketMeta     = []byte("meta")
	bucketLedgers  = []byte("ledgers")
	bucketLog      = []byte("log")
	bucketIDs      = []byte("ids")
	bucketRejects  = []byte("rejects")
	bucketRejIDs   = []byte("rejids")
	bucketReversed = []byte("reversed")
	bucketClosed   = []byte("closed")
	bucketQuota    = []byte("quota")
	keyFormat      = []byte("format")
	keyID          = []byte("id")
)

// Defaults of the rejection quota (Options).
const (
	DefaultRejectionsPerDay    = 10_000
	DefaultRejectionsPerDayAll = 50_000
)

// Options tune a Log. The zero value is ready for production.
type Options struct {
	// Now is the clock stamping recorded times; time.Now when nil.
	Now func() time.Time
	// MaxBatch caps the events in one transaction (default 10000).
	MaxBatch int
	// NoSync skips fsync on commit. Only for benchmarks that measure
	// everything but the disk; never in production.
	NoSync bool
	// ReadOnly opens the file for reading only (shared lock); Append fails.
	ReadOnly bool
	// Logger receives operational messages; slog.Default when nil.
	Logger *slog.Logger
	// CarryForward computes, for 年终结账, the next year's opening balances
	// from a ledger's events (projections.CarryForward, wired by ledgerd;
	// the log knows no statements). A *events.ValidationError refuses the
	// close; any other error fails the commit. Without it, a close is
	// refused.
	CarryForward func(evs iter.Seq[events.Event], ledger string, year int) ([]events.Event, error)
	// Mark is the path of the data directory's mark file (mark.go): Open
	// refuses a file that is not the log the mark names, and every commit
	// moves the mark on. Empty: no mark (tests, tools reading a copy).
	Mark string
	// AcceptFile opens the file as it is even when the mark names another
	// log or a later commit, and records it in the mark: the operator's
	// explicit way out after a loss with no backup (ledgerd -accept-log).
	AcceptFile bool
	// NoVerify skips the verification a writable Open runs before the
	// log's first commit (see Open). For tests and tools that verify
	// themselves; never in production.
	NoVerify bool
	// VerifyAfter, when not nil, holds the verification back until it is
	// closed: ledgerd lets its first fold of the log into checkpoints,
	// which reads every record, have the cores first. Appends wait the
	// longer.
	VerifyAfter <-chan struct{}
	// RejectionsPerDay bounds the rejections stored a day (UTC) for one
	// ledger, RejectionsPerDayAll those of every ledger together: past
	// them a rejection is still answered, and counted, but not stored, so
	// that a flood of bad input cannot fill the disk. Zero takes the
	// defaults; a negative value stores none.
	RejectionsPerDay, RejectionsPerDayAll int
}

// Log is the append-only event log. Its methods are safe for concurrent use.
//
// Design: a single writer goroutine (run) owns every write transaction and
// the head cache (last seq, hash and recorded time per ledger). Append sends a
// request to it and waits for the reply, which is sent after the commit; so
// the writer never blocks on callers, and callers learn an outcome only once
// it is durable. The writer ends when Close cancels it; Close waits for it
// before closing the file, so no goroutine outlives Close.
//
// A log stops taking events (ErrStopped, for good) when it finds that it
// cannot trust its file: a read found it damaged, or the path no longer
// names the file it opened (removed or replaced while open). Reads go on
// where they can; Health says why appends cannot.
type Log struct {
	db   *bolt.DB
	path string
	file os.FileInfo // the file opened, to notice it replaced
	id   string      // the log's identity (meta "id")
	// format is the file's format: "1" only for a file opened read-only
	// (a writable Open upgrades it).
	format string
	opts   Options
	reqs   chan *request
	quit   chan struct{}
	wg     sync.WaitGroup
	log    *slog.Logger
	mark   *marker

	// mu orders sends on reqs before Close: Append sends holding the read
	// lock and only while closed is false, so once Close has set closed
	// (under the write lock) no request can be queued that the writer's
	// final drain would miss.
	mu     sync.RWMutex
	closed atomic.Bool

	stopped   atomic.Pointer[error]  // why the log stopped taking events
	commitErr atomic.Pointer[error]  // the last commit's failure, until one succeeds
	verifying atomic.Pointer[string] // what the verification at open is doing, until it is done
	verified  chan struct{}          // closed when the verification at open is done

	heads map[string]head // owned by the writer goroutine
}

// head is the end of one ledger's chain and of its rejections.
type head struct {
	seq        uint64
	hash       [32]byte
	recordedAt int64
	rejects    uint64
	rejHash    [32]byte
}

// Submission is one event handed to Append, or the reason it could not be
// decoded or validated; in that case it is recorded as a rejection.
type Submission struct {
	// Ledger is where the event was sent (a subject or URL); the event's own
	// ledger field must agree.
	Ledger string
	// Event is the decoded, validated event. Ignored when Err is set.
	Event events.Event
	// Err is why the event was refused before reaching the log (decoding or
	// validation); it is recorded as a rejection with its code.
	Err error
	// ID is the best known id for a rejected submission (the event's id, or
	// the transport's message id) so the publisher can look the outcome up.
	ID string
	// Raw is the payload as received, kept with a rejection for diagnosis:
	// its first MaxRawKept bytes, with its length and SHA-256.
	Raw []byte
	// RawLen and RawSHA256 describe the whole payload when Raw holds only
	// its start (a transport that refused to read the rest, being too
	// large); zero: Raw is all of it.
	RawLen    int
	RawSHA256 [32]byte
	// Via names the way in ("inbox", "request", "http"), kept with rejections.
	Via string
	// InboxSeq is the JetStream stream sequence of an inbox message, returned
	// in the outcome so that a publisher can match it to what it published.
	InboxSeq uint64
}

type request struct {
	subs     []Submission
	outcomes []Outcome
	err      error
	done     chan struct{}
}

// Open opens (creating if needed) the log at path and starts its writer.
//
// Before bbolt maps the file, CheckFile checks it against its meta pages,
// so that a truncated or damaged file is an error (ErrDamaged), never a
// fault. With Options.Mark, a file that is not the log the data directory
// held is refused (ErrNotTheLog) unless Options.AcceptFile.
//
// A writable log then verifies itself in the background: the file's
// structure (CheckFile) and every ledger (Verify). Reads go on meanwhile;
// appends wait for it, so that nothing is appended to a log with a broken
// chain or index (a changed key in the id index would let a re-sent event
// in twice). On a failure the log stops taking events (Health says why).
func Open(path string, opts Options) (*Log, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 10000
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.RejectionsPerDay == 0 {
		opts.RejectionsPerDay = DefaultRejectionsPerDay
	}
	if opts.RejectionsPerDayAll == 0 {
		opts.RejectionsPerDayAll = DefaultRejectionsPerDayAll
	}
	st, err := CheckFile(path)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	if opts.ReadOnly && !st.Exists() {
		return nil, fmt.Errorf("open log %s: %w: no log file", path, ErrNotFound)
	}
	var mark Mark
	haveMark := false
	if opts.Mark != "" && !opts.ReadOnly {
		mark, err = ReadMark(opts.Mark)
		switch {
		case errors.Is(err, ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("open log: %w", err)
		default:
			haveMark = true
		}
		if haveMark && !st.Exists() && !opts.AcceptFile {
			what := "missing"
			if _, err := os.Stat(path); err == nil {
				what = "empty"
			}
			return nil, fmt.Errorf("open log %s: %w: the file is %s, but this data directory held log %s up to transaction %d (mark %s, written %s)",
				path, ErrNotTheLog, what, mark.Log, mark.TxID, opts.Mark, mark.At.Format(time.RFC3339))
		}
	}
	l := &Log{
		path:     path,
		opts:     opts,
		reqs:     make(chan *request, 1024),
		quit:     make(chan struct{}),
		log:      opts.Logger,
		heads:    map[string]head{},
		verified: make(chan struct{}),
	}
	err = l.guard("open", func() error {
		var err error
		l.db, err = bolt.Open(path, 0o600, &bolt.Options{
			Timeout:  time.Second,
			ReadOnly: opts.ReadOnly,
			// The freelist is written with every commit: without it, opening
			// the file walks every page to rebuild it, which at 10 million
			// events is most of a second of restart, while an append-only log
			// keeps the list short enough that writing it costs little.
			NoFreelistSync: false,
			FreelistType:   bolt.FreelistMapType,
		})
		return err
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open log %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	l.db.NoSync = opts.NoSync
	fail := func(err error) (*Log, error) {
		l.db.Close()
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	if l.file, err = os.Stat(path); err != nil {
		return fail(err)
	}
	var txid uint64
	if err := l.guard("open", func() error {
		var err error
		l.id, l.format, txid, err = l.initFormat()
		return err
	}); err != nil {
		return fail(err)
	}
	if haveMark && !opts.AcceptFile {
		switch {
		case mark.Log != l.id:
			return fail(fmt.Errorf("%w: the file is log %s, but this data directory held log %s (mark %s): a file of another ledger was put here",
				ErrNotTheLog, orNone(l.id), mark.Log, opts.Mark))
		case txid < mark.TxID:
			return fail(fmt.Errorf("%w: the file ends at transaction %d, but this data directory committed log %s up to transaction %d (mark %s, written %s): an older copy was put back, or the file lost its last commits",
				ErrNotTheLog, txid, mark.Log, mark.TxID, opts.Mark, mark.At.Format(time.RFC3339)))
		}
	}
	if haveMark && opts.AcceptFile && (mark.Log != l.id || txid < mark.TxID) {
		l.log.Warn("accepting a log file the data directory's mark does not name", "file", path,
			"log", l.id, "txid", txid, "mark_log", mark.Log, "mark_txid", mark.TxID)
	}
	if opts.Mark != "" && !opts.ReadOnly {
		if l.mark, err = openMarker(opts.Mark, l.id, txid, time.Now()); err != nil {
			return fail(err)
		}
	}
	if opts.ReadOnly || opts.NoVerify {
		close(l.verified)
	} else {
		l.wg.Add(1)
		go l.verifyAtOpen()
	}
	if !opts.ReadOnly {
		l.wg.Add(1)
		go l.run()
	}
	if l.mark != nil {
		l.wg.Go(l.syncMark)
	}
	return l, nil
}

// syncMark makes the mark durable once a second when it moved (mark.go).
func (l *Log) syncMark() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			if err := l.mark.sync(); err != nil {
				l.log.Warn("mark not synced", "mark", l.opts.Mark, "err", err)
			}
		case <-l.quit:
			return
		}
	}
}

// Verified is closed once the verification at open is done, whatever it
// found (Health tells): at once for a read-only log or with NoVerify.
func (l *Log) Verified() <-chan struct{} { return l.verified }

// verifyAtOpen is the verification before the first commit (see Open).
func (l *Log) verifyAtOpen() {
	defer l.wg.Done()
	defer close(l.verified)
	defer l.verifying.Store(nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	doing := func(what string) { l.verifying.Store(&what) }
	if l.opts.VerifyAfter != nil {
		doing("verifying the log before its first commit: waiting for the first fold")
		select {
		case <-l.opts.VerifyAfter:
		case <-l.quit:
			return
		}
	}
	start := time.Now()
	doing("verifying the log before its first commit: the file's structure")
	if _, err := l.CheckFile(ctx); err != nil {
		if ctx.Err() == nil && !errors.Is(err, ErrClosed) {
			l.stop(err)
		}
		return
	}
	names, err := l.Ledgers()
	if errors.Is(err, ErrClosed) {
		return
	}
	if err != nil {
		l.stop(fmt.Errorf("verify at open: %w", err))
		return
	}
	var n uint64
	for i, name := range names {
		doing(fmt.Sprintf("verifying the log before its first commit: ledger %s (%d of %d)", name, i+1, len(names)))
		v, err := l.Verify(ctx, name)
		n += v.Events
		switch {
		case ctx.Err() != nil, errors.Is(err, ErrClosed):
			return
		case errors.Is(err, ErrCheckpointDamaged):
			// Derived data: the checkpoint store rebuilds it.
			l.log.Error("stored checkpoint damaged", "ledger", name, "err", err)
		case err != nil:
			l.stop(fmt.Errorf("verify at open: %w", err)) // Verify stopped it already for a broken chain
			return
		}
	}
	l.log.Info("log verified", "file", l.path, "ledgers", len(names), "events", n, "took", time.Since(start).Round(time.Millisecond))
}

func orNone(id string) string {
	if id == "" {
		return "(none: format 1)"
	}
	return id
}

// initFormat checks the file's format and, when the log may write, creates
// the layout of a new file or upgrades a format 1 file. It returns the
// log's identity and the last transaction.
func (l *Log) initFormat() (id, version string, txid uint64, err error) {
	check := func(tx *bolt.Tx) (version string, err error) {
		m := tx.Bucket(bucketMeta)
		if m == nil {
			if l.opts.ReadOnly {
				return "", fmt.Errorf("%w: not a ledger log (no meta bucket)", ErrFormat)
			}
			return "", nil
		}
		switch v := string(m.Get(keyFormat)); v {
		case "1", formatVersion:
			if tx.Bucket(bucketLedgers) == nil {
				return v, fmt.Errorf("%w: the meta bucket is there, the ledgers bucket is not", ErrDamaged)
			}
			return v, nil
		default:
			return v, fmt.Errorf("%w: file has format %q, this build reads %q", ErrFormat, v, formatVersion)
		}
	}
	// A log that has the current format already is only read: a start
	// commits nothing, so it waits for no fsync (of a file just restored,
	// say, with all of it still to be written back).
	err = l.db.View(func(tx *bolt.Tx) error {
		var err error
		if version, err = check(tx); err != nil {
			return err
		}
		if m := tx.Bucket(bucketMeta); m != nil {
			id = string(m.Get(keyID))
		}
		txid = uint64(tx.ID())
		return nil
	})
	if err != nil || l.opts.ReadOnly || version == formatVersion {
		return id, version, txid, err
	}
	err = l.db.Update(func(tx *bolt.Tx) error {
		version, err := check(tx)
		if err != nil {
			return err
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if _, err := tx.CreateBucketIfNotExists(bucketLedgers); err != nil {
			return err
		}
		if version == "1" {
			// Format 1 checkpoints carry no digest: they are derived
			// data, rebuilt from the log.
			if tx.Bucket(bucketCheckpoints) != nil {
				if err := tx.DeleteBucket(bucketCheckpoints); err != nil {
					return err
				}
			}
			l.log.Info("upgrading the log file from format 1 to 2: checkpoints are rebuilt from the log", "file", l.path)
		}
		if err := m.Put(keyFormat, []byte(formatVersion)); err != nil {
			return err
		}
		if id = string(m.Get(keyID)); id == "" {
			var b [16]byte
			if _, err := rand.Read(b[:]); err != nil {
				return err
			}
			id = hex.EncodeToString(b[:])
			if err := m.Put(keyID, []byte(id)); err != nil {
				return err
			}
		}
		txid = uint64(tx.ID())
		return nil
	})
	return id, formatVersion, txid, err
}

// ID is the log's identity: random, given when the file was made (or
// upgraded to format 2), and the same in every copy of it.
func (l *Log) ID() string { return l.id }

// Close stops the writer and closes the file. Appends waiting for a commit
// get ErrClosed (their events may or may not have been committed; a retry is
// safe).
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed.Load() {
		l.mu.Unlock()
		return nil
	}
	l.closed.Store(true)
	l.mu.Unlock()
	close(l.quit)
	l.wg.Wait()
	return errors.Join(l.mark.close(), l.db.Close())
}

// stop makes the log refuse every append from now on, for err.
func (l *Log) stop(err error) {
	if l.opts.ReadOnly {
		return
	}
	stopped := fmt.Errorf("%w: %w", ErrStopped, err)
	if l.stopped.CompareAndSwap(nil, &stopped) {
		l.log.Error("the log stopped taking events", "file", l.path, "err", err)
	}
}

// Health tells why the log cannot take events now, or nil: it stopped
// (damaged, replaced), its last commit failed (a full disk, say, until a
// commit succeeds again), or it is closed.
func (l *Log) Health() error {
	if l.closed.Load() {
		return ErrClosed
	}
	if err := l.sameFile(); err != nil {
		l.stop(err)
	}
	if p := l.stopped.Load(); p != nil {
		return *p
	}
	if p := l.verifying.Load(); p != nil {
		return errors.New(*p)
	}
	if p := l.commitErr.Load(); p != nil {
		return *p
	}
	return nil
}

// sameFile checks that the log's path still names the file it opened: a
// file removed or replaced under a running log would take every later
// commit with it.
func (l *Log) sameFile() error {
	if l.opts.ReadOnly {
		return nil
	}
	now, err := os.Stat(l.path)
	if err != nil {
		return fmt.Errorf("the log file %s is gone while open: %w", l.path, err)
	}
	if !os.SameFile(now, l.file) {
		return fmt.Errorf("the log file %s was replaced by another file while open", l.path)
	}
	return nil
}

// update runs fn in a write transaction under guard; once it committed, it
// checks that the file is still the one opened (otherwise the commit went
// into a file that is gone: an error, and the log stops) and moves the
// mark on.
func (l *Log) update(what string, fn func(*bolt.Tx) error) error {
	if p := l.stopped.Load(); p != nil {
		return *p
	}
	var txid uint64
	err := l.guard(what, func() error {
		return l.db.Update(func(tx *bolt.Tx) error {
			txid = uint64(tx.ID())
			return fn(tx)
		})
	})
	if err != nil {
		return err
	}
	if err := l.sameFile(); err != nil {
		l.stop(err)
		return fmt.Errorf("%s: %w", what, *l.stopped.Load())
	}
	// The mark's time is the wall clock's, for an operator reading it;
	// the injected clock is the writer's alone.
	if err := l.mark.record(txid, time.Now()); err != nil {
		l.log.Warn("mark not moved on", "mark", l.opts.Mark, "txid", txid, "err", err)
	}
	return nil
}

// Append submits events and waits until they are durably recorded, returning
// one outcome per submission in order. A non-nil error means the transaction
// did not commit (or the log closed or stopped, or ctx ended): nothing is
// known to be recorded and the caller should retry later with the same ids.
func (l *Log) Append(ctx context.Context, subs ...Submission) ([]Outcome, error) {
	if l.opts.ReadOnly {
		return nil, fmt.Errorf("append: log opened read-only")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if p := l.stopped.Load(); p != nil {
		return nil, *p
	}
	r := &request{subs: subs, done: make(chan struct{})}
	l.mu.RLock()
	if l.closed.Load() {
		l.mu.RUnlock()
		return nil, ErrClosed
	}
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		l.mu.RUnlock()
		return nil, ctx.Err()
	}
	l.mu.RUnlock()
	// The writer always answers a queued request: by its commit, or with
	// ErrClosed from its final drain.
	select {
	case <-r.done:
		return r.outcomes, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// run is the writer goroutine.
func (l *Log) run() {
	defer l.wg.Done()
	select {
	case <-l.verified:
	case <-l.quit:
		l.drain()
		return
	}
	for {
		var first *request
		select {
		case first = <-l.reqs:
		case <-l.quit:
			l.drain()
			return
		}
		batch := []*request{first}
		n := len(first.subs)
	gather:
		for n < l.opts.MaxBatch {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
				n += len(r.subs)
			default:
				break gather
			}
		}
		l.commit(batch)
	}
}

// drain answers requests still queued at Close.
func (l *Log) drain() {
	for {
		select {
		case r := <-l.reqs:
			r.err = ErrClosed
			close(r.done)
		default:
			return
		}
	}
}

func (l *Log) commit(batch []*request) {
	now := l.opts.Now().UnixNano()
	pending := map[string]head{}
	err := l.update("commit", func(tx *bolt.Tx) error {
		// bbolt may not rerun this function, but outcomes are rebuilt from
		// scratch each time so that it would be harmless if it did.
		clear(pending)
		w := writeTx{l: l, tx: tx, now: now, heads: pending}
		for _, r := range batch {
			r.outcomes = make([]Outcome, len(r.subs))
			for i := range r.subs {
				o, err := w.apply(&r.subs[i])
				if err != nil {
					return err
				}
				r.outcomes[i] = o
			}
		}
		return nil
	})
	if err != nil {
		if !errors.Is(err, ErrStopped) {
			failed := fmt.Errorf("the last commit failed: %w", err)
			l.commitErr.Store(&failed)
		}
		l.log.Error("commit failed; nothing in this batch was recorded", "requests", len(batch), "err", err)
		for _, r := range batch {
			r.outcomes = nil
			r.err = fmt.Errorf("commit: %w", err)
			close(r.done)
		}
		return
	}
	if l.commitErr.Load() != nil {
		l.commitErr.Store(nil)
		l.log.Info("commits succeed again")
	}
	for name, h := range pending {
		l.heads[name] = h
	}
	for _, r := range batch {
		close(r.done)
	}
}

// chainHash links a record to its predecessor; see doc.go. Every read
// of a record computes it, so it hashes one buffer on the stack (a
// hash.Hash would be allocated for each record).
func chainHash(prev [32]byte, seq uint64, recordedAt int64, event []byte) [32]byte {
	var buf [512]byte
	b := append(buf[:0], prev[:]...)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = binary.BigEndian.AppendUint64(b, uint64(recordedAt))
	b = append(b, event...)
	return sha256.Sum256(b)
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

func yearKey(y int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(y)) }
