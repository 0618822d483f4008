package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/internal/service"
	"github.com/budgetledger/budgetledger/ledger"
)

// TestBackupRestore takes a backup while ledgerd serves, loses the log,
// restores the backup and goes on: the restored ledger verifies, keeps
// every id it held, takes the events that waited in the inbox meanwhile,
// and, once the events committed after the backup are published again (as
// their publishers do when they see them unknown), holds every event
// exactly once.
func TestBackupRestore(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	// A NATS of its own, so that the inbox lives on while ledgerd is down.
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: filepath.Join(dir, "nats"), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	defer ns.Shutdown()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := func() *service.Service {
		t.Helper()
		s, err := service.Start(context.Background(), service.Config{DataDir: data, HTTPAddr: "127.0.0.1:0", NATSURL: ns.ClientURL(), Logger: quiet, InboxAckWait: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ctl := func(args ...string) (int, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, &out, &errOut)
		return code, out.String() + errOut.String()
	}
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(budgetledger.SampleLedger))
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	write := func(name string, ls [][]byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, append(bytes.Join(ls, []byte("\n")), '\n'), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b, c := lines[:300], lines[300:600], lines[600:]

	s := start()
	if code, out := ctl("publish", "-nats", ns.ClientURL(), write("a.jsonl", a)); code != 0 {
		t.Fatalf("publish A: %d %s", code, out)
	}
	backup := filepath.Join(dir, "backup.db")
	code, out := ctl("backup", "-server", "http://"+s.HTTPAddr(), "-o", backup)
	if code != 0 || !strings.Contains(out, "verified") || !strings.Contains(out, fmt.Sprintf("qingpu-zwb: %d events", len(a))) {
		t.Fatalf("backup: %d %s", code, out)
	}
	if code, out := ctl("backup", "-data", data, "-o", filepath.Join(dir, "x.db")); code != 2 || !strings.Contains(out, "running") {
		t.Errorf("backup -data of a running ledgerd: %d %s", code, out)
	}
	if code, out := ctl("publish", "-nats", ns.ClientURL(), write("b.jsonl", b)); code != 0 {
		t.Fatalf("publish B: %d %s", code, out)
	}
	if code, out := ctl("restore", "-data", data, backup); code != 2 || !strings.Contains(out, "in use") {
		t.Errorf("restore under a running ledgerd: %d %s", code, out)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// While ledgerd is down, C waits in the inbox.
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	for _, l := range c {
		var head struct{ ID string }
		_ = json.Unmarshal(l, &head)
		m := nats.NewMsg(ingest.InboxSubject("qingpu-zwb"))
		m.Header.Set(jetstream.MsgIDHeader, head.ID)
		m.Data = l
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	// The log is lost: ledgerd refuses to start without it, and says how
	// to restore.
	if err := os.Remove(filepath.Join(data, "ledger.db")); err != nil {
		t.Fatal(err)
	}
	if _, err := service.Start(context.Background(), service.Config{DataDir: data, HTTPAddr: "127.0.0.1:0", NATSURL: ns.ClientURL(), Logger: quiet}); err == nil ||
		!strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "ledgerctl restore") {
		t.Fatalf("start without the log: %v", err)
	}
	// A damaged backup is not restored.
	bad := filepath.Join(dir, "bad.db")
	good, _ := os.ReadFile(backup)
	if err := os.WriteFile(bad, good[:len(good)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := ctl("restore", "-data", data, bad); code != 1 || !strings.Contains(out, "NOT RESTORED") {
		t.Errorf("restore a truncated backup: %d %s", code, out)
	}
	// verify on a truncated file reports it and exits 1, never faults.
	if code, out := ctl("verify", "-file", bad); code != 1 || !strings.Contains(out, "NOT VERIFIED") || !strings.Contains(out, "truncated") {
		t.Errorf("verify a truncated file: %d %s", code, out)
	}
	code, out = ctl("restore", "-data", data, backup)
	if code != 0 || !strings.Contains(out, "restored") || !strings.Contains(out, "not in it") {
		t.Fatalf("restore: %d %s", code, out)
	}

	s = start()
	defer s.Close()
	l := s.Log()
	// A and C; B was committed after the backup.
	waitFor(t, func() bool { n, _ := l.Len("qingpu-zwb"); return n == uint64(len(a)+len(c)) })
	for _, line := range b[:3] {
		var head struct{ ID string }
		_ = json.Unmarshal(line, &head)
		if code, out := ctl("status", "-server", "http://"+s.HTTPAddr(), "-ledger", "qingpu-zwb", head.ID); code != 1 || !strings.Contains(out, "unknown") {
			t.Errorf("status of an event committed after the backup: %d %s", code, out)
		}
	}
	code, out = ctl("publish", "-nats", ns.ClientURL(), write("all.jsonl", lines))
	if code != 0 || !strings.Contains(out, fmt.Sprintf("accepted   %d\n", len(b))) || !strings.Contains(out, fmt.Sprintf("duplicates %d\n", len(a)+len(c))) {
		t.Fatalf("publish everything again: %d %s", code, out)
	}
	if code, out := ctl("verify", "-server", "http://"+s.HTTPAddr()); code != 0 || !strings.Contains(out, fmt.Sprintf("verified %d events", len(lines))) {
		t.Errorf("verify after the restore: %d %s", code, out)
	}
	seen := map[string]int{}
	err = l.Scan(context.Background(), "qingpu-zwb", 0, func(r ledger.Record) error { seen[r.Event.ID]++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range lines {
		var head struct{ ID string }
		_ = json.Unmarshal(line, &head)
		if seen[head.ID] != 1 {
			t.Errorf("event %s is in the log %d times", head.ID, seen[head.ID])
		}
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
