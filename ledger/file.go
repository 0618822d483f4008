package ledger

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
)

// The parts of bbolt's file format that the pre-check reads (bbolt's
// internal/common: page.go and meta.go). They have been stable since the
// format's version 2, which is the only one bbolt v1 writes.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	metaSize         = 64 // magic, version, page size, flags u32; root, sequence, freelist, pgid, txid, checksum u64
	metaChecksummed  = 56 // the checksum covers everything before it
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	metaPageFlag     = 0x04
	freelistPageFlag = 0x10
	noFreelist       = ^uint64(0)
)

// fileMeta is one of the two meta pages at the start of a bbolt file: the
// root of the file as of one transaction.
type fileMeta struct {
	page     int // 0 or 1
	pageSize int
	root     uint64 // the root bucket's page
	freelist uint64 // the freelist's page, or noFreelist
	pages    uint64 // the high-water mark: pages in use, below it
	txid     uint64
}

// FileState is what the pre-check of a log file found, before the file is
// mapped.
type FileState struct {
	// Size is the file's length in bytes; 0 for a missing or empty file.
	Size int64
	// TxID is the last transaction the file holds: the one its newest
	// valid meta page records.
	TxID uint64
	// PageSize, Pages: the file's page size and the pages in use.
	PageSize int
	Pages    uint64
	// DamagedMeta lists the meta pages (0, 1) whose checksum or fields are
	// wrong. With one of two damaged bbolt reads the file at the other,
	// which may be one transaction older.
	DamagedMeta []int
}

// MetaErr is the damage of a meta page, as an error wrapping ErrDamaged,
// or nil when both are intact. bbolt reads such a file at the other meta
// page, which may be a transaction older than the last one committed.
func (s FileState) MetaErr() error {
	if len(s.DamagedMeta) == 0 {
		return nil
	}
	return fmt.Errorf("%w: meta page %d is damaged; the file reads as of transaction %d, which may be older than its last", ErrDamaged, s.DamagedMeta[0], s.TxID)
}

// Exists reports whether there is a log in the file at all.
func (s FileState) Exists() bool { return s.Size > 0 }

// CheckFile reads the meta pages of the log file at path without mapping it
// and checks the file against them: that at least one is intact, that the
// file is as long as the pages they say are in use, and that the freelist
// and the root bucket lie within them. A file that fails is refused with an
// error wrapping ErrDamaged; mapping it would let a read past its end kill
// the process. A missing or empty file is no error: its state has Size 0.
func CheckFile(path string) (FileState, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return FileState{}, nil
	}
	if err != nil {
		return FileState{}, fmt.Errorf("check %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return FileState{}, fmt.Errorf("check %s: %w", path, err)
	}
	st, _, err := checkOpenFile(f, info.Size())
	if err != nil {
		return st, fmt.Errorf("check %s: %w", path, err)
	}
	return st, nil
}

// checkOpenFile is CheckFile on an open file of the given size; it also
// returns the meta the file is read at.
func checkOpenFile(r io.ReaderAt, size int64) (FileState, fileMeta, error) {
	st := FileState{Size: size}
	if size == 0 {
		return st, fileMeta{}, nil
	}
	m0, err0 := readMeta(r, 0, 0)
	// The second meta page is one page in; its size is the first's, or,
	// when the first is damaged, one of the sizes bbolt chooses from.
	var m1 fileMeta
	err1 := errors.New("no page size to find it at")
	if err0 == nil {
		m1, err1 = readMeta(r, 1, m0.pageSize)
	} else {
		for _, ps := range []int{4096, 8192, 16384, 32768, 65536} {
			if m1, err1 = readMeta(r, 1, ps); err1 == nil {
				break
			}
		}
	}
	var m fileMeta
	switch {
	case err0 != nil && err1 != nil:
		if size < 2*4096 {
			return st, m, fmt.Errorf("%w: %d bytes is too short for a log file: truncated, or not a log", ErrDamaged, size)
		}
		return st, m, fmt.Errorf("%w: neither meta page is intact (page 0: %v; page 1: %v)", ErrDamaged, err0, err1)
	case err0 != nil:
		st.DamagedMeta, m = []int{0}, m1
	case err1 != nil:
		st.DamagedMeta, m = []int{1}, m0
	case m1.txid > m0.txid:
		m = m1
	default:
		m = m0
	}
	st.TxID, st.PageSize, st.Pages = m.txid, m.pageSize, m.pages
	if need := int64(m.pages) * int64(m.pageSize); size < need {
		return st, m, fmt.Errorf("%w: truncated: transaction %d uses %d pages (%d bytes) but the file has %d bytes",
			ErrDamaged, m.txid, m.pages, need, size)
	}
	if m.root < 2 || m.root >= m.pages {
		return st, m, fmt.Errorf("%w: meta page %d puts the root at page %d, outside the %d pages in use", ErrDamaged, m.page, m.root, m.pages)
	}
	if err := checkPageHeader(r, m, m.root, branchPageFlag|leafPageFlag); err != nil {
		return st, m, fmt.Errorf("%w: root page: %v", ErrDamaged, err)
	}
	if m.freelist != noFreelist {
		if m.freelist < 2 || m.freelist >= m.pages {
			return st, m, fmt.Errorf("%w: meta page %d puts the freelist at page %d, outside the %d pages in use", ErrDamaged, m.page, m.freelist, m.pages)
		}
		if _, err := readFreelist(r, m); err != nil {
			return st, m, fmt.Errorf("%w: %v", ErrDamaged, err)
		}
	}
	return st, m, nil
}

// readMeta reads and validates meta page i of a file of page size ps (0:
// the page's own, for page 0).
func readMeta(r io.ReaderAt, i, ps int) (fileMeta, error) {
	var b [pageHeaderSize + metaSize]byte
	if _, err := r.ReadAt(b[:], int64(i*ps)); err != nil {
		return fileMeta{}, fmt.Errorf("read: %v", err)
	}
	le := binary.LittleEndian
	if flags := le.Uint16(b[8:]); flags != metaPageFlag {
		return fileMeta{}, fmt.Errorf("not a meta page (flags %#x)", flags)
	}
	if id := le.Uint64(b[0:]); id != uint64(i) {
		return fileMeta{}, fmt.Errorf("page %d says it is page %d", i, id)
	}
	if le.Uint32(b[10:]) != 0 || le.Uint16(b[14:]) != 0 {
		return fileMeta{}, errors.New("a count or overflow bbolt never writes on a meta page")
	}
	m := b[pageHeaderSize:]
	if le.Uint32(m[0:]) != boltMagic {
		return fileMeta{}, errors.New("no bbolt magic number")
	}
	if v := le.Uint32(m[4:]); v != boltVersion {
		return fileMeta{}, fmt.Errorf("bbolt file version %d", v)
	}
	h := fnv.New64a()
	h.Write(m[:metaChecksummed])
	if le.Uint64(m[metaChecksummed:]) != h.Sum64() {
		return fileMeta{}, errors.New("checksum mismatch")
	}
	fm := fileMeta{
		page:     i,
		pageSize: int(le.Uint32(m[8:])),
		root:     le.Uint64(m[16:]),
		freelist: le.Uint64(m[32:]),
		pages:    le.Uint64(m[40:]),
		txid:     le.Uint64(m[48:]),
	}
	if fm.pageSize < 1024 || fm.pageSize > 1<<20 || fm.pageSize&(fm.pageSize-1) != 0 {
		return fileMeta{}, fmt.Errorf("page size %d", fm.pageSize)
	}
	if ps != 0 && fm.pageSize != ps {
		return fileMeta{}, fmt.Errorf("page size %d where the file's is %d", fm.pageSize, ps)
	}
	if fm.pages < 4 {
		return fileMeta{}, fmt.Errorf("%d pages in use", fm.pages)
	}
	return fm, nil
}

// pageHeader is a page's first 16 bytes.
type pageHeader struct {
	id       uint64
	flags    uint16
	count    uint16
	overflow uint32
}

func readPageHeader(r io.ReaderAt, m fileMeta, id uint64) (pageHeader, error) {
	var b [pageHeaderSize]byte
	if _, err := r.ReadAt(b[:], int64(id)*int64(m.pageSize)); err != nil {
		return pageHeader{}, fmt.Errorf("page %d: read: %v", id, err)
	}
	le := binary.LittleEndian
	return pageHeader{id: le.Uint64(b[0:]), flags: le.Uint16(b[8:]), count: le.Uint16(b[10:]), overflow: le.Uint32(b[12:])}, nil
}

// checkPageHeader checks that page id says it is page id, has one of the
// flags want and ends within the pages in use.
func checkPageHeader(r io.ReaderAt, m fileMeta, id uint64, want uint16) error {
	h, err := readPageHeader(r, m, id)
	if err != nil {
		return err
	}
	switch {
	case h.id != id:
		return fmt.Errorf("page %d says it is page %d", id, h.id)
	case h.flags&want == 0 || h.flags&(h.flags-1) != 0 || h.flags&^want != 0:
		// Exactly one flag, and one of those wanted: bbolt writes no other.
		return fmt.Errorf("page %d has flags %#x, expected one of %#x", id, h.flags, want)
	case id+uint64(h.overflow) >= m.pages:
		return fmt.Errorf("page %d runs %d pages past the %d in use", id, h.overflow, m.pages)
	}
	return nil
}

// readFreelist reads the free page ids the freelist of m lists, and checks
// that each lies among the pages in use.
func readFreelist(r io.ReaderAt, m fileMeta) ([]uint64, error) {
	if err := checkPageHeader(r, m, m.freelist, freelistPageFlag); err != nil {
		return nil, fmt.Errorf("freelist: %v", err)
	}
	h, _ := readPageHeader(r, m, m.freelist)
	span := int64(h.overflow+1) * int64(m.pageSize)
	buf := make([]byte, span)
	if _, err := r.ReadAt(buf, int64(m.freelist)*int64(m.pageSize)); err != nil {
		return nil, fmt.Errorf("freelist: read: %v", err)
	}
	le := binary.LittleEndian
	data := buf[pageHeaderSize:]
	n := int64(h.count)
	if h.count == 0xFFFF { // the count overflows into the first element
		if len(data) < 8 {
			return nil, errors.New("freelist: no room for its count")
		}
		n, data = int64(le.Uint64(data)), data[8:]
	}
	if n < 0 || n*8 > int64(len(data)) {
		return nil, fmt.Errorf("freelist: %d ids do not fit its %d pages", n, h.overflow+1)
	}
	ids := make([]uint64, n)
	for i := range ids {
		id := le.Uint64(data[8*i:])
		if id < 2 || id >= m.pages {
			return nil, fmt.Errorf("freelist: lists page %d, outside the %d pages in use", id, m.pages)
		}
		ids[i] = id
	}
	return ids, nil
}
