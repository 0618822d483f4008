package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/events"
)

// recordHeader is the length of a record before the event bytes.
const recordHeader = 1 + 8 + 32

// Record is one appended event with the log's envelope.
type Record struct {
	Seq        uint64
	RecordedAt time.Time
	Hash       [32]byte
	Event      events.Event
}

// decodeRecord parses a stored record; with withEvent false it skips the
// event decoding (for heads and duplicate checks).
func decodeRecord(seq uint64, v []byte, withEvent bool) (Record, error) {
	if !withEvent {
		return decodeEnvelope(seq, v)
	}
	return decodeRecordWith(nil, seq, v)
}

// decodeRecordWith parses a stored record, decoding its event with d, or
// with UnmarshalBinary when d is nil.
func decodeRecordWith(d *events.Decoder, seq uint64, v []byte) (Record, error) {
	r, err := decodeEnvelope(seq, v)
	if err != nil {
		return Record{}, err
	}
	if d != nil {
		err = d.Decode(v[recordHeader:], &r.Event)
	} else {
		err = r.Event.UnmarshalBinary(v[recordHeader:])
	}
	if err != nil {
		return Record{}, fmt.Errorf("record %d: %w", seq, err)
	}
	return r, nil
}

// decodeEnvelope parses the log's envelope of a stored record, leaving the
// event undecoded.
func decodeEnvelope(seq uint64, v []byte) (Record, error) {
	if len(v) < recordHeader || v[0] != recordVersion {
		return Record{}, fmt.Errorf("record %d: %w: bad header", seq, ErrFormat)
	}
	r := Record{Seq: seq, RecordedAt: time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9])))}
	copy(r.Hash[:], v[9:41])
	return r, nil
}

// Ledgers lists the ledgers that have any event or rejection, sorted.
func (l *Log) Ledgers() ([]string, error) {
	if l.closed.Load() {
		return nil, ErrClosed
	}
	var names []string
	err := l.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLedgers).ForEachBucket(func(k []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	return names, err
}

// Len returns the number of events in a ledger (its last sequence).
func (l *Log) Len(ledgerName string) (uint64, error) {
	var n uint64
	err := l.view(ledgerName, func(b *bolt.Bucket) error {
		if k, _ := b.Bucket(bucketLog).Cursor().Last(); k != nil {
			n = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return n, err
}

// view runs fn on a ledger's bucket in a read transaction; ErrNotFound when
// the ledger does not exist.
func (l *Log) view(ledgerName string, fn func(*bolt.Bucket) error) error {
	if l.closed.Load() {
		return ErrClosed
	}
	return l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLedgers).Bucket([]byte(ledgerName))
		if b == nil {
			return fmt.Errorf("ledger %s: %w", ledgerName, ErrNotFound)
		}
		return fn(b)
	})
}

// Scan calls fn for every record of a ledger with Seq > after, in sequence
// order, until fn returns an error (returned as is) or ctx ends. It reads a
// consistent snapshot: appends committed during the scan are not seen.
func (l *Log) Scan(ctx context.Context, ledgerName string, after uint64, fn func(Record) error) error {
	return l.view(ledgerName, func(b *bolt.Bucket) error {
		// One Decoder for the whole scan: the events of a ledger repeat a
		// few hundred codes and names, which are then allocated once.
		var d events.Decoder
		release := newMapRelease(b.Tx())
		c := b.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			if seq%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			r, err := decodeRecordWith(&d, seq, v)
			if err != nil {
				return fmt.Errorf("scan %s: %w", ledgerName, err)
			}
			release.saw(v) // after decoding: the event keeps no reference to v
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
}

// RawRecord is a record as stored, for a reader that decodes its event
// itself, or only the parts it needs (events.ViewAmount). Event is the
// event's binary form as it lies in the file's memory map, valid only
// until the function it was given to returns. It carries no more of the
// envelope than the sequence: a fold that needs the last record's time and
// hash reads that record (Get) afterwards, and the reader hands on 32
// bytes a record instead of 88.
type RawRecord struct {
	Seq   uint64
	Event []byte
}

// ScanRawPartitioned is Scan without decoding the events, on n
// goroutines: each record with Seq > after goes to the worker part gives
// it (0 to n-1), and worker w calls fn(w, r) for each of its records, on
// its own goroutine, in sequence order. Workers share nothing but the records they are given, so fn may
// keep state per worker without locks: it is for folds that split, such as
// a checkpoint's days by date. part runs on the reading goroutine and sees
// every record; r.Event, there and in fn, is valid until the call returns.
//
// It returns once every fn call has returned. The first error (from fn,
// part, a record's header or ctx) stops the scan and is returned; fn may
// then have seen any part of the records, each worker a prefix of its own,
// so a caller folding them should start again.
func (l *Log) ScanRawPartitioned(ctx context.Context, ledgerName string, after uint64, n int, part func(RawRecord) (int, error), fn func(worker int, r RawRecord) error) error {
	if n < 1 {
		return fmt.Errorf("scan %s: %d workers", ledgerName, n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.view(ledgerName, func(b *bolt.Bucket) error {
		// A record handed to a worker points into the mapped file, valid
		// while this transaction is open: the workers are done before it
		// ends.
		const chunkLen = 4096
		var (
			wg      sync.WaitGroup
			once    sync.Once
			scanErr error
			stop    atomic.Bool
		)
		fail := func(err error) {
			once.Do(func() { scanErr = err })
			stop.Store(true)
		}
		todo := make([]chan []RawRecord, n)
		free := make(chan []RawRecord, 10*n)
		for w := range todo {
			todo[w] = make(chan []RawRecord, 8)
			wg.Go(func() {
				release := newMapRelease(b.Tx())
				// A worker that failed goes on taking chunks, so that the
				// reader never waits for it.
				for rs := range todo[w] {
					for _, r := range rs {
						if stop.Load() {
							break
						}
						if err := fn(w, r); err != nil {
							fail(err)
							break
						}
						release.saw(r.Event)
					}
					select {
					case free <- rs[:0]:
					default:
					}
				}
			})
		}
		bufs := make([][]RawRecord, n)
		c := b.Bucket(bucketLog).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && !stop.Load(); k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			if seq%4096 == 0 {
				if err := ctx.Err(); err != nil {
					fail(err)
					break
				}
			}
			if len(v) < recordHeader || v[0] != recordVersion {
				fail(fmt.Errorf("scan %s: record %d: %w: bad header", ledgerName, seq, ErrFormat))
				break
			}
			r := RawRecord{Seq: seq, Event: v[recordHeader:len(v):len(v)]}
			w, err := part(r)
			if err == nil && (w < 0 || w >= n) {
				err = fmt.Errorf("record %d goes to worker %d of %d", seq, w, n)
			}
			if err != nil {
				fail(fmt.Errorf("scan %s: %w", ledgerName, err))
				break
			}
			if bufs[w] == nil {
				select {
				case bufs[w] = <-free:
				default:
					bufs[w] = make([]RawRecord, 0, chunkLen)
				}
			}
			if bufs[w] = append(bufs[w], r); len(bufs[w]) == chunkLen {
				todo[w] <- bufs[w]
				bufs[w] = nil
			}
		}
		for w := range todo {
			if len(bufs[w]) > 0 {
				todo[w] <- bufs[w]
			}
			close(todo[w])
		}
		wg.Wait()
		return scanErr
	})
}

// Events returns the events of a ledger in sequence order, for folds that
// take an iterator. Errors end the iteration and are reported through errp.
func (l *Log) Events(ctx context.Context, ledgerName string, errp *error) func(yield func(events.Event) bool) {
	return l.EventsKnownAt(ctx, ledgerName, KnownAt{}, errp)
}

// KnownAt bounds what the log knew: the events recorded up to a sequence,
// or up to a moment. The zero value is everything.
type KnownAt struct {
	Seq  uint64    // the last sequence known; 0: no bound
	Time time.Time // the last recorded time known; zero: no bound
}

// Bounded reports whether k limits anything.
func (k KnownAt) Bounded() bool { return k.Seq != 0 || !k.Time.IsZero() }

// Includes reports whether the record at seq, recorded at at, was known at k.
func (k KnownAt) Includes(seq uint64, at time.Time) bool {
	return (k.Seq == 0 || seq <= k.Seq) && (k.Time.IsZero() || !at.After(k.Time))
}

// EventsKnownAt is Events limited to what the log knew at k: it stops at the
// first record after k's sequence or recorded after k's time (recorded
// times never decrease in a ledger, so nothing later is missed). This is how
// a statement is answered "as known at" an earlier moment: an event
// published late is invisible to a question asked before it arrived.
func (l *Log) EventsKnownAt(ctx context.Context, ledgerName string, k KnownAt, errp *error) func(yield func(events.Event) bool) {
	return l.EventsKnownAtAfter(ctx, ledgerName, 0, k, errp)
}

// EventsKnownAtAfter is EventsKnownAt from the record after seq after on,
// for a reader that already holds the earlier ones (a checkpoint).
func (l *Log) EventsKnownAtAfter(ctx context.Context, ledgerName string, after uint64, k KnownAt, errp *error) func(yield func(events.Event) bool) {
	return func(yield func(events.Event) bool) {
		stop := fmt.Errorf("stop")
		err := l.Scan(ctx, ledgerName, after, func(r Record) error {
			if !k.Includes(r.Seq, r.RecordedAt) {
				return stop
			}
			if !yield(r.Event) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop && errp != nil {
			*errp = err
		}
	}
}

// Get returns the record at seq.
func (l *Log) Get(ledgerName string, seq uint64) (Record, error) {
	var r Record
	err := l.view(ledgerName, func(b *bolt.Bucket) error {
		v := b.Bucket(bucketLog).Get(seqKey(seq))
		if v == nil {
			return fmt.Errorf("ledger %s seq %d: %w", ledgerName, seq, ErrNotFound)
		}
		var err error
		r, err = decodeRecord(seq, v, true)
		return err
	})
	return r, err
}

// Outcome tells what became of event id in a ledger: Accepted (with its
// sequence and recorded time) if it is in the log, otherwise its latest
// rejection, otherwise ErrNotFound (never received, or not yet processed).
func (l *Log) Outcome(ledgerName, id string) (Outcome, error) {
	var o Outcome
	err := l.view(ledgerName, func(b *bolt.Bucket) error {
		if v := b.Bucket(bucketIDs).Get([]byte(id)); v != nil {
			seq := binary.BigEndian.Uint64(v)
			r, err := decodeRecord(seq, b.Bucket(bucketLog).Get(v), false)
			if err != nil {
				return err
			}
			o = Outcome{Ledger: ledgerName, ID: id, Status: Accepted, Seq: seq, RecordedAt: r.RecordedAt}
			return nil
		}
		if v := b.Bucket(bucketRejIDs).Get([]byte(id)); v != nil {
			rj, err := getRejection(b, binary.BigEndian.Uint64(v))
			if err != nil {
				return err
			}
			o = Outcome{Ledger: ledgerName, ID: id, Status: Rejected, Seq: rj.Number, RecordedAt: rj.RecordedAt,
				Code: rj.Code, Reason: rj.Reason}
			return nil
		}
		return fmt.Errorf("event %s in ledger %s: %w", id, ledgerName, ErrNotFound)
	})
	return o, err
}

func getRejection(b *bolt.Bucket, n uint64) (Rejection, error) {
	var rj Rejection
	v := b.Bucket(bucketRejects).Get(seqKey(n))
	if v == nil {
		return rj, fmt.Errorf("rejection %d: %w", n, ErrNotFound)
	}
	if err := json.Unmarshal(v, &rj); err != nil {
		return rj, fmt.Errorf("rejection %d: %w", n, err)
	}
	return rj, nil
}

// Rejections lists up to limit rejections of a ledger numbered after after,
// oldest first.
func (l *Log) Rejections(ledgerName string, after uint64, limit int) ([]Rejection, error) {
	var out []Rejection
	err := l.view(ledgerName, func(b *bolt.Bucket) error {
		c := b.Bucket(bucketRejects).Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var rj Rejection
			if err := json.Unmarshal(v, &rj); err != nil {
				return fmt.Errorf("rejection %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, rj)
		}
		return nil
	})
	return out, err
}

// Verification is the result of Verify.
type Verification struct {
	Ledger string   `json:"ledger"`
	Events uint64   `json:"events"`
	Head   [32]byte `json:"-"`
	// HeadHex is the hash of the last record: publish it (or write it down)
	// and a later Verify proves nothing before it changed.
	HeadHex string `json:"head"`
}

// Verify recomputes the hash chain of a ledger from its first record and
// checks every stored hash, the sequence (no gaps), recorded times (never
// decreasing), that every event decodes and that the id index points at it.
// It returns ErrChainBroken (wrapped with the first bad sequence) if anything
// was altered.
func (l *Log) Verify(ctx context.Context, ledgerName string) (Verification, error) {
	v := Verification{Ledger: ledgerName}
	var prev [32]byte
	var prevTime int64
	reversals := 0
	err := l.view(ledgerName, func(b *bolt.Bucket) error {
		var d events.Decoder
		ids := b.Bucket(bucketIDs)
		release := newMapRelease(b.Tx())
		c := b.Bucket(bucketLog).Cursor()
		for k, val := c.First(); k != nil; k, val = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			if seq%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if seq != v.Events+1 {
				return fmt.Errorf("%w at seq %d: expected seq %d", ErrChainBroken, seq, v.Events+1)
			}
			r, err := decodeRecordWith(&d, seq, val)
			if err != nil {
				return fmt.Errorf("%w at seq %d: %v", ErrChainBroken, seq, err)
			}
			at := r.RecordedAt.UnixNano()
			if at < prevTime {
				return fmt.Errorf("%w at seq %d: recorded time goes backwards", ErrChainBroken, seq)
			}
			if want := chainHash(prev, seq, at, val[recordHeader:]); want != r.Hash {
				return fmt.Errorf("%w at seq %d: stored hash %x, recomputed %x", ErrChainBroken, seq, r.Hash[:8], want[:8])
			}
			if p := ids.Get([]byte(r.Event.ID)); p == nil || !bytes.Equal(p, k) {
				return fmt.Errorf("%w at seq %d: id index does not point at event %s", ErrChainBroken, seq, r.Event.ID)
			}
			if rv, ok := r.Event.Body.(events.Reversal); ok {
				reversals++
				if rb := b.Bucket(bucketReversed); rb == nil || !bytes.Equal(rb.Get([]byte(rv.EventID)), k) {
					return fmt.Errorf("%w at seq %d: the reversal index does not record that %s is reversed", ErrChainBroken, seq, rv.EventID)
				}
			}
			prev, prevTime = r.Hash, at
			v.Events = seq
			release.saw(val)
		}
		if n := uint64(ids.Stats().KeyN); n != v.Events {
			return fmt.Errorf("%w: id index holds %d ids for %d events", ErrChainBroken, n, v.Events)
		}
		if rb := b.Bucket(bucketReversed); rb != nil && rb.Stats().KeyN != reversals {
			return fmt.Errorf("%w: the reversal index holds %d events for %d reversals", ErrChainBroken, rb.Stats().KeyN, reversals)
		}
		return nil
	})
	v.Head = prev
	v.HeadHex = fmt.Sprintf("%x", prev)
	return v, err
}
