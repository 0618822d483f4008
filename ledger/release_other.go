//go:build !linux

package ledger

func dontNeed([]byte) error { return nil }
