// Package submit turns a payload received by any transport into a ledger
// submission: it decodes the event (JSON or protobuf), validates it against
// the classification catalog, and carries the reason when it cannot be
// accepted, so that every transport records rejections the same way.
package submit

import (
	"bytes"
	"crypto/sha256"
	"strconv"
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

// MaxEvent bounds the payload of one event. A real voucher's event is well
// under 1 KiB (the sample's largest is under 600 bytes); 64 KiB leaves room
// for any memo while a flood of large garbage is refused before it is
// decoded, and kept only as its first ledger.MaxRawKept bytes.
const MaxEvent = 64 << 10

// Decode decodes and validates p. The submission always goes to the log:
// either with a valid event or with the reason it was refused.
func Decode(p Payload, cat *events.Catalog) ledger.Submission {
	if len(p.Data) > MaxEvent {
		return TooLarge(p, len(p.Data), sha256.Sum256(p.Data))
	}
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

// TooLarge is the submission of a payload refused for its size before it
// was decoded: p.Data holds its start (at least ledger.MaxRawKept bytes
// when there were that many), n is its whole length and sum its SHA-256.
// The id is the message id, or one read from the start of the payload, so
// that the publisher can look the rejection up.
func TooLarge(p Payload, n int, sum [32]byte) ledger.Submission {
	id := p.MsgID
	if id == "" {
		id = idIn(p.Data)
	}
	// A copy, so that the whole payload is not kept alive by its start.
	raw := bytes.Clone(p.Data[:min(len(p.Data), ledger.MaxRawKept)])
	return ledger.Submission{
		Ledger: p.Ledger, ID: id, Via: p.Via, Raw: raw, RawLen: n, RawSHA256: sum,
		Err: &events.ValidationError{Code: events.CodeEventTooLarge, Field: "event", Value: strconv.Itoa(n) + " bytes",
			Expected: "an event of at most " + strconv.Itoa(MaxEvent) + " bytes"},
	}
}

// idIn finds the value of the first "id" key in the start of a JSON
// payload, if it is a usable id.
func idIn(b []byte) string {
	i := bytes.Index(b, []byte(`"id"`))
	if i < 0 {
		return ""
	}
	rest := bytes.TrimLeft(b[i+4:], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return ""
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	if len(rest) == 0 || rest[0] != '"' {
		return ""
	}
	j := bytes.IndexByte(rest[1:], '"')
	if j < 0 {
		return ""
	}
	id := string(rest[1 : 1+j])
	if events.ValidateID(id) != nil {
		return ""
	}
	return id
}
