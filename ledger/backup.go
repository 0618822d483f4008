package ledger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BackupInfo describes a copy of a log.
type BackupInfo struct {
	Log   string `json:"log"`   // the log's identity
	TxID  uint64 `json:"txid"`  // the last transaction in the copy
	Bytes int64  `json:"bytes"` // its size
}

// Backup writes a consistent copy of the whole file, as of the last commit,
// while appends go on (bbolt's Tx.WriteTo in a read transaction): a file
// that opens like the original. before, when given, is called with the
// copy's description before the first byte is written.
func (l *Log) Backup(w io.Writer, before func(BackupInfo) error) (BackupInfo, error) {
	var info BackupInfo
	err := l.read("backup", func(tx *bolt.Tx) error {
		info = BackupInfo{Log: l.id, TxID: uint64(tx.ID()), Bytes: tx.Size()}
		if before != nil {
			if err := before(info); err != nil {
				return err
			}
		}
		_, err := tx.WriteTo(w)
		return err
	})
	if err != nil {
		return info, fmt.Errorf("backup %s: %w", l.path, err)
	}
	return info, nil
}

// VerifyFile checks a log file that no process is writing (a backup, or
// the file of a stopped ledgerd): its structure and every ledger (see
// CheckFile and Verify). It returns the file's description and the
// verification of each ledger; any damage is an error wrapping ErrDamaged,
// ErrChainBroken or ErrCheckpointDamaged.
func VerifyFile(ctx context.Context, path string) (BackupInfo, []Verification, error) {
	l, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		return BackupInfo{}, nil, err
	}
	defer l.Close()
	fc, err := l.CheckFile(ctx)
	if err != nil {
		return BackupInfo{}, nil, err
	}
	st, err := CheckFile(path)
	if err != nil {
		return BackupInfo{}, nil, err
	}
	info := BackupInfo{Log: l.ID(), TxID: fc.TxID, Bytes: st.Size}
	if err := st.MetaErr(); err != nil {
		return info, nil, err
	}
	names, err := l.Ledgers()
	if err != nil {
		return info, nil, err
	}
	var vs []Verification
	for _, name := range names {
		v, err := l.Verify(ctx, name)
		vs = append(vs, v)
		if err != nil {
			return info, vs, err
		}
	}
	return info, vs, nil
}

// Restored describes what Restore did.
type Restored struct {
	BackupInfo
	Ledgers []Verification `json:"ledgers"`
	// Before is the mark of the data directory before the restore: the
	// log it held and the transaction it had reached (zero if none).
	Before Mark `json:"before"`
	// Kept is where the log file that was in place went (empty if none).
	Kept string `json:"kept,omitempty"`
}

// Restore puts the backup at from in place as the log file at path, whose
// data directory keeps its mark at mark, once it has verified the backup
// whole (VerifyFile). The file that was at path is kept beside it, renamed
// with the time, never deleted; the mark is set to the backup's log and
// transaction, so that Open takes the restored file. No process may have
// the log open (ErrLocked).
//
// A restored log holds what the backup held: events committed after the
// backup was taken are not in it, and their publishers learn that from
// their outcomes (unknown) and publish them again, which is safe.
func Restore(ctx context.Context, from, path, mark string) (Restored, error) {
	var r Restored
	var err error
	if r.BackupInfo, r.Ledgers, err = VerifyFile(ctx, from); err != nil {
		return r, fmt.Errorf("restore: the backup %s does not verify: %w", from, err)
	}
	if r.Log == "" {
		return r, fmt.Errorf("restore: the backup %s is of format 1, which has no identity: open it with a ledgerd of this version first, or copy it in place and start with -accept-log", from)
	}
	// The file in place must not be open: a writer would go on writing
	// into the file kept aside. bbolt holds a flock on it while open.
	if err := notLocked(path); err != nil {
		return r, fmt.Errorf("restore: %w", err)
	}
	if m, err := ReadMark(mark); err == nil {
		r.Before = m
	}
	tmp := path + ".restoring"
	if err := copyFile(from, tmp); err != nil {
		return r, fmt.Errorf("restore: %w", err)
	}
	if _, err := os.Stat(path); err == nil {
		r.Kept = fmt.Sprintf("%s.before-restore-%s", path, time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(path, r.Kept); err != nil {
			os.Remove(tmp)
			return r, fmt.Errorf("restore: keep the file in place: %w", err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return r, fmt.Errorf("restore: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return r, fmt.Errorf("restore: %w", err)
	}
	if err := WriteMark(mark, Mark{Log: r.Log, TxID: r.TxID, At: time.Now()}); err != nil {
		return r, fmt.Errorf("restore: %w", err)
	}
	return r, nil
}

// notLocked checks that no process holds the log file at path open (bbolt
// locks it with flock), without mapping it.
func notLocked(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("%s: %w (stop ledgerd first)", path, ErrLocked)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// copyFile copies from to to durably.
func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(to)
		return fmt.Errorf("copy %s to %s: %w", from, to, err)
	}
	return nil
}
