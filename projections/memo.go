package projections

import (
	"bytes"
	"hash/maphash"
)

// memo is AddBinary's map from an encoded key to its entry, with what
// AddBinary added to that entry kept in the key's own slot.
//
// Why not a Go map: on a first fold each lookup meets a cold table, and
// the cost is the cache lines it reads. A map[string]int32 read the
// table's control word, the slot, the key's bytes (a separate allocation)
// and then the entry's sums; here a lookup reads one slot, which carries
// the sums and (nearly always) the key. Slots are open-addressed with
// linear probing; a slot's tag is the key's hash, so a probe compares
// bytes only when the hash matches. The tags are apart from the slots, so
// that probing reads 4 bytes a slot rather than 128: a first fold has a
// memo for every day of the year at once, and their tags stay in the
// cache where their slots cannot.
type memo struct {
	tags  []uint32   // slot i's key's hash with its low bit set; 0: empty
	slots []memoSlot // as long as tags: a power of two, or empty
	arena []byte     // the keys too long for a slot, back to back
	n     int
}

type memoSlot struct {
	entry int32
	off   uint32 // a key longer than inline is arena[off:off+size]
	size  uint32
	add   sums // what AddBinary added to the entry through this key
	// inline holds a key of up to its length (nearly every key: 32 to 47
	// bytes on the benchmark's ledger), so that comparing it reads the
	// slot's next cache line rather than another place.
	inline [72]byte
}

// key returns the key of s.
func (m *memo) key(s *memoSlot) []byte {
	if int(s.size) <= len(s.inline) {
		return s.inline[:s.size]
	}
	return m.arena[s.off : s.off+s.size]
}

var memoSeed = maphash.MakeSeed()

// memoTag is a key's tag; a test makes every key collide.
var memoTag = func(k []byte) uint32 { return uint32(maphash.Bytes(memoSeed, k)) | 1 }

// find returns the slot of k, or nil.
func (m *memo) find(k []byte, tag uint32) *memoSlot {
	if len(m.tags) == 0 {
		return nil
	}
	mask := uint32(len(m.tags) - 1)
	for i := tag & mask; ; i = (i + 1) & mask {
		switch m.tags[i] {
		case 0:
			return nil
		case tag:
			if s := &m.slots[i]; bytes.Equal(m.key(s), k) {
				return s
			}
		}
	}
}

// all yields every slot in use.
func (m *memo) all(yield func(*memoSlot) bool) {
	for i, t := range m.tags {
		if t != 0 && !yield(&m.slots[i]) {
			return
		}
	}
}

// insert adds k, which is not in m, for entry.
func (m *memo) insert(k []byte, tag uint32, entry int32) *memoSlot {
	if (m.n+1)*4 > len(m.slots)*3 {
		m.grow()
	}
	m.n++
	i := m.place(tag)
	m.tags[i] = tag
	s := &m.slots[i]
	*s = memoSlot{entry: entry, size: uint32(len(k))}
	if len(k) <= len(s.inline) {
		copy(s.inline[:], k)
	} else {
		s.off = uint32(len(m.arena))
		m.arena = append(m.arena, k...)
	}
	return s
}

// place returns the empty slot a key tagged tag goes to.
func (m *memo) place(tag uint32) uint32 {
	mask := uint32(len(m.tags) - 1)
	for i := tag & mask; ; i = (i + 1) & mask {
		if m.tags[i] == 0 {
			return i
		}
	}
}

func (m *memo) grow() {
	tags, slots := m.tags, m.slots
	// A day of a busy ledger holds hundreds of keys: start at 128 slots
	// rather than copy a small table up to that size.
	n := max(128, 2*len(tags))
	m.tags, m.slots = make([]uint32, n), make([]memoSlot, n)
	for j, t := range tags {
		if t != 0 {
			i := m.place(t)
			m.tags[i], m.slots[i] = t, slots[j]
		}
	}
}
