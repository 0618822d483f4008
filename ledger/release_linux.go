package ledger

import "syscall"

func dontNeed(b []byte) error { return syscall.Madvise(b, syscall.MADV_DONTNEED) }
