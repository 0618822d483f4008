package ingest

import (
	"math/rand/v2"
	"testing"
)

// TestFeedKeepsOrderWhenStopping: after the feed is closed, the messages
// taken are always the first ones put, in order: once one is left for
// redelivery, no later one may be taken, or it would be committed before
// the one left. The race (a put blocked on a full channel while the reader
// frees a slot and the feed closes) is run many times with random timing.
func TestFeedKeepsOrderWhenStopping(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	for trial := range 2000 {
		f := newFeed[int](4)
		n := 8 + rng.IntN(8)
		closeAt := rng.IntN(n)
		done := make(chan struct{})
		go func() { // the NATS client's delivery goroutine
			defer close(done)
			for i := range n {
				f.put(i)
			}
		}()
		var taken []int
		for len(taken) < closeAt {
			taken = append(taken, <-f.ch)
		}
		f.close()
		// The batching loop drains what it can while delivery goes on.
	drain:
		for {
			select {
			case m := <-f.ch:
				taken = append(taken, m)
			case <-done:
				break drain
			}
		}
		for {
			select {
			case m := <-f.ch:
				taken = append(taken, m)
				continue
			default:
			}
			break
		}
		for i, m := range taken {
			if m != i {
				t.Fatalf("trial %d: taken %v: message %d taken after an earlier one was left", trial, taken, m)
			}
		}
	}
}
