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
// # On-disk layout, format version 2
//
// The file holds these buckets (all integers big-endian):
//
//	meta                      "format" -> "2"
//	                          "id"     -> the log's identity: 32 hex digits, random, given when the file was made
//	ledgers/<ledger>/log      seq (8 bytes) -> record
//	ledgers/<ledger>/ids      event id -> seq (8 bytes)
//	ledgers/<ledger>/rejects  rejection number (8 bytes) -> rejection
//	ledgers/<ledger>/rejids   event id -> latest rejection number (8 bytes)
//	ledgers/<ledger>/reversed event id -> seq of the reversal that reversed it
//	ledgers/<ledger>/closed   fiscal year (8 bytes) -> seq of its 年终结账
//	checkpoints               ledger name -> checkpoint
//	quota                     day (4 bytes, YYYYMMDD in UTC) [+ ledger name] -> stored (8 bytes) || counted (8 bytes)
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
// record breaks the chain from that record on, which Verify detects, and
// so does every read of it (read.go). The ids bucket is the permanent
// idempotency index: an id, once accepted, is never appended again. The
// reversed bucket makes a reversal (红字冲销) final: an event is reversed at
// most once.
//
// A rejection is
//
//	byte      rejection version (2)
//	32 bytes  hash = SHA-256(previous rejection's hash || rejection number || JSON)
//	rest      JSON with the fields of Rejection
//
// chained as records are, from 32 zero bytes (and again after a rejection
// written by format 1, which was the JSON alone). The JSON keeps at most
// MaxRawKept bytes of the payload, with the whole payload's length and
// SHA-256. Rejected events do not take an id, so a corrected event may
// reuse it. Rejections for a ledger name that is itself unusable are kept
// under the reserved ledger "_unrouted" (no valid ledger name starts with
// "_").
//
// The quota bucket counts rejections a day, for all ledgers (the key is the
// day alone) and for each ledger that had any (the day, then its name):
// how many were stored and how many there were. Past
// Options.RejectionsPerDay for a ledger or RejectionsPerDayAll for all, a
// rejection is answered and counted but not stored.
//
// A checkpoint (checkpoint.go) is derived data, never part of the chain:
//
//	byte      checkpoint version (2)
//	uvarint   length of the rules' version, then the version (projections.CompactVersion)
//	8 bytes   seq of the last record folded in
//	8 bytes   its recorded time, Unix nanoseconds
//	32 bytes  its hash (the chain's head at seq)
//	uvarint   number of events, then each as a uvarint length and its binary form
//	32 bytes  SHA-256 of everything before it
//
// A checkpoint whose digest or head does not match is rebuilt from the log.
//
// Format 1 differed in three ways: no "id" in meta, rejections as JSON
// alone (with up to 64 KiB of payload), and checkpoints without version
// byte or digest. Open reads it, and a writable Open upgrades it in one
// transaction: it sets "format" to "2", gives the log an id, and deletes
// the checkpoints (rebuilt from the log); stored rejections stay as they
// were.
//
// # Beside the file
//
// A data directory keeps a mark file next to the log (mark.go): the log's
// id and the last transaction committed, moved on after every commit.
// Open refuses a file that is missing, empty, older than the mark or of
// another id (ErrNotTheLog), and checks every file against its own bbolt
// meta pages before mapping it (CheckFile), so that a truncated file is an
// error rather than a fault.
package ledger
