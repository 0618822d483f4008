package service_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/internal/service"
	"github.com/budgetledger/budgetledger/ledger"
)

// The crash test runs ledgerd in a child process (this test binary, re-run
// with childEnv set) so that it can be killed with SIGKILL: no deferred
// Close, no flush, exactly what a power cut does to the process.
const childEnv = "BUDGETLEDGER_TEST_CHILD_DATA"

// childAckWaitEnv sets the child's AckWait (testAckWait by default).
const childAckWaitEnv = "BUDGETLEDGER_TEST_CHILD_ACK_WAIT"

func runChild() {
	dir := os.Getenv(childEnv)
	ackWait := testAckWait
	if s := os.Getenv(childAckWaitEnv); s != "" {
		ackWait, _ = time.ParseDuration(s)
	}
	s, err := service.Start(context.Background(), service.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", InboxAckWait: ackWait, Logger: quiet})
	if err != nil {
		os.Stderr.WriteString(err.Error())
		os.Exit(3)
	}
	// Tell the parent where to connect, then serve until killed.
	tmp := filepath.Join(dir, "addr.tmp")
	_ = os.WriteFile(tmp, []byte(s.NATSURL()+"\n"+s.HTTPAddr()), 0o600)
	_ = os.Rename(tmp, filepath.Join(dir, "addr"))
	select {}
}

func startChild(t *testing.T, dir string, env ...string) (*exec.Cmd, string) {
	t.Helper()
	os.Remove(filepath.Join(dir, "addr"))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), childEnv+"="+dir), env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(filepath.Join(dir, "addr"))
		if err == nil {
			natsURL, _, _ := strings.Cut(string(b), "\n")
			return cmd, natsURL
		}
		if time.Now().After(deadline) {
			t.Fatal("child ledgerd did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCrashMidIngest kills ledgerd with SIGKILL while it is appending, then
// restarts it: nothing is lost, nothing is doubled, the chain verifies.
func TestCrashMidIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	lines, load := sampleLines(t), loadLines(t, 30)
	cmd, url := startChild(t, dir)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	publishRaw(t, nc, append(append([][]byte(nil), lines...), load...))
	// Kill as soon as the child has committed part of the load. Its outcome
	// messages tell us; the kill lands between two commits or inside one.
	sub, err := nc.SubscribeSync(ingest.OutcomeSubject(loadLedger))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sub.NextMsg(30 * time.Second); err != nil {
		t.Fatalf("no outcome from the child: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	nc.Close()

	// Restart in this process on the same data and let it finish the inbox.
	s := startService(t, dir)
	defer s.Close()
	n, _ := s.Log().Len(loadLedger)
	t.Logf("killed with %d of %d load events committed", n, len(load))
	waitLen(t, s.Log(), "qingpu-zwb", uint64(len(lines)))
	waitLen(t, s.Log(), loadLedger, uint64(len(load)))
	checkExactlyOnce(t, s.Log(), "qingpu-zwb", lines)
	checkExactlyOnce(t, s.Log(), loadLedger, load)
	checkT1(t, s)
	rs, err := s.Log().Rejections("qingpu-zwb", 0, 0)
	if err != nil && !isNotFound(err) {
		t.Fatal(err)
	}
	if len(rs) != 0 {
		t.Errorf("crash produced rejections: %+v", rs)
	}
}

func isNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), ledger.ErrNotFound.Error())
}
