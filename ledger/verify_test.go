package ledger_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
)

// These tests open the file with bbolt directly and rely only on the layout
// documented in doc.go, never on the package's internals.

type boltTx = bolt.Tx

// recordHeader is version byte + recorded time + hash (doc.go).
const recordHeader = 1 + 8 + 32

// alter runs fn in a write transaction on the closed log file at path.
func alter(t testing.TB, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatalf("bolt open %s: %v", path, err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatalf("alter %s: %v", path, err)
	}
}

// inspect runs fn in a read transaction on the closed log file at path.
func inspect(t testing.TB, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("bolt open %s: %v", path, err)
	}
	defer db.Close()
	if err := db.View(fn); err != nil {
		t.Fatalf("inspect %s: %v", path, err)
	}
}

func ledgerBucket(tx *bolt.Tx, name string, sub string) *bolt.Bucket {
	return tx.Bucket([]byte("ledgers")).Bucket([]byte(name)).Bucket([]byte(sub))
}

func key(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// getCopy returns a copy of a stored value (bbolt's are read-only memory).
func getCopy(t testing.TB, b *bolt.Bucket, k []byte) []byte {
	t.Helper()
	v := b.Get(k)
	if v == nil {
		t.Fatalf("no value at key %x", k)
	}
	return bytes.Clone(v)
}

// docHash is the chain link as doc.go specifies it, written independently
// of the package: SHA-256(previous hash || seq || recorded time || event).
func docHash(prev [32]byte, seq uint64, recordedAt int64, event []byte) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(binary.BigEndian.AppendUint64(nil, seq))
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(recordedAt)))
	h.Write(event)
	var out [32]byte
	h.Sum(out[:0])
	return out
}

const tamperN = 10

// tamperFixture writes tamperN events to a new log in three transactions,
// closes it and returns its path, the events and the verified head.
func tamperFixture(t *testing.T) (string, []events.Event, ledger.Verification) {
	t.Helper()
	path := logPath(t)
	clock := newStepClock(epoch, time.Second)
	l := openLog(t, path, ledger.Options{Now: clock.Now})
	var evs []events.Event
	var subs []ledger.Submission
	for i := 1; i <= tamperN; i++ {
		e := validEvent(t, ledgerA, id("t", i), events.Amount(100*i))
		evs = append(evs, e)
		subs = append(subs, sub(e))
	}
	appendAll(t, l, subs[:3]...)
	appendAll(t, l, subs[3:7]...)
	appendAll(t, l, subs[7:]...)
	v := verify(t, l, ledgerA)
	closeLog(t, l)
	return path, evs, v
}

// TestVerifyUnaltered: an untouched log verifies with every event counted
// and the same head after every reopen, read-only or not.
func TestVerifyUnaltered(t *testing.T) {
	path, _, v := tamperFixture(t)
	if v.Events != tamperN || v.Ledger != ledgerA || len(v.HeadHex) != 64 || fmt.Sprintf("%x", v.Head) != v.HeadHex {
		t.Fatalf("verify %+v", v)
	}
	for _, opts := range []ledger.Options{{}, {ReadOnly: true}, {}} {
		l := openLog(t, path, opts)
		if again := verify(t, l, ledgerA); again != v {
			t.Errorf("reopened (read-only %v): verify %+v, first %+v", opts.ReadOnly, again, v)
		}
		closeLog(t, l)
	}
	l := openLog(t, path, ledger.Options{})
	if _, err := l.Verify(context.Background(), "qingpu-none"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("verify an unknown ledger: err = %v, want ErrNotFound", err)
	}
}

// TestVerifyDetectsTampering: every alteration of a stored record is found
// by Verify, reported as ErrChainBroken at the first altered sequence.
func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name string
		// seq is the first sequence Verify must name, 0 when the break is
		// found only at the end.
		seq    uint64
		tamper func(t *testing.T, tx *bolt.Tx)
	}{
		{"event byte", 5, func(t *testing.T, tx *bolt.Tx) {
			lb := ledgerBucket(tx, ledgerA, "log")
			v := getCopy(t, lb, key(5))
			// A byte inside the source text: the event still decodes, only
			// the hash can tell.
			i := bytes.Index(v[recordHeader:], []byte("test-gl"))
			if i < 0 {
				t.Fatal("source text not found in record 5")
			}
			v[recordHeader+i] = 'T'
			mustPut(t, lb, key(5), v)
		}},
		{"amount byte", 7, func(t *testing.T, tx *bolt.Tx) {
			lb := ledgerBucket(tx, ledgerA, "log")
			v := getCopy(t, lb, key(7))
			v[len(v)-1] ^= 0x02 // the amount varint's last byte: 700 分 becomes another amount
			mustPut(t, lb, key(7), v)
		}},
		{"recorded time", 5, func(t *testing.T, tx *bolt.Tx) {
			lb := ledgerBucket(tx, ledgerA, "log")
			v := getCopy(t, lb, key(5))
			at := binary.BigEndian.Uint64(v[1:9])
			binary.BigEndian.PutUint64(v[1:9], at+1) // one nanosecond later, still in order
			mustPut(t, lb, key(5), v)
		}},
		{"stored hash", 10, func(t *testing.T, tx *bolt.Tx) {
			lb := ledgerBucket(tx, ledgerA, "log")
			v := getCopy(t, lb, key(10))
			v[9] ^= 0xff
			mustPut(t, lb, key(10), v)
		}},
		{"record deleted", 6, func(t *testing.T, tx *bolt.Tx) {
			if err := ledgerBucket(tx, ledgerA, "log").Delete(key(5)); err != nil {
				t.Fatal(err)
			}
		}},
		{"record and its id deleted", 6, func(t *testing.T, tx *bolt.Tx) {
			if err := ledgerBucket(tx, ledgerA, "log").Delete(key(5)); err != nil {
				t.Fatal(err)
			}
			if err := ledgerBucket(tx, ledgerA, "ids").Delete([]byte(id("t", 5))); err != nil {
				t.Fatal(err)
			}
		}},
		{"records swapped", 4, func(t *testing.T, tx *bolt.Tx) {
			lb := ledgerBucket(tx, ledgerA, "log")
			a, b := getCopy(t, lb, key(4)), getCopy(t, lb, key(6))
			mustPut(t, lb, key(4), b)
			mustPut(t, lb, key(6), a)
		}},
		{"records and ids swapped", 4, func(t *testing.T, tx *bolt.Tx) {
			lb, ids := ledgerBucket(tx, ledgerA, "log"), ledgerBucket(tx, ledgerA, "ids")
			a, b := getCopy(t, lb, key(4)), getCopy(t, lb, key(6))
			mustPut(t, lb, key(4), b)
			mustPut(t, lb, key(6), a)
			mustPut(t, ids, []byte(id("t", 4)), key(6))
			mustPut(t, ids, []byte(id("t", 6)), key(4))
		}},
		{"id index points elsewhere", 3, func(t *testing.T, tx *bolt.Tx) {
			mustPut(t, ledgerBucket(tx, ledgerA, "ids"), []byte(id("t", 3)), key(4))
		}},
		{"last record deleted", 0, func(t *testing.T, tx *bolt.Tx) {
			if err := ledgerBucket(tx, ledgerA, "log").Delete(key(tamperN)); err != nil {
				t.Fatal(err)
			}
		}},
		{"record version", 2, func(t *testing.T, tx *bolt.Tx) {
			lb := ledgerBucket(tx, ledgerA, "log")
			v := getCopy(t, lb, key(2))
			v[0] = 9
			mustPut(t, lb, key(2), v)
		}},
		{"record truncated", 8, func(t *testing.T, tx *bolt.Tx) {
			lb := ledgerBucket(tx, ledgerA, "log")
			v := getCopy(t, lb, key(8))
			mustPut(t, lb, key(8), v[:len(v)-3])
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path, _, _ := tamperFixture(t)
			alter(t, path, func(tx *bolt.Tx) error {
				tc.tamper(t, tx)
				return nil
			})
			l := openLog(t, path, ledger.Options{})
			v, err := l.Verify(context.Background(), ledgerA)
			if !errors.Is(err, ledger.ErrChainBroken) {
				t.Fatalf("verify after tampering: %+v, err = %v; want ErrChainBroken", v, err)
			}
			if tc.seq != 0 && !bytes.Contains([]byte(err.Error()), fmt.Appendf(nil, "seq %d", tc.seq)) {
				t.Errorf("verify error %q does not name seq %d", err, tc.seq)
			}
		})
	}
}

// TestVerifyRewrittenChain: someone who rewrites an event and recomputes
// every later hash leaves a chain that verifies, but with another head; so
// the published head is what proves the past unchanged. This also checks
// that the stored hashes are exactly the chain doc.go specifies.
func TestVerifyRewrittenChain(t *testing.T) {
	path, _, published := tamperFixture(t)
	alter(t, path, func(tx *bolt.Tx) error {
		lb := ledgerBucket(tx, ledgerA, "log")
		var prev [32]byte
		for seq := uint64(1); seq <= tamperN; seq++ {
			v := getCopy(t, lb, key(seq))
			if seq == 5 {
				i := bytes.Index(v[recordHeader:], []byte("test-gl"))
				v[recordHeader+i] = 'T'
			}
			h := docHash(prev, seq, int64(binary.BigEndian.Uint64(v[1:9])), v[recordHeader:])
			copy(v[9:41], h[:])
			mustPut(t, lb, key(seq), v)
			prev = h
		}
		return nil
	})
	l := openLog(t, path, ledger.Options{})
	v := verify(t, l, ledgerA)
	if v.Events != tamperN {
		t.Errorf("verify of the rewritten chain: %d events", v.Events)
	}
	if v.HeadHex == published.HeadHex {
		t.Errorf("a rewritten event left the head unchanged: %s", v.HeadHex)
	}
	r, err := l.Get(ledgerA, 5)
	if err != nil || r.Event.Source != "Test-gl" {
		t.Errorf("rewritten seq 5: source %q, err %v", r.Event.Source, err)
	}
}

// TestOnDiskLayout reads a log file with bbolt alone and checks it against
// doc.go, byte for byte: format marker, record envelope, hash chain, id
// index and rejections.
func TestOnDiskLayout(t *testing.T) {
	path := logPath(t)
	clock := newStepClock(epoch, time.Second)
	l := openLog(t, path, ledger.Options{Now: clock.Now})
	var evs []events.Event
	for i := 1; i <= 4; i++ {
		e := validEvent(t, ledgerA, id("d", i), events.Amount(12345*i))
		evs = append(evs, e)
	}
	outs := appendAll(t, l, sub(evs[0]), sub(evs[1]))
	outs = append(outs, appendAll(t, l, sub(evs[2]), sub(evs[3]))...)
	rej := appendOne(t, l, ledger.Submission{Ledger: ledgerA, ID: "d-bad", Raw: []byte("{}"), Via: "http",
		Err: &events.ValidationError{Code: events.CodeMissingBody, Field: "body", Expected: "exactly one body"}})
	head := verify(t, l, ledgerA)
	closeLog(t, l)

	inspect(t, path, func(tx *bolt.Tx) error {
		if f := tx.Bucket([]byte("meta")).Get([]byte("format")); string(f) != "2" {
			t.Errorf("meta/format = %q, want \"2\"", f)
		}
		if id := tx.Bucket([]byte("meta")).Get([]byte("id")); len(id) != 32 || strings.Trim(string(id), "0123456789abcdef") != "" {
			t.Errorf("meta/id = %q, want 32 hex digits", id)
		}
		lb, ids := ledgerBucket(tx, ledgerA, "log"), ledgerBucket(tx, ledgerA, "ids")
		var prev [32]byte
		seq := uint64(0)
		c := lb.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			seq++
			if !bytes.Equal(k, key(seq)) {
				t.Fatalf("log key %x, want seq %d as 8 bytes big-endian", k, seq)
			}
			if v[0] != 1 {
				t.Errorf("seq %d: record version %d", seq, v[0])
			}
			at := int64(binary.BigEndian.Uint64(v[1:9]))
			if at != outs[seq-1].RecordedAt.UnixNano() {
				t.Errorf("seq %d: stored time %d, acknowledged %d", seq, at, outs[seq-1].RecordedAt.UnixNano())
			}
			ev := binaryOf(t, evs[seq-1])
			if !bytes.Equal(v[recordHeader:], ev) {
				t.Errorf("seq %d: stored event is not the canonical binary form", seq)
			}
			h := docHash(prev, seq, at, ev)
			if !bytes.Equal(v[9:41], h[:]) {
				t.Errorf("seq %d: stored hash %x, doc.go's formula gives %x", seq, v[9:41], h)
			}
			if p := ids.Get([]byte(evs[seq-1].ID)); !bytes.Equal(p, k) {
				t.Errorf("ids[%s] = %x, want %x", evs[seq-1].ID, p, k)
			}
			prev = h
		}
		if seq != 4 || fmt.Sprintf("%x", prev) != head.HeadHex {
			t.Errorf("%d records with head %x; Verify said %s", seq, prev, head.HeadHex)
		}
		v := ledgerBucket(tx, ledgerA, "rejects").Get(key(rej.Seq))
		if len(v) < 33 || v[0] != 2 {
			t.Fatalf("rejection %d: want version byte 2 and a hash before the JSON, got %q", rej.Seq, v)
		}
		var rj ledger.Rejection
		if err := json.Unmarshal(v[33:], &rj); err != nil {
			t.Fatalf("rejection %d is not JSON after its hash: %v (%q)", rej.Seq, err, v)
		}
		// The first rejection chains from 32 zero bytes.
		rh := sha256.New()
		rh.Write(make([]byte, 32))
		rh.Write(key(rej.Seq))
		rh.Write(v[33:])
		if !bytes.Equal(rh.Sum(nil), v[1:33]) {
			t.Errorf("rejection %d: stored hash %x, doc.go's formula gives %x", rej.Seq, v[1:33], rh.Sum(nil))
		}
		sum := sha256.Sum256([]byte("{}"))
		if rj.ID != "d-bad" || rj.Code != events.CodeMissingBody || string(rj.Raw) != "{}" || rj.Via != "http" ||
			rj.RawLen != 2 || rj.RawSHA256 != fmt.Sprintf("%x", sum) {
			t.Errorf("stored rejection %+v", rj)
		}
		day := binary.BigEndian.AppendUint32(nil, uint32(20200301))
		q := tx.Bucket([]byte("quota"))
		for _, k := range [][]byte{day, append(append([]byte(nil), day...), ledgerA...)} {
			if got := q.Get(k); !bytes.Equal(got, append(key(1), key(1)...)) {
				t.Errorf("quota[%q] = %x, want stored 1 and counted 1", k, got)
			}
		}
		if p := ledgerBucket(tx, ledgerA, "rejids").Get([]byte("d-bad")); !bytes.Equal(p, key(rej.Seq)) {
			t.Errorf("rejids[d-bad] = %x, want %x", p, key(rej.Seq))
		}
		return nil
	})
}

func mustPut(t *testing.T, b *bolt.Bucket, k, v []byte) {
	t.Helper()
	if err := b.Put(k, v); err != nil {
		t.Fatal(err)
	}
}

// TestReadOnlyWithoutLayout: a bbolt file that has none of the log's buckets
// (a file of another program, or one whose writer crashed between creating
// the file and its first transaction) is either refused by a read-only Open
// or read as empty; it never makes a reader panic.
func TestReadOnlyWithoutLayout(t *testing.T) {
	path := logPath(t)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	if err != nil {
		t.Logf("refused: %v", err)
		return
	}
	t.Cleanup(func() { l.Close() })
	calls := []struct {
		name string
		call func() error
	}{
		{"Ledgers", func() error { _, err := l.Ledgers(); return err }},
		{"Len", func() error { _, err := l.Len(ledgerA); return err }},
		{"Verify", func() error { _, err := l.Verify(context.Background(), ledgerA); return err }},
		{"Outcome", func() error { _, err := l.Outcome(ledgerA, "x"); return err }},
	}
	for _, c := range calls {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%s on a read-only file without the ledgers bucket panics: %v "+
						"(Open accepted the file: initFormat only checks meta when it exists)", c.name, r)
				}
			}()
			if err := c.call(); err != nil && !errors.Is(err, ledger.ErrNotFound) {
				t.Logf("%s: %v", c.name, err)
			}
		}()
	}
}
