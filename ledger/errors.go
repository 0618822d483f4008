package ledger

import "errors"

var (
	// ErrClosed is returned by every call on a Log after Close.
	ErrClosed = errors.New("ledger log closed")
	// ErrNotFound is returned when a ledger, event or rejection does not exist.
	ErrNotFound = errors.New("not found")
	// ErrChainBroken is returned by Verify, and by every read, when a
	// record's stored hash does not match the hash recomputed from the chain,
	// or an index does not match the records: the log was altered.
	ErrChainBroken = errors.New("hash chain broken")
	// ErrDamaged is returned when the file itself is damaged: truncated, a
	// meta page or the page structure wrong, or a read of it faulted.
	ErrDamaged = errors.New("log file damaged")
	// ErrCheckpointDamaged is returned by Verify when a stored checkpoint
	// does not match its own digest, or (deep) the log it was made from.
	// A checkpoint is derived data: the log is intact, and ledgerd rebuilds
	// the checkpoint from it.
	ErrCheckpointDamaged = errors.New("checkpoint damaged")
	// ErrFormat is returned when the file was written by an incompatible
	// version of the log format.
	ErrFormat = errors.New("unsupported log format")
	// ErrLocked is returned by Open when another process holds the file.
	ErrLocked = errors.New("log file is in use by another process")
	// ErrNotTheLog is returned by Open when the file is not the log the
	// data directory's mark says it held: missing, empty, older than the
	// last commit, or another log altogether.
	ErrNotTheLog = errors.New("not the log this data directory held")
	// ErrStopped is returned by Append once the log stopped taking events
	// because it cannot trust its file any more (damaged, replaced or
	// removed while open). The error names the cause; only a restart on a
	// good file clears it.
	ErrStopped = errors.New("log stopped taking events")
)
