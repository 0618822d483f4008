package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/internal/submit"
	"github.com/budgetledger/budgetledger/internal/wire"
)

// Result is one measurement.
type Result struct {
	Elapsed  time.Duration
	Events   int // publications (or events) processed
	Stored   int // events the ledger (or the ceiling) kept
	Accepted int
	Rejected int
	// Duplicates counts publications answered as repeats: by JetStream's
	// Msg-Id window or by the ledger's id index.
	Duplicates  int
	P50, P99    time.Duration
	PeakRSS     int64 // VmHWM: every page touched, the bbolt file's included
	PeakAnon    int64 // the process's own memory (heap, stacks)
	LedgerBytes int64 // the bbolt file
	StoreBytes  int64 // the JetStream store
}

// PerSecond is events per second.
func (r Result) PerSecond() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// tracker matches outcomes to publications by event id ("e<n>"), without a
// map: the publisher's own CPU is the ledger's CPU on a 2-core machine.
type tracker struct {
	sent     []atomic.Int64 // unix nanos of the first publication, by n
	lat      []time.Duration
	mu       sync.Mutex
	answered atomic.Int64
	accepted atomic.Int64
	rejected atomic.Int64
	dups     atomic.Int64
	done     chan struct{}
	want     atomic.Int64 // answers expected; -1 until known
	bad      atomic.Value // first unexpected answer
}

func newTracker(msgs []Message) *tracker {
	maxN := 0
	for _, m := range msgs {
		maxN = max(maxN, idNumber(m.ID))
	}
	t := &tracker{sent: make([]atomic.Int64, maxN+1), lat: make([]time.Duration, 0, len(msgs)), done: make(chan struct{})}
	t.want.Store(-1)
	return t
}

func idNumber(id string) int {
	n, _ := strconv.Atoi(id[1:])
	return n
}

func (t *tracker) published(id string) {
	t.sent[idNumber(id)].CompareAndSwap(0, time.Now().UnixNano())
}

// answer records one outcome. Only the first answer of an event counts
// towards latency: a duplicate's answer is about a repeat.
func (t *tracker) answer(id []byte, status []byte) {
	now := time.Now().UnixNano()
	n, err := strconv.Atoi(string(id[1:]))
	if err != nil || n >= len(t.sent) {
		t.bad.CompareAndSwap(nil, "answer for unknown id "+string(id))
		return
	}
	switch string(status) {
	case "accepted":
		t.accepted.Add(1)
	case "rejected":
		t.rejected.Add(1)
	case "duplicate":
		t.dups.Add(1)
	default:
		t.bad.CompareAndSwap(nil, "status "+string(status)+" for "+string(id))
	}
	if string(status) != "duplicate" {
		if s := t.sent[n].Load(); s != 0 {
			t.mu.Lock()
			t.lat = append(t.lat, time.Duration(now-s))
			t.mu.Unlock()
		}
	}
	t.check(t.answered.Add(1))
}

func (t *tracker) expect(n int64) {
	t.want.Store(n)
	t.check(t.answered.Load())
}

func (t *tracker) check(answered int64) {
	if w := t.want.Load(); w >= 0 && answered >= w {
		select {
		case <-t.done:
		default:
			close(t.done)
		}
	}
}

func (t *tracker) percentiles() (p50, p99 time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lat) == 0 {
		return 0, 0
	}
	slices.Sort(t.lat)
	return t.lat[len(t.lat)*50/100], t.lat[min(len(t.lat)-1, len(t.lat)*99/100)]
}

// field finds "key":"value" in an outcome, cheaper than decoding it.
func field(b []byte, key string) []byte {
	i := bytes.Index(b, []byte(`"`+key+`":"`))
	if i < 0 {
		return nil
	}
	b = b[i+len(key)+4:]
	j := bytes.IndexByte(b, '"')
	if j < 0 {
		return nil
	}
	return b[:j]
}

// publishInbox publishes msgs to the inbox from n publishers (one
// connection each, async publishes with the event id as Msg-Id), all
// together at rate publications a second (0: as fast as they can), and
// returns once every publication is acked by JetStream, with the number
// JetStream acked as duplicates (and so dropped).
func publishInbox(ctx context.Context, url string, n int, msgs []Message, t *tracker, rate float64) (dupAcks int, err error) {
	var dups atomic.Int64
	err = inParallel(n, func(i int) error {
		// Together the publishers keep at most 8192 publications unacked:
		// more and the server refuses them (429) faster than it stores
		// them.
		d, err := publishShare(ctx, url, share(msgs, n, i), t, max(64, 8192/n), rate/float64(n))
		dups.Add(int64(d))
		return err
	})
	return int(dups.Load()), err
}

// share is publisher i's part of msgs among n, in order.
func share(msgs []Message, n, i int) []Message {
	return msgs[len(msgs)*i/n : len(msgs)*(i+1)/n]
}

// inParallel runs fn(0), …, fn(n-1) each on its own goroutine and joins
// their errors.
func inParallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = fn(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// replyStatus reads the status of an append request's answer, which comes
// in the form of the request: JSON or protobuf.
func replyStatus(reply *nats.Msg) ([]byte, error) {
	if !submit.IsProtobuf(reply.Header.Get("Content-Type")) {
		return field(reply.Data, "status"), nil
	}
	o, err := wire.DecodeOutcome(reply.Data)
	if err != nil {
		return nil, fmt.Errorf("answer: %w", err)
	}
	return []byte(o.Status), nil
}

// natsMsg is m as its publisher sends it to subject: the event id as
// Msg-Id, and the protobuf content type unless it is JSON.
func natsMsg(subject string, m Message) *nats.Msg {
	msg := &nats.Msg{Subject: subject, Data: m.Data, Header: nats.Header{jetstream.MsgIDHeader: []string{m.ID}}}
	if m.Data[0] != '{' {
		msg.Header.Set("Content-Type", submit.ContentTypeProtobuf)
	}
	return msg
}

func publishShare(ctx context.Context, url string, msgs []Message, t *tracker, window int, rate float64) (dupAcks int, err error) {
	nc, err := nats.Connect(url, nats.Name("ledgerbench publisher"))
	if err != nil {
		return 0, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(window))
	if err != nil {
		return 0, err
	}
	pending := make([]jetstream.PubAckFuture, 0, 2*window)
	var settle func(fs []jetstream.PubAckFuture) error
	settle = func(fs []jetstream.PubAckFuture) error {
		for _, f := range fs {
			select {
			case ack := <-f.Ok():
				if ack.Duplicate {
					dupAcks++
				}
			case err := <-f.Err():
				// The server sheds load with 429 when its stream queue is
				// full; a publisher waits and sends again (the Msg-Id
				// makes that safe), as a real one does.
				var apiErr *jetstream.APIError
				if !errors.As(err, &apiErr) || apiErr.Code != 429 {
					return fmt.Errorf("publish %s: %w", f.Msg().Header.Get(jetstream.MsgIDHeader), err)
				}
				time.Sleep(time.Millisecond)
				again, err := js.PublishMsgAsync(f.Msg(), jetstream.WithStallWait(time.Minute))
				if err != nil {
					return fmt.Errorf("publish %s again: %w", f.Msg().Header.Get(jetstream.MsgIDHeader), err)
				}
				if err := settle([]jetstream.PubAckFuture{again}); err != nil {
					return err
				}
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	start := time.Now()
	for i, m := range msgs {
		if rate > 0 {
			// Paced: publication i is due at start + i/rate.
			if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
				time.Sleep(wait)
			}
		}
		msg := natsMsg(ingest.InboxSubject(m.Ledger), m)
		if t != nil {
			t.published(m.ID)
		}
		// A full window waits for acks rather than failing: the
		// publisher is as fast as the server takes its messages.
		f, err := js.PublishMsgAsync(msg, jetstream.WithStallWait(time.Minute))
		if err != nil {
			return dupAcks, fmt.Errorf("publish %s: %w", m.ID, err)
		}
		if pending = append(pending, f); len(pending) == cap(pending) {
			// Settle the older half; the newer half stays in flight.
			if err := settle(pending[:len(pending)/2]); err != nil {
				return dupAcks, err
			}
			pending = append(pending[:0], pending[len(pending)/2:]...)
		}
	}
	return dupAcks, settle(pending)
}

// IngestInbox measures the inbox way in: n publishers publish msgs to
// ledgerd's JetStream inbox and the run ends when ledgerd has published
// an outcome (after its bbolt commit) for every publication JetStream did
// not drop as a duplicate itself.
//
// With rate > 0 the publishers together publish rate events a second:
// latency under a steady load rather than at saturation, where it is the
// time the backlog waits in the stream.
func IngestInbox(ctx context.Context, ld Ledgerd, dir string, n int, msgs []Message, rate float64) (Result, error) {
	return ingestRun(ctx, ld, dir, msgs, func(url string, t *tracker) (int, error) {
		return publishInbox(ctx, url, n, msgs, t, rate)
	})
}

// IngestRequests measures the request-reply way in: n publishers, each
// with window requests in flight, wait for each event's outcome.
func IngestRequests(ctx context.Context, ld Ledgerd, dir string, n, window int, msgs []Message) (Result, error) {
	return ingestRun(ctx, ld, dir, msgs, func(url string, t *tracker) (int, error) {
		return 0, request(ctx, url, n, window, msgs, t)
	})
}

func request(ctx context.Context, url string, n, window int, msgs []Message, t *tracker) error {
	return inParallel(n, func(i int) error {
		nc, err := nats.Connect(url, nats.Name("ledgerbench requester"))
		if err != nil {
			return err
		}
		defer nc.Close()
		mine := share(msgs, n, i)
		var next atomic.Int64
		return inParallel(window, func(int) error {
			for k := next.Add(1) - 1; k < int64(len(mine)); k = next.Add(1) - 1 {
				m := mine[k]
				t.published(m.ID)
				reply, err := nc.RequestMsgWithContext(ctx, natsMsg(ingest.AppendSubject(m.Ledger), m))
				if err != nil {
					return fmt.Errorf("request %s: %w", m.ID, err)
				}
				status, err := replyStatus(reply)
				if err != nil {
					return fmt.Errorf("request %s: %w", m.ID, err)
				}
				t.answer([]byte(m.ID), status)
			}
			return nil
		})
	})
}

func ingestRun(ctx context.Context, ld Ledgerd, dir string, msgs []Message, publish func(url string, t *tracker) (dupAcks int, err error)) (Result, error) {
	data := filepath.Join(dir, "data")
	p, err := startLedgerd(ctx, ld, data)
	if err != nil {
		return Result{}, err
	}
	defer p.Stop()
	nc, err := nats.Connect(p.NATS, nats.Name("ledgerbench outcomes"))
	if err != nil {
		return Result{}, err
	}
	defer nc.Close()
	t := newTracker(msgs)
	sub, err := nc.Subscribe(ingest.OutcomePrefix+"*", func(m *nats.Msg) {
		if string(field(m.Data, "via")) == "inbox" {
			t.answer(field(m.Data, "id"), field(m.Data, "status"))
		}
	})
	if err != nil {
		return Result{}, err
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return Result{}, err
	}
	if err := nc.Flush(); err != nil {
		return Result{}, err
	}
	peakStore := samplePeak(filepath.Join(data, "nats"))
	defer peakStore()
	start := time.Now()
	dupAcks, err := publish(p.NATS, t)
	if err != nil {
		return Result{}, err
	}
	t.expect(int64(len(msgs) - dupAcks))
	select {
	case <-t.done:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	case <-time.After(10 * time.Minute):
		return Result{}, fmt.Errorf("ingest: %d of %d outcomes after 10 minutes", t.answered.Load(), len(msgs)-dupAcks)
	}
	elapsed := time.Since(start)
	if bad, ok := t.bad.Load().(string); ok {
		return Result{}, fmt.Errorf("ingest: %s", bad)
	}
	r := Result{Elapsed: elapsed, Events: len(msgs), Accepted: int(t.accepted.Load()), Rejected: int(t.rejected.Load()),
		Duplicates: dupAcks + int(t.dups.Load())}
	r.Stored = r.Accepted
	r.P50, r.P99 = t.percentiles()
	if err := checkCounts(msgs, r); err != nil {
		return r, err
	}
	r.PeakRSS, _ = p.PeakRSS()
	r.PeakAnon = p.PeakAnon()
	r.LedgerBytes = dirSize(filepath.Join(data, "ledger.db"))
	r.StoreBytes = peakStore()
	return r, nil
}

// samplePeak measures the bytes under dir every 500 ms until the returned
// function is first called, which returns the most seen (and the size
// then); callers defer a call too, so that no sampler outlives a failed
// run.
func samplePeak(dir string) func() int64 {
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if s := dirSize(dir); s > peak.Load() {
					peak.Store(s)
				}
			}
		}
	}()
	return sync.OnceValue(func() int64 {
		close(stop)
		<-done
		return max(peak.Load(), dirSize(dir))
	})
}

// checkCounts is the run's own correctness check: every distinct valid
// event accepted once, every invalid one rejected, every repeat a
// duplicate.
func checkCounts(msgs []Message, r Result) error {
	var valid, invalid, dups int
	for _, m := range msgs {
		switch {
		case m.Duplicate:
			dups++
		case m.Invalid:
			invalid++
		default:
			valid++
		}
	}
	// A repeat of an invalid event is answered rejected again (a rejection
	// is not an id the ledger keeps as used).
	if r.Accepted != valid || r.Accepted+r.Rejected+r.Duplicates != len(msgs) {
		return fmt.Errorf("ingest: accepted %d of %d valid events, rejected %d (%d invalid), %d duplicates of %d repeats",
			r.Accepted, valid, r.Rejected, invalid, r.Duplicates, dups)
	}
	return nil
}
