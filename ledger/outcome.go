package ledger

import (
	"time"

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
)

// Outcome is the publisher's receipt for one event. It is given only after
// the bbolt transaction that recorded it committed, so it is durable.
type Outcome struct {
	Ledger string `json:"ledger"`
	ID     string `json:"id"`
	Status Status `json:"status"`
	// Seq is the event's sequence in its ledger (for Accepted and Duplicate),
	// or the rejection's number in the ledger's rejection list (Rejected).
	Seq uint64 `json:"seq"`
	// RecordedAt is when the event (or the rejection) was committed.
	RecordedAt time.Time `json:"recorded_at"`
	// Code and Reason say why an event was rejected.
	Code   events.Code `json:"code,omitempty"`
	Reason string      `json:"reason,omitempty"`
	// Via is the way the event came in (Submission.Via), so that a publisher
	// watching the outcome subject can tell its inbox outcomes from the
	// answers to requests.
	Via string `json:"via,omitempty"`
}
