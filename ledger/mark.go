package ledger

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A mark is what a data directory remembers of the log file beside it: the
// log's identity (meta "id") and the last transaction committed. Open
// compares the file with it, so that a log file that is missing, empty,
// older than the last commit (copied back from an old copy) or another log
// altogether is refused instead of silently becoming the books.
//
// The mark file holds two slots of 128 bytes, each a line of text an
// operator can read:
//
//	budgetledger-mark 1 log=<32 hex> txid=<20 digits> at=<RFC 3339, UTC> sum=<16 hex>
//
// where sum is FNV-64a of the line before " sum=". The log writes the slots
// in turn after every commit, and syncs the file once a second when it
// changed (not at every commit, which would double the fsyncs): a slot
// torn by a crash leaves the other, and a mark behind the file (its last
// second lost with the page cache in a power cut) only makes the check
// weaker, never wrong, because it is written after the commit it records.
type Mark struct {
	Log  string    // the log's identity
	TxID uint64    // the last transaction committed
	At   time.Time // when it was written
}

const (
	markSlot   = 128
	markPrefix = "budgetledger-mark 1 "
)

func (m Mark) line() []byte {
	s := fmt.Sprintf("%slog=%s txid=%020d at=%s", markPrefix, m.Log, m.TxID, m.At.UTC().Format("2006-01-02T15:04:05Z"))
	h := fnv.New64a()
	h.Write([]byte(s))
	s = fmt.Sprintf("%s sum=%016x", s, h.Sum64())
	if len(s) >= markSlot {
		s = s[:markSlot-1] // only a log id longer than 32 characters; the sum then fails on read
	}
	return []byte(s + strings.Repeat(" ", markSlot-1-len(s)) + "\n")
}

func parseMarkLine(b []byte) (Mark, error) {
	s := strings.TrimRight(string(b), " \n")
	body, sum, ok := strings.Cut(s, " sum=")
	if !ok || !strings.HasPrefix(body, markPrefix) {
		return Mark{}, errors.New("not a mark")
	}
	h := fnv.New64a()
	h.Write([]byte(body))
	if want := fmt.Sprintf("%016x", h.Sum64()); sum != want {
		return Mark{}, errors.New("checksum mismatch")
	}
	var m Mark
	for _, f := range strings.Fields(strings.TrimPrefix(body, markPrefix)) {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "log":
			m.Log = v
		case "txid":
			m.TxID, err = strconv.ParseUint(v, 10, 64)
		case "at":
			m.At, err = time.Parse(time.RFC3339, v)
		}
		if err != nil {
			return Mark{}, fmt.Errorf("field %s: %v", k, err)
		}
	}
	if m.Log == "" {
		return Mark{}, errors.New("no log identity")
	}
	return m, nil
}

// ReadMark reads the mark file at path: the newer of its intact slots.
// It returns ErrNotFound when there is no mark file.
func ReadMark(path string) (Mark, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Mark{}, fmt.Errorf("mark %s: %w", path, ErrNotFound)
	}
	if err != nil {
		return Mark{}, fmt.Errorf("mark %s: %w", path, err)
	}
	var best Mark
	found := false
	var errs []error
	for i := 0; i+markSlot <= len(b); i += markSlot {
		m, err := parseMarkLine(b[i : i+markSlot])
		if err != nil {
			errs = append(errs, fmt.Errorf("slot %d: %v", i/markSlot, err))
			continue
		}
		if !found || m.TxID > best.TxID {
			best, found = m, true
		}
	}
	if !found {
		return Mark{}, fmt.Errorf("mark %s: no intact slot (%v); if ledger.db beside it is the right log, remove the mark and start again", path, errors.Join(errs...))
	}
	return best, nil
}

// WriteMark writes m into both slots of the mark file at path, durably
// (the file and its directory are synced): for a new log and for a log
// restored from a backup (ledgerctl restore).
func WriteMark(path string, m Mark) error {
	line := m.line()
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write mark: %w", err)
	}
	_, err = f.Write(append(append([]byte(nil), line...), line...))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write mark %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// marker keeps a log's mark up to date after every commit.
type marker struct {
	mu     sync.Mutex
	f      *os.File
	log    string
	last   uint64
	slot   int
	synced uint64 // the last txid synced
}

// sync makes the mark durable if it moved since the last sync.
func (w *marker) sync() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last == w.synced {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	w.synced = w.last
	return nil
}

func openMarker(path, logID string, txid uint64, now time.Time) (*marker, error) {
	if err := WriteMark(path, Mark{Log: logID, TxID: txid, At: now}); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("open mark: %w", err)
	}
	return &marker{f: f, log: logID, last: txid, synced: txid}, nil
}

// record notes that transaction txid committed. Commits of the writer and
// of checkpoints finish in any order; the mark only moves forward.
func (w *marker) record(txid uint64, now time.Time) error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if txid <= w.last {
		return nil
	}
	w.last = txid
	w.slot ^= 1
	_, err := w.f.WriteAt(Mark{Log: w.log, TxID: txid, At: now}.line(), int64(w.slot*markSlot))
	return err
}

func (w *marker) close() error {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	// A clean stop leaves the mark durable.
	err := w.f.Sync()
	return errors.Join(err, w.f.Close())
}
