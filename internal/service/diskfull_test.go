package service_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/internal/service"
)

// tmpfs mounts a tmpfs of size at a new directory, unmounted when the test
// ends. It needs root (CI runs as root); elsewhere the test is skipped and
// says so.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: the disk-full test mounts a small tmpfs, which needs root")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: cannot mount a tmpfs here (%v: %s)", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file into dir until its disk is full, then gives back
// leave bytes of it.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	var n int64
	for {
		k, err := f.Write(buf)
		n += int64(k)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	if err := f.Truncate(max(0, n-leave)); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDiskFull fills the disk under a running ledgerd while events are
// published, in both layouts: the default, where the JetStream store is
// beside ledger.db, and ledger.db on a disk of its own. Every publish gets
// an answer (an ack or an error, never a hang), /readyz says why ingest
// cannot go on, and once the space is freed ingest resumes by itself:
// every acknowledged event is committed exactly once, the rest go in when
// published again, the inbox drains and /readyz is green again.
func TestDiskFull(t *testing.T) {
	for _, layout := range []string{"default", "log on its own disk"} {
		t.Run(layout, func(t *testing.T) {
			dir := tmpfs(t, "48m")
			full := dir
			if layout != "default" {
				// The JetStream store on another, roomy file system.
				if err := os.MkdirAll(filepath.Join(dir, "nats"), 0o750); err != nil {
					t.Fatal(err)
				}
				if out, err := exec.Command("mount", "--bind", t.TempDir(), filepath.Join(dir, "nats")).CombinedOutput(); err != nil {
					t.Skipf("SKIPPED: cannot bind-mount the JetStream store (%v: %s)", err, out)
				}
				t.Cleanup(func() { _ = exec.Command("umount", filepath.Join(dir, "nats")).Run() })
			}
			s, err := service.Start(context.Background(), service.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0",
				InboxAckWait: testAckWait, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			nc, err := nats.Connect(s.NATSURL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(10*time.Second))
			lines := loadLines(t, 20)
			waitReady(t, s)
			filler := fill(t, full, 256<<10)

			// Publish everything; each publish is answered within its
			// timeout, by an ack or an error.
			acked, refused := publishAll(t, js, lines)
			t.Logf("%s: disk full: %d acknowledged, %d refused with an error", layout, len(acked), len(refused))
			if layout == "default" && len(refused) == 0 {
				// The inbox shares the full disk: it must refuse, not
				// hang. (On a disk of its own it has room to take them.)
				t.Errorf("no publish was refused on a full disk")
			}
			var doc map[string]string
			waitFor(t, func() bool {
				return getJSON(t, "http://"+s.HTTPAddr()+"/readyz", &doc) == http.StatusServiceUnavailable
			})
			t.Logf("%s: /readyz: %s", layout, doc["reason"])
			if code := getJSON(t, "http://"+s.HTTPAddr()+"/healthz", nil); code != 200 {
				t.Errorf("healthz on a full disk: %d", code)
			}

			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			// Everything acknowledged goes in without anyone's help.
			for _, i := range acked {
				id := idOf(lines[i])
				waitFor(t, func() bool { _, err := s.Log().Outcome(loadLedger, id); return err == nil })
			}
			waitReady(t, s)
			// The refused ones go in when published again.
			var again [][]byte
			for _, i := range refused {
				again = append(again, lines[i])
			}
			if a, r := publishAll(t, js, again); len(r) != 0 {
				t.Fatalf("after the space was freed, %d of %d publishes still refused", len(r), len(a)+len(r))
			}
			waitLen(t, s.Log(), loadLedger, uint64(len(lines)))
			checkExactlyOnce(t, s.Log(), loadLedger, lines)
			waitDrained(t, nc)
		})
	}
}

// publishAll publishes lines to the inbox and returns which were
// acknowledged and which refused; it fails the test if any publish is
// left unanswered.
func publishAll(t *testing.T, js jetstream.JetStream, lines [][]byte) (acked, refused []int) {
	t.Helper()
	futures := make([]jetstream.PubAckFuture, len(lines))
	for i, l := range lines {
		e, err := events.DecodeJSON(l)
		if err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg(ingest.InboxSubject(e.Ledger))
		m.Header.Set(jetstream.MsgIDHeader, e.ID)
		m.Data = l
		for {
			futures[i], err = js.PublishMsgAsync(m)
			if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				select {
				case <-js.PublishAsyncComplete():
				case <-time.After(time.Second):
				}
				continue
			}
			break
		}
		if err != nil {
			refused = append(refused, i)
			futures[i] = nil
		}
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
			acked = append(acked, i)
		case <-f.Err():
			refused = append(refused, i)
		case <-time.After(30 * time.Second):
			t.Fatalf("publish %d left without an answer", i)
		}
	}
	return acked, refused
}
