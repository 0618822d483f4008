package ledger

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestScanReleasingPages: a scan that gives back its mapped pages after
// every record reads exactly what one that keeps them reads, the log still
// verifies, and on Linux the file pages the process maps after a long scan
// are far fewer than the file.
func TestScanReleasingPages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const n = 60_000
	subs := make([]Submission, 0, 1000)
	for i := range n {
		e := internalEvent(fmt.Sprintf("e-%06d", i))
		e.Memo = strings.Repeat("备注", 20) // about 300 bytes a record: an 18 MB log
		subs = append(subs, Submission{Ledger: e.Ledger, Event: e})
		if len(subs) == cap(subs) {
			if _, err := l.Append(context.Background(), subs...); err != nil {
				t.Fatal(err)
			}
			subs = subs[:0]
		}
	}
	scan := func() []Record {
		var out []Record
		if err := l.Scan(context.Background(), "qingpu-zwb", 0, func(r Record) error {
			out = append(out, r)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	defer func(n int) { releaseEvery = n }(releaseEvery)
	releaseEvery = math.MaxInt
	want := scan()
	releaseEvery = 1
	got := scan()
	if len(got) != n || len(want) != n {
		t.Fatalf("scans read %d and %d records, want %d", len(got), len(want), n)
	}
	for i := range got {
		if got[i].Hash != want[i].Hash || got[i].Event.ID != want[i].Event.ID || got[i].Event.Memo != want[i].Event.Memo {
			t.Fatalf("record %d read %+v releasing pages, %+v keeping them", i+1, got[i], want[i])
		}
	}
	if _, err := l.Verify(context.Background(), "qingpu-zwb"); err != nil {
		t.Fatal(err)
	}

	// What stays mapped: the growth of RssFile (Linux) over a scan
	// that releases every 1 MiB, against the file's size.
	status := func() int64 {
		b, err := os.ReadFile("/proc/self/status")
		if err != nil {
			return -1
		}
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssFile:" {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return kb << 10
			}
		}
		return -1
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	releaseEvery = 1 << 20
	before := status()
	if before < 0 {
		t.Log("no RssFile in /proc/self/status: what stays mapped is not checked")
		return
	}
	scan()
	if grew := status() - before; grew > fi.Size()/2 {
		t.Errorf("a scan of a %d-byte log left %d more bytes of file mapped", fi.Size(), grew)
	}
}

// TestReleaseOnlyTheMapping: memory outside the mapped file (a heap slice,
// as a write transaction's own values are) is never advised; advising it
// would zero it.
func TestReleaseOnlyTheMapping(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "ledger.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	defer func(n int) { releaseEvery = n }(releaseEvery)
	releaseEvery = 1
	page := os.Getpagesize()
	heap := make([]byte, 4*page)
	for i := range heap {
		heap[i] = 7
	}
	if err := l.db.View(func(tx *bolt.Tx) error {
		m := newMapRelease(tx)
		m.saw(heap[page : 3*page])
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, b := range heap {
		if b != 7 {
			t.Fatalf("byte %d of a heap slice is %d after a release, want 7", i, b)
		}
	}
}
