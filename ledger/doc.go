// Package ledger keeps the append-only event log in a bbolt file: it appends
// each event exactly once, in order, durably, under a per-ledger sequence and
// a SHA-256 hash chain, records every rejection with its reason, and reads
// events, outcomes and rejections back.
//
// # Writing
//
// One goroutine writes. Callers hand it submissions (Append); it gathers
// every submission waiting at that moment into one bbolt transaction (group
// commit: one fsync for many events), assigns sequences inside the
// transaction, and tells callers their outcomes only after the commit. An
// event is therefore never acknowledged before it is on disk, and a caller
// that gives up early (context cancelled) may retry safely: the id makes the
// retry a Duplicate.
//
// # On-disk layout, format version 1
//
// The file holds these buckets (all integers big-endian):
//
//	meta                      "format" -> "1"
//	ledgers/<ledger>/log      seq (8 bytes) -> record
//	ledgers/<ledger>/ids      event id -> seq (8 bytes)
//	ledgers/<ledger>/rejects  rejection number (8 bytes) -> rejection (JSON)
//	ledgers/<ledger>/rejids   event id -> latest rejection number (8 bytes)
//	ledgers/<ledger>/reversed event id -> seq of the reversal that reversed it
//	ledgers/<ledger>/closed   fiscal year (8 bytes) -> seq of its 年终结账
//
// Sequences start at 1 in each ledger and have no gaps. A record is
//
//	byte      record version (1)
//	8 bytes   recorded time, Unix nanoseconds (never decreases in a ledger)
//	32 bytes  hash = SHA-256(previous hash || seq || recorded time || event)
//	rest      the event in its canonical binary form (events.Event.MarshalBinary)
//
// where the previous hash of seq 1 is 32 zero bytes and seq and recorded time
// are hashed as their 8-byte encodings. Changing any stored byte of any
// record breaks the chain from that record on, which Verify detects. The ids
// bucket is the permanent idempotency index: an id, once accepted, is never
// appended again. The reversed bucket makes a reversal (红字冲销) final: an
// event is reversed at most once. A rejection is JSON with the fields of Rejection; rejected
// events do not take an id, so a corrected event may reuse it.
//
// Rejections for a ledger name that is itself unusable are kept under the
// reserved ledger "_unrouted" (no valid ledger name starts with "_").
package ledger
