// Package submit turns a payload received by any transport into a ledger
// submission: it decodes the event (JSON or protobuf), validates it against
// the classification catalog, and carries the reason when it cannot be
// accepted, so that every transport records rejections the same way.
package submit

import (
	"strings"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/wire"
	"github.com/budgetledger/budgetledger/ledger"
)

// ContentTypeProtobuf marks a protobuf budgetledger.v1.Event payload (NATS
// header or HTTP Content-Type). Anything else is read as JSON.
const ContentTypeProtobuf = "application/protobuf"

// IsProtobuf reports whether a content type names the protobuf form.
func IsProtobuf(contentType string) bool {
	ct, _, _ := strings.Cut(contentType, ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	return ct == ContentTypeProtobuf || ct == "application/x-protobuf"
}

// Payload is one event as received.
type Payload struct {
	Ledger      string // from the subject or URL
	MsgID       string // transport message id (Nats-Msg-Id), if any
	ContentType string
	Data        []byte
	Via         string // "inbox", "request", "http"
}

// Decode decodes and validates p. The submission always goes to the log:
// either with a valid event or with the reason it was refused.
func Decode(p Payload, cat *events.Catalog) ledger.Submission {
	// Raw references the payload (no copy) so that a rejection decided later,
	// in the log (an id conflict), is still kept with its evidence.
	s := ledger.Submission{Ledger: p.Ledger, ID: p.MsgID, Via: p.Via, Raw: p.Data}
	var e events.Event
	var err error
	if IsProtobuf(p.ContentType) {
		e, err = wire.DecodeEvent(p.Data)
	} else {
		e, err = events.DecodeJSON(p.Data)
	}
	if err == nil {
		err = events.Validate(&e, cat)
	}
	if err == nil && p.MsgID != "" && p.MsgID != e.ID {
		err = &events.ValidationError{Code: events.CodeInvalidID, Field: "Nats-Msg-Id", Value: p.MsgID,
			Expected: "the event's own id, " + e.ID + " (the message id is the idempotency key)"}
	}
	if s.ID == "" {
		s.ID = e.ID
	}
	if err != nil {
		s.Err = err
		return s
	}
	s.Event = e
	return s
}
