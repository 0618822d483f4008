package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/budgetledger/budgetledger/events"
)

// formatVersion is the on-disk format described in doc.go.
const formatVersion = "1"

const recordVersion = 1

// maxRawKept bounds the payload kept with a rejection: enough to diagnose
// any real event, small enough that a flood of garbage cannot fill the disk.
const maxRawKept = 64 << 10

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
	keyFormat      = []byte("format")
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
}

// Log is the append-only event log. Its methods are safe for concurrent use.
//
// Design: a single writer goroutine (run) owns every write transaction and
// the head cache (last seq, hash and recorded time per ledger). Append sends a
// request to it and waits for the reply, which is sent after the commit; so
// the writer never blocks on callers, and callers learn an outcome only once
// it is durable. The writer ends when Close cancels it; Close waits for it
// before closing the file, so no goroutine outlives Close.
type Log struct {
	db   *bolt.DB
	opts Options
	reqs chan *request
	quit chan struct{}
	wg   sync.WaitGroup
	log  *slog.Logger

	// mu orders sends on reqs before Close: Append sends holding the read
	// lock and only while closed is false, so once Close has set closed
	// (under the write lock) no request can be queued that the writer's
	// final drain would miss.
	mu     sync.RWMutex
	closed atomic.Bool

	heads map[string]head // owned by the writer goroutine
}

// head is the end of one ledger's chain.
type head struct {
	seq        uint64
	hash       [32]byte
	recordedAt int64
	rejects    uint64
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
	// Raw is the payload as received, kept with a rejection for diagnosis.
	Raw []byte
	// Via names the way in ("inbox", "request", "http"), kept with rejections.
	Via string
	// InboxSeq is the JetStream stream sequence of an inbox message, returned
	// in the outcome so that a publisher can match it to what it published.
	InboxSeq uint64
}

// Rejection is a refused event as kept in the log.
type Rejection struct {
	Number     uint64      `json:"number"`
	Ledger     string      `json:"ledger"`
	ID         string      `json:"id,omitempty"`
	Code       events.Code `json:"code"`
	Reason     string      `json:"reason"`
	RecordedAt time.Time   `json:"recorded_at"`
	Via        string      `json:"via,omitempty"`
	Raw        []byte      `json:"raw,omitempty"`
}

type request struct {
	subs     []Submission
	outcomes []Outcome
	err      error
	done     chan struct{}
}

// Open opens (creating if needed) the log at path and starts its writer.
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
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:  time.Second,
		ReadOnly: opts.ReadOnly,
		// The freelist is written with every commit: without it, opening
		// the file walks every page to rebuild it, which at 10 million
		// events is most of a second of restart, while an append-only log
		// keeps the list short enough that writing it costs little.
		NoFreelistSync: false,
		FreelistType:   bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open log %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	db.NoSync = opts.NoSync
	if err := initFormat(db, opts.ReadOnly); err != nil {
		db.Close()
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	l := &Log{
		db:    db,
		opts:  opts,
		reqs:  make(chan *request, 1024),
		quit:  make(chan struct{}),
		log:   opts.Logger,
		heads: map[string]head{},
	}
	if !opts.ReadOnly {
		l.wg.Add(1)
		go l.run()
	}
	return l, nil
}

func initFormat(db *bolt.DB, readOnly bool) error {
	check := func(tx *bolt.Tx) error {
		m := tx.Bucket(bucketMeta)
		if m == nil {
			if readOnly {
				return fmt.Errorf("%w: not a ledger log (no meta bucket)", ErrFormat)
			}
			return nil
		}
		if v := m.Get(keyFormat); string(v) != formatVersion {
			return fmt.Errorf("%w: file has format %q, this build reads %q", ErrFormat, v, formatVersion)
		}
		return nil
	}
	// A log that has its format already is only read: a start commits
	// nothing, so it waits for no fsync (of a file just restored, say, with
	// all of it still to be written back).
	var formatted bool
	err := db.View(func(tx *bolt.Tx) error {
		formatted = tx.Bucket(bucketMeta) != nil && tx.Bucket(bucketLedgers) != nil
		return check(tx)
	})
	if err != nil || readOnly || formatted {
		return err
	}
	return db.Update(func(tx *bolt.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		if m.Get(keyFormat) == nil {
			if err := m.Put(keyFormat, []byte(formatVersion)); err != nil {
				return err
			}
		}
		_, err = tx.CreateBucketIfNotExists(bucketLedgers)
		return err
	})
}

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
	return l.db.Close()
}

// Append submits events and waits until they are durably recorded, returning
// one outcome per submission in order. A non-nil error means the transaction
// did not commit (or the log closed, or ctx ended): nothing is known to be
// recorded and the caller should retry later with the same ids.
func (l *Log) Append(ctx context.Context, subs ...Submission) ([]Outcome, error) {
	if l.opts.ReadOnly {
		return nil, fmt.Errorf("append: log opened read-only")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
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
	err := l.db.Update(func(tx *bolt.Tx) error {
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
		l.log.Error("commit failed; nothing in this batch was recorded", "requests", len(batch), "err", err)
		for _, r := range batch {
			r.outcomes = nil
			r.err = fmt.Errorf("commit: %w", err)
			close(r.done)
		}
		return
	}
	for name, h := range pending {
		l.heads[name] = h
	}
	for _, r := range batch {
		close(r.done)
	}
}

// writeTx applies submissions inside one bbolt write transaction.
type writeTx struct {
	l     *Log
	tx    *bolt.Tx
	now   int64
	heads map[string]head // heads changed in this transaction
	buf   []byte
}

func (w *writeTx) apply(s *Submission) (Outcome, error) {
	ledgerName, cause := s.Ledger, s.Err
	if events.ValidateLedger(ledgerName) != nil {
		ledgerName = UnroutedLedger
		if cause == nil {
			cause = &events.ValidationError{Code: events.CodeInvalidLedger, Field: "ledger", Value: s.Ledger,
				Expected: "a valid ledger name in the subject or URL"}
		}
	}
	if cause == nil && s.Event.Ledger != s.Ledger {
		cause = &events.ValidationError{Code: events.CodeLedgerMismatch, Field: "ledger", Value: s.Event.Ledger,
			Expected: "the ledger the event was sent to, " + s.Ledger}
	}
	if cause != nil {
		return w.reject(ledgerName, s, cause)
	}
	b, h, err := w.ledger(ledgerName)
	if err != nil {
		return Outcome{}, err
	}
	e := &s.Event
	w.buf, err = e.AppendBinary(w.buf[:0])
	if err != nil {
		return w.reject(ledgerName, s, err)
	}
	ids := b.Bucket(bucketIDs)
	if v := ids.Get([]byte(e.ID)); v != nil {
		seq := binary.BigEndian.Uint64(v)
		rec := b.Bucket(bucketLog).Get(seqKey(seq))
		if rec == nil {
			return Outcome{}, fmt.Errorf("ledger %s: id %s points at missing seq %d", ledgerName, e.ID, seq)
		}
		r, err := decodeRecord(seq, rec, false)
		if err != nil {
			return Outcome{}, fmt.Errorf("ledger %s: %w", ledgerName, err)
		}
		if string(rec[recordHeader:]) != string(w.buf) {
			return w.reject(ledgerName, s, &events.ValidationError{
				Code: events.CodeIDConflict, Field: "id", Value: e.ID,
				Expected: fmt.Sprintf("a new id: this id was accepted at seq %d with different content", seq),
			})
		}
		return Outcome{Ledger: ledgerName, ID: e.ID, Status: Duplicate, Seq: seq, RecordedAt: r.RecordedAt, Via: s.Via, InboxSeq: s.InboxSeq}, nil
	}
	closed := b.Bucket(bucketClosed)
	if closed.Get(yearKey(e.FiscalYear)) != nil {
		return w.reject(ledgerName, s, &events.ValidationError{Code: events.CodeYearClosed, Field: "fiscal_year",
			Value: strconv.Itoa(e.FiscalYear), Expected: "an event of a year not closed by 年终结账"})
	}
	if _, ok := e.Body.(events.OpeningAdjusted); ok && closed.Get(yearKey(e.FiscalYear-1)) == nil {
		return w.reject(ledgerName, s, &events.ValidationError{Code: events.CodeNotAdjustable, Field: "fiscal_year",
			Value: strconv.Itoa(e.FiscalYear), Expected: "a year whose previous year is closed (年终结账); before that, correct the previous year itself"})
	}
	var carried []events.Event
	if _, ok := e.Body.(events.YearEndClosed); ok {
		if closed.Get(yearKey(e.FiscalYear+1)) != nil {
			return w.reject(ledgerName, s, &events.ValidationError{Code: events.CodeYearClosed, Field: "fiscal_year",
				Value: strconv.Itoa(e.FiscalYear), Expected: "years closed in order: the next year is closed already"})
		}
		if w.l.opts.CarryForward == nil {
			return w.reject(ledgerName, s, &events.ValidationError{Code: events.CodeYearClosed, Field: "year_end_closed",
				Expected: "a ledger that can carry balances forward"})
		}
		all, err := ledgerEvents(b)
		if err != nil {
			return Outcome{}, fmt.Errorf("close %s %d: %w", ledgerName, e.FiscalYear, err)
		}
		carried, err = w.l.opts.CarryForward(slices.Values(all), ledgerName, e.FiscalYear)
		var v *events.ValidationError
		if errors.As(err, &v) {
			return w.reject(ledgerName, s, v)
		}
		if err != nil {
			return Outcome{}, fmt.Errorf("close %s %d: %w", ledgerName, e.FiscalYear, err)
		}
	}
	if rv, ok := e.Body.(events.Reversal); ok {
		if cause, err := checkReversal(b, e, rv); err != nil {
			return Outcome{}, fmt.Errorf("ledger %s: %w", ledgerName, err)
		} else if cause != nil {
			return w.reject(ledgerName, s, cause)
		}
	}
	h.seq++
	if w.now > h.recordedAt {
		h.recordedAt = w.now
	}
	h.hash = chainHash(h.hash, h.seq, h.recordedAt, w.buf)
	rec := make([]byte, 0, recordHeader+len(w.buf))
	rec = append(rec, recordVersion)
	rec = binary.BigEndian.AppendUint64(rec, uint64(h.recordedAt))
	rec = append(rec, h.hash[:]...)
	rec = append(rec, w.buf...)
	logb := b.Bucket(bucketLog)
	logb.FillPercent = 1 // keys only ever grow: pack pages full
	if err := logb.Put(seqKey(h.seq), rec); err != nil {
		return Outcome{}, fmt.Errorf("append %s: %w", e.ID, err)
	}
	if err := ids.Put([]byte(e.ID), seqKey(h.seq)); err != nil {
		return Outcome{}, fmt.Errorf("append %s: %w", e.ID, err)
	}
	if rv, ok := e.Body.(events.Reversal); ok {
		if err := b.Bucket(bucketReversed).Put([]byte(rv.EventID), seqKey(h.seq)); err != nil {
			return Outcome{}, fmt.Errorf("append %s: %w", e.ID, err)
		}
	}
	w.heads[ledgerName] = h
	out := Outcome{Ledger: ledgerName, ID: e.ID, Status: Accepted, Seq: h.seq, RecordedAt: time.Unix(0, h.recordedAt), Via: s.Via, InboxSeq: s.InboxSeq}
	if _, ok := e.Body.(events.YearEndClosed); ok {
		if err := w.close(ledgerName, e, h.seq, carried); err != nil {
			return Outcome{}, err
		}
	}
	return out, nil
}

func (w *writeTx) reject(ledgerName string, s *Submission, cause error) (Outcome, error) {
	b, h, err := w.ledger(ledgerName)
	if err != nil {
		return Outcome{}, err
	}
	id := s.ID
	if id == "" {
		id = s.Event.ID
	}
	h.rejects++
	raw := s.Raw
	if len(raw) > maxRawKept {
		raw = raw[:maxRawKept]
	}
	if w.now > h.recordedAt {
		h.recordedAt = w.now // recorded times never decrease, rejections included
	}
	rj := Rejection{
		Number: h.rejects, Ledger: ledgerName, ID: id, Code: events.CodeOf(cause), Reason: cause.Error(),
		RecordedAt: time.Unix(0, h.recordedAt).UTC(), Via: s.Via, Raw: raw,
	}
	if rj.Code == "" {
		rj.Code = "internal"
	}
	v, err := json.Marshal(rj)
	if err != nil {
		return Outcome{}, fmt.Errorf("reject %s: %w", id, err)
	}
	if err := b.Bucket(bucketRejects).Put(seqKey(rj.Number), v); err != nil {
		return Outcome{}, fmt.Errorf("reject %s: %w", id, err)
	}
	if id != "" && events.ValidateID(id) == nil {
		if err := b.Bucket(bucketRejIDs).Put([]byte(id), seqKey(rj.Number)); err != nil {
			return Outcome{}, fmt.Errorf("reject %s: %w", id, err)
		}
	}
	w.heads[ledgerName] = h
	return Outcome{Ledger: ledgerName, ID: id, Status: Rejected, Seq: rj.Number, RecordedAt: rj.RecordedAt,
		Code: rj.Code, Reason: rj.Reason, Via: s.Via, InboxSeq: s.InboxSeq}, nil
}

// ledger returns the bucket and current head of a ledger, creating it on
// first use. The head comes from this transaction's changes, then the cache,
// then the file.
func (w *writeTx) ledger(name string) (*bolt.Bucket, head, error) {
	root := w.tx.Bucket(bucketLedgers)
	b := root.Bucket([]byte(name))
	if b == nil {
		var err error
		if b, err = root.CreateBucket([]byte(name)); err != nil {
			return nil, head{}, fmt.Errorf("create ledger %s: %w", name, err)
		}
		for _, sub := range [][]byte{bucketLog, bucketIDs, bucketRejects, bucketRejIDs} {
			if _, err := b.CreateBucket(sub); err != nil {
				return nil, head{}, fmt.Errorf("create ledger %s: %w", name, err)
			}
		}
	}
	// Added in the same format version; a ledger written before has none
	// yet (no reversal was possible then).
	for _, sub := range [][]byte{bucketReversed, bucketClosed} {
		if _, err := b.CreateBucketIfNotExists(sub); err != nil {
			return nil, head{}, fmt.Errorf("ledger %s: %w", name, err)
		}
	}
	if h, ok := w.heads[name]; ok {
		return b, h, nil
	}
	if h, ok := w.l.heads[name]; ok {
		return b, h, nil
	}
	h, err := readHead(b)
	if err != nil {
		return nil, head{}, fmt.Errorf("ledger %s: %w", name, err)
	}
	return b, h, nil
}

func readHead(b *bolt.Bucket) (head, error) {
	var h head
	if k, v := b.Bucket(bucketLog).Cursor().Last(); k != nil {
		r, err := decodeRecord(binary.BigEndian.Uint64(k), v, false)
		if err != nil {
			return head{}, err
		}
		h.seq, h.hash, h.recordedAt = r.Seq, r.Hash, r.RecordedAt.UnixNano()
	}
	if k, _ := b.Bucket(bucketRejects).Cursor().Last(); k != nil {
		h.rejects = binary.BigEndian.Uint64(k)
	}
	return h, nil
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, 8), seq)
}

// ChainHash is the hash a record of event e, recorded at seq and time at
// after a record hashed prev, must carry. It lets a reader outside the
// process (ledgerctl replay over HTTP, an auditor) check the chain from the
// events alone.
func ChainHash(prev [32]byte, seq uint64, at time.Time, e *events.Event) ([32]byte, error) {
	b, err := e.AppendBinary(nil)
	if err != nil {
		return [32]byte{}, fmt.Errorf("chain hash of seq %d: %w", seq, err)
	}
	return chainHash(prev, seq, at.UnixNano(), b), nil
}

// chainHash links a record to its predecessor; see doc.go.
func chainHash(prev [32]byte, seq uint64, recordedAt int64, event []byte) [32]byte {
	h := sha256.New()
	var hdr [16]byte
	binary.BigEndian.PutUint64(hdr[:8], seq)
	binary.BigEndian.PutUint64(hdr[8:], uint64(recordedAt))
	h.Write(prev[:])
	h.Write(hdr[:])
	h.Write(event)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// checkReversal returns why reversal rv, in event e, cannot be accepted, or
// nil: its event must be in the ledger, not reversed before, not itself a
// reversal, of the same unit and fiscal year, dated no later, and restated
// exactly.
func checkReversal(b *bolt.Bucket, e *events.Event, rv events.Reversal) (*events.ValidationError, error) {
	reject := func(code events.Code, expected string) (*events.ValidationError, error) {
		return &events.ValidationError{Code: code, Field: "reversal.event_id", Value: rv.EventID, Expected: expected}, nil
	}
	v := b.Bucket(bucketIDs).Get([]byte(rv.EventID))
	if v == nil {
		return reject(events.CodeReversalTarget, "the id of an event accepted in this ledger")
	}
	if r := b.Bucket(bucketReversed).Get([]byte(rv.EventID)); r != nil {
		return reject(events.CodeAlreadyReversed, fmt.Sprintf("an event not reversed yet: it was reversed at seq %d", binary.BigEndian.Uint64(r)))
	}
	seq := binary.BigEndian.Uint64(v)
	rec, err := decodeRecord(seq, b.Bucket(bucketLog).Get(v), true)
	if err != nil {
		return nil, err
	}
	t := rec.Event
	switch {
	case t.Body.Kind() == events.KindReversal:
		return reject(events.CodeReversalMismatch, "an ordinary event: a reversal cannot be reversed")
	case t.Unit != e.Unit || t.FiscalYear != e.FiscalYear:
		return reject(events.CodeReversalMismatch, fmt.Sprintf("a reversal in the event's unit and fiscal year (%s, %d)", t.Unit, t.FiscalYear))
	case e.Date < t.Date:
		return reject(events.CodeReversalMismatch, "a reversal dated on or after the event it reverses, "+t.Date.String())
	}
	want, err1 := events.Event{Body: t.Body}.MarshalBinary()
	got, err2 := events.Event{Body: rv.Body}.MarshalBinary()
	if err1 != nil || err2 != nil {
		return nil, errors.Join(err1, err2)
	}
	if string(want) != string(got) {
		return reject(events.CodeReversalMismatch, "a restated body equal to the event's own, seq "+strconv.FormatUint(seq, 10))
	}
	return nil, nil
}

// close records that e closed its year, at seq, and appends the carried
// opening balances of the next year right after it, in the same
// transaction: their ids are the close's id with ":1", ":2"…, their source
// the ledger itself.
func (w *writeTx) close(ledgerName string, e *events.Event, seq uint64, carried []events.Event) error {
	b := w.tx.Bucket(bucketLedgers).Bucket([]byte(ledgerName))
	if err := b.Bucket(bucketClosed).Put(yearKey(e.FiscalYear), seqKey(seq)); err != nil {
		return fmt.Errorf("close %s %d: %w", ledgerName, e.FiscalYear, err)
	}
	for i, c := range carried {
		c.ID = e.ID + ":" + strconv.Itoa(i+1)
		c.Ledger = ledgerName
		c.Source, c.Voucher = CarrySource, e.Voucher
		c.Memo = strconv.Itoa(e.FiscalYear) + " 年终结账结转"
		o, err := w.apply(&Submission{Ledger: ledgerName, Event: c, Via: "close"})
		if err != nil {
			return err
		}
		if o.Status != Accepted {
			return fmt.Errorf("close %s %d: carried balance %s: %s %s", ledgerName, e.FiscalYear, c.ID, o.Status, o.Reason)
		}
	}
	return nil
}

// CarrySource is the source of the opening balances the ledger itself
// appends at 年终结账.
const CarrySource = "budgetledger 年终结账"

func yearKey(y int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(y)) }

// ledgerEvents reads a ledger's events inside the write transaction, so a
// close sees every event committed before it and those earlier in its own
// batch.
func ledgerEvents(b *bolt.Bucket) ([]events.Event, error) {
	var out []events.Event
	c := b.Bucket(bucketLog).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := decodeRecord(binary.BigEndian.Uint64(k), v, true)
		if err != nil {
			return nil, err
		}
		out = append(out, r.Event)
	}
	return out, nil
}
