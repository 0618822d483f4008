package ledger_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
)

// offsetOf returns where in the file at path the value find picks lies:
// the value slice points into bbolt's map of the file.
func offsetOf(t testing.TB, path string, find func(tx *bolt.Tx) []byte) (off int64, n int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var value []byte
	err = db.View(func(tx *bolt.Tx) error {
		v := find(tx)
		if len(v) == 0 {
			return errors.New("no such value")
		}
		off = int64(uintptr(unsafe.Pointer(unsafe.SliceData(v))) - db.Info().Data)
		n = len(v)
		value = bytes.Clone(v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := ledger.CheckFile(path); off < 0 || off+int64(n) > int64(st.Pages)*int64(st.PageSize) {
		// bbolt copied the value out of the map (a small bucket kept
		// inline in its parent, unaligned): find it in the file.
		file, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if off = int64(bytes.Index(file, value)); off < 0 {
			t.Fatal("value not found in the file")
		}
	}
	return off, n
}

// flip inverts the bits of one byte of the file at off.
func flip(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

func checkpointOf(t testing.TB, l *ledger.Log, ledgerName string, evs []events.Event) ledger.Checkpoint {
	t.Helper()
	n := length(t, l, ledgerName)
	last, err := l.Get(ledgerName, n)
	if err != nil {
		t.Fatal(err)
	}
	return ledger.Checkpoint{Version: "test-1", Seq: n, RecordedAt: last.RecordedAt, Head: last.Hash, Events: evs}
}

// TestCheckpointDigest: a checkpoint is stored with a digest of its own
// bytes, and one flipped byte anywhere in it (an amount among its events,
// above all, which still decodes) makes LoadCheckpoint and Verify say it is
// damaged, never hand it on.
func TestCheckpointDigest(t *testing.T) {
	path, evs, _ := tamperFixture(t)
	l := openLog(t, path, ledger.Options{})
	cp := checkpointOf(t, l, ledgerA, evs)
	if err := l.SaveCheckpoint(ledgerA, cp); err != nil {
		t.Fatal(err)
	}
	got, err := l.LoadCheckpoint(ledgerA)
	if err != nil || got.Seq != cp.Seq || len(got.Events) != len(evs) {
		t.Fatalf("load an intact checkpoint: %+v, %v", got, err)
	}
	v := verify(t, l, ledgerA)
	if !v.Checkpoint.Stored || v.Checkpoint.Seq != cp.Seq || v.Checkpoint.Events != len(evs) {
		t.Errorf("verify of an intact checkpoint: %+v", v.Checkpoint)
	}
	closeLog(t, l)

	off, n := offsetOf(t, path, func(tx *bolt.Tx) []byte { return tx.Bucket([]byte("checkpoints")).Get([]byte(ledgerA)) })
	for _, at := range []int64{0, 1, int64(n) / 2, int64(n) - 40, int64(n) - 1} {
		t.Run(fmt.Sprintf("byte %d of %d", at, n), func(t *testing.T) {
			flip(t, path, off+at)
			defer flip(t, path, off+at)
			l := openLog(t, path, ledger.Options{})
			defer closeLog(t, l)
			if cp, err := l.LoadCheckpoint(ledgerA); !errors.Is(err, ledger.ErrCheckpointDamaged) {
				t.Errorf("load: %d events, err = %v; want ErrCheckpointDamaged", len(cp.Events), err)
			}
			v, err := l.Verify(context.Background(), ledgerA)
			if !errors.Is(err, ledger.ErrCheckpointDamaged) || !strings.Contains(err.Error(), ledgerA) {
				t.Errorf("verify: %+v, err = %v; want ErrCheckpointDamaged naming the ledger", v, err)
			}
			if v.Events != tamperN {
				t.Errorf("verify checked %d events before the checkpoint, want %d", v.Events, tamperN)
			}
			// Derived data: the log still takes events.
			<-l.Verified()
			if err := l.Health(); err != nil {
				t.Errorf("a damaged checkpoint stopped the log: %v", err)
			}
		})
	}
}

// TestCheckpointOfAnotherLog: a checkpoint whose head is not the hash of
// its record is damaged too (taken of another copy of the log).
func TestCheckpointOfAnotherLog(t *testing.T) {
	path, evs, _ := tamperFixture(t)
	l := openLog(t, path, ledger.Options{})
	cp := checkpointOf(t, l, ledgerA, evs)
	cp.Head[0] ^= 1
	if err := l.SaveCheckpoint(ledgerA, cp); err != nil {
		t.Fatal(err)
	}
	if _, err := l.LoadCheckpoint(ledgerA); !errors.Is(err, ledger.ErrCheckpointDamaged) {
		t.Errorf("load: err = %v, want ErrCheckpointDamaged", err)
	}
	cp.Head[0] ^= 1
	cp.Seq = tamperN + 5
	if err := l.SaveCheckpoint(ledgerA, cp); err != nil {
		t.Fatal(err)
	}
	if _, err := l.LoadCheckpoint(ledgerA); !errors.Is(err, ledger.ErrCheckpointDamaged) {
		t.Errorf("load a checkpoint past the log's end: err = %v, want ErrCheckpointDamaged", err)
	}
}

// TestVerifyCheckpointDeep: the deep check compares the checkpoint's
// events with what the log folds into, as sets.
func TestVerifyCheckpointDeep(t *testing.T) {
	path, evs, _ := tamperFixture(t)
	l := openLog(t, path, ledger.Options{})
	cp := checkpointOf(t, l, ledgerA, evs)
	if err := l.SaveCheckpoint(ledgerA, cp); err != nil {
		t.Fatal(err)
	}
	reversed := func(_ context.Context, cp ledger.Checkpoint) ([]events.Event, error) {
		out := append([]events.Event(nil), evs...)
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
		return out, nil
	}
	if _, err := l.VerifyCheckpoint(context.Background(), ledgerA, reversed); err != nil {
		t.Errorf("deep check of a checkpoint equal as a set: %v", err)
	}
	other := func(_ context.Context, cp ledger.Checkpoint) ([]events.Event, error) {
		out := append([]events.Event(nil), evs...)
		out[3] = validEvent(t, ledgerA, id("t", 4), 999)
		return out, nil
	}
	if _, err := l.VerifyCheckpoint(context.Background(), ledgerA, other); !errors.Is(err, ledger.ErrCheckpointDamaged) {
		t.Errorf("deep check against another fold: err = %v, want ErrCheckpointDamaged", err)
	}
}

// TestReadsCheckTheChain: a record changed behind the log's back is never
// handed on by any read (Scan, Get, the events of a fold), and the log
// stops taking events once it has seen it.
func TestReadsCheckTheChain(t *testing.T) {
	path, _, _ := tamperFixture(t)
	off, _ := offsetOf(t, path, func(tx *bolt.Tx) []byte { return ledgerBucket(tx, ledgerA, "log").Get(key(6)) })
	flip(t, path, off+recordHeader+20) // inside the event: its hash no longer matches
	reads := []struct {
		name string
		read func(l *ledger.Log) error
	}{
		{"Scan", func(l *ledger.Log) error {
			return l.Scan(context.Background(), ledgerA, 0, func(ledger.Record) error { return nil })
		}},
		{"Scan after 5", func(l *ledger.Log) error {
			return l.Scan(context.Background(), ledgerA, 5, func(ledger.Record) error { return nil })
		}},
		{"Get", func(l *ledger.Log) error { _, err := l.Get(ledgerA, 6); return err }},
		{"Events", func(l *ledger.Log) error {
			var err error
			for range l.Events(context.Background(), ledgerA, &err) {
			}
			return err
		}},
		{"ScanRawPartitioned", func(l *ledger.Log) error {
			return l.ScanRawPartitioned(context.Background(), ledgerA, 0, 2,
				func(r ledger.RawRecord) (int, error) { return int(r.Seq % 2), nil },
				func(int, ledger.RawRecord) error { return nil })
		}},
	}
	for _, rd := range reads {
		t.Run(rd.name, func(t *testing.T) {
			l := openLog(t, path, ledger.Options{Logger: quietLogger()})
			if err := rd.read(l); !errors.Is(err, ledger.ErrChainBroken) || !strings.Contains(err.Error(), "seq") {
				t.Fatalf("err = %v, want ErrChainBroken naming the sequence", err)
			}
			if err := l.Health(); !errors.Is(err, ledger.ErrStopped) {
				t.Errorf("health after a broken read: %v, want ErrStopped", err)
			}
			e := validEvent(t, ledgerA, "after-break", 100)
			if _, err := l.Append(context.Background(), sub(e)); !errors.Is(err, ledger.ErrStopped) || !errors.Is(err, ledger.ErrChainBroken) {
				t.Errorf("append after a broken read: err = %v, want ErrStopped for ErrChainBroken", err)
			}
		})
	}
	// Records before the changed one read as they are.
	l := openLog(t, path, ledger.Options{Logger: quietLogger()})
	n := 0
	err := l.Scan(context.Background(), ledgerA, 0, func(r ledger.Record) error { n++; return nil })
	if n != 5 || !errors.Is(err, ledger.ErrChainBroken) {
		t.Errorf("scan handed on %d records (want the 5 before the break), err = %v", n, err)
	}
}

// TestTruncatedFile: a log file cut short anywhere is refused by Open, as
// ErrDamaged, before bbolt maps it; no size makes a reader fault.
func TestTruncatedFile(t *testing.T) {
	path := logPath(t)
	l := openLog(t, path, ledger.Options{})
	for b := range 20 {
		subs := make([]ledger.Submission, 200)
		for i := range subs {
			subs[i] = sub(validEvent(t, ledgerA, id(fmt.Sprintf("tr%02d", b), i), events.Amount(100+i)))
		}
		appendAll(t, l, subs...)
	}
	closeLog(t, l)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ledger.CheckFile(path)
	if err != nil || st.Pages < 8 {
		t.Fatalf("check the whole file: %+v, %v", st, err)
	}
	inUse := int64(st.Pages) * int64(st.PageSize)
	for _, size := range []int64{1, 100, 4096, 8192, 16 << 10, inUse / 2, inUse - 1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			cut := filepath.Join(t.TempDir(), "ledger.db")
			if err := os.WriteFile(cut, good[:size], 0o600); err != nil {
				t.Fatal(err)
			}
			for _, ro := range []bool{false, true} {
				l, err := ledger.Open(cut, ledger.Options{ReadOnly: ro})
				if err == nil {
					l.Close()
				}
				if !errors.Is(err, ledger.ErrDamaged) {
					t.Errorf("open (read-only %v) a file cut to %d of %d bytes: err = %v, want ErrDamaged", ro, size, len(good), err)
				}
			}
		})
	}
}

// TestFaultWhileOpen: a file truncated under an open log (by another
// process) makes its reads fault on the pages gone; each read returns
// ErrDamaged, and the process lives on.
func TestFaultWhileOpen(t *testing.T) {
	path := logPath(t)
	l := openLog(t, path, ledger.Options{Logger: quietLogger()})
	for b := range 20 {
		subs := make([]ledger.Submission, 200)
		for i := range subs {
			subs[i] = sub(validEvent(t, ledgerA, id(fmt.Sprintf("fw%02d", b), i), events.Amount(100+i)))
		}
		appendAll(t, l, subs...)
	}
	if err := os.Truncate(path, 16<<10); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Verify(context.Background(), ledgerA); !errors.Is(err, ledger.ErrDamaged) {
		t.Errorf("verify a truncated open file: err = %v, want ErrDamaged", err)
	}
	if _, err := l.CheckFile(context.Background()); !errors.Is(err, ledger.ErrDamaged) {
		t.Errorf("check a truncated open file: err = %v, want ErrDamaged", err)
	}
	if _, err := l.Get(ledgerA, 3000); !errors.Is(err, ledger.ErrDamaged) {
		t.Errorf("get from a truncated open file: err = %v, want ErrDamaged", err)
	}
	if err := l.Health(); !errors.Is(err, ledger.ErrStopped) {
		t.Errorf("health: %v, want ErrStopped", err)
	}
}

// TestCheckFileStructure: the structure check passes an intact file and
// reports a changed page header or element, without mapping the file.
func TestCheckFileStructure(t *testing.T) {
	path, _, _ := tamperFixture(t)
	l := openLog(t, path, ledger.Options{})
	fc, err := l.CheckFile(context.Background())
	if err != nil || fc.Reached == 0 || fc.Pages == 0 {
		t.Fatalf("check an intact file: %+v, %v", fc, err)
	}
	closeLog(t, l)
	// The page of the log bucket's records: its header's element count,
	// and the first element's key length.
	off, _ := offsetOf(t, path, func(tx *bolt.Tx) []byte { return ledgerBucket(tx, ledgerA, "log").Get(key(1)) })
	st, err := ledger.CheckFile(path)
	if err != nil {
		t.Fatal(err)
	}
	page := off / int64(st.PageSize) * int64(st.PageSize)
	// The page's flags and element count: the structure check alone sees
	// them.
	for _, at := range []int64{page + 8, page + 10} {
		flip(t, path, at)
		l := openLog(t, path, ledger.Options{Logger: quietLogger()})
		if _, err := l.CheckFile(context.Background()); !errors.Is(err, ledger.ErrDamaged) {
			t.Errorf("check with byte %d of the page flipped: err = %v, want ErrDamaged", at-page, err)
		}
		closeLog(t, l)
		flip(t, path, at)
	}
	// Every byte of the first element's header (flags, position, key and
	// value lengths): the structure check or Verify reports each.
	for at := page + 16; at < page+32; at++ {
		flip(t, path, at)
		l := openLog(t, path, ledger.Options{Logger: quietLogger()})
		_, cerr := l.CheckFile(context.Background())
		_, verr := l.Verify(context.Background(), ledgerA)
		if !errors.Is(cerr, ledger.ErrDamaged) && !errors.Is(verr, ledger.ErrChainBroken) && !errors.Is(verr, ledger.ErrDamaged) {
			t.Errorf("byte %d of the page flipped: check %v, verify %v; want either to report it", at-page, cerr, verr)
		}
		closeLog(t, l)
		flip(t, path, at)
	}
}

// TestMark: with a mark, Open refuses a file that is missing, empty,
// another log, or older than the last commit, each with ErrNotTheLog and
// words naming the mark; AcceptFile takes it as it is.
func TestMark(t *testing.T) {
	dir := t.TempDir()
	path, mark := filepath.Join(dir, "ledger.db"), filepath.Join(dir, "ledger.mark")
	opts := ledger.Options{Mark: mark, Logger: quietLogger()}
	l := openLog(t, path, opts)
	appendOne(t, l, sub(validEvent(t, ledgerA, "m-1", 100)))
	logID := l.ID()
	closeLog(t, l)
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l = openLog(t, path, opts)
	appendOne(t, l, sub(validEvent(t, ledgerA, "m-2", 100)))
	closeLog(t, l)
	m, err := ledger.ReadMark(mark)
	if err != nil || m.Log != logID {
		t.Fatalf("mark %+v, %v; want log %s", m, err, logID)
	}
	st, _ := ledger.CheckFile(path)
	if m.TxID != st.TxID {
		t.Errorf("mark at transaction %d, file at %d", m.TxID, st.TxID)
	}
	current, _ := os.ReadFile(path)
	other := filepath.Join(t.TempDir(), "ledger.db")
	closeLog(t, openLog(t, other, ledger.Options{}))
	otherBytes, _ := os.ReadFile(other)

	for _, tc := range []struct {
		name  string
		file  []byte // nil: no file
		words string
	}{
		{"missing", nil, "missing"},
		{"empty", []byte{}, "empty"},
		{"older copy", old, "older copy"},
		{"another log", otherBytes, "another ledger"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(path)
			if tc.file != nil {
				if err := os.WriteFile(path, tc.file, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			l, err := ledger.Open(path, opts)
			if err == nil {
				l.Close()
			}
			if !errors.Is(err, ledger.ErrNotTheLog) || !strings.Contains(err.Error(), tc.words) || !strings.Contains(err.Error(), logID) {
				t.Fatalf("open: err = %v; want ErrNotTheLog saying %q and naming log %s", err, tc.words, logID)
			}
			accept := opts
			accept.AcceptFile = true
			l = openLog(t, path, accept)
			closeLog(t, l)
			if m, _ := ledger.ReadMark(mark); m.Log != l.ID() {
				t.Errorf("after accepting, the mark names %s, the file is %s", m.Log, l.ID())
			}
			// Put the right file back for the next case.
			if err := os.WriteFile(path, current, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := ledger.WriteMark(mark, m); err != nil {
				t.Fatal(err)
			}
			st, _ := ledger.CheckFile(path)
			if err := ledger.WriteMark(mark, ledger.Mark{Log: logID, TxID: st.TxID, At: time.Now()}); err != nil {
				t.Fatal(err)
			}
		})
	}
	closeLog(t, openLog(t, path, opts))
}

// TestFileRemovedWhileOpen: once the file is removed or replaced under an
// open log, no commit is acknowledged (it would go into a file nobody can
// find again) and Health says why.
func TestFileRemovedWhileOpen(t *testing.T) {
	for _, how := range []string{"removed", "replaced"} {
		t.Run(how, func(t *testing.T) {
			path := logPath(t)
			l := openLog(t, path, ledger.Options{Logger: quietLogger()})
			appendOne(t, l, sub(validEvent(t, ledgerA, "r-1", 100)))
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if how == "replaced" {
				if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := l.Append(context.Background(), sub(validEvent(t, ledgerA, "r-2", 100)))
			if !errors.Is(err, ledger.ErrStopped) || !strings.Contains(err.Error(), how) {
				t.Errorf("append after the file was %s: err = %v, want ErrStopped saying so", how, err)
			}
			if err := l.Health(); !errors.Is(err, ledger.ErrStopped) {
				t.Errorf("health: %v", err)
			}
		})
	}
}

// TestRejectionBounds: a rejection keeps at most MaxRawKept bytes of its
// payload, with the payload's length and SHA-256; past the day's quota
// rejections are answered and counted, not stored.
func TestRejectionBounds(t *testing.T) {
	clock := newStepClock(epoch, time.Millisecond)
	l := openLog(t, logPath(t), ledger.Options{Now: clock.Now, RejectionsPerDay: 5, RejectionsPerDayAll: 8})
	big := bytes.Repeat([]byte("垃圾"), 20000)
	bad := func(ledgerName string, i int) ledger.Submission {
		return ledger.Submission{Ledger: ledgerName, ID: id("bad", i), Raw: big, Via: "http",
			Err: &events.ValidationError{Code: events.CodeMalformedJSON, Field: "event", Expected: "JSON"}}
	}
	var outs []ledger.Outcome
	for i := range 7 {
		outs = append(outs, appendOne(t, l, bad(ledgerA, i)))
	}
	for i, o := range outs {
		if o.Status != ledger.Rejected || o.Code != events.CodeMalformedJSON {
			t.Errorf("rejection %d: %+v", i, o)
		}
		if stored := i < 5; (o.Seq != 0) != stored || strings.Contains(o.Reason, "not kept") == stored {
			t.Errorf("rejection %d: number %d, reason %q; want stored %v", i, o.Seq, o.Reason, i < 5)
		}
	}
	rs, err := l.Rejections(ledgerA, 0, 0)
	if err != nil || len(rs) != 5 {
		t.Fatalf("%d rejections stored (%v), want 5", len(rs), err)
	}
	sum := sha256.Sum256(big)
	if r := rs[0]; len(r.Raw) != ledger.MaxRawKept || r.RawLen != len(big) || r.RawSHA256 != fmt.Sprintf("%x", sum) {
		t.Errorf("kept %d bytes of %d (said %d), sha %s", len(r.Raw), len(big), r.RawLen, r.RawSHA256)
	}
	// The quota for all ledgers: 3 more stored, then none, and no new
	// ledger is made for them.
	for i := range 5 {
		appendOne(t, l, bad(fmt.Sprintf("flood-%d", i), i))
	}
	names, _ := l.Ledgers()
	if len(names) != 4 {
		t.Errorf("ledgers %v: want %s and the 3 flood ledgers that got a stored rejection", names, ledgerA)
	}
	counts, err := l.RejectionCounts("")
	if err != nil || len(counts) != 1 || counts[0].Counted != 12 || counts[0].Stored != 8 || counts[0].Day != "2020-03-01" {
		t.Errorf("counts for all ledgers: %+v, %v; want 12 counted, 8 stored on 2020-03-01", counts, err)
	}
	counts, _ = l.RejectionCounts(ledgerA)
	if len(counts) != 1 || counts[0].Counted != 7 || counts[0].Stored != 5 {
		t.Errorf("counts for %s: %+v", ledgerA, counts)
	}
	verify(t, l, ledgerA)
	// A new day has a new quota.
	clock.Set(epoch.Add(24 * time.Hour))
	if o := appendOne(t, l, bad(ledgerA, 99)); o.Seq != 6 {
		t.Errorf("first rejection of the next day: %+v", o)
	}
}

// TestUpgradeFormat1: a format 1 file (no id, rejections as JSON alone,
// checkpoints without digest) is read, and a writable Open upgrades it:
// format 2, an id, the checkpoints dropped (rebuilt from the log), the old
// rejections kept and a new one chained after them.
func TestUpgradeFormat1(t *testing.T) {
	path, _, v := tamperFixture(t)
	l := openLog(t, path, ledger.Options{})
	appendOne(t, l, ledger.Submission{Ledger: ledgerA, ID: "old-bad", Raw: []byte("{"),
		Err: &events.ValidationError{Code: events.CodeMalformedJSON, Field: "event", Expected: "JSON"}})
	closeLog(t, l)
	alter(t, path, func(tx *bolt.Tx) error {
		m := tx.Bucket([]byte("meta"))
		mustPut(t, m, []byte("format"), []byte("1"))
		if err := m.Delete([]byte("id")); err != nil {
			return err
		}
		rj := ledgerBucket(tx, ledgerA, "rejects")
		old := getCopy(t, rj, key(1))
		mustPut(t, rj, key(1), old[33:]) // the JSON alone
		cp, err := tx.CreateBucketIfNotExists([]byte("checkpoints"))
		if err != nil {
			return err
		}
		mustPut(t, cp, []byte(ledgerA), []byte("\x05old-1 whatever format 1 held"))
		return tx.DeleteBucket([]byte("quota"))
	})
	ro := openLog(t, path, ledger.Options{ReadOnly: true})
	if got := verify(t, ro, ledgerA); got.Head != v.Head || got.Unchained != 1 {
		t.Errorf("format 1 read-only: %+v", got)
	}
	closeLog(t, ro)

	l = openLog(t, path, ledger.Options{Logger: quietLogger()})
	if len(l.ID()) != 32 {
		t.Errorf("upgraded log id %q", l.ID())
	}
	if _, err := l.LoadCheckpoint(ledgerA); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("format 1 checkpoint after the upgrade: %v, want none", err)
	}
	o := appendOne(t, l, ledger.Submission{Ledger: ledgerA, ID: "new-bad", Raw: []byte("}"),
		Err: &events.ValidationError{Code: events.CodeMalformedJSON, Field: "event", Expected: "JSON"}})
	if o.Seq != 2 {
		t.Errorf("new rejection numbered %d, want 2", o.Seq)
	}
	got := verify(t, l, ledgerA)
	if got.Rejections != 2 || got.Unchained != 1 || got.Head != v.Head {
		t.Errorf("after the upgrade: %+v", got)
	}
	if o, err := l.Outcome(ledgerA, "old-bad"); err != nil || o.Status != ledger.Rejected {
		t.Errorf("old rejection's outcome: %+v, %v", o, err)
	}
	closeLog(t, l)
	inspect(t, path, func(tx *bolt.Tx) error {
		if f := tx.Bucket([]byte("meta")).Get([]byte("format")); string(f) != "2" {
			t.Errorf("format after the upgrade: %q", f)
		}
		return nil
	})
}

// TestGuardKeepsCallersPanics: a panic of the caller's own function is a
// bug and goes on as it came, never dressed up as a damaged file.
func TestGuardKeepsCallersPanics(t *testing.T) {
	path, _, _ := tamperFixture(t)
	l := openLog(t, path, ledger.Options{})
	defer func() {
		if r := recover(); r != "caller's bug" {
			t.Errorf("recovered %v, want the caller's own panic", r)
		}
		<-l.Verified()
		if err := l.Health(); err != nil {
			t.Errorf("a caller's panic stopped the log: %v", err)
		}
	}()
	_ = l.Scan(context.Background(), ledgerA, 0, func(ledger.Record) error { panic("caller's bug") })
	t.Error("Scan returned after its function panicked")
}

// TestChain: the exported chain check a reader outside the process uses
// accepts the log's records as they are and refuses a changed one.
func TestChain(t *testing.T) {
	path, _, _ := tamperFixture(t)
	l := openLog(t, path, ledger.Options{})
	recs := scanAll(t, l, ledgerA)
	var c ledger.Chain
	for _, r := range recs {
		if err := c.Next(r.Seq, r.RecordedAt, r.Hash, &r.Event); err != nil {
			t.Fatalf("seq %d: %v", r.Seq, err)
		}
	}
	if c.Seq() != tamperN {
		t.Errorf("checked %d, want %d", c.Seq(), tamperN)
	}
	c = ledger.Chain{}
	e := recs[0].Event
	e.Memo = "changed"
	if err := c.Next(1, recs[0].RecordedAt, recs[0].Hash, &e); !errors.Is(err, ledger.ErrChainBroken) {
		t.Errorf("a changed event: %v", err)
	}
	c = ledger.Chain{}
	if err := c.Next(2, recs[1].RecordedAt, recs[1].Hash, &recs[1].Event); !errors.Is(err, ledger.ErrChainBroken) {
		t.Errorf("a record out of order: %v", err)
	}
}
