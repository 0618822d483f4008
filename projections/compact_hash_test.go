package projections

import (
	"hash/maphash"
	"reflect"
	"slices"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
)

// TestCompactorHashCollisions: a Compactor whose every key hashes alike
// (so that all but the first go to its spill map) compacts exactly as one
// whose keys hash apart.
func TestCompactorHashCollisions(t *testing.T) {
	evs, err := budgetledger.SampleEvents()
	if err != nil {
		t.Fatal(err)
	}
	compact := func() []events.Event {
		c := NewCompactor()
		for _, e := range evs {
			c.Add(e)
		}
		return c.Events()
	}
	want := compact()
	defer func(h func(maphash.Seed, []byte) uint64) { keyHash = h }(keyHash)
	keyHash = func(maphash.Seed, []byte) uint64 { return 42 }
	got := compact()
	if len(got) >= len(evs) {
		t.Fatalf("the sample's %d events compacted to %d: nothing merged", len(evs), len(got))
	}
	byID := func(a, b events.Event) int {
		if a.ID < b.ID {
			return -1
		}
		if a.ID > b.ID {
			return 1
		}
		return 0
	}
	slices.SortFunc(want, byID)
	slices.SortFunc(got, byID)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("colliding hashes compact the sample to %d events, distinct hashes to %d (or to other sums)", len(got), len(want))
	}
}
