package ledger_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
)

// model is what the log should hold, kept the naive way.
type model struct {
	accepted map[string]map[string]uint64 // ledger -> id -> seq
	log      map[string][][]byte          // ledger -> events in order (binary form)
	rejects  map[string]uint64            // ledger -> rejections so far
	lastRej  map[string]map[string]uint64 // ledger -> id -> latest rejection number
}

func newModel() *model {
	return &model{accepted: map[string]map[string]uint64{}, log: map[string][][]byte{},
		rejects: map[string]uint64{}, lastRej: map[string]map[string]uint64{}}
}

// expect applies one submission to the model and returns the outcome the log
// must give.
func (m *model) expect(t testing.TB, s ledger.Submission) ledger.Outcome {
	t.Helper()
	name := s.Ledger
	if m.accepted[name] == nil {
		m.accepted[name], m.lastRej[name] = map[string]uint64{}, map[string]uint64{}
	}
	reject := func(id string, code events.Code) ledger.Outcome {
		m.rejects[name]++
		m.lastRej[name][id] = m.rejects[name]
		return ledger.Outcome{Ledger: name, ID: id, Status: ledger.Rejected, Seq: m.rejects[name], Code: code}
	}
	if s.Err != nil {
		return reject(s.ID, events.CodeOf(s.Err))
	}
	b := binaryOf(t, s.Event)
	if seq, ok := m.accepted[name][s.Event.ID]; ok {
		if bytes.Equal(m.log[name][seq-1], b) {
			return ledger.Outcome{Ledger: name, ID: s.Event.ID, Status: ledger.Duplicate, Seq: seq}
		}
		return reject(s.Event.ID, events.CodeIDConflict)
	}
	m.log[name] = append(m.log[name], b)
	seq := uint64(len(m.log[name]))
	m.accepted[name][s.Event.ID] = seq
	return ledger.Outcome{Ledger: name, ID: s.Event.ID, Status: ledger.Accepted, Seq: seq}
}

// seed returns LEDGER_SEED if set, otherwise a seed from the clock; the test
// logs it so that a failure can be replayed with LEDGER_SEED=<seed>.
func seed(t *testing.T) uint64 {
	t.Helper()
	if s := os.Getenv("LEDGER_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LEDGER_SEED=%q: %v", s, err)
		}
		t.Logf("seed %d (from LEDGER_SEED)", v)
		return v
	}
	v := uint64(time.Now().UnixNano())
	t.Logf("seed %d (replay with LEDGER_SEED=%d)", v, v)
	return v
}

// jitterClock moves forward by a random step, and now and then backwards, so
// that the log's own rule (recorded times never decrease) is exercised.
type jitterClock struct {
	mu  sync.Mutex
	rng *rand.Rand
	t   time.Time
}

func (c *jitterClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rng.IntN(10) == 0 {
		c.t = c.t.Add(-time.Duration(c.rng.IntN(5000)) * time.Millisecond)
	} else {
		c.t = c.t.Add(time.Duration(c.rng.IntN(1000)) * time.Millisecond)
	}
	return c.t
}

// TestRandomAgainstModel appends a random mix of new events, exact
// duplicates, id conflicts and refused submissions to three ledgers, in
// random batches, restarting the log at random points, and checks every
// outcome and the final contents against the model.
func TestRandomAgainstModel(t *testing.T) {
	s := seed(t)
	rng := rand.New(rand.NewPCG(s, s^0x5eed))
	clock := &jitterClock{rng: rand.New(rand.NewPCG(s+1, s)), t: epoch}
	path := logPath(t)
	opts := ledger.Options{Now: clock.Now}
	l := openLog(t, path, opts)

	ledgers := []string{ledgerA, ledgerB, ledgerC}
	m := newModel()
	// Every event the test ever sent, per ledger, to resend or alter.
	sent := map[string][]events.Event{}
	// Ids that were only ever refused, to reuse for a corrected event.
	refused := map[string][]string{}
	next := 0
	newEvent := func(name string, idv string) events.Event {
		e := event(name, idv, events.Amount(1+rng.IntN(10_000_000)))
		if rng.IntN(3) == 0 {
			e.Memo = fmt.Sprintf("备注 %d", rng.IntN(100))
		}
		return e
	}

	const rounds = 300
	restarts, total := 0, 0
	counts := map[ledger.Status]int{}
	for round := range rounds {
		batch := make([]ledger.Submission, 1+rng.IntN(12))
		for i := range batch {
			name := ledgers[rng.IntN(len(ledgers))]
			prior := sent[name]
			switch k := rng.IntN(10); {
			case k < 5 || len(prior) == 0: // a new event
				next++
				idv := id("m", next)
				if ids := refused[name]; len(ids) > 0 && rng.IntN(3) == 0 {
					idv = ids[len(ids)-1] // the corrected event reuses a refused id
					refused[name] = ids[:len(ids)-1]
				}
				e := newEvent(name, idv)
				sent[name] = append(sent[name], e)
				batch[i] = sub(e)
			case k < 7: // exactly an event sent before (a duplicate, or a conflict if that one lost)
				batch[i] = sub(prior[rng.IntN(len(prior))])
			case k < 8: // an id sent before with other content
				e := prior[rng.IntN(len(prior))]
				e = newEvent(name, e.ID)
				sent[name] = append(sent[name], e)
				batch[i] = sub(e)
			default: // refused before it reached the log
				next++
				idv := id("m", next)
				if rng.IntN(4) == 0 {
					idv = prior[rng.IntN(len(prior))].ID // a refused resend of a known id
				} else {
					refused[name] = append(refused[name], idv)
				}
				batch[i] = ledger.Submission{Ledger: name, ID: idv, Raw: []byte("raw " + idv), Via: "inbox",
					Err: &events.ValidationError{Code: events.CodeUnknownCode, Field: "expenditure.economic",
						Value: "39999", Expected: "a code in the catalog"}}
			}
		}
		var want []ledger.Outcome
		for _, s := range batch {
			want = append(want, m.expect(t, s))
		}
		got := appendAll(t, l, batch...)
		for i := range got {
			g, w := got[i], want[i]
			if g.Ledger != w.Ledger || g.ID != w.ID || g.Status != w.Status || g.Seq != w.Seq || g.Code != w.Code {
				t.Fatalf("round %d item %d: got %s %s %s seq %d code %q (%s)\nthe model says %s seq %d code %q",
					round, i, g.Ledger, g.ID, g.Status, g.Seq, g.Code, g.Reason, w.Status, w.Seq, w.Code)
			}
			counts[g.Status]++
		}
		total += len(batch)
		if rng.IntN(25) == 0 {
			closeLog(t, l)
			l = openLog(t, path, opts)
			restarts++
		}
	}
	t.Logf("%d submissions in %d batches, %d restarts: %v", total, rounds, restarts, counts)

	for _, name := range ledgers {
		want := m.log[name]
		recs := scanAll(t, l, name)
		if len(recs) != len(want) {
			t.Fatalf("%s: %d records, the model has %d", name, len(recs), len(want))
		}
		for i, r := range recs {
			if r.Seq != uint64(i+1) || !bytes.Equal(binaryOf(t, r.Event), want[i]) {
				t.Fatalf("%s seq %d differs from the model", name, i+1)
			}
			if i > 0 && r.RecordedAt.Before(recs[i-1].RecordedAt) {
				t.Fatalf("%s seq %d recorded at %v, before seq %d at %v", name, r.Seq, r.RecordedAt, i, recs[i-1].RecordedAt)
			}
		}
		if n := length(t, l, name); n != uint64(len(want)) {
			t.Errorf("%s Len %d, model %d", name, n, len(want))
		}
		if v := verify(t, l, name); v.Events != uint64(len(want)) {
			t.Errorf("%s verify: %d events, model %d", name, v.Events, len(want))
		}
		rjs, err := l.Rejections(name, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(rjs)) != m.rejects[name] {
			t.Errorf("%s: %d rejections, model %d", name, len(rjs), m.rejects[name])
		}
		// Outcome by id: Accepted wins; otherwise the latest rejection.
		for idv, seq := range m.accepted[name] {
			o, err := l.Outcome(name, idv)
			if err != nil || o.Status != ledger.Accepted || o.Seq != seq {
				t.Fatalf("Outcome(%s, %s) = %+v, %v; model: accepted at %d", name, idv, o, err, seq)
			}
		}
		for idv, n := range m.lastRej[name] {
			if _, ok := m.accepted[name][idv]; ok {
				continue
			}
			o, err := l.Outcome(name, idv)
			if err != nil || o.Status != ledger.Rejected || o.Seq != n {
				t.Fatalf("Outcome(%s, %s) = %+v, %v; model: rejection %d", name, idv, o, err, n)
			}
		}
		if _, err := l.Outcome(name, "m-never"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("Outcome of an id never sent: %v", err)
		}
	}
}
