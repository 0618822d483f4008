package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/submit"
	"github.com/budgetledger/budgetledger/internal/wire"
	"github.com/budgetledger/budgetledger/ledger"
)

// DuplicateWindow is the JetStream Msg-Id window of the inbox stream.
//
// The ledger's own idempotency index is permanent, so JetStream's window is
// only a first, cheap filter for a publisher's immediate retries (a lost
// publish ack). It is deliberately short: nats-server holds every id of the
// window in memory, about 128 bytes each, so at 80k events/s a two-minute
// window (the server default) would hold ~10M ids, over 1 GiB. Ten seconds
// bounds that to ~100 MiB at full speed; an older duplicate still reaches
// the ledger and is answered Duplicate with the original sequence.
const DuplicateWindow = 10 * time.Second

// DefaultBatch is the most inbox messages committed in one transaction.
const DefaultBatch = 1000

// DefaultMaxBytes is the inbox stream's default byte limit (Config.MaxBytes).
const DefaultMaxBytes = 1 << 30

// MaxMessage bounds one inbox message: the NATS server's default maximum
// payload, far above any real event (a voucher's event is well under
// 1 KiB; submit.MaxEvent refuses one over 64 KiB).
const MaxMessage = 1 << 20

// StreamConfig is the inbox stream: every ledger's inbox subject, on disk,
// with replicas copies, at most maxBytes of messages waiting.
//
// DiscardNew: once maxBytes wait (ledgerd stopped, or its disk full), a
// publish is refused with an error the publisher sees at once ("maximum
// bytes exceeded"), and nothing already accepted is dropped. A limit well
// under the free disk keeps JetStream itself from running out of space,
// which on nats-server leaves the stream unable to write until it is
// restarted.
func StreamConfig(replicas int, maxBytes int64) jetstream.StreamConfig {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	return jetstream.StreamConfig{
		Name:        StreamName,
		Description: "budgetledger inbox: events waiting for ledgerd to append them",
		Subjects:    []string{InboxPrefix + ">"},
		Storage:     jetstream.FileStorage,
		// Work queue: a message is removed once ledgerd acked it, i.e. once
		// the ledger committed it; the ledger is the system of record.
		Retention:  jetstream.WorkQueuePolicy,
		Duplicates: DuplicateWindow,
		Replicas:   max(replicas, 1),
		MaxBytes:   maxBytes,
		MaxMsgSize: MaxMessage,
		Discard:    jetstream.DiscardNew,
	}
}

// ConsumerConfig is ledgerd's durable pull consumer of the inbox. Acks are
// explicit (a work queue requires it), one per message, sent after the
// message's batch committed. It delivers from the stream's first message:
// ledgerd makes it anew whenever it starts consuming (see consume).
func ConsumerConfig(batch int, ackWait time.Duration) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:       ConsumerName,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       ackWait,
		MaxAckPending: 4 * batch,
		DeliverPolicy: jetstream.DeliverAllPolicy,
	}
}

// PullOptions are the pull settings of a consumer that keeps batch
// messages on hand while the previous batch commits, and at most
// feedBytes of them: a flood of large messages must not fill ledgerd's
// memory. The server's heartbeat every 5 seconds lets a consumer notice
// within 10 that JetStream stopped serving it.
func PullOptions(batch int) []jetstream.PullConsumeOpt {
	return []jetstream.PullConsumeOpt{jetstream.PullMaxMessagesWithBytesLimit(2*batch, feedBytes), jetstream.PullHeartbeat(5 * time.Second)}
}

// feedBytes bounds the inbox messages fetched and not yet taken into a
// batch, in the client and in the feed each.
const feedBytes = 16 << 20

// Config wires an Ingester.
type Config struct {
	Conn    *nats.Conn
	Log     *ledger.Log
	Catalog *events.Catalog
	Logger  *slog.Logger
	// Batch is the most inbox messages fetched and committed together
	// (default 1000).
	Batch int
	// AckWait is how long JetStream waits for an ack before redelivering
	// (default 10s). After a crash, messages the dead ledgerd had fetched
	// come back after this long; the ledger's id index makes the redelivery
	// harmless, so short is better than long.
	AckWait time.Duration
	// Replicas is the inbox stream's replica count: 1 on the embedded
	// server, 3 on a production cluster so the inbox survives a node.
	Replicas int
	// MaxRequests bounds append requests in flight (default 4096); they
	// wait for the commit concurrently, which is what lets many requests
	// share one transaction.
	MaxRequests int
	// MaxBytes is the inbox stream's byte limit (default DefaultMaxBytes).
	MaxBytes int64
	// Instance describes this ledgerd to another that starts on the same
	// NATS (its log and data directory, say), in the error it gets.
	Instance string
}

// Ingester runs the NATS side of ledgerd.
//
// Design: the inbox is consumed in batches by a two-stage pipeline (one
// goroutine fetches and decodes, one appends each batch in one Append and
// then acks every message), so inbox order is kept, a batch is one
// transaction, and decoding overlaps the commit's fsync. A batch whose
// commit fails is retried, holding the pipeline, until it commits or
// ledgerd stops; so later events never overtake it.
//
// Order across crashes: JetStream redelivers a message fetched and not
// acked only after AckWait, by which time later messages may have been
// committed; a reversal would then arrive before its event. So the
// consumer is never reused: every session of consuming (each start, and
// again after a delivery was lost or JetStream failed) deletes the
// durable consumer and makes it anew, which delivers the inbox from its
// first message, in stream order. Messages already committed come back
// as duplicates, which the log's id index answers, and are acked, so the
// work queue drains to empty, even of messages a crash left in it with
// the old consumer's ack floor past them. Within a session the delivery
// sequence must run without a gap; a gap (a delivery lost on the way)
// ends the session the same way, after everything before it committed.
//
// Shutdown (Close) stops new work first (request subscriptions, fetching)
// and then lets work already started finish: an Append that began is never
// cancelled, so its caller always learns the real outcome and every batch
// fetched is committed and acked (or, if ledgerd dies first, redelivered). Append requests are each served on their own
// goroutine (bounded by a semaphore) so that concurrent requesters share
// group commits. All goroutines stop on Close, which waits for them.
type Ingester struct {
	cfg    Config
	js     jetstream.JetStream
	cons   jetstream.Consumer // the first session's, made by Start
	subs   []*nats.Subscription
	cancel context.CancelFunc // stops fetching; never cancels an Append
	wg     sync.WaitGroup
	sem    chan struct{}
	log    *slog.Logger

	// health is why the inbox is not being consumed now; nil while it is.
	health atomic.Pointer[error]
	// restart ends the session running, for the reason sent (Restart).
	restart chan string

	// mu guards closing and every wg.Add made by a request handler, so that
	// no handler starts work once Close has begun waiting.
	mu      sync.Mutex
	closing bool
}

// Start creates the inbox stream if missing and a new durable consumer of
// it, subscribes to the request subjects and starts consuming.
func Start(ctx context.Context, cfg Config) (*Ingester, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = 10 * time.Second
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = 4096
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	js, err := jetstream.New(cfg.Conn)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	in := &Ingester{
		cfg: cfg, js: js, cancel: cancel, log: cfg.Logger,
		sem: make(chan struct{}, cfg.MaxRequests), restart: make(chan string, 1),
	}
	// One ledgerd an inbox: a second one would delete the first's
	// consumer (every start makes it anew) and take the inbox over.
	if err := in.alone(ctx); err != nil {
		cancel()
		return nil, err
	}
	// The first session's consumer is made here, so that a NATS that
	// cannot hold the inbox fails the start at once.
	if in.cons, err = in.prepare(ctx); err != nil {
		cancel()
		return nil, err
	}
	for _, s := range []struct {
		subject string
		handler nats.MsgHandler
	}{
		{AppendPrefix + "*", in.serveAppend},
		{StatusPrefix + "*", in.serveStatus},
		{InstanceSubject, in.serveInstance},
	} {
		var sub *nats.Subscription
		if s.subject == InstanceSubject {
			sub, err = cfg.Conn.Subscribe(s.subject, s.handler) // every instance answers
		} else {
			sub, err = cfg.Conn.QueueSubscribe(s.subject, QueueGroup, s.handler)
		}
		if err != nil {
			in.Close()
			return nil, fmt.Errorf("ingest: subscribe %s: %w", s.subject, err)
		}
		in.subs = append(in.subs, sub)
	}
	// Subscriptions reach the server asynchronously; a round trip makes
	// them live before Start returns, so a request sent right after start
	// does not meet "no responders".
	if err := cfg.Conn.FlushTimeout(10 * time.Second); err != nil {
		in.Close()
		return nil, fmt.Errorf("ingest: flush subscriptions: %w", err)
	}
	in.wg.Add(1)
	go in.consume(runCtx)
	return in, nil
}

// ErrAnotherLedgerd is returned by Start when another ledgerd already
// consumes the inbox on the same NATS.
var ErrAnotherLedgerd = errors.New("another ledgerd consumes this inbox")

// alone asks whether another ledgerd answers on the same NATS. Two that
// start at the very same moment may both find none.
func (in *Ingester) alone(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	reply, err := in.cfg.Conn.RequestWithContext(ctx, InstanceSubject, nil)
	switch {
	case errors.Is(err, nats.ErrNoResponders), errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return nil
	case err != nil:
		return fmt.Errorf("ingest: ask for another ledgerd: %w", err)
	}
	return fmt.Errorf("ingest: %w (%s): run one ledgerd for an inbox; a second would take it over", ErrAnotherLedgerd, reply.Data)
}

// serveInstance answers alone's question of another ledgerd.
func (in *Ingester) serveInstance(m *nats.Msg) {
	_ = m.Respond([]byte(in.cfg.Instance))
}

// prepare creates (or updates) the inbox stream and makes its consumer
// anew, delivering from the stream's first message.
func (in *Ingester) prepare(ctx context.Context) (jetstream.Consumer, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := in.ensureStream(ctx)
	if err != nil {
		return nil, err
	}
	if err := stream.DeleteConsumer(ctx, ConsumerName); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("ingest: delete consumer %s to consume the inbox from its start: %w", ConsumerName, err)
	}
	cons, err := stream.CreateConsumer(ctx, ConsumerConfig(in.cfg.Batch, in.cfg.AckWait))
	if err != nil {
		return nil, fmt.Errorf("ingest: create consumer %s: %w", ConsumerName, err)
	}
	return cons, nil
}

// ensureStream creates the inbox stream when it is missing and otherwise
// checks it, never rewriting it: an operator's limits (bytes, age,
// replicas raised) stay as they are. What ledgerd relies on must hold: the
// inbox subjects, work-queue retention (a message leaves once acked), file
// storage, and at least the replicas configured; anything else is an
// error saying what to change (ErrStreamMismatch). A stream made before
// ledgerd gave it a byte limit gets one, with DiscardNew.
func (in *Ingester) ensureStream(ctx context.Context) (jetstream.Stream, error) {
	want := StreamConfig(in.cfg.Replicas, in.cfg.MaxBytes)
	stream, err := in.js.Stream(ctx, StreamName)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		if stream, err = in.js.CreateStream(ctx, want); err != nil {
			return nil, fmt.Errorf("ingest: create stream %s: %w", StreamName, err)
		}
		return stream, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ingest: stream %s: %w", StreamName, err)
	}
	got := stream.CachedInfo().Config
	var problems []string
	if !slices.Contains(got.Subjects, want.Subjects[0]) {
		problems = append(problems, fmt.Sprintf("subjects %v, which must include %s", got.Subjects, want.Subjects[0]))
	}
	if got.Retention != want.Retention {
		problems = append(problems, fmt.Sprintf("retention %s, which must be %s (a message leaves the inbox once the ledger committed it)", got.Retention, want.Retention))
	}
	if got.Storage != want.Storage {
		problems = append(problems, fmt.Sprintf("storage %s, which must be %s", got.Storage, want.Storage))
	}
	if got.Replicas < want.Replicas {
		problems = append(problems, fmt.Sprintf("%d replicas, fewer than the %d ledgerd is configured for (-inbox-replicas); ledgerd does not lower them, nor raise them for you", got.Replicas, want.Replicas))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("ingest: %w: the stream %s has %s; change the stream (nats stream edit %s) or ledgerd's configuration",
			ErrStreamMismatch, StreamName, strings.Join(problems, "; "), StreamName)
	}
	if got.MaxBytes <= 0 {
		got.MaxBytes, got.Discard = want.MaxBytes, jetstream.DiscardNew
		if got.MaxMsgSize <= 0 {
			got.MaxMsgSize = want.MaxMsgSize
		}
		if stream, err = in.js.UpdateStream(ctx, got); err != nil {
			return nil, fmt.Errorf("ingest: give the stream %s a byte limit: %w", StreamName, err)
		}
		in.log.Info("the inbox stream had no byte limit: it has one now, refusing publishes past it", "stream", StreamName, "max_bytes", want.MaxBytes)
	}
	return stream, nil
}

// ErrStreamMismatch is returned by Start when the inbox stream exists but
// does not hold what ledgerd relies on.
var ErrStreamMismatch = errors.New("the inbox stream is not as ledgerd needs it")

// Health tells why the inbox is not being consumed now (JetStream down, a
// session starting again), or nil while it is. A batch waiting for a
// commit that fails is the log's to tell (ledger.Log.Health).
func (in *Ingester) Health() error {
	if p := in.health.Load(); p != nil {
		return *p
	}
	return nil
}

// Restart ends the session consuming the inbox and starts another from
// the inbox's first message, once everything taken is committed: after
// JetStream itself was started again, say, when the old consumer's
// subscription is gone.
func (in *Ingester) Restart(reason string) {
	select {
	case in.restart <- reason:
	default: // one is on its way
	}
}

func (in *Ingester) setHealth(err error) {
	if err == nil {
		in.health.Store(nil)
		return
	}
	err = fmt.Errorf("the inbox is not being consumed: %w", err)
	in.health.Store(&err)
}

// Close stops taking new events, lets those already being appended finish
// (their requesters get their outcomes, their inbox messages are acked),
// and returns when no goroutine of the Ingester is left. Inbox messages not
// yet fetched stay in the stream for the next start; requests not yet
// started get no answer and are retried by their senders.
func (in *Ingester) Close() error {
	var errs []error
	for _, s := range in.subs {
		errs = append(errs, s.Unsubscribe())
	}
	in.mu.Lock()
	in.closing = true
	in.mu.Unlock()
	in.cancel()
	in.wg.Wait()
	return errors.Join(errs...)
}

// begin registers one unit of work unless Close has started.
func (in *Ingester) begin() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closing {
		return false
	}
	in.wg.Add(1)
	return true
}

// batch is one fetch from the inbox, decoded; or, with done set, a
// barrier: the commit stage closes done once every batch before it is
// committed (or left).
type batch struct {
	msgs []jetstream.Msg
	subs []ledger.Submission
	done chan struct{}
}

// consume runs the inbox as a pipeline of three: the NATS client keeps up
// to two batches of messages fetched ahead (Consume), this goroutine cuts
// them into batches and decodes them, and commit appends batch N and waits
// for its fsync while batch N+1 is decoded. The disk wait, the CPU work and
// the network overlap; batches are committed in inbox order. It runs one
// session after another (see Ingester) until ctx ends.
func (in *Ingester) consume(ctx context.Context) {
	defer in.wg.Done()
	batches := make(chan batch, 1)
	in.wg.Add(1)
	go in.commit(ctx, batches)
	defer close(batches)

	cons := in.cons
	for {
		err := in.session(ctx, cons, batches)
		if ctx.Err() != nil {
			return
		}
		in.setHealth(err)
		in.log.Warn("inbox consumer starting again from the first message not committed", "reason", err)
		// Everything taken before must be committed first, or a message
		// redelivered by the new consumer could overtake it.
		done := make(chan struct{})
		batches <- batch{done: done}
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
		for backoff := 100 * time.Millisecond; ; backoff = min(2*backoff, 5*time.Second) {
			if cons, err = in.prepare(ctx); err == nil {
				break
			}
			in.setHealth(err)
			if sleep(ctx, backoff); ctx.Err() != nil {
				return
			}
		}
	}
}

// session consumes the inbox with cons until ctx ends (nil) or the
// consumer cannot go on: an error of JetStream's, or a gap in the delivery
// sequence. Every message taken before that is handed to the commit stage;
// the rest are left for the next session.
func (in *Ingester) session(ctx context.Context, cons jetstream.Consumer, batches chan<- batch) error {
	f := newFeed[jetstream.Msg](2*in.cfg.Batch).withBudget(feedBytes, func(m jetstream.Msg) int { return len(m.Data()) })
	msgs, handler := f.ch, f.put
	failed := make(chan error, 1)
	opts := append(PullOptions(in.cfg.Batch), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		in.log.Warn("inbox consume", "err", err)
		if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) ||
			errors.Is(err, jetstream.ErrNoHeartbeat) || errors.Is(err, nats.ErrJetStreamNotEnabled) {
			select {
			case failed <- err:
			default:
			}
		}
	}))
	cc, err := cons.Consume(handler, opts...)
	if err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	in.setHealth(nil)
	var delivered uint64 // the delivery sequence of the last message taken
	// send hands b to the commit stage up to the first message that does
	// not follow the one before it; it reports the gap, if any.
	send := func(b []jetstream.Msg) error {
		for i, m := range b {
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("message without metadata: %w", err)
			}
			if md.Sequence.Consumer != delivered+1 {
				if i > 0 {
					batches <- batch{msgs: b[:i], subs: in.decode(b[:i])}
				}
				return fmt.Errorf("a delivery was lost: delivery %d came after %d", md.Sequence.Consumer, delivered)
			}
			delivered = md.Sequence.Consumer
		}
		batches <- batch{msgs: b, subs: in.decode(b)}
		return nil
	}
	stop := func() {
		cc.Stop()
		f.close()
	}
	for {
		select {
		case <-ctx.Done():
			stop()
			// Messages already handed over are committed, as every batch
			// taken is: the commit stage drains its channel before it ends.
			for {
				b := take(f, nil, in.cfg.Batch)
				if len(b) == 0 {
					return nil
				}
				if err := send(b); err != nil {
					return nil
				}
			}
		case err := <-failed:
			stop()
			return err
		case reason := <-in.restart:
			stop()
			return errors.New(reason)
		case m := <-msgs:
			f.taken(m)
			if err := send(take(f, []jetstream.Msg{m}, in.cfg.Batch)); err != nil {
				stop()
				return err
			}
		}
	}
}

// feed hands the messages the NATS client delivers to the batching loop,
// in order. Stopping, a message is left unacked for JetStream to redeliver
// to the next ledgerd, and so is every message after it: the client goes
// on delivering what it holds for a while after Stop, and taking a later
// message once an earlier one was left would let the later one be
// committed first. put is called from one goroutine at a time.
//
// With a byte budget, put also waits while the messages waiting in the
// feed weigh more than it, so that a flood of large messages holds the
// client's delivery (and so the server's) instead of memory: each message
// takes one token of the budget per feedUnit bytes begun, and gives them
// back when the batching loop takes it.
type feed[T any] struct {
	ch      chan T
	stop    chan struct{}
	leaving bool
	budget  chan struct{} // one token a feedUnit; nil: no budget
	weigh   func(T) int
}

// feedUnit is the byte budget's unit: small enough that the usual event
// of under 1 KiB takes one token.
const feedUnit = 4 << 10

func newFeed[T any](size int) *feed[T] {
	return &feed[T]{ch: make(chan T, size), stop: make(chan struct{})}
}

// withBudget gives f a budget of bytes, weighed by weigh.
func (f *feed[T]) withBudget(bytes int, weigh func(T) int) *feed[T] {
	f.budget, f.weigh = make(chan struct{}, max(1, bytes/feedUnit)), weigh
	return f
}

// tokens is the budget m takes: at least one, at most all of it, so that
// a message larger than the budget still goes through alone.
func (f *feed[T]) tokens(m T) int {
	return min(cap(f.budget), 1+f.weigh(m)/feedUnit)
}

func (f *feed[T]) put(m T) {
	if f.leaving {
		return
	}
	select {
	case <-f.stop:
		f.leaving = true
		return
	default:
	}
	if f.budget != nil {
		for range f.tokens(m) {
			select {
			case f.budget <- struct{}{}:
			case <-f.stop:
				f.leaving = true
				return
			}
		}
	}
	select {
	case f.ch <- m:
	case <-f.stop:
		f.leaving = true
	}
}

// taken gives back the budget of a message taken from f.ch.
func (f *feed[T]) taken(m T) {
	if f.budget == nil {
		return
	}
	for range f.tokens(m) {
		<-f.budget
	}
}

// close makes put leave every message from now on (or from the one it is
// blocked on).
func (f *feed[T]) close() { close(f.stop) }

// maxBatchBytes bounds the payloads of one batch: with large messages a
// batch closes before it has Batch of them.
const maxBatchBytes = 4 << 20

// take adds to b whatever messages are waiting, up to the batch size and
// maxBatchBytes, without waiting for more: under load batches fill up,
// and when the inbox is quiet an event is committed on its own at once.
func take(f *feed[jetstream.Msg], b []jetstream.Msg, size int) []jetstream.Msg {
	n := 0
	for _, m := range b {
		n += len(m.Data())
	}
	for len(b) < size && n < maxBatchBytes {
		select {
		case m := <-f.ch:
			f.taken(m)
			b = append(b, m)
			n += len(m.Data())
		default:
			return b
		}
	}
	return b
}

// commit is the second stage: one Append per batch, then outcomes and acks.
// ctx only bounds the retries of a failing commit; an Append in progress is
// never cancelled.
func (in *Ingester) commit(ctx context.Context, batches <-chan batch) {
	defer in.wg.Done()
	var buf []byte
	left := false
	for b := range batches {
		if b.done != nil {
			close(b.done)
			continue
		}
		if left {
			// A batch before this one was left uncommitted; committing
			// this one would let it overtake that batch.
			continue
		}
		outcomes, err := in.appendBatch(ctx, b)
		if err != nil {
			// ledgerd is stopping with the batch uncommitted: leave it,
			// and every batch after it, unacked; JetStream redelivers
			// them in order to the next ledgerd.
			in.log.Warn("inbox batch left for redelivery", "messages", len(b.msgs), "err", err)
			left = true
			continue
		}
		for i, o := range outcomes {
			buf = in.publishOutcome(buf[:0], o)
			if err := b.msgs[i].Ack(); err != nil {
				// The ledger has the event; a redelivery will be a Duplicate.
				in.log.Warn("inbox ack", "ledger", o.Ledger, "id", o.ID, "err", err)
			}
		}
	}
}

// appendBatch appends a batch, retrying a failed commit (a full or failing
// disk) with growing pauses while telling JetStream the messages are still
// being worked on, so they are neither redelivered nor overtaken.
func (in *Ingester) appendBatch(ctx context.Context, b batch) ([]ledger.Outcome, error) {
	pause := 100 * time.Millisecond
	for {
		outcomes, err := in.cfg.Log.Append(context.WithoutCancel(ctx), b.subs...)
		if err == nil || errors.Is(err, ledger.ErrClosed) {
			return outcomes, err
		}
		in.log.Error("inbox batch not committed; retrying", "messages", len(b.msgs), "pause", pause, "err", err)
		for _, m := range b.msgs {
			_ = m.InProgress()
		}
		sleep(ctx, pause)
		if ctx.Err() != nil {
			return nil, err
		}
		pause = min(2*pause, 5*time.Second)
	}
}

func (in *Ingester) decode(msgs []jetstream.Msg) []ledger.Submission {
	subs := make([]ledger.Submission, len(msgs))
	for i, m := range msgs {
		h := m.Headers()
		subs[i] = submit.Decode(submit.Payload{
			Ledger:      strings.TrimPrefix(m.Subject(), InboxPrefix),
			MsgID:       h.Get(jetstream.MsgIDHeader),
			ContentType: h.Get("Content-Type"),
			Data:        m.Data(),
			Via:         "inbox",
		}, in.cfg.Catalog)
		if md, err := m.Metadata(); err == nil {
			subs[i].InboxSeq = md.Sequence.Stream
		}
	}
	return subs
}

func (in *Ingester) serveAppend(m *nats.Msg) {
	if !in.begin() {
		return // shutting down: no answer, the requester retries elsewhere or later
	}
	in.sem <- struct{}{} // bounds concurrent requests; released by each goroutine
	// Decoded and validated here, on the subscription's goroutine, whose
	// stack grew once to what that takes: the goroutine below only waits
	// for the commit and answers, which a new goroutine's small stack
	// holds. Decoding on it too made every request grow and copy its
	// stack, a sixth of ledgerd's CPU at 64 requesters.
	ct := m.Header.Get("Content-Type")
	s := submit.Decode(submit.Payload{
		Ledger:      strings.TrimPrefix(m.Subject, AppendPrefix),
		MsgID:       m.Header.Get(jetstream.MsgIDHeader),
		ContentType: ct,
		Data:        m.Data,
		Via:         "request",
	}, in.cfg.Catalog)
	go func() {
		defer func() { <-in.sem; in.wg.Done() }()
		// Never cancelled: once begun, the append finishes and is answered.
		outcomes, err := in.cfg.Log.Append(context.Background(), s)
		if err != nil {
			// Not committed: say so; the requester retries with the same id.
			in.respondError(m, err)
			return
		}
		o := outcomes[0]
		// One JSON for the outcome subject and the reply.
		js := in.publishOutcome(make([]byte, 0, 256), o)
		in.respond(m, o, submit.IsProtobuf(ct), js)
	}()
}

func (in *Ingester) serveStatus(m *nats.Msg) {
	led := strings.TrimPrefix(m.Subject, StatusPrefix)
	id := strings.TrimSpace(string(m.Data))
	o, err := in.cfg.Log.Outcome(led, id)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		o = ledger.Outcome{Ledger: led, ID: id, Status: ledger.Unknown}
	case err != nil:
		in.respondError(m, err)
		return
	}
	in.respond(m, o, submit.IsProtobuf(m.Header.Get("Content-Type")), nil)
}

// publishOutcome publishes o's JSON, written into buf (returned for reuse:
// Publish copies it).
func (in *Ingester) publishOutcome(buf []byte, o ledger.Outcome) []byte {
	buf = o.AppendJSON(buf)
	subject := OutcomeSubject(o.Ledger)
	if err := in.cfg.Conn.Publish(subject, buf); err != nil {
		in.log.Warn("publish outcome", "subject", subject, "id", o.ID, "err", err)
	}
	return buf
}

// respond answers m with o, in protobuf or in JSON (js, when the caller
// has written it already).
func (in *Ingester) respond(m *nats.Msg, o ledger.Outcome, protobuf bool, js []byte) {
	if m.Reply == "" {
		return
	}
	var b []byte
	var err error
	reply := nats.NewMsg(m.Reply)
	if protobuf {
		b, err = wire.EncodeOutcome(o)
		reply.Header.Set("Content-Type", submit.ContentTypeProtobuf)
	} else {
		if b = js; b == nil {
			b = o.AppendJSON(nil)
		}
		reply.Header.Set("Content-Type", "application/json")
	}
	if err != nil {
		in.respondError(m, err)
		return
	}
	reply.Data = b
	if err := in.cfg.Conn.PublishMsg(reply); err != nil {
		in.log.Warn("reply", "subject", m.Subject, "id", o.ID, "err", err)
	}
}

// respondError tells a requester the ledger could not record its event
// (e.g. the disk failed); it is not a rejection, and a retry is safe.
func (in *Ingester) respondError(m *nats.Msg, err error) {
	if m.Reply == "" {
		return
	}
	reply := nats.NewMsg(m.Reply)
	reply.Header.Set("Status-Error", "unavailable")
	reply.Header.Set("Content-Type", "application/json")
	reply.Data, _ = json.Marshal(map[string]string{"status": "error", "error": err.Error()})
	_ = m.RespondMsg(reply)
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
