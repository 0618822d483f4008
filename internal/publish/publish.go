// Package publish is the publisher's side of the NATS contract: it sends a
// file of events (JSON Lines) to the JetStream inbox with Nats-Msg-Id set to
// each event's id, and waits for the ledger's outcome of every line, so that
// the publisher learns what was accepted, what was a duplicate and what was
// rejected, and why.
package publish

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/ledger"
)

// Options tune File.
type Options struct {
	// Ledger is used for lines that do not name a valid ledger.
	Ledger string
	// Wait bounds how long to wait for outcomes after the last publish
	// acknowledgement (default 2 minutes).
	Wait time.Duration
}

// Line is the outcome of one line of the file.
type Line struct {
	Number  int
	Ledger  string
	ID      string // the message id used: the event's id, or one derived from the line
	Outcome ledger.Outcome
	// Resolved is false when no outcome arrived in time: the event may still
	// be waiting in the inbox (ledgerd stopped?); publishing again is safe.
	Resolved bool
}

// Summary counts the outcomes of a file.
type Summary struct {
	Lines                                      []Line
	Accepted, Duplicates, Rejected, Unresolved int
	Elapsed                                    time.Duration
}

// File publishes every non-empty line of r and waits for the outcomes.
//
// Each line's outcome is matched by the inbox stream sequence JetStream
// gave its publish, which the ledger returns in the outcome, so lines with
// the same id (or a redelivery's second outcome) are never confused. A line
// JetStream dropped inside its Msg-Id window is put to the ledger directly
// (request-reply) once the earlier lines are settled, so the ledger judges
// it in file order: the same content is a Duplicate, other content an id
// conflict. An error reaching the ledger leaves a line unresolved; it
// never fails the lines that were answered.
func File(ctx context.Context, nc *nats.Conn, r io.Reader, opts Options) (*Summary, error) {
	start := time.Now()
	if opts.Wait <= 0 {
		opts.Wait = 2 * time.Minute
	}
	lines, payloads, err := readLines(r, opts.Ledger)
	if err != nil {
		return nil, err
	}
	// A publish JetStream never answers (a server whose store cannot
	// write, say) fails after this long instead of waiting for ever.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}

	// Subscribe to the outcomes of each ledger in the file (a publisher may
	// read only its own ledgers' outcomes) before publishing, so that none
	// is missed. The handler only queues: nothing is dropped however many
	// outcomes arrive before they are read.
	var (
		mu     sync.Mutex
		queued []ledger.Outcome
		kick   = make(chan struct{}, 1)
	)
	handler := func(m *nats.Msg) {
		var o ledger.Outcome
		if json.Unmarshal(m.Data, &o) != nil || o.Via != "inbox" {
			return // answers to requests are read from their replies
		}
		mu.Lock()
		queued = append(queued, o)
		mu.Unlock()
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l.Ledger] {
			continue
		}
		seen[l.Ledger] = true
		sub, err := nc.Subscribe(ingest.OutcomeSubject(l.Ledger), handler)
		if err != nil {
			return nil, fmt.Errorf("publish: subscribe to outcomes of %s: %w", l.Ledger, err)
		}
		defer sub.Unsubscribe()
		if err := sub.SetPendingLimits(-1, -1); err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
	}
	// A permission error on the outcome subject arrives asynchronously;
	// flush makes the server report it now rather than after the wait.
	if err := nc.FlushTimeout(10 * time.Second); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := nc.LastError(); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}

	futures := make([]jetstream.PubAckFuture, len(lines))
	for i := range lines {
		m := nats.NewMsg(ingest.InboxSubject(lines[i].Ledger))
		m.Header.Set(jetstream.MsgIDHeader, lines[i].ID)
		m.Data = payloads[i]
		if futures[i], err = publishAsync(ctx, js, m); err != nil {
			return nil, fmt.Errorf("publish line %d: %w", lines[i].Number, err)
		}
	}
	// bySeq maps an inbox stream sequence to its line.
	bySeq := make(map[uint64]int, len(lines))
	var resubmit []int
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				resubmit = append(resubmit, i)
				continue
			}
			bySeq[ack.Sequence] = i
		case err := <-f.Err():
			return nil, fmt.Errorf("publish line %d: the inbox did not take it: %w (the lines before it were taken; publishing the file again is safe)", lines[i].Number, err)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	unresolved := len(bySeq)
	deadline := time.NewTimer(opts.Wait)
	defer deadline.Stop()
	for unresolved > 0 {
		select {
		case <-kick:
			mu.Lock()
			batch := queued
			queued = nil
			mu.Unlock()
			for _, o := range batch {
				i, ok := bySeq[o.InboxSeq]
				if !ok || lines[i].Resolved || o.Ledger != lines[i].Ledger || o.ID != lines[i].ID {
					continue // another publisher's, or a redelivery's second answer
				}
				lines[i].Outcome, lines[i].Resolved = o, true
				unresolved--
			}
		case <-deadline.C:
			unresolved = 0
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	for _, i := range resubmit {
		o, err := request(ctx, nc, lines[i].Ledger, lines[i].ID, payloads[i])
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			continue // unresolved: publishing again is safe
		}
		lines[i].Outcome, lines[i].Resolved = o, true
	}
	s := &Summary{Lines: lines, Elapsed: time.Since(start)}
	for _, l := range lines {
		switch {
		case !l.Resolved:
			s.Unresolved++
		case l.Outcome.Status == ledger.Accepted:
			s.Accepted++
		case l.Outcome.Status == ledger.Duplicate:
			s.Duplicates++
		default:
			s.Rejected++
		}
	}
	return s, nil
}

// publishAsync publishes with JetStream's async window as flow control:
// when too many acks are outstanding, wait for them and go on.
func publishAsync(ctx context.Context, js jetstream.JetStream, m *nats.Msg) (jetstream.PubAckFuture, error) {
	for {
		f, err := js.PublishMsgAsync(m)
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return f, err
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// request sends one event on the append subject and returns the outcome.
func request(ctx context.Context, nc *nats.Conn, ledgerName, id string, payload []byte) (ledger.Outcome, error) {
	m := nats.NewMsg(ingest.AppendSubject(ledgerName))
	m.Header.Set(jetstream.MsgIDHeader, id)
	m.Data = payload
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	reply, err := nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return ledger.Outcome{}, fmt.Errorf("request %s: %w", id, err)
	}
	if reply.Header.Get("Status-Error") != "" {
		return ledger.Outcome{}, fmt.Errorf("request %s: the ledger could not record it: %s", id, reply.Data)
	}
	var o ledger.Outcome
	if err := json.Unmarshal(reply.Data, &o); err != nil {
		return ledger.Outcome{}, fmt.Errorf("request %s: ledger answered %q", id, reply.Data)
	}
	switch o.Status {
	case ledger.Accepted, ledger.Duplicate, ledger.Rejected:
		return o, nil
	}
	return ledger.Outcome{}, fmt.Errorf("request %s: ledger answered %q", id, reply.Data)
}

// readLines reads the JSON Lines file, finding each line's ledger and id
// without validating (that is the ledger's job, and its rejections are
// recorded there).
func readLines(r io.Reader, defaultLedger string) ([]Line, [][]byte, error) {
	var lines []Line
	var payloads [][]byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var head struct {
			ID     string `json:"id"`
			Ledger string `json:"ledger"`
		}
		_ = json.Unmarshal(b, &head)
		l := Line{Number: n, Ledger: head.Ledger, ID: head.ID}
		if events.ValidateLedger(l.Ledger) != nil {
			l.Ledger = defaultLedger
			if events.ValidateLedger(l.Ledger) != nil {
				l.Ledger = ledger.UnroutedLedger
			}
		}
		if events.ValidateID(l.ID) != nil {
			// No usable id: derive one from the content so that publishing the
			// same file again is still idempotent and the rejection can be
			// looked up.
			sum := sha256.Sum256(b)
			l.ID = fmt.Sprintf("line-%x", sum[:12])
		}
		lines = append(lines, l)
		payloads = append(payloads, bytes.Clone(b))
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("read events: %w", err)
	}
	return lines, payloads, nil
}
