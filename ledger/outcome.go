package ledger

import (
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/budgetledger/budgetledger/events"
)

// Status is what became of an event that reached the ledger.
type Status string

// The statuses. Clients branch on them; the spelling is stable.
const (
	// Accepted: appended now, at Seq.
	Accepted Status = "accepted"
	// Duplicate: the same id with the same content was appended before, at
	// Seq; nothing was appended now.
	Duplicate Status = "duplicate"
	// Rejected: not appended, for Code and Reason. Nothing changed.
	Rejected Status = "rejected"
	// Unknown: the ledger has neither accepted nor rejected this id: never
	// received, or still waiting in the inbox. Only look-ups answer it.
	Unknown Status = "unknown"
)

// Outcome is the publisher's receipt for one event. It is given only after
// the bbolt transaction that recorded it committed, so it is durable.
type Outcome struct {
	Ledger string
	ID     string
	Status Status
	// Seq is the event's sequence in its ledger (for Accepted and Duplicate),
	// or the rejection's number in the ledger's rejection list (Rejected;
	// the JSON form calls it "rejection").
	Seq uint64
	// RecordedAt is when the event (or the rejection) was committed.
	RecordedAt time.Time
	// Code and Reason say why an event was rejected.
	Code   events.Code
	Reason string
	// Via is the way the event came in (Submission.Via), so that a publisher
	// watching the outcome subject can tell its inbox outcomes from the
	// answers to requests.
	Via string
	// InboxSeq is the inbox stream sequence of the message the outcome
	// answers (inbox only), which the publisher got in its publish ack.
	InboxSeq uint64
}

// outcomeJSON is the JSON form of an Outcome. A rejection's number is
// written as "rejection", not "seq", so that nobody reads a rejected event
// as having a place in the log.
type outcomeJSON struct {
	Ledger     string      `json:"ledger"`
	ID         string      `json:"id"`
	Status     Status      `json:"status"`
	Seq        uint64      `json:"seq,omitempty"`
	Rejection  uint64      `json:"rejection,omitempty"`
	RecordedAt time.Time   `json:"recorded_at"`
	Code       events.Code `json:"code,omitempty"`
	Reason     string      `json:"reason,omitempty"`
	Via        string      `json:"via,omitempty"`
	InboxSeq   uint64      `json:"inbox_seq,omitempty"`
}

// MarshalJSON writes the outcome in its documented JSON form.
func (o Outcome) MarshalJSON() ([]byte, error) {
	return o.AppendJSON(make([]byte, 0, 160)), nil
}

// AppendJSON appends the JSON form MarshalJSON writes. ledgerd publishes
// an outcome for every event it ingests, so this is written by hand:
// encoding/json's reflection cost as much as the bbolt commit.
func (o Outcome) AppendJSON(b []byte) []byte {
	b = append(b, `{"ledger":`...)
	b = appendJSONString(b, o.Ledger)
	b = append(b, `,"id":`...)
	b = appendJSONString(b, o.ID)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(o.Status))
	switch {
	case o.Status == Rejected && o.Seq != 0:
		b = append(b, `,"rejection":`...)
		b = strconv.AppendUint(b, o.Seq, 10)
	case o.Status != Rejected && o.Seq != 0:
		b = append(b, `,"seq":`...)
		b = strconv.AppendUint(b, o.Seq, 10)
	}
	b = append(b, `,"recorded_at":`...)
	if t := o.RecordedAt.UTC(); t.Year() >= 0 && t.Year() <= 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, time.RFC3339Nano) // as time.Time's MarshalJSON
		b = append(b, '"')
	} else {
		b = append(b, `null`...) // outside what MarshalJSON can write; no clock gives one
	}
	if o.Code != "" {
		b = append(b, `,"code":`...)
		b = appendJSONString(b, string(o.Code))
	}
	if o.Reason != "" {
		b = append(b, `,"reason":`...)
		b = appendJSONString(b, o.Reason)
	}
	if o.Via != "" {
		b = append(b, `,"via":`...)
		b = appendJSONString(b, o.Via)
	}
	if o.InboxSeq != 0 {
		b = append(b, `,"inbox_seq":`...)
		b = strconv.AppendUint(b, o.InboxSeq, 10)
	}
	return append(b, '}')
}

// appendJSONString writes s as encoding/json does: plain text as it is,
// anything needing an escape through encoding/json itself, so that the two
// forms never differ.
func appendJSONString(b []byte, s string) []byte {
	for _, r := range s {
		// Invalid UTF-8 reads as RuneError; encoding/json replaces it.
		if r < 0x20 || r == '"' || r == '\\' || r == '<' || r == '>' || r == '&' || r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// UnmarshalJSON reads the form MarshalJSON writes.
func (o *Outcome) UnmarshalJSON(b []byte) error {
	var j outcomeJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*o = Outcome{Ledger: j.Ledger, ID: j.ID, Status: j.Status, Seq: j.Seq, RecordedAt: j.RecordedAt,
		Code: j.Code, Reason: j.Reason, Via: j.Via, InboxSeq: j.InboxSeq}
	if j.Status == Rejected {
		o.Seq = j.Rejection
	}
	return nil
}
