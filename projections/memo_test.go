package projections

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
)

// TestMemoCollisions: AddBinary whose every key has one tag (so that each
// lookup probes past the others and compares their bytes) compacts the
// sample, repeated under other ids, exactly as Add does.
func TestMemoCollisions(t *testing.T) {
	evs, err := budgetledger.SampleEvents()
	if err != nil {
		t.Fatal(err)
	}
	defer func(f func([]byte) uint32) { memoTag = f }(memoTag)
	memoTag = func([]byte) uint32 { return 7 }
	want, got := NewCompactor(), NewCompactor()
	var d events.Decoder
	for round := range 2 {
		for _, e := range evs {
			e.ID += string(rune('a' + round))
			want.Add(e)
			b, err := e.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if err := got.AddBinary(b, e.Date, &d); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got.encoded.n == 0 {
		t.Fatal("nothing went through the memo")
	}
	if g, w := got.Events(), want.Events(); !reflect.DeepEqual(g, w) {
		t.Errorf("with every tag alike, AddBinary compacts to %d events, Add to %d (or to other sums)", len(g), len(w))
	}
}

// TestMemoKeys: keys short enough to live in their slot and longer ones
// in the arena are found, and only they, whether their tags differ or
// all collide.
func TestMemoKeys(t *testing.T) {
	for _, collide := range []bool{false, true} {
		var m memo
		tag := memoTag
		if collide {
			tag = func([]byte) uint32 { return 3 }
		}
		key := func(n int) []byte {
			k := make([]byte, n)
			for i := range k {
				k[i] = byte(n + i)
			}
			return k
		}
		for n := 1; n <= 200; n++ {
			if m.find(key(n), tag(key(n))) != nil {
				t.Fatalf("collide %v: key of %d bytes found before it was added", collide, n)
			}
			m.insert(key(n), tag(key(n)), int32(n))
		}
		for n := 1; n <= 200; n++ {
			s := m.find(key(n), tag(key(n)))
			if s == nil || s.entry != int32(n) || !bytes.Equal(m.key(s), key(n)) {
				t.Fatalf("collide %v: key of %d bytes: %+v", collide, n, s)
			}
			// The key with a byte more is no key added (those of n+1
			// bytes start at n+1).
			if other := append(key(n), 0); m.find(other, tag(other)) != nil {
				t.Fatalf("collide %v: %x found, never added", collide, other)
			}
		}
		if m.n != 200 {
			t.Fatalf("collide %v: %d keys, want 200", collide, m.n)
		}
	}
}
