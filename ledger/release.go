package ledger

import (
	"os"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// releaseEvery is how many bytes of records a scan reads between two
// releases of the mapped pages they came from.
var releaseEvery = 32 << 20

// mapRelease gives back the pages of the memory-mapped file that a long
// read-only scan has read, so that replaying a log of gigabytes does not
// leave the whole file resident in the process (its RSS grew to the size of
// the log, 1.9 GiB at 10M events, though the fold itself kept under
// 450 MiB). The pages stay in the kernel's page cache; the process only
// stops mapping them, and a page read again (a branch page of the B+tree)
// comes back on a minor fault.
//
// It tracks the span of addresses the scan's values lie in and, every
// releaseEvery bytes, advises the kernel that the span is not needed
// (MADV_DONTNEED; a no-op where that is not supported). That is safe only
// for pages of the file mapping, which bbolt maps read-only and shared, and
// which a read transaction keeps mapped (bbolt cannot remap while one is
// open): a span outside the mapping, as the values of a write
// transaction's own changes on the heap would be, is never advised.
type mapRelease struct {
	base, end uintptr // the mapped file as the transaction sees it
	lo, hi    uintptr // the span read since the last release
	loPtr     unsafe.Pointer
	read      int
}

func newMapRelease(tx *bolt.Tx) mapRelease {
	if tx.Writable() {
		return mapRelease{} // base == end: nothing is ever advised
	}
	base := tx.DB().Info().Data
	return mapRelease{base: base, end: base + uintptr(tx.Size())}
}

// saw notes that the scan read v.
func (m *mapRelease) saw(v []byte) { m.sawAs(v, len(v)) }

// sawLookup notes that the scan looked v up at random (an index's value).
// Such a look-up maps a page of its own and, when the file is in the page
// cache (it is, after CheckFile read it), the kernel maps the cached pages
// around it too (fault-around, 64 KiB by default): measured on a 10M-event
// log, counting a look-up as one page let 8,192 of them map 540 MiB before
// the first release. So it counts as 64 KiB.
func (m *mapRelease) sawLookup(v []byte) { m.sawAs(v, faultAround) }

// faultAround is what Linux maps, by default, for one fault on a file
// whose pages are cached (fault_around_bytes).
const faultAround = 64 << 10

func (m *mapRelease) sawAs(v []byte, weight int) {
	if len(v) == 0 || m.base == m.end {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(v))
	a := uintptr(p)
	if m.loPtr == nil || a < m.lo {
		m.lo, m.loPtr = a, p
	}
	m.hi = max(m.hi, a+uintptr(len(v)))
	if m.read += weight; m.read >= releaseEvery {
		m.release()
	}
}

// release advises the span read so far, whole pages, and starts a new one.
func (m *mapRelease) release() {
	if m.loPtr != nil && m.lo >= m.base && m.hi <= m.end {
		off := m.lo % uintptr(os.Getpagesize())
		start := unsafe.Add(m.loPtr, -int(off))
		// An advice that fails costs memory, not correctness.
		_ = dontNeed(unsafe.Slice((*byte)(start), m.hi-m.lo+off))
	}
	m.lo, m.hi, m.loPtr, m.read = 0, 0, nil, 0
}
