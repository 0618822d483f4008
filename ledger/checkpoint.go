package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/events"
)

var bucketCheckpoints = []byte("checkpoints")

// Checkpoint is derived state kept beside a ledger's log so that readers do
// not fold the whole log again: events standing for the first Seq records
// (for statements, their compaction). It is not part of the chain and is
// never trusted over the log: a reader checks Version and that Head is still
// the hash of record Seq, and otherwise rebuilds it from the log.
type Checkpoint struct {
	// Version names the rules that made Events; a reader with other rules
	// ignores the checkpoint.
	Version string
	// Seq is the last record folded in, RecordedAt its recorded time and
	// Head its hash.
	Seq        uint64
	RecordedAt time.Time
	Head       [32]byte
	Events     []events.Event
}

// SaveCheckpoint stores cp as ledgerName's checkpoint, replacing the one
// before. It commits in a transaction of its own, beside the writer's.
func (l *Log) SaveCheckpoint(ledgerName string, cp Checkpoint) error {
	if l.opts.ReadOnly {
		return fmt.Errorf("save checkpoint of %s: log opened read-only", ledgerName)
	}
	b := binary.AppendUvarint(nil, uint64(len(cp.Version)))
	b = append(b, cp.Version...)
	b = binary.BigEndian.AppendUint64(b, cp.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(cp.RecordedAt.UnixNano()))
	b = append(b, cp.Head[:]...)
	b = binary.AppendUvarint(b, uint64(len(cp.Events)))
	var enc []byte
	for i := range cp.Events {
		var err error
		if enc, err = cp.Events[i].AppendBinary(enc[:0]); err != nil {
			return fmt.Errorf("save checkpoint of %s: %w", ledgerName, err)
		}
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	}
	err := l.db.Update(func(tx *bolt.Tx) error {
		bk, err := tx.CreateBucketIfNotExists(bucketCheckpoints)
		if err != nil {
			return err
		}
		return bk.Put([]byte(ledgerName), b)
	})
	if err != nil {
		return fmt.Errorf("save checkpoint of %s at seq %d: %w", ledgerName, cp.Seq, err)
	}
	return nil
}

// LoadCheckpoint returns ledgerName's stored checkpoint, or ErrNotFound.
// A checkpoint whose Head is no longer the hash of its record (a log
// restored from another copy, say) is reported as ErrNotFound too: rebuild.
func (l *Log) LoadCheckpoint(ledgerName string) (Checkpoint, error) {
	var cp Checkpoint
	err := l.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketCheckpoints)
		if bk == nil {
			return ErrNotFound
		}
		v := bk.Get([]byte(ledgerName))
		if v == nil {
			return ErrNotFound
		}
		return decodeCheckpoint(v, &cp)
	})
	if err != nil {
		return Checkpoint{}, fmt.Errorf("load checkpoint of %s: %w", ledgerName, err)
	}
	if cp.Seq > 0 {
		r, err := l.Get(ledgerName, cp.Seq)
		if errors.Is(err, ErrNotFound) || (err == nil && r.Hash != cp.Head) {
			return Checkpoint{}, fmt.Errorf("load checkpoint of %s: seq %d is not the record it was taken at: %w", ledgerName, cp.Seq, ErrNotFound)
		}
		if err != nil {
			return Checkpoint{}, fmt.Errorf("load checkpoint of %s: %w", ledgerName, err)
		}
	}
	return cp, nil
}

// errCheckpoint marks a checkpoint that does not decode.
var errCheckpoint = errors.New("malformed checkpoint")

func decodeCheckpoint(v []byte, cp *Checkpoint) error {
	uvarint := func() (uint64, error) {
		n, k := binary.Uvarint(v)
		if k <= 0 {
			return 0, errCheckpoint
		}
		v = v[k:]
		return n, nil
	}
	n, err := uvarint()
	if err != nil || n > uint64(len(v)) || uint64(len(v))-n < 8+8+32 {
		return errCheckpoint
	}
	cp.Version, v = string(v[:n]), v[n:]
	cp.Seq, v = binary.BigEndian.Uint64(v), v[8:]
	cp.RecordedAt, v = time.Unix(0, int64(binary.BigEndian.Uint64(v))), v[8:]
	copy(cp.Head[:], v)
	v = v[32:]
	count, err := uvarint()
	if err != nil || count > uint64(len(v)) {
		return errCheckpoint
	}
	cp.Events = make([]events.Event, count)
	for i := range cp.Events {
		n, err := uvarint()
		if err != nil || n > uint64(len(v)) {
			return errCheckpoint
		}
		if err := cp.Events[i].UnmarshalBinary(v[:n]); err != nil {
			return fmt.Errorf("%w: event %d: %v", errCheckpoint, i, err)
		}
		v = v[n:]
	}
	return nil
}
