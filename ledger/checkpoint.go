package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/events"
)

var bucketCheckpoints = []byte("checkpoints")

// checkpointVersion opens a stored checkpoint of format 2 (doc.go).
const checkpointVersion = 2

// Checkpoint is derived state kept beside a ledger's log so that readers do
// not fold the whole log again: events standing for the first Seq records
// (for statements, their compaction). It is not part of the chain and is
// never trusted over the log: it is stored with a digest of its own bytes,
// and a reader checks the digest, Version, and that Head is still the hash
// of record Seq, and otherwise rebuilds it from the log.
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
	b, err := encodeCheckpoint(cp)
	if err != nil {
		return fmt.Errorf("save checkpoint of %s: %w", ledgerName, err)
	}
	err = l.update("save checkpoint", func(tx *bolt.Tx) error {
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

func encodeCheckpoint(cp Checkpoint) ([]byte, error) {
	b := []byte{checkpointVersion}
	b = binary.AppendUvarint(b, uint64(len(cp.Version)))
	b = append(b, cp.Version...)
	b = binary.BigEndian.AppendUint64(b, cp.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(cp.RecordedAt.UnixNano()))
	b = append(b, cp.Head[:]...)
	b = binary.AppendUvarint(b, uint64(len(cp.Events)))
	var enc []byte
	for i := range cp.Events {
		var err error
		if enc, err = cp.Events[i].AppendBinary(enc[:0]); err != nil {
			return nil, err
		}
		b = binary.AppendUvarint(b, uint64(len(enc)))
		b = append(b, enc...)
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...), nil
}

// LoadCheckpoint returns ledgerName's stored checkpoint, or ErrNotFound
// when there is none. A checkpoint whose digest does not match its bytes,
// or whose Head is not the hash of its record (a log restored from another
// copy, say), is ErrCheckpointDamaged: rebuild it from the log.
func (l *Log) LoadCheckpoint(ledgerName string) (Checkpoint, error) {
	var cp Checkpoint
	if l.format == "1" {
		return cp, fmt.Errorf("load checkpoint of %s: %w (format 1 checkpoints are rebuilt)", ledgerName, ErrNotFound)
	}
	_, err := l.readCheckpoint("load checkpoint", ledgerName, &cp, true)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("load checkpoint of %s: %w", ledgerName, err)
	}
	if err := l.matchesLog(ledgerName, cp); err != nil {
		return Checkpoint{}, fmt.Errorf("load checkpoint of %s: %w", ledgerName, err)
	}
	return cp, nil
}

// readCheckpoint decodes ledgerName's stored checkpoint into cp (its
// events too, with withEvents) and returns the number of its events. The
// digest is checked where the value lies in the map, and its pages given
// back after, the decoded events owning their bytes: a large ledger's
// checkpoint is tens of megabytes.
func (l *Log) readCheckpoint(what, ledgerName string, cp *Checkpoint, withEvents bool) (int, error) {
	count := 0
	err := l.read(what, func(tx *bolt.Tx) error {
		v, err := storedCheckpoint(tx, ledgerName)
		if err != nil {
			return err
		}
		release := newMapRelease(tx)
		defer release.release()
		release.saw(v)
		count, err = decodeCheckpoint(v, cp, withEvents)
		return err
	})
	return count, err
}

// storedCheckpointLen tells the size of ledgerName's stored checkpoint, or
// ErrNotFound.
func (l *Log) storedCheckpointLen(ledgerName string) (int, error) {
	n := 0
	err := l.read("checkpoint", func(tx *bolt.Tx) error {
		v, err := storedCheckpoint(tx, ledgerName)
		n = len(v)
		return err
	})
	return n, err
}

func storedCheckpoint(tx *bolt.Tx, ledgerName string) ([]byte, error) {
	bk := tx.Bucket(bucketCheckpoints)
	if bk == nil {
		return nil, ErrNotFound
	}
	v := bk.Get([]byte(ledgerName))
	if v == nil {
		return nil, ErrNotFound
	}
	return v, nil
}

// matchesLog checks that cp was taken of this log: record cp.Seq carries
// the hash cp.Head says.
func (l *Log) matchesLog(ledgerName string, cp Checkpoint) error {
	if cp.Seq == 0 {
		return nil
	}
	r, err := l.Get(ledgerName, cp.Seq)
	switch {
	case errors.Is(err, ErrNotFound):
		return fmt.Errorf("%w: it was taken at seq %d, past the log's end", ErrCheckpointDamaged, cp.Seq)
	case err != nil:
		return err
	case r.Hash != cp.Head:
		return fmt.Errorf("%w: it was taken at seq %d with head %x, but that record's hash is %x", ErrCheckpointDamaged, cp.Seq, cp.Head[:8], r.Hash[:8])
	}
	return nil
}

// CheckpointCheck is what Verify found of a ledger's stored checkpoint.
type CheckpointCheck struct {
	Stored  bool   `json:"stored"`
	Seq     uint64 `json:"seq,omitempty"`
	Version string `json:"version,omitempty"`
	Events  int    `json:"events,omitempty"`
}

// VerifyCheckpoint checks ledgerName's stored checkpoint: its digest, and
// that it was taken of this log. With deep, refold (when given) must
// rebuild the checkpoint's events from the log's first cp.Seq records, and
// they must be the same, byte for byte. Any mismatch is
// ErrCheckpointDamaged.
func (l *Log) VerifyCheckpoint(ctx context.Context, ledgerName string, refold func(ctx context.Context, cp Checkpoint) ([]events.Event, error)) (CheckpointCheck, error) {
	if l.format == "1" {
		// Written with no digest; ledgerd drops it when it upgrades the file.
		if _, err := l.storedCheckpointLen(ledgerName); err == nil {
			return CheckpointCheck{Stored: true, Version: "format 1, not checked"}, nil
		}
		return CheckpointCheck{}, nil
	}
	// Only a deep check decodes the events.
	var cp Checkpoint
	count, err := l.readCheckpoint("verify checkpoint", ledgerName, &cp, refold != nil)
	if errors.Is(err, ErrNotFound) {
		return CheckpointCheck{}, nil
	}
	if err != nil {
		return CheckpointCheck{Stored: errors.Is(err, ErrCheckpointDamaged)}, fmt.Errorf("checkpoint of %s: %w", ledgerName, err)
	}
	out := CheckpointCheck{Stored: true, Seq: cp.Seq, Version: cp.Version, Events: count}
	if err := l.matchesLog(ledgerName, cp); err != nil {
		return out, fmt.Errorf("checkpoint of %s: %w", ledgerName, err)
	}
	if refold == nil {
		return out, nil
	}
	want, err := refold(ctx, cp)
	if err != nil {
		return out, fmt.Errorf("checkpoint of %s: refold: %w", ledgerName, err)
	}
	if len(want) != len(cp.Events) {
		return out, fmt.Errorf("checkpoint of %s: %w: it holds %d events, the log's %d records fold into %d", ledgerName, ErrCheckpointDamaged, len(cp.Events), cp.Seq, len(want))
	}
	// The compaction's order within a day is its own (a checkpoint saved
	// after a restart keeps the order it was loaded in), so the two are
	// compared as sets of events.
	encode := func(evs []events.Event) ([]string, error) {
		out := make([]string, len(evs))
		for i := range evs {
			b, err := evs[i].MarshalBinary()
			if err != nil {
				return nil, err
			}
			out[i] = string(b)
		}
		slices.Sort(out)
		return out, nil
	}
	a, err1 := encode(want)
	b, err2 := encode(cp.Events)
	if err := errors.Join(err1, err2); err != nil {
		return out, fmt.Errorf("checkpoint of %s: %w", ledgerName, err)
	}
	for i := range a {
		if a[i] != b[i] {
			what := "an event that does not decode"
			var e events.Event
			if e.UnmarshalBinary([]byte(b[i])) == nil {
				what = fmt.Sprintf("%s %s %s", e.Date, e.Unit, e.Body.Kind())
			}
			return out, fmt.Errorf("checkpoint of %s: %w: it holds an event the log does not fold into (%s)", ledgerName, ErrCheckpointDamaged, what)
		}
	}
	return out, nil
}

// decodeCheckpoint decodes a stored checkpoint after checking its
// digest, and returns the number of its events; with withEvents false it
// reads the header only, leaving cp.Events empty.
func decodeCheckpoint(v []byte, cp *Checkpoint, withEvents bool) (int, error) {
	damaged := func(what string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrCheckpointDamaged, fmt.Sprintf(what, a...))
	}
	if len(v) < 1+sha256.Size || v[0] != checkpointVersion {
		return 0, damaged("not a checkpoint of format 2")
	}
	body, sum := v[:len(v)-sha256.Size], v[len(v)-sha256.Size:]
	if got := sha256.Sum256(body); string(got[:]) != string(sum) {
		return 0, damaged("its digest does not match its %d bytes (stored %x, computed %x)", len(v), sum[:8], got[:8])
	}
	v = body[1:]
	uvarint := func() (uint64, error) {
		n, k := binary.Uvarint(v)
		if k <= 0 {
			return 0, damaged("a bad length")
		}
		v = v[k:]
		return n, nil
	}
	n, err := uvarint()
	if err != nil || n > uint64(len(v)) || uint64(len(v))-n < 8+8+32 {
		return 0, damaged("a bad header")
	}
	cp.Version, v = string(v[:n]), v[n:]
	cp.Seq, v = binary.BigEndian.Uint64(v), v[8:]
	cp.RecordedAt, v = time.Unix(0, int64(binary.BigEndian.Uint64(v))), v[8:]
	copy(cp.Head[:], v)
	v = v[32:]
	count, err := uvarint()
	if err != nil || count > uint64(len(v)) {
		return 0, damaged("a bad event count")
	}
	if !withEvents {
		return int(count), nil
	}
	cp.Events = make([]events.Event, count)
	for i := range cp.Events {
		n, err := uvarint()
		if err != nil || n > uint64(len(v)) {
			return 0, damaged("event %d: a bad length", i)
		}
		if err := cp.Events[i].UnmarshalBinary(v[:n]); err != nil {
			return 0, damaged("event %d: %v", i, err)
		}
		v = v[n:]
	}
	if len(v) != 0 {
		return 0, damaged("%d bytes after its events", len(v))
	}
	return int(count), nil
}
