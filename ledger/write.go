package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/events"
)

// writeTx applies submissions inside one bbolt write transaction. A
// submission is routed to its ledger, checked against the rules below in
// turn, and either appended or rejected; only a failure of the file itself
// is an error, and it fails the whole transaction.
type writeTx struct {
	l     *Log
	tx    *bolt.Tx
	now   int64
	heads map[string]head // heads changed in this transaction
	buf   []byte
}

// apply records one submission and returns its outcome.
func (w *writeTx) apply(s *Submission) (Outcome, error) {
	name, cause := route(s)
	if cause != nil {
		return w.reject(name, s, cause)
	}
	b, h, err := w.ledger(name)
	if err != nil {
		return Outcome{}, err
	}
	e := &s.Event
	w.buf, err = e.AppendBinary(w.buf[:0])
	if err != nil {
		return w.reject(name, s, err)
	}
	if o, found, err := w.duplicate(b, name, s); found || err != nil {
		return o, err
	}
	for _, rule := range []func(ledgerBuckets, *events.Event) (*events.ValidationError, error){
		yearOpen, adjustable, closedInOrder, reversalValid,
	} {
		cause, err := rule(b, e)
		if err != nil {
			return Outcome{}, fmt.Errorf("ledger %s: %w", name, err)
		}
		if cause != nil {
			return w.reject(name, s, cause)
		}
	}
	var carried []events.Event
	_, closing := e.Body.(events.YearEndClosed)
	if closing {
		var cause *events.ValidationError
		if carried, cause, err = w.carryForward(b, name, e); err != nil {
			return Outcome{}, err
		} else if cause != nil {
			return w.reject(name, s, cause)
		}
	}
	h, err = w.appendRecord(b, name, h, e)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Ledger: name, ID: e.ID, Status: Accepted, Seq: h.seq, RecordedAt: time.Unix(0, h.recordedAt), Via: s.Via, InboxSeq: s.InboxSeq}
	if closing {
		if err := w.close(name, e, h.seq, carried); err != nil {
			return Outcome{}, err
		}
	}
	return out, nil
}

// route names the ledger a submission goes to and why it is refused before
// any ledger rule: a decoding or validation error, a ledger name that
// cannot be used (kept under UnroutedLedger), or an event naming another
// ledger than the one it was sent to.
func route(s *Submission) (string, error) {
	if events.ValidateLedger(s.Ledger) != nil {
		cause := s.Err
		if cause == nil {
			cause = &events.ValidationError{Code: events.CodeInvalidLedger, Field: "ledger", Value: s.Ledger,
				Expected: "a valid ledger name in the subject or URL"}
		}
		return UnroutedLedger, cause
	}
	if s.Err != nil {
		return s.Ledger, s.Err
	}
	if s.Event.Ledger != s.Ledger {
		return s.Ledger, &events.ValidationError{Code: events.CodeLedgerMismatch, Field: "ledger", Value: s.Event.Ledger,
			Expected: "the ledger the event was sent to, " + s.Ledger}
	}
	return s.Ledger, nil
}

// duplicate answers an id the ledger accepted before: Duplicate with its
// sequence when the content is the same (w.buf holds the new event's
// binary form), an id conflict when it is not.
func (w *writeTx) duplicate(b ledgerBuckets, name string, s *Submission) (Outcome, bool, error) {
	e := &s.Event
	v := b.ids.Get([]byte(e.ID))
	if v == nil {
		return Outcome{}, false, nil
	}
	seq := binary.BigEndian.Uint64(v)
	rec := b.log.Get(seqKey(seq))
	if rec == nil {
		return Outcome{}, true, fmt.Errorf("ledger %s: %w: id %s points at missing seq %d", name, ErrChainBroken, e.ID, seq)
	}
	r, err := decodeRecord(seq, rec, false)
	if err != nil {
		return Outcome{}, true, fmt.Errorf("ledger %s: %w", name, err)
	}
	if string(rec[recordHeader:]) != string(w.buf) {
		o, err := w.reject(name, s, &events.ValidationError{
			Code: events.CodeIDConflict, Field: "id", Value: e.ID,
			Expected: fmt.Sprintf("a new id: this id was accepted at seq %d with different content", seq),
		})
		return o, true, err
	}
	return Outcome{Ledger: name, ID: e.ID, Status: Duplicate, Seq: seq, RecordedAt: r.RecordedAt, Via: s.Via, InboxSeq: s.InboxSeq}, true, nil
}

// yearOpen: no event of a year closed by 年终结账.
func yearOpen(b ledgerBuckets, e *events.Event) (*events.ValidationError, error) {
	if b.closed.Get(yearKey(e.FiscalYear)) != nil {
		return &events.ValidationError{Code: events.CodeYearClosed, Field: "fiscal_year",
			Value: strconv.Itoa(e.FiscalYear), Expected: "an event of a year not closed by 年终结账"}, nil
	}
	return nil, nil
}

// adjustable: an opening adjustment only once the previous year is closed.
func adjustable(b ledgerBuckets, e *events.Event) (*events.ValidationError, error) {
	if _, ok := e.Body.(events.OpeningAdjusted); ok && b.closed.Get(yearKey(e.FiscalYear-1)) == nil {
		return &events.ValidationError{Code: events.CodeNotAdjustable, Field: "fiscal_year",
			Value: strconv.Itoa(e.FiscalYear), Expected: "a year whose previous year is closed (年终结账); before that, correct the previous year itself"}, nil
	}
	return nil, nil
}

// closedInOrder: years are closed in order.
func closedInOrder(b ledgerBuckets, e *events.Event) (*events.ValidationError, error) {
	if _, ok := e.Body.(events.YearEndClosed); ok && b.closed.Get(yearKey(e.FiscalYear+1)) != nil {
		return &events.ValidationError{Code: events.CodeYearClosed, Field: "fiscal_year",
			Value: strconv.Itoa(e.FiscalYear), Expected: "years closed in order: the next year is closed already"}, nil
	}
	return nil, nil
}

// reversalValid: a reversal's event must be in the ledger, not reversed
// before, not itself a reversal, of the same unit and fiscal year, dated no
// later, and restated exactly.
func reversalValid(b ledgerBuckets, e *events.Event) (*events.ValidationError, error) {
	rv, ok := e.Body.(events.Reversal)
	if !ok {
		return nil, nil
	}
	reject := func(code events.Code, expected string) (*events.ValidationError, error) {
		return &events.ValidationError{Code: code, Field: "reversal.event_id", Value: rv.EventID, Expected: expected}, nil
	}
	v := b.ids.Get([]byte(rv.EventID))
	if v == nil {
		return reject(events.CodeReversalTarget, "the id of an event accepted in this ledger")
	}
	if r := b.reversed.Get([]byte(rv.EventID)); r != nil {
		return reject(events.CodeAlreadyReversed, fmt.Sprintf("an event not reversed yet: it was reversed at seq %d", binary.BigEndian.Uint64(r)))
	}
	seq := binary.BigEndian.Uint64(v)
	rec, err := decodeRecord(seq, b.log.Get(v), true)
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

// carryForward computes the opening balances a 年终结账 carries into the
// next year, from every event committed before it and those earlier in its
// own batch.
func (w *writeTx) carryForward(b ledgerBuckets, name string, e *events.Event) ([]events.Event, *events.ValidationError, error) {
	if w.l.opts.CarryForward == nil {
		return nil, &events.ValidationError{Code: events.CodeYearClosed, Field: "year_end_closed",
			Expected: "a ledger that can carry balances forward"}, nil
	}
	all, err := ledgerEvents(b.log)
	if err != nil {
		return nil, nil, fmt.Errorf("close %s %d: %w", name, e.FiscalYear, err)
	}
	carried, err := w.l.opts.CarryForward(slices.Values(all), name, e.FiscalYear)
	var v *events.ValidationError
	if errors.As(err, &v) {
		return nil, v, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("close %s %d: %w", name, e.FiscalYear, err)
	}
	return carried, nil, nil
}

// appendRecord appends e (whose binary form is in w.buf) after head h and
// indexes it; it returns the new head.
func (w *writeTx) appendRecord(b ledgerBuckets, name string, h head, e *events.Event) (head, error) {
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
	b.log.FillPercent = 1 // keys only ever grow: pack pages full
	if err := b.log.Put(seqKey(h.seq), rec); err != nil {
		return h, fmt.Errorf("append %s: %w", e.ID, err)
	}
	if err := b.ids.Put([]byte(e.ID), seqKey(h.seq)); err != nil {
		return h, fmt.Errorf("append %s: %w", e.ID, err)
	}
	if rv, ok := e.Body.(events.Reversal); ok {
		if err := b.reversed.Put([]byte(rv.EventID), seqKey(h.seq)); err != nil {
			return h, fmt.Errorf("append %s: %w", e.ID, err)
		}
	}
	w.heads[name] = h
	return h, nil
}

// close records that e closed its year, at seq, and appends the carried
// opening balances of the next year right after it, in the same
// transaction: their ids are the close's id with ":1", ":2"…, their source
// the ledger itself.
func (w *writeTx) close(ledgerName string, e *events.Event, seq uint64, carried []events.Event) error {
	b, _, err := w.ledger(ledgerName)
	if err != nil {
		return err
	}
	if err := b.closed.Put(yearKey(e.FiscalYear), seqKey(seq)); err != nil {
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

// ledgerEvents reads a ledger's events inside the write transaction, so a
// close sees every event committed before it and those earlier in its own
// batch.
func ledgerEvents(log *bolt.Bucket) ([]events.Event, error) {
	var out []events.Event
	c := log.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := decodeRecord(binary.BigEndian.Uint64(k), v, true)
		if err != nil {
			return nil, err
		}
		out = append(out, r.Event)
	}
	return out, nil
}

// ledger returns the buckets and current head of a ledger, creating it on
// first use. The head comes from this transaction's changes, then the cache,
// then the file.
func (w *writeTx) ledger(name string) (ledgerBuckets, head, error) {
	root := w.tx.Bucket(bucketLedgers)
	b := root.Bucket([]byte(name))
	if b == nil {
		var err error
		if b, err = root.CreateBucket([]byte(name)); err != nil {
			return ledgerBuckets{}, head{}, fmt.Errorf("create ledger %s: %w", name, err)
		}
		for _, sub := range [][]byte{bucketLog, bucketIDs, bucketRejects, bucketRejIDs} {
			if _, err := b.CreateBucket(sub); err != nil {
				return ledgerBuckets{}, head{}, fmt.Errorf("create ledger %s: %w", name, err)
			}
		}
	}
	// Added in the same format version; a ledger written before has none
	// yet (no reversal was possible then).
	for _, sub := range [][]byte{bucketReversed, bucketClosed} {
		if _, err := b.CreateBucketIfNotExists(sub); err != nil {
			return ledgerBuckets{}, head{}, fmt.Errorf("ledger %s: %w", name, err)
		}
	}
	lb, err := bucketsOf(b, name)
	if err != nil {
		return lb, head{}, err
	}
	if h, ok := w.heads[name]; ok {
		return lb, h, nil
	}
	if h, ok := w.l.heads[name]; ok {
		return lb, h, nil
	}
	h, err := readHead(lb)
	if err != nil {
		return lb, head{}, fmt.Errorf("ledger %s: %w", name, err)
	}
	return lb, h, nil
}

func readHead(b ledgerBuckets) (head, error) {
	var h head
	if k, v := b.log.Cursor().Last(); k != nil {
		r, err := decodeRecord(binary.BigEndian.Uint64(k), v, false)
		if err != nil {
			return head{}, err
		}
		h.seq, h.hash, h.recordedAt = r.Seq, r.Hash, r.RecordedAt.UnixNano()
	}
	if k, v := b.rejects.Cursor().Last(); k != nil {
		h.rejects = binary.BigEndian.Uint64(k)
		rj, hash, err := decodeRejection(h.rejects, v)
		if err != nil {
			return head{}, err
		}
		h.rejHash = hash
		// Recorded times never decrease, rejections included.
		h.recordedAt = max(h.recordedAt, rj.RecordedAt.UnixNano())
	}
	return h, nil
}

// ledgerBuckets are the buckets of one ledger (doc.go). reversed and
// closed are nil in a ledger of format 1 that never had either.
type ledgerBuckets struct {
	log, ids, rejects, rejids, reversed, closed *bolt.Bucket
}

// bucketsOf finds the buckets of ledger b; one missing is damage (its
// name changed, say), never a reason to panic.
func bucketsOf(b *bolt.Bucket, name string) (ledgerBuckets, error) {
	lb := ledgerBuckets{
		log: b.Bucket(bucketLog), ids: b.Bucket(bucketIDs), rejects: b.Bucket(bucketRejects), rejids: b.Bucket(bucketRejIDs),
		reversed: b.Bucket(bucketReversed), closed: b.Bucket(bucketClosed),
	}
	for _, s := range []struct {
		b    *bolt.Bucket
		name []byte
	}{{lb.log, bucketLog}, {lb.ids, bucketIDs}, {lb.rejects, bucketRejects}, {lb.rejids, bucketRejIDs}} {
		if s.b == nil {
			return lb, fmt.Errorf("ledger %s: %w: its %s bucket is missing", name, ErrDamaged, s.name)
		}
	}
	return lb, nil
}
