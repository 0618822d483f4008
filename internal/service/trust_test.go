package service_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/internal/publish"
	"github.com/budgetledger/budgetledger/internal/service"
)

// sampleDir is a data directory whose ledgerd took the sample ledger and
// stopped (so its checkpoint is stored).
func sampleDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s := startService(t, dir)
	sum, err := publish.File(context.Background(), connect(t, s), bytes.NewReader(sampleBytes()), publish.Options{Wait: time.Minute})
	if err != nil || sum.Accepted != len(sampleLines(t)) {
		t.Fatalf("publish the sample: %+v, %v", sum, err)
	}
	checkT1(t, s) // the statement read makes the checkpoint Close stores
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func startErr(dir string, accept bool) error {
	s, err := service.Start(context.Background(), service.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0",
		Logger: quiet, AcceptLog: accept})
	if err == nil {
		s.Close()
	}
	return err
}

// TestStartRefusesUntrustedLog: a data directory that held a ledger but
// whose ledger.db is missing, empty, an older copy or another ledger's
// makes ledgerd refuse to start, saying what is wrong and the two ways out;
// -accept-log takes the file as it is.
func TestStartRefusesUntrustedLog(t *testing.T) {
	dir := sampleDir(t)
	path := filepath.Join(dir, "ledger.db")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mark, _ := os.ReadFile(filepath.Join(dir, "ledger.mark"))
	// An older copy: the same log before its last commits.
	older := t.TempDir()
	s := startService(t, older)
	lines := sampleLines(t)
	publishRaw(t, connect(t, s), lines[:10])
	waitLen(t, s.Log(), "qingpu-zwb", 10)
	s.Close()
	other, _ := os.ReadFile(filepath.Join(older, "ledger.db"))

	for _, tc := range []struct {
		name  string
		file  []byte
		words string
	}{
		{"missing", nil, "missing"},
		{"empty", []byte{}, "empty"},
		{"another ledger's", other, "another ledger"},
		{"truncated", good[:16<<10], "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(path)
			if tc.file != nil {
				if err := os.WriteFile(path, tc.file, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			err := startErr(dir, false)
			if err == nil || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("start: %v; want a refusal saying %q", err, tc.words)
			}
			if tc.name != "truncated" && (!strings.Contains(err.Error(), "ledgerctl restore -data "+dir) || !strings.Contains(err.Error(), "-accept-log")) {
				t.Errorf("the refusal does not give both ways out: %v", err)
			}
			if err := os.WriteFile(path, good, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "ledger.mark"), mark, 0o600); err != nil {
				t.Fatal(err)
			}
		})
	}
	// The log and its mark both gone: the JetStream store still shows a
	// ledger lived here.
	os.Remove(path)
	os.Remove(filepath.Join(dir, "ledger.mark"))
	if err := startErr(dir, false); err == nil || !strings.Contains(err.Error(), "holds the inbox of a ledger") {
		t.Errorf("start without log and mark: %v", err)
	}
	if err := startErr(dir, true); err != nil {
		t.Errorf("start with -accept-log: %v", err)
	}
	if err := startErr(dir, false); err != nil {
		t.Errorf("start again once accepted: %v", err)
	}
}

// waitReady waits until /readyz answers 200.
func waitReady(t *testing.T, s *service.Service) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var doc map[string]string
		if getJSON(t, "http://"+s.HTTPAddr()+"/readyz", &doc) == 200 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %v", doc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLogRemovedWhileRunning: once ledger.db is removed under a running
// ledgerd, nothing more is acknowledged (a request is answered with an
// error, an inbox message stays in the inbox) and /readyz says why, while
// /healthz, the liveness check, stays up.
func TestLogRemovedWhileRunning(t *testing.T) {
	dir := t.TempDir()
	s := startService(t, dir)
	defer s.Close()
	nc := connect(t, s)
	lines := sampleLines(t)
	publishRaw(t, nc, lines[:100])
	waitLen(t, s.Log(), "qingpu-zwb", 100)
	waitReady(t, s)
	if err := os.Remove(filepath.Join(dir, "ledger.db")); err != nil {
		t.Fatal(err)
	}
	reply, err := nc.Request(ingest.AppendSubject("qingpu-zwb"), lines[100], 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if reply.Header.Get("Status-Error") == "" || !strings.Contains(string(reply.Data), "gone") {
		t.Errorf("append after the log was removed: %s %s", reply.Header, reply.Data)
	}
	publishRaw(t, nc, lines[101:102])
	var doc map[string]string
	deadline := time.Now().Add(10 * time.Second)
	for getJSON(t, "http://"+s.HTTPAddr()+"/readyz", &doc) != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatalf("readyz still %v", doc)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(doc["reason"], "gone") {
		t.Errorf("readyz reason %q", doc["reason"])
	}
	if code := getJSON(t, "http://"+s.HTTPAddr()+"/healthz", nil); code != 200 {
		t.Errorf("healthz %d", code)
	}
	time.Sleep(2 * testAckWait)
	js, _ := jetstream.New(nc)
	stream, err := js.Stream(context.Background(), ingest.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	// The message published after the removal was not acknowledged: it
	// is still in the inbox (with, it may be, messages redelivered since,
	// which are not acknowledged either).
	info, _ := stream.Info(context.Background())
	last, err := stream.GetMsg(context.Background(), info.State.LastSeq)
	if err != nil || last.Header.Get(jetstream.MsgIDHeader) != idOf(lines[101]) {
		t.Errorf("the inbox's last message: %v %v; want the one published after the log was removed, still there", last, err)
	}
}

// TestDamagedFileWhileRunning: a ledger.db truncated under a running
// ledgerd: verify over HTTP answers an error naming the damage, statements
// are never served from it, and the service stays up.
func TestDamagedFileWhileRunning(t *testing.T) {
	dir := t.TempDir()
	s := startService(t, dir)
	defer s.Close()
	load := loadLines(t, 8)
	publishRaw(t, connect(t, s), load)
	waitLen(t, s.Log(), loadLedger, uint64(len(load)))
	waitReady(t, s)
	if err := os.Truncate(filepath.Join(dir, "ledger.db"), 16<<10); err != nil {
		t.Fatal(err)
	}
	base := "http://" + s.HTTPAddr()
	var doc map[string]any
	if code := getJSON(t, base+"/v1/ledgers/"+loadLedger+"/verify", &doc); code != http.StatusConflict || doc["code"] != "damaged" {
		t.Errorf("verify a truncated file: %d %v", code, doc)
	}
	if code := getJSON(t, base+"/v1/ledgers/"+loadLedger+"/events?limit=10000", &doc); code == 200 {
		t.Errorf("events served from a truncated file")
	}
	if code := getJSON(t, base+"/healthz", nil); code != 200 {
		t.Errorf("healthz after the damage: %d", code)
	}
	if code := getJSON(t, base+"/readyz", &doc); code != http.StatusServiceUnavailable {
		t.Errorf("readyz after the damage: %d %v", code, doc)
	}
}

// TestCheckpointFlipNotServed: a flipped byte in the stored checkpoint
// (the measurement in the issue changed 一般公共预算财政拨款收入 by 6,143.52 元)
// is found at start, logged as an error naming the ledger, the checkpoint
// is rebuilt from the log and stored again, and the statement served is the
// published one.
func TestCheckpointFlipNotServed(t *testing.T) {
	dir := sampleDir(t)
	path := filepath.Join(dir, "ledger.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("checkpoints"))
		v := bytes.Clone(b.Get([]byte("qingpu-zwb")))
		v[len(v)/2] ^= 0x01
		return b.Put([]byte("qingpu-zwb"), v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logged}, nil))
	s, err := service.Start(context.Background(), service.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	checkT1(t, s)
	mu.Lock()
	msg := logged.String()
	mu.Unlock()
	if !strings.Contains(msg, "level=ERROR") || !strings.Contains(msg, "checkpoint damaged") || !strings.Contains(msg, "ledger=qingpu-zwb") {
		t.Errorf("no error naming the ledger and the damage in the log:\n%s", msg)
	}
	waitFor(t, func() bool {
		cp, err := s.Log().LoadCheckpoint("qingpu-zwb")
		return err == nil && cp.Seq == uint64(len(sampleLines(t)))
	})
	var doc map[string]any
	if code := getJSON(t, "http://"+s.HTTPAddr()+"/v1/ledgers/qingpu-zwb/verify?deep=true", &doc); code != 200 {
		t.Errorf("verify after the rebuild: %d %v", code, doc)
	}
	s.Close()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(b)
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

// TestStartOnBrokenCheckpointRecord: when the record a stored checkpoint
// was taken at no longer checks against the chain, ledgerd refuses to
// start with the reason, and stopping what it had started does not fail
// (it once did, on the checkpoint it had not loaded).
func TestStartOnBrokenCheckpointRecord(t *testing.T) {
	dir := sampleDir(t)
	db, err := bolt.Open(filepath.Join(dir, "ledger.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	n := uint64(len(sampleLines(t)))
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("ledgers")).Bucket([]byte("qingpu-zwb")).Bucket([]byte("log"))
		k := binary.BigEndian.AppendUint64(nil, n)
		v := bytes.Clone(b.Get(k))
		v[len(v)-1] ^= 0x01 // the last record's event: its hash no longer matches
		return b.Put(k, v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	err = startErr(dir, false)
	if err == nil || !strings.Contains(err.Error(), "hash chain broken") || !strings.Contains(err.Error(), fmt.Sprintf("seq %d", n)) {
		t.Errorf("start: %v; want a refusal naming the broken record", err)
	}
}

// TestAnonymousCannotAdminister: on the embedded server a client without
// credentials may publish events and read outcomes and the inbox's state,
// but may not delete or change the inbox stream or its consumer, nor
// publish an outcome (a forged receipt) that a publisher would read.
func TestAnonymousCannotAdminister(t *testing.T) {
	s := startService(t, t.TempDir())
	defer s.Close()
	nc := connect(t, s) // no credentials
	lines := sampleLines(t)
	publishRaw(t, nc, lines[:5])
	waitLen(t, s.Log(), "qingpu-zwb", 5)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	stream, err := js.Stream(ctx, ingest.StreamName)
	if err != nil {
		t.Fatalf("stream info: %v", err)
	}
	if _, err := stream.Info(ctx); err != nil {
		t.Errorf("stream info: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := js.DeleteStream(short, ingest.StreamName); err == nil {
		t.Error("an anonymous client deleted the inbox stream")
	}
	if err := stream.DeleteConsumer(short, ingest.ConsumerName); err == nil {
		t.Error("an anonymous client deleted ledgerd's consumer")
	}
	if _, err := stream.CreateOrUpdateConsumer(short, jetstream.ConsumerConfig{Durable: "thief", AckPolicy: jetstream.AckExplicitPolicy}); err == nil {
		t.Error("an anonymous client made a consumer of the inbox")
	}
	// A forged outcome never reaches a publisher listening for them.
	listener := connect(t, s)
	sub, err := listener.SubscribeSync(ingest.OutcomeSubject("qingpu-zwb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := listener.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = nc.Publish(ingest.OutcomeSubject("qingpu-zwb"), []byte(`{"ledger":"qingpu-zwb","id":"x","status":"accepted","seq":1}`))
	_ = nc.Flush()
	if m, err := sub.NextMsg(500 * time.Millisecond); err == nil {
		t.Errorf("a forged outcome reached a publisher: %s", m.Data)
	}
	// The inbox still works.
	publishRaw(t, nc, lines[5:10])
	waitLen(t, s.Log(), "qingpu-zwb", 10)
}

// TestStreamCheckedNotRewritten: ledgerd leaves an operator's limits on
// the inbox stream as they are across restarts, and refuses a stream that
// would not keep the inbox's promises (here one that keeps messages after
// they are acknowledged) with what to change.
func TestStreamCheckedNotRewritten(t *testing.T) {
	dir := t.TempDir()

	s := startService(t, dir)
	// The operator's change, made as ledgerd's own connection would be
	// allowed to (the anonymous user may not).
	js, err := jetstream.New(s.Conn())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stream, err := js.Stream(ctx, ingest.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	cfg := stream.CachedInfo().Config
	cfg.MaxBytes, cfg.MaxAge = 7<<20, 72*time.Hour
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = startService(t, dir)
	js, _ = jetstream.New(s.Conn())
	stream, err = js.Stream(ctx, ingest.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if got := stream.CachedInfo().Config; got.MaxBytes != 7<<20 || got.MaxAge != 72*time.Hour {
		t.Errorf("after a restart the stream has max bytes %d and max age %s; the operator set %d and %s", got.MaxBytes, got.MaxAge, 7<<20, 72*time.Hour)
	}
	s.Close()
	// A stream of another retention, made before ledgerd first started:
	// refused, saying what is wrong.
	dir2 := t.TempDir()
	ns := natsServer(t, filepath.Join(dir2, "nats"))
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	js, _ = jetstream.New(nc)
	bad := ingest.StreamConfig(1, 1<<20)
	bad.Retention = jetstream.LimitsPolicy
	if _, err := js.CreateStream(ctx, bad); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	ns.Shutdown()
	ns.WaitForShutdown()
	err = startErr(dir2, true) // no log yet: accepted as new, the stream checked

	if !errors.Is(err, ingest.ErrStreamMismatch) || !strings.Contains(err.Error(), "retention") {
		t.Errorf("start on a limits stream: %v; want ErrStreamMismatch naming the retention", err)
	}
}

// TestOneLedgerdAnInbox: a second ledgerd on the NATS of a running one
// refuses to start, naming the first, instead of taking its inbox over;
// once the first is gone, it starts.
func TestOneLedgerdAnInbox(t *testing.T) {
	ns := natsServer(t, filepath.Join(t.TempDir(), "nats"))
	start := func(dir string) (*service.Service, error) {
		return service.Start(context.Background(), service.Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", NATSURL: ns.ClientURL(), Logger: quiet})
	}
	first, err := start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	second, err := start(t.TempDir())
	if err == nil {
		second.Close()
	}
	if !errors.Is(err, ingest.ErrAnotherLedgerd) || !strings.Contains(err.Error(), first.Log().ID()) {
		t.Errorf("a second ledgerd on the same NATS: %v; want ErrAnotherLedgerd naming the first's log", err)
	}
	first.Close()
	second, err = start(t.TempDir())
	if err != nil {
		t.Fatalf("once the first stopped: %v", err)
	}
	second.Close()
}

// natsServer is a NATS server of its own with JetStream, stopped when the
// test ends (or before, by the test).
func natsServer(t *testing.T, storeDir string) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: storeDir, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}
