package ledger

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/events"
)

// Every read of records checks each one against the chain: its sequence
// follows the one before, its recorded time does not go back, and its
// stored hash is the hash of the one before, its sequence, time and event.
// A record that fails is never handed on: the read returns ErrChainBroken
// naming it, and the log stops taking events (Log.stop). So nothing read
// from a file changed behind the log's back is served as the books, at the
// cost of one SHA-256 of about 150 bytes a record.

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
		return Record{}, fmt.Errorf("record %d: %w: %v", seq, ErrChainBroken, err)
	}
	return r, nil
}

// decodeEnvelope parses the log's envelope of a stored record, leaving the
// event undecoded.
func decodeEnvelope(seq uint64, v []byte) (Record, error) {
	if len(v) < recordHeader || v[0] != recordVersion {
		return Record{}, fmt.Errorf("record %d: %w: bad header", seq, ErrChainBroken)
	}
	r := Record{Seq: seq, RecordedAt: time.Unix(0, int64(binary.BigEndian.Uint64(v[1:9])))}
	copy(r.Hash[:], v[9:41])
	return r, nil
}

// link checks a stored record v of sequence seq against the chain before
// it: the previous record's sequence, hash and recorded time.
type link struct {
	seq  uint64
	hash [32]byte
	at   int64
}

// anchor is the link a read that starts after record after continues from:
// that record as stored (zero for the start of the log).
func anchor(b ledgerBuckets, after uint64) (link, error) {
	if after == 0 {
		return link{}, nil
	}
	v := b.log.Get(seqKey(after))
	if v == nil {
		// Past the end, nothing follows; a record that did would fail its
		// hash check, as a gap must.
		return link{seq: after}, nil
	}
	r, err := decodeEnvelope(after, v)
	if err != nil {
		return link{seq: after}, err
	}
	return link{seq: after, hash: r.Hash, at: r.RecordedAt.UnixNano()}, nil
}

// next checks record v, stored under key k, as the record after p, and
// returns its link.
func (p link) next(k, v []byte) (link, error) {
	if len(k) != 8 {
		return p, fmt.Errorf("%w after seq %d: a key of %d bytes", ErrChainBroken, p.seq, len(k))
	}
	seq := binary.BigEndian.Uint64(k)
	if seq != p.seq+1 {
		return p, fmt.Errorf("%w at seq %d: expected seq %d", ErrChainBroken, seq, p.seq+1)
	}
	if len(v) < recordHeader || v[0] != recordVersion {
		return p, fmt.Errorf("%w at seq %d: bad header", ErrChainBroken, seq)
	}
	at := int64(binary.BigEndian.Uint64(v[1:9]))
	if at < p.at {
		return p, fmt.Errorf("%w at seq %d: recorded time goes backwards", ErrChainBroken, seq)
	}
	want := chainHash(p.hash, seq, at, v[recordHeader:])
	if string(want[:]) != string(v[9:41]) {
		return p, hashMismatch(seq, [8]byte(v[9:17]), [8]byte(want[:8]))
	}
	return link{seq: seq, hash: want, at: at}, nil
}

// hashMismatch is the error of a record whose stored hash is not the
// chain's. It takes copies, so that the hash of a record that matches
// (every one, but for damage) stays on the stack.
//
//go:noinline
func hashMismatch(seq uint64, stored, want [8]byte) error {
	return fmt.Errorf("%w at seq %d: stored hash %x, recomputed %x", ErrChainBroken, seq, stored, want)
}

// Chain checks records one after another against the hash chain, as
// every read of the log does: for a reader outside the process that has
// the events and their envelopes only (ledgerctl replay over HTTP, an
// auditor's tool). The zero value expects seq 1.
type Chain struct{ last link }

// Next checks the record of event e at seq, recorded at at with the
// stored hash hash, as the one after the last checked; an error wraps
// ErrChainBroken.
func (c *Chain) Next(seq uint64, at time.Time, hash [32]byte, e *events.Event) error {
	b, err := e.AppendBinary(make([]byte, 0, 256))
	if err != nil {
		return fmt.Errorf("%w at seq %d: %v", ErrChainBroken, seq, err)
	}
	v := make([]byte, 0, recordHeader+len(b))
	v = append(v, recordVersion)
	v = binary.BigEndian.AppendUint64(v, uint64(at.UnixNano()))
	v = append(append(v, hash[:]...), b...)
	next, err := c.last.next(seqKey(seq), v)
	if err != nil {
		return err
	}
	c.last = next
	return nil
}

// Seq is the last sequence checked.
func (c *Chain) Seq() uint64 { return c.last.seq }

// broken stops the log when a read found the chain broken: its file was
// changed behind its back, and appending to it would build on that.
func (l *Log) broken(ledgerName string, err error) error {
	if err == nil {
		return nil
	}
	l.stop(fmt.Errorf("ledger %s: %w", ledgerName, err))
	return err
}

// read runs fn in a read transaction under guard.
func (l *Log) read(what string, fn func(*bolt.Tx) error) error {
	if l.closed.Load() {
		return ErrClosed
	}
	return l.guard(what, func() error { return l.db.View(fn) })
}

// Ledgers lists the ledgers that have any event or rejection, sorted.
func (l *Log) Ledgers() ([]string, error) {
	var names []string
	err := l.read("list ledgers", func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketLedgers)
		if root == nil {
			return nil
		}
		return root.ForEachBucket(func(k []byte) error {
			names = append(names, string(k))
			return nil
		})
	})
	return names, err
}

// Len returns the number of events in a ledger (its last sequence).
func (l *Log) Len(ledgerName string) (uint64, error) {
	var n uint64
	err := l.view(ledgerName, func(b ledgerBuckets) error {
		if k, _ := b.log.Cursor().Last(); k != nil {
			n = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return n, err
}

// view runs fn on a ledger's buckets in a read transaction; ErrNotFound when
// the ledger does not exist.
func (l *Log) view(ledgerName string, fn func(ledgerBuckets) error) error {
	return l.read("read "+ledgerName, func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketLedgers)
		var b *bolt.Bucket
		if root != nil {
			b = root.Bucket([]byte(ledgerName))
		}
		if b == nil {
			return fmt.Errorf("ledger %s: %w", ledgerName, ErrNotFound)
		}
		lb, err := bucketsOf(b, ledgerName)
		if err != nil {
			return err
		}
		return fn(lb)
	})
}

// Scan calls fn for every record of a ledger with Seq > after, in sequence
// order, until fn returns an error (returned as is) or ctx ends. It reads a
// consistent snapshot: appends committed during the scan are not seen.
// Every record is checked against the chain first (see the top of read.go).
func (l *Log) Scan(ctx context.Context, ledgerName string, after uint64, fn func(Record) error) error {
	var chainErr error
	err := l.view(ledgerName, func(b ledgerBuckets) error {
		p, err := anchor(b, after)
		if err != nil {
			chainErr = fmt.Errorf("scan %s: %w", ledgerName, err)
			return chainErr
		}
		// One Decoder for the whole scan: the events of a ledger repeat a
		// few hundred codes and names, which are then allocated once.
		var d events.Decoder
		release := newMapRelease(b.log.Tx())
		defer release.release()
		c := b.log.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil; k, v = c.Next() {
			if p.seq%4096 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			if p, err = p.next(k, v); err != nil {
				chainErr = fmt.Errorf("scan %s: %w", ledgerName, err)
				return chainErr
			}
			r, err := decodeRecordWith(&d, p.seq, v)
			if err != nil {
				chainErr = fmt.Errorf("scan %s: %w", ledgerName, err)
				return chainErr
			}
			release.saw(v) // after decoding: the event keeps no reference to v
			if err := fn(r); err != nil {
				return err
			}
		}
		return nil
	})
	if chainErr != nil && err == chainErr {
		return l.broken(ledgerName, err)
	}
	return err
}

// RawRecord is a record as stored, for a reader that decodes its event
// itself, or only the parts it needs (events.ViewAmount). Event is the
// event's binary form as it lies in the file's memory map, valid only
// until the function it was given to returns. Of the envelope it carries
// the sequence, and what checking its hash takes (pointers into the map): a
// fold that needs the last record's time and hash reads that record (Get)
// afterwards.
type RawRecord struct {
	Seq   uint64
	Event []byte
	hdr   *[recordHeader]byte // the record's envelope
	prev  *[32]byte           // the previous record's stored hash
}

// check checks r's stored hash against the previous record's: the part of
// the chain check that ScanRawPartitioned leaves to the workers, so that
// the hashing runs on every core.
func (r RawRecord) check() error {
	var prev [32]byte
	if r.prev != nil {
		prev = *r.prev
	}
	at := int64(binary.BigEndian.Uint64(r.hdr[1:9]))
	want := chainHash(prev, r.Seq, at, r.Event)
	if string(want[:]) != string(r.hdr[9:41]) {
		return hashMismatch(r.Seq, [8]byte(r.hdr[9:17]), [8]byte(want[:8]))
	}
	return nil
}

// ScanRawPartitioned is Scan without decoding the events, on n
// goroutines: each record with Seq > after goes to the worker part gives
// it (0 to n-1), and worker w calls fn(w, r) for each of its records, on
// its own goroutine, in sequence order. Workers share nothing but the records they are given, so fn may
// keep state per worker without locks: it is for folds that split, such as
// a checkpoint's days by date. part runs on the reading goroutine and sees
// every record; r.Event, there and in fn, is valid until the call returns.
// Every record is checked against the chain before fn sees it: its
// sequence and time by the reader, its hash by its worker.
//
// It returns once every fn call has returned. The first error (from fn,
// part, a record's check or ctx) stops the scan and is returned; fn may
// then have seen any part of the records, each worker a prefix of its own,
// so a caller folding them should start again.
func (l *Log) ScanRawPartitioned(ctx context.Context, ledgerName string, after uint64, n int, part func(RawRecord) (int, error), fn func(worker int, r RawRecord) error) error {
	if n < 1 {
		return fmt.Errorf("scan %s: %d workers", ledgerName, n)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var chainErr atomic.Pointer[error]
	chain := func(err error) error {
		err = fmt.Errorf("scan %s: %w", ledgerName, err)
		chainErr.CompareAndSwap(nil, &err)
		return err
	}
	err := l.view(ledgerName, func(b ledgerBuckets) error {
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
		p, err := anchor(b, after)
		if err != nil {
			return chain(err)
		}
		prev := &p.hash
		todo := make([]chan []RawRecord, n)
		free := make(chan []RawRecord, 10*n)
		for w := range todo {
			todo[w] = make(chan []RawRecord, 8)
			wg.Go(func() {
				// A worker reads the map too: a fault is an error here,
				// and the worker goes on taking chunks, so that the reader
				// never waits for it.
				err := l.guard("scan "+ledgerName, func() error {
					release := newMapRelease(b.log.Tx())
					defer release.release()
					for rs := range todo[w] {
						for _, r := range rs {
							if stop.Load() {
								break
							}
							if err := r.check(); err != nil {
								fail(chain(err))
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
					return nil
				})
				if err != nil {
					fail(err)
					for range todo[w] {
					}
				}
			})
		}
		bufs := make([][]RawRecord, n)
		c := b.log.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && !stop.Load(); k, v = c.Next() {
			if len(k) != 8 {
				fail(chain(fmt.Errorf("%w after seq %d: a key of %d bytes", ErrChainBroken, p.seq, len(k))))
				break
			}
			seq := binary.BigEndian.Uint64(k)
			if seq%4096 == 0 {
				if err := ctx.Err(); err != nil {
					fail(err)
					break
				}
			}
			// The sequence, header and time are checked here; the hash,
			// which is most of the cost, by the worker.
			if seq != p.seq+1 {
				fail(chain(fmt.Errorf("%w at seq %d: expected seq %d", ErrChainBroken, seq, p.seq+1)))
				break
			}
			if len(v) < recordHeader || v[0] != recordVersion {
				fail(chain(fmt.Errorf("%w at seq %d: bad header", ErrChainBroken, seq)))
				break
			}
			at := int64(binary.BigEndian.Uint64(v[1:9]))
			if at < p.at {
				fail(chain(fmt.Errorf("%w at seq %d: recorded time goes backwards", ErrChainBroken, seq)))
				break
			}
			p.seq, p.at = seq, at
			r := RawRecord{Seq: seq, Event: v[recordHeader:len(v):len(v)], hdr: (*[recordHeader]byte)(v), prev: prev}
			prev = (*[32]byte)(v[9:41])
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
	if p := chainErr.Load(); p != nil && err == *p {
		return l.broken(ledgerName, err)
	}
	return err
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

// Get returns the record at seq, checked against the one before it.
func (l *Log) Get(ledgerName string, seq uint64) (Record, error) {
	var r Record
	var chainErr error
	err := l.view(ledgerName, func(b ledgerBuckets) error {
		v := b.log.Get(seqKey(seq))
		if v == nil || seq == 0 {
			return fmt.Errorf("ledger %s seq %d: %w", ledgerName, seq, ErrNotFound)
		}
		p, err := anchor(b, seq-1)
		if err == nil {
			_, err = p.next(seqKey(seq), v)
		}
		if err == nil {
			r, err = decodeRecord(seq, v, true)
		}
		if err != nil {
			chainErr = fmt.Errorf("ledger %s: %w", ledgerName, err)
			return chainErr
		}
		return nil
	})
	if chainErr != nil && err == chainErr {
		return r, l.broken(ledgerName, err)
	}
	return r, err
}

// Outcome tells what became of event id in a ledger: Accepted (with its
// sequence and recorded time) if it is in the log, otherwise its latest
// rejection, otherwise ErrNotFound (never received, or not yet processed).
func (l *Log) Outcome(ledgerName, id string) (Outcome, error) {
	var o Outcome
	err := l.view(ledgerName, func(b ledgerBuckets) error {
		if v := b.ids.Get([]byte(id)); v != nil {
			seq := binary.BigEndian.Uint64(v)
			r, err := decodeRecord(seq, b.log.Get(v), false)
			if err != nil {
				return err
			}
			o = Outcome{Ledger: ledgerName, ID: id, Status: Accepted, Seq: seq, RecordedAt: r.RecordedAt}
			return nil
		}
		if v := b.rejids.Get([]byte(id)); v != nil {
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

func getRejection(b ledgerBuckets, n uint64) (Rejection, error) {
	v := b.rejects.Get(seqKey(n))
	if v == nil {
		return Rejection{}, fmt.Errorf("rejection %d: %w", n, ErrNotFound)
	}
	rj, _, err := decodeRejection(n, v)
	return rj, err
}

// Rejections lists up to limit rejections of a ledger numbered after after,
// oldest first.
func (l *Log) Rejections(ledgerName string, after uint64, limit int) ([]Rejection, error) {
	var out []Rejection
	err := l.view(ledgerName, func(b ledgerBuckets) error {
		c := b.rejects.Cursor()
		for k, v := c.Seek(seqKey(after + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			rj, _, err := decodeRejection(binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			out = append(out, rj)
		}
		return nil
	})
	return out, err
}
