package httpapi

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"

	"github.com/budgetledger/budgetledger/internal/submit"
	"github.com/budgetledger/budgetledger/ledger"
)

// Limits of a POST of events. A body is read a line at a time and
// appended a chunk at a time, so that memory stays bounded whatever is
// sent: at most maxBodies bodies are read at once (others wait), each
// holding at most one chunk of lines and the outcomes so far.
const (
	// MaxRequestBytes bounds a request body: a year of a department's
	// vouchers (a few thousand events of under 1 KiB) fits many times.
	// A body announced larger is refused before it is read.
	MaxRequestBytes = 16 << 20
	// MaxRequestEvents bounds the events of one request.
	MaxRequestEvents = 10_000
	maxBodies        = 8
	chunkEvents      = 1000
	chunkBytes       = 4 << 20
)

var (
	// errTooLarge maps to 413.
	errTooLarge = errors.New("request too large")
	// errNotRecorded is an append that did not commit (a full disk, a
	// log that stopped): 503, and a retry is safe.
	errNotRecorded = errors.New("not recorded: the ledger could not commit these events now; send them again later")
)

// appendEvents appends one JSON event (however it is laid out), JSON
// Lines, or one protobuf event, and answers every outcome after the
// commit. A line over submit.MaxEvent is refused (event_too_large) without
// being kept whole; the request past its limits is refused with the
// outcomes of what was appended before.
func (h *Handler) appendEvents(w http.ResponseWriter, r *http.Request) {
	led := r.PathValue("ledger")
	if r.ContentLength > MaxRequestBytes {
		h.fail(w, r, fmt.Errorf("%w: a body of %d bytes; send at most %d bytes (and %d events) a request", errTooLarge, r.ContentLength, MaxRequestBytes, MaxRequestEvents))
		return
	}
	select {
	case h.bodies <- struct{}{}:
		defer func() { <-h.bodies }()
	case <-r.Context().Done():
		h.fail(w, r, r.Context().Err())
		return
	}
	body := http.MaxBytesReader(w, r.Body, MaxRequestBytes)
	br := bufio.NewReaderSize(body, submit.MaxEvent+1)
	ct := r.Header.Get("Content-Type")
	a := appender{h: h, r: r}
	var err error
	switch head, peekErr := br.Peek(submit.MaxEvent + 1); {
	case submit.IsProtobuf(ct):
		err = a.one(br, submit.Payload{Ledger: led, ContentType: ct, Via: "http"})
	case peekErr != nil && len(head) > 0 && json.Valid(head):
		// The whole body is one JSON value: one event, however laid out.
		err = a.one(br, submit.Payload{Ledger: led, Via: "http"})
	default:
		err = a.lines(br, led)
	}
	if err == nil {
		err = a.flush()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		err = fmt.Errorf("%w: the body is over %d bytes; send at most %d bytes (and %d events) a request", errTooLarge, MaxRequestBytes, MaxRequestBytes, MaxRequestEvents)
	}
	if err == nil && a.events == 0 {
		err = badRequest("no events in the body: send one JSON event, or JSON Lines")
	}
	if err != nil {
		if len(a.outcomes) == 0 {
			h.fail(w, r, err)
			return
		}
		// Some lines were appended before the failure: say which.
		status, code := h.status(err)
		writeJSON(w, status, map[string]any{"error": err.Error(), "code": code, "outcomes": a.outcomes,
			"note": "the outcomes are those of the first " + strconv.Itoa(len(a.outcomes)) + " events; send the rest again (publishing again is safe)"})
		return
	}
	writeJSON(w, 200, map[string]any{"outcomes": a.outcomes})
}

// appender gathers the submissions of one request into chunks.
type appender struct {
	h        *Handler
	r        *http.Request
	subs     []ledger.Submission
	raw      int
	events   int
	outcomes []ledger.Outcome
}

func (a *appender) add(s ledger.Submission) error {
	a.events++
	if a.events > MaxRequestEvents {
		return fmt.Errorf("%w: more than %d events in one request", errTooLarge, MaxRequestEvents)
	}
	a.subs = append(a.subs, s)
	if a.raw += len(s.Raw); len(a.subs) >= chunkEvents || a.raw >= chunkBytes {
		return a.flush()
	}
	return nil
}

// flush appends the chunk gathered and keeps its outcomes.
func (a *appender) flush() error {
	if len(a.subs) == 0 {
		return nil
	}
	out, err := a.h.log.Append(a.r.Context(), a.subs...)
	if err != nil {
		return fmt.Errorf("%w: %w", errNotRecorded, err)
	}
	a.outcomes = append(a.outcomes, out...)
	clear(a.subs) // the payloads go with the chunk
	a.subs, a.raw = a.subs[:0], 0
	return nil
}

// one reads the whole body as one event.
func (a *appender) one(br *bufio.Reader, p submit.Payload) error {
	data, n, sum, err := readBounded(br, false)
	if err != nil {
		return err
	}
	p.Data = data
	if n > submit.MaxEvent {
		return a.add(submit.TooLarge(p, n, sum))
	}
	return a.add(submit.Decode(p, a.h.cat))
}

// lines reads JSON Lines, one event a line.
func (a *appender) lines(br *bufio.Reader, led string) error {
	for {
		line, n, sum, err := readBounded(br, true)
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		p := submit.Payload{Ledger: led, Via: "http"}
		if n > submit.MaxEvent {
			p.Data = line
			if aerr := a.add(submit.TooLarge(p, n, sum)); aerr != nil {
				return aerr
			}
		} else if t := bytes.TrimSpace(line); len(t) > 0 {
			p.Data = bytes.Clone(t)
			if aerr := a.add(submit.Decode(p, a.h.cat)); aerr != nil {
				return aerr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
	}
}

// readBounded reads a line (or, with line false, the rest of the body)
// keeping at most submit.MaxEvent bytes of it: past that it keeps only
// the first ledger.MaxRawKept bytes, and counts and hashes the rest as it
// goes. It returns what it kept, the whole length, and the SHA-256 of the
// whole when it was too long. At the end of the body the error is io.EOF.
func readBounded(br *bufio.Reader, line bool) (kept []byte, n int, sum [32]byte, err error) {
	if !line {
		kept, err = io.ReadAll(io.LimitReader(br, submit.MaxEvent+1))
		if err != nil || len(kept) <= submit.MaxEvent {
			return kept, len(kept), sum, err
		}
		h := sha256.New()
		h.Write(kept)
		rest, err := io.Copy(h, br)
		if err != nil {
			return nil, 0, sum, err
		}
		copy(sum[:], h.Sum(nil))
		return kept[:ledger.MaxRawKept], len(kept) + int(rest), sum, nil
	}
	var h hash.Hash
	for {
		var part []byte
		part, err = br.ReadSlice('\n')
		if err == nil {
			// The line is what comes before its end.
			part = bytes.TrimSuffix(bytes.TrimSuffix(part, []byte("\n")), []byte("\r"))
		}
		switch {
		case h != nil:
			h.Write(part)
		case n+len(part) > submit.MaxEvent:
			// Too long: from here on only counted and hashed.
			h = sha256.New()
			h.Write(kept)
			h.Write(part)
			kept = append(kept, part...)[:ledger.MaxRawKept]
		default:
			kept = append(kept, part...)
		}
		n += len(part)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if h != nil {
			copy(sum[:], h.Sum(nil))
		}
		return kept, n, sum, err
	}
}
