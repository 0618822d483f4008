package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/budgetledger/budgetledger/ledger"
)

// cmdBackup takes a consistent copy of a log: from a running ledgerd
// (-server) while it serves, or from the data directory of a stopped one
// (-data). The copy is written beside FILE, synced, verified whole, and
// only then renamed to FILE, so that FILE is never a partial copy.
func cmdBackup(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	fs := newFlags("backup")
	server := serverFlag(fs)
	dataDir := fs.String("data", "", "copy the log of this data directory (ledgerd stopped) instead of asking ledgerd")
	out := fs.String("o", "", "the backup file to write")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *out == "" || fs.NArg() != 0 {
		return 2, fmt.Errorf("backup: give -o FILE (and -server URL or -data DIR)")
	}
	tmp := *out + ".partial"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 2, err
	}
	defer os.Remove(tmp)
	var n int64
	if *dataDir != "" {
		n, err = backupFile(filepath.Join(*dataDir, "ledger.db"), f)
	} else {
		n, err = backupServer(ctx, *server, f)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 2, fmt.Errorf("backup: %w", err)
	}
	info, vs, err := ledger.VerifyFile(ctx, tmp)
	if err != nil {
		fmt.Fprintf(stdout, "backup NOT VERIFIED, not kept: %v\n", err)
		return 1, nil
	}
	if err := os.Rename(tmp, *out); err != nil {
		return 2, err
	}
	fmt.Fprintf(stdout, "backup %s: %d bytes of log %s at transaction %d, verified\n", *out, n, info.Log, info.TxID)
	for _, v := range vs {
		fmt.Fprintf(stdout, "  %s: %d events, head %s, %d rejections\n", v.Ledger, v.Events, v.HeadHex, v.Rejections)
	}
	return 0, nil
}

func backupFile(path string, w io.Writer) (int64, error) {
	l, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	if errors.Is(err, ledger.ErrLocked) {
		return 0, fmt.Errorf("%w: ledgerd is running; back it up with -server", err)
	}
	if err != nil {
		return 0, err
	}
	defer l.Close()
	info, err := l.Backup(w, nil)
	return info.Bytes, err
}

func backupServer(ctx context.Context, server string, w io.Writer) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, server+"/v1/backup", nil)
	if err != nil {
		return 0, err
	}
	// No timeout but ctx: a large log takes a while.
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("%w (is ledgerd running?)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, fmt.Errorf("%s: %s", resp.Status, b)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, err
	}
	if want, _ := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); want > 0 && n != want {
		return n, fmt.Errorf("the copy ended after %d of %d bytes", n, want)
	}
	return n, nil
}

// cmdRestore puts a backup in place as the log of a stopped ledgerd's data
// directory (ledger.Restore): verified first, the file it replaces kept.
func cmdRestore(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	fs := newFlags("restore")
	dataDir := fs.String("data", "", "the data directory of the stopped ledgerd")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *dataDir == "" || fs.NArg() != 1 {
		return 2, fmt.Errorf("restore: give -data DIR and the backup FILE")
	}
	if err := os.MkdirAll(*dataDir, 0o750); err != nil {
		return 2, err
	}
	r, err := ledger.Restore(ctx, fs.Arg(0), filepath.Join(*dataDir, "ledger.db"), filepath.Join(*dataDir, "ledger.mark"))
	if errors.Is(err, ledger.ErrChainBroken) || errors.Is(err, ledger.ErrDamaged) || errors.Is(err, ledger.ErrCheckpointDamaged) {
		fmt.Fprintf(stdout, "NOT RESTORED: %v\n", err)
		return 1, nil
	}
	if err != nil {
		return 2, err
	}
	fmt.Fprintf(stdout, "restored %s into %s: log %s at transaction %d, verified\n", fs.Arg(0), *dataDir, r.Log, r.TxID)
	for _, v := range r.Ledgers {
		fmt.Fprintf(stdout, "  %s: %d events, head %s\n", v.Ledger, v.Events, v.HeadHex)
	}
	if r.Kept != "" {
		fmt.Fprintf(stdout, "the file it replaced is kept as %s\n", r.Kept)
	}
	switch {
	case r.Before.Log == "":
	case r.Before.Log != r.Log:
		fmt.Fprintf(stdout, "note: the data directory held another log, %s, up to transaction %d\n", r.Before.Log, r.Before.TxID)
	case r.Before.TxID > r.TxID:
		fmt.Fprintf(stdout, "note: the data directory had committed up to transaction %d (%s); events committed after the backup are not in it:\n"+
			"their publishers see them as unknown (ledgerctl status) and publish them again, which is safe; events still in the inbox are taken when ledgerd starts\n",
			r.Before.TxID, r.Before.At.Format(time.RFC3339))
	}
	return 0, nil
}
