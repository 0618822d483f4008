package ledger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The structure check reads the file with pread, never through bbolt's
// memory map: a damaged page id or length then gives an error to report,
// where following it in the map could fault or read another part of the
// process's memory. It walks every bucket from the root of one meta page
// and checks what bbolt itself relies on:
//
//   - every page lies within the pages in use and says it is the page it is;
//   - branch and leaf pages only, reached once each, none of them free;
//   - every element (key, value) lies within its page;
//   - keys ascend within a page, and a child's keys lie between its
//     branch element's key and the next;
//   - every page in use is a meta page, the freelist, free, or reached.
//
// The content of the log (hashes, indexes) is Verify's; together they
// report any changed byte that the ledger reads.

const (
	branchElementSize = 16 // pos u32, ksize u32, pgid u64
	leafElementSize   = 16 // flags u32, pos u32, ksize u32, vsize u32
	bucketLeafFlag    = 0x01
	inBucketSize      = 16 // root u64, sequence u64
)

// FileCheck is what the structure check of a log file found.
type FileCheck struct {
	TxID     uint64 `json:"txid"`
	Pages    uint64 `json:"pages"`
	Reached  uint64 `json:"reached"`
	Free     uint64 `json:"free"`
	PageSize int    `json:"page_size"`
}

// maxProblems bounds the problems a structure check lists.
const maxProblems = 20

type fsck struct {
	ctx      context.Context
	r        io.ReaderAt
	m        fileMeta
	reached  []uint64 // bitmap of pages reached
	free     []uint64 // bitmap of free pages
	problems []string
	visited  uint64
	// bufs holds a page buffer per depth of the walk, reused from page to
	// page: a page's keys bound its children's, so its buffer must outlive
	// theirs, and a buffer a page would cost gigabytes of garbage on a
	// large file.
	bufs  [][]byte
	elems [][]element
}

// element is one element of a page being checked.
type element struct {
	key   []byte
	value []byte
	child uint64
	flags uint32
}

// elements returns the element buffer of depth d, of n elements: a page's
// children, inline buckets included, are one deeper, and one child is done
// before the next begins.
func (c *fsck) elements(d, n int) []element {
	for len(c.elems) <= d {
		c.elems = append(c.elems, nil)
	}
	if cap(c.elems[d]) < n {
		c.elems[d] = make([]element, n)
	}
	return c.elems[d][:n]
}

// buffer returns the buffer of depth d, of n bytes.
func (c *fsck) buffer(d, n int) []byte {
	for len(c.bufs) <= d {
		c.bufs = append(c.bufs, nil)
	}
	if cap(c.bufs[d]) < n {
		c.bufs[d] = make([]byte, n)
	}
	return c.bufs[d][:n]
}

func (c *fsck) problem(format string, a ...any) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, fmt.Sprintf(format, a...))
	} else if len(c.problems) == maxProblems {
		c.problems = append(c.problems, "…")
	}
}

func bit(b []uint64, i uint64) bool { return b[i/64]&(1<<(i%64)) != 0 }
func setBit(b []uint64, i uint64)   { b[i/64] |= 1 << (i % 64) }

// checkStructure walks the file r as of meta m.
func checkStructure(ctx context.Context, r io.ReaderAt, m fileMeta) (FileCheck, error) {
	words := (m.pages + 63) / 64
	c := &fsck{ctx: ctx, r: r, m: m, reached: make([]uint64, words), free: make([]uint64, words)}
	out := FileCheck{TxID: m.txid, Pages: m.pages, PageSize: m.pageSize}
	meta := func(id uint64) { setBit(c.reached, id) }
	meta(0)
	meta(1)
	if m.freelist != noFreelist {
		ids, err := readFreelist(r, m)
		if err != nil {
			return out, fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		h, _ := readPageHeader(r, m, m.freelist)
		for i := uint64(0); i <= uint64(h.overflow); i++ {
			setBit(c.reached, m.freelist+i)
		}
		for _, id := range ids {
			if bit(c.free, id) {
				c.problem("page %d: listed free twice", id)
			}
			setBit(c.free, id)
			out.Free++
		}
	}
	c.walk(m.root, nil, nil, "root", 0)
	if err := ctx.Err(); err != nil {
		return out, err
	}
	for id := uint64(0); id < m.pages; id++ {
		switch r, f := bit(c.reached, id), bit(c.free, id); {
		case r && f && id > 1:
			c.problem("page %d: in use and listed free", id)
		case !r && !f:
			c.problem("page %d: neither in use nor free", id)
		}
	}
	out.Reached = c.visited
	if len(c.problems) > 0 {
		return out, fmt.Errorf("%w: %d problems in the file's structure: %s", ErrDamaged, len(c.problems), joinProblems(c.problems))
	}
	return out, nil
}

func joinProblems(ps []string) string {
	var b bytes.Buffer
	for i, p := range ps {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p)
	}
	return b.String()
}

// walk checks page id and the pages below it; its keys must lie in
// [lo, hi) (nil: unbounded). where names the bucket, for the report.
func (c *fsck) walk(id uint64, lo, hi []byte, where string, depth int) {
	if c.ctx.Err() != nil {
		return
	}
	if id < 2 || id >= c.m.pages {
		c.problem("%s: page %d is outside the %d pages in use", where, id, c.m.pages)
		return
	}
	h, err := readPageHeader(c.r, c.m, id)
	if err != nil {
		c.problem("%s: %v", where, err)
		return
	}
	if h.id != id {
		c.problem("%s: page %d says it is page %d", where, id, h.id)
		return
	}
	if id+uint64(h.overflow) >= c.m.pages {
		c.problem("%s: page %d runs %d pages past the %d in use", where, id, h.overflow, c.m.pages)
		return
	}
	for i := uint64(0); i <= uint64(h.overflow); i++ {
		if bit(c.reached, id+i) {
			c.problem("%s: page %d is reached twice", where, id+i)
			return
		}
		setBit(c.reached, id+i)
	}
	c.visited += uint64(h.overflow) + 1
	buf := c.buffer(depth, int(h.overflow+1)*c.m.pageSize)
	if _, err := c.r.ReadAt(buf, int64(id)*int64(c.m.pageSize)); err != nil {
		c.problem("%s: page %d: read: %v", where, id, err)
		return
	}
	c.page(buf, id, lo, hi, where, depth)
}

// page checks the elements of one page (or an inline bucket's page) held
// in buf.
func (c *fsck) page(buf []byte, id uint64, lo, hi []byte, where string, depth int) {
	name := pageName{where, id} // formatted only in a problem
	le := binary.LittleEndian
	if len(buf) < pageHeaderSize {
		c.problem("%s: shorter than a page header", name)
		return
	}
	flags, count := le.Uint16(buf[8:]), int(le.Uint16(buf[10:]))
	var size int
	switch flags {
	case branchPageFlag:
		size = branchElementSize
	case leafPageFlag:
		size = leafElementSize
	default:
		c.problem("%s: flags %#x, expected a branch or leaf page", name, flags)
		return
	}
	if pageHeaderSize+count*size > len(buf) {
		c.problem("%s: %d elements do not fit it", name, count)
		return
	}
	if flags == branchPageFlag && count == 0 {
		c.problem("%s: a branch page without elements", name)
		return
	}
	elems := c.elements(depth, count)
	for i := range elems {
		at := pageHeaderSize + i*size
		e := buf[at : at+size]
		var pos, ksize, vsize uint64
		if flags == branchPageFlag {
			pos, ksize = uint64(le.Uint32(e[0:])), uint64(le.Uint32(e[4:]))
			elems[i].child = le.Uint64(e[8:])
		} else {
			if elems[i].flags = le.Uint32(e[0:]); elems[i].flags&^bucketLeafFlag != 0 {
				c.problem("%s: element %d has flags %#x, which bbolt never writes", name, i, elems[i].flags)
				return
			}
			pos, ksize, vsize = uint64(le.Uint32(e[4:])), uint64(le.Uint32(e[8:])), uint64(le.Uint32(e[12:]))
		}
		start := uint64(at) + pos
		if start+ksize+vsize > uint64(len(buf)) {
			c.problem("%s: element %d (%d+%d bytes at %d) runs past the page", name, i, ksize, vsize, start)
			return
		}
		elems[i].key = buf[start : start+ksize]
		elems[i].value = buf[start+ksize : start+ksize+vsize]
		switch {
		case i > 0 && bytes.Compare(elems[i-1].key, elems[i].key) >= 0:
			c.problem("%s: key %d (%x) does not follow key %d (%x)", name, i, trim(elems[i].key), i-1, trim(elems[i-1].key))
			return
		case lo != nil && bytes.Compare(elems[i].key, lo) < 0, hi != nil && bytes.Compare(elems[i].key, hi) >= 0:
			c.problem("%s: key %x lies outside its parent's range", name, trim(elems[i].key))
			return
		}
	}
	for i, e := range elems {
		if flags == branchPageFlag {
			var next []byte = hi
			if i+1 < len(elems) {
				next = elems[i+1].key
			}
			c.walk(e.child, e.key, next, where, depth+1)
			continue
		}
		if e.flags&bucketLeafFlag == 0 {
			continue
		}
		// A bucket: its root page, or an inline page after its header.
		if len(e.value) < inBucketSize {
			c.problem("%s: bucket %q: a value of %d bytes", name, e.key, len(e.value))
			continue
		}
		sub := where + "/" + printable(e.key)
		if root := le.Uint64(e.value); root != 0 {
			c.walk(root, nil, nil, sub, depth+1)
		} else {
			c.page(e.value[inBucketSize:], 0, nil, nil, sub, depth+1)
		}
	}
}

// pageName names a page in a problem: its bucket's path and its id (0: an
// inline bucket's page).
type pageName struct {
	where string
	id    uint64
}

func (n pageName) String() string {
	if n.id == 0 {
		return n.where + " (inline)"
	}
	return n.where + " page " + strconv.FormatUint(n.id, 10)
}

func trim(k []byte) []byte {
	if len(k) > 16 {
		return k[:16]
	}
	return k
}

func printable(k []byte) string {
	for _, c := range k {
		if c < 0x20 || c >= 0x7f {
			return fmt.Sprintf("%x", trim(k))
		}
	}
	return string(k)
}

// CheckFile checks the structure of the log file as of the last commit,
// reading it apart from the memory map (see fsck.go); it runs beside
// appends. Any problem is an error wrapping ErrDamaged.
func (l *Log) CheckFile(ctx context.Context) (FileCheck, error) {
	if l.closed.Load() {
		return FileCheck{}, ErrClosed
	}
	f, err := os.Open(l.path)
	if err != nil {
		return FileCheck{}, fmt.Errorf("check %s: %w", l.path, err)
	}
	defer f.Close()
	var out FileCheck
	// A commit between opening the read transaction and reading its meta
	// page moves the file on; the check then starts again.
	for range 100 {
		out, err = l.checkFile(ctx, f)
		if !errors.Is(err, errRetry) {
			break
		}
	}
	if errors.Is(err, ErrDamaged) {
		l.stop(err)
	}
	if err != nil {
		return out, fmt.Errorf("check %s: %w", l.path, err)
	}
	return out, nil
}

func (l *Log) checkFile(ctx context.Context, f *os.File) (FileCheck, error) {
	var out FileCheck
	err := l.guard("check file", func() error {
		// A read transaction keeps the pages of its meta from being
		// reused until it ends, so the file read beside it holds still.
		return l.db.View(func(tx *bolt.Tx) error {
			m, err := metaOf(f, uint64(tx.ID()))
			if err != nil {
				return err
			}
			if root := tx.Cursor().Bucket().RootPage(); uint64(root) != m.root {
				return fmt.Errorf("%w: meta page %d puts the root at page %d, the open file at %d", ErrDamaged, m.page, m.root, root)
			}
			out, err = checkStructure(ctx, f, m)
			return err
		})
	})
	return out, err
}

// metaOf reads the meta page of transaction txid: page txid%2 in a file
// bbolt wrote, page 0 in a copy (Tx.WriteTo writes the transaction there
// and its predecessor in page 1); neither when a later commit has
// overwritten it meanwhile.
func metaOf(f *os.File, txid uint64) (fileMeta, error) {
	info, err := f.Stat()
	if err != nil {
		return fileMeta{}, err
	}
	st, _, err := checkOpenFile(f, info.Size())
	// A meta page read while a commit writes it may read torn: damage only
	// if it stays so.
	for try := 0; err == nil && st.MetaErr() != nil && try < 5; try++ {
		time.Sleep(20 * time.Millisecond)
		st, _, err = checkOpenFile(f, info.Size())
	}
	if err == nil {
		err = st.MetaErr()
	}
	if err != nil {
		return fileMeta{}, err
	}
	for page := range 2 {
		if m, err := readMeta(f, page, st.PageSize); err == nil && m.txid == txid {
			return m, nil
		}
	}
	return fileMeta{}, fmt.Errorf("%w: the file moved on past transaction %d while it was read; check again", errRetry, txid)
}

// errRetry marks a check that met a commit and may simply be run again.
var errRetry = errors.New("busy")
