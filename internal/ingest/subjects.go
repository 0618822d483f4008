// Package ingest is the NATS way into the ledger: it consumes the JetStream
// inbox, answers append and status requests, and publishes every outcome,
// feeding all of them to the one group-commit writer of the log.
//
// Subjects (<ledger> is the ledger name, e.g. qingpu-zwb):
//
//	budgetledger.inbox.<ledger>    JetStream stream BUDGETLEDGER_INBOX: publish
//	                               events here with Nats-Msg-Id = event id
//	budgetledger.append.<ledger>   request-reply: the reply is the outcome,
//	                               sent after the bbolt commit
//	budgetledger.status.<ledger>   request-reply: payload an event id, reply
//	                               its outcome (or status "unknown")
//	budgetledger.outcome.<ledger>  every outcome, published after commit
//	budgetledger.ledgerd.instance  answered by every running ledgerd, so
//	                               that a second refuses to start
//
// Payloads are JSON events (the import format) or, with the header
// Content-Type: application/protobuf, budgetledger.v1.Event. Outcomes are
// JSON, or protobuf budgetledger.v1.Outcome when the request was protobuf.
//
// Limits: a message of at most MaxMessage bytes (the stream refuses a
// larger one), an event of at most submit.MaxEvent (a larger one is
// rejected event_too_large, kept as its start); the inbox refuses a
// publish once Config.MaxBytes of messages wait in it.
package ingest

// Subject prefixes and names; see the package comment.
const (
	InboxPrefix   = "budgetledger.inbox."
	AppendPrefix  = "budgetledger.append."
	StatusPrefix  = "budgetledger.status."
	OutcomePrefix = "budgetledger.outcome."
	// InstanceSubject is answered by every running ledgerd, so that a
	// second one on the same NATS learns of the first (see Start).
	InstanceSubject = "budgetledger.ledgerd.instance"
	StreamName      = "BUDGETLEDGER_INBOX"
	ConsumerName    = "ledgerd"
	// QueueGroup lets several ledgerd replicas share request subjects.
	QueueGroup = "ledgerd"
)

// InboxSubject is where a publisher sends events of a ledger.
func InboxSubject(ledger string) string { return InboxPrefix + ledger }

// AppendSubject is the request-reply subject of a ledger.
func AppendSubject(ledger string) string { return AppendPrefix + ledger }

// StatusSubject answers outcome look-ups for a ledger.
func StatusSubject(ledger string) string { return StatusPrefix + ledger }

// OutcomeSubject carries the outcomes of a ledger.
func OutcomeSubject(ledger string) string { return OutcomePrefix + ledger }
