package ledger

import "errors"

var (
	// ErrClosed is returned by every call on a Log after Close.
	ErrClosed = errors.New("ledger log closed")
	// ErrNotFound is returned when a ledger, event or rejection does not exist.
	ErrNotFound = errors.New("not found")
	// ErrChainBroken is returned by Verify when a record's stored hash does not
	// match the hash recomputed from the chain: the log was altered.
	ErrChainBroken = errors.New("hash chain broken")
	// ErrFormat is returned when the file was written by an incompatible
	// version of the log format.
	ErrFormat = errors.New("unsupported log format")
	// ErrLocked is returned by Open when another process holds the file.
	ErrLocked = errors.New("log file is in use by another process")
)
