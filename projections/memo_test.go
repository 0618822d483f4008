package projections

import (
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
