package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/budgetledger/budgetledger/events"
)

// Verification is the result of Verify.
type Verification struct {
	Ledger string   `json:"ledger"`
	Events uint64   `json:"events"`
	Head   [32]byte `json:"-"`
	// HeadHex is the hash of the last record: publish it (or write it down)
	// and a later Verify proves nothing before it changed.
	HeadHex string `json:"head"`
	// Rejections is how many stored rejections were checked; Unchained
	// how many of them were written by format 1, which stored no hash.
	Rejections uint64 `json:"rejections"`
	Unchained  uint64 `json:"unchained_rejections,omitempty"`
	// Checkpoint is what was found of the ledger's stored checkpoint.
	Checkpoint CheckpointCheck `json:"checkpoint"`
}

// Verify recomputes the hash chain of a ledger from its first record and
// checks every stored hash, the sequence (no gaps), recorded times (never
// decreasing), that every event decodes and belongs to the ledger, and
// that the indexes (ids, reversed, closed) hold exactly what the records
// say; then the chain of the stored rejections and their id index; then
// the stored checkpoint's digest and that it was taken of this log.
//
// It returns ErrChainBroken (wrapped with the first bad sequence) if the
// log or its indexes were altered, and the log stops taking events; or
// ErrCheckpointDamaged if only the checkpoint was, which the log does not
// need (ledgerd rebuilds it). The structure of the file is CheckFile's.
func (l *Log) Verify(ctx context.Context, ledgerName string) (Verification, error) {
	return l.VerifyDeep(ctx, ledgerName, nil)
}

// VerifyDeep is Verify with refold checking the stored checkpoint against
// the log folded again (see VerifyCheckpoint); nil: Verify.
func (l *Log) VerifyDeep(ctx context.Context, ledgerName string, refold func(ctx context.Context, cp Checkpoint) ([]events.Event, error)) (Verification, error) {
	v := Verification{Ledger: ledgerName}
	err := l.view(ledgerName, func(b ledgerBuckets) error {
		if err := verifyRecords(ctx, b, ledgerName, &v); err != nil {
			return err
		}
		return verifyRejections(ctx, b, ledgerName, &v)
	})
	v.HeadHex = fmt.Sprintf("%x", v.Head)
	if errors.Is(err, ErrChainBroken) {
		return v, l.broken(ledgerName, err)
	}
	if err != nil {
		return v, err
	}
	v.Checkpoint, err = l.VerifyCheckpoint(ctx, ledgerName, refold)
	return v, err
}

func verifyRecords(ctx context.Context, b ledgerBuckets, ledgerName string, v *Verification) error {
	var d events.Decoder
	var p link
	reversals := 0
	closes := map[int]uint64{}
	// The id index is looked up at random: its pages are given back
	// apart from the records', so that verifying a large log does not
	// leave the whole index resident.
	release, idsRelease := newMapRelease(b.log.Tx()), newMapRelease(b.log.Tx())
	defer release.release()
	defer idsRelease.release()
	c := b.log.Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		if p.seq%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		var err error
		if p, err = p.next(k, val); err != nil {
			return err
		}
		seq := p.seq
		r, err := decodeRecordWith(&d, seq, val)
		if err != nil {
			return fmt.Errorf("%w at seq %d: %v", ErrChainBroken, seq, err)
		}
		if r.Event.Ledger != ledgerName {
			return fmt.Errorf("%w at seq %d: event %s names ledger %q", ErrChainBroken, seq, r.Event.ID, r.Event.Ledger)
		}
		ix := b.ids.Get([]byte(r.Event.ID))
		if ix == nil || !bytes.Equal(ix, k) {
			return fmt.Errorf("%w at seq %d: id index does not point at event %s", ErrChainBroken, seq, r.Event.ID)
		}
		idsRelease.sawLookup(ix)
		switch body := r.Event.Body.(type) {
		case events.Reversal:
			reversals++
			if b.reversed == nil || !bytes.Equal(b.reversed.Get([]byte(body.EventID)), k) {
				return fmt.Errorf("%w at seq %d: the reversal index does not record that %s is reversed", ErrChainBroken, seq, body.EventID)
			}
		case events.YearEndClosed:
			closes[r.Event.FiscalYear] = seq
		}
		v.Head, v.Events = p.hash, seq
		release.saw(val)
	}
	// Counted with a cursor that gives the pages back as it goes, not
	// with Stats, which would leave the whole index resident.
	n := uint64(0)
	idsRelease.release()
	ic := b.ids.Cursor()
	for k, val := ic.First(); k != nil; k, val = ic.Next() {
		n++
		// An entry takes about twice its key and value in its page.
		idsRelease.sawAs(k, 2*(len(k)+len(val)))
	}
	if n != v.Events {
		return fmt.Errorf("%w: id index holds %d ids for %d events", ErrChainBroken, n, v.Events)
	}
	if b.reversed != nil && b.reversed.Stats().KeyN != reversals {
		return fmt.Errorf("%w: the reversal index holds %d events for %d reversals", ErrChainBroken, b.reversed.Stats().KeyN, reversals)
	}
	closedN := 0
	if b.closed != nil {
		err := b.closed.ForEach(func(k, val []byte) error {
			closedN++
			if len(k) != 8 || len(val) != 8 {
				return fmt.Errorf("%w: the close index holds a key of %d bytes and a value of %d", ErrChainBroken, len(k), len(val))
			}
			y, seq := int(binary.BigEndian.Uint64(k)), binary.BigEndian.Uint64(val)
			if closes[y] != seq {
				return fmt.Errorf("%w: the close index says %d was closed at seq %d, the log at seq %d", ErrChainBroken, y, seq, closes[y])
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if closedN != len(closes) {
		return fmt.Errorf("%w: the close index holds %d years for %d 年终结账", ErrChainBroken, closedN, len(closes))
	}
	return nil
}

func verifyRejections(ctx context.Context, b ledgerBuckets, ledgerName string, v *Verification) error {
	var prev [32]byte
	latest := map[string]uint64{} // the last rejection of each id
	c := b.rejects.Cursor()
	for k, val := c.First(); k != nil; k, val = c.Next() {
		if v.Rejections%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		n := binary.BigEndian.Uint64(k)
		if len(k) != 8 || n != v.Rejections+1 {
			return fmt.Errorf("%w at rejection %d: expected rejection %d", ErrChainBroken, n, v.Rejections+1)
		}
		rj, hash, err := decodeRejection(n, val)
		if err != nil {
			return err
		}
		if len(val) > 0 && val[0] == rejectionVersion {
			if want := rejectionHash(prev, n, val[33:]); want != hash {
				return fmt.Errorf("%w at rejection %d: stored hash %x, recomputed %x", ErrChainBroken, n, hash[:8], want[:8])
			}
			prev = hash
		} else {
			v.Unchained++
			prev = [32]byte{}
		}
		if rj.Number != n || rj.Ledger != ledgerName {
			return fmt.Errorf("%w at rejection %d: it says it is rejection %d of %q", ErrChainBroken, n, rj.Number, rj.Ledger)
		}
		if rj.ID != "" && events.ValidateID(rj.ID) == nil {
			latest[rj.ID] = n
		}
		v.Rejections = n
	}
	count := 0
	err := b.rejids.ForEach(func(k, val []byte) error {
		count++
		if len(val) != 8 || latest[string(k)] != binary.BigEndian.Uint64(val) {
			return fmt.Errorf("%w: the rejection index points id %q at %x, its last rejection is %d", ErrChainBroken, k, val, latest[string(k)])
		}
		return nil
	})
	if err != nil {
		return err
	}
	if count != len(latest) {
		return fmt.Errorf("%w: the rejection index holds %d ids for %d rejected ids", ErrChainBroken, count, len(latest))
	}
	return nil
}
