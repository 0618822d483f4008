package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/internal/publish"
	"github.com/budgetledger/budgetledger/internal/service"
	"github.com/budgetledger/budgetledger/ledger"
)

// TestCloseUnderLoad stops ledgerd while 64 requesters are appending: it
// stops cleanly, and every event a requester was told is accepted is in the
// log.
func TestCloseUnderLoad(t *testing.T) {
	dir := t.TempDir()
	s := startService(t, dir)
	nc := connect(t, s)
	lines := loadLines(t, 4)
	var (
		mu       sync.Mutex
		accepted []string
		wg       sync.WaitGroup
	)
	const requesters = 64
	for r := range requesters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := r; i < len(lines); i += requesters {
				reply, err := nc.Request(ingest.AppendSubject(loadLedger), lines[i], 2*time.Second)
				if err != nil {
					return // ledgerd stopped: no answer, the requester would retry
				}
				var o ledger.Outcome
				if json.Unmarshal(reply.Data, &o) == nil && o.Status == ledger.Accepted {
					mu.Lock()
					accepted = append(accepted, o.ID)
					mu.Unlock()
				}
			}
		}()
	}
	for {
		mu.Lock()
		n := len(accepted)
		mu.Unlock()
		if n >= 200 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	l, err := ledger.Open(filepath.Join(dir, "ledger.db"), ledger.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, id := range accepted {
		if o, err := l.Outcome(loadLedger, id); err != nil || o.Status != ledger.Accepted {
			t.Errorf("event %s was answered accepted but the log says %+v %v", id, o, err)
		}
	}
	if _, err := l.Verify(context.Background(), loadLedger); err != nil {
		t.Error(err)
	}
	t.Logf("%d events accepted before the stop", len(accepted))
}

// TestPublisherPermissions runs ledgerd against a NATS server with the
// production permission model (deploy/nats): a department's publisher may
// publish only to its own ledger's subjects and read only its own outcomes,
// and ledgerctl publish still gets every outcome.
func TestPublisherPermissions(t *testing.T) {
	opts := &server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
		Users: []*server.User{
			{Username: "ledgerd", Password: "pw-ledgerd"},
			{Username: "qingpu-zwb", Password: "pw-qp", Permissions: &server.Permissions{
				Publish: &server.SubjectPermission{Allow: []string{
					"budgetledger.inbox.qingpu-zwb", "budgetledger.append.qingpu-zwb", "budgetledger.status.qingpu-zwb"}},
				Subscribe: &server.SubjectPermission{Allow: []string{"budgetledger.outcome.qingpu-zwb", "_INBOX.>"}},
			}},
		},
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	defer ns.Shutdown()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	addr := ns.ClientURL()
	s, err := service.Start(context.Background(), service.Config{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0",
		NATSURL: "nats://ledgerd:pw-ledgerd@" + addr[len("nats://"):], Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nc, err := nats.Connect(addr, nats.UserInfo("qingpu-zwb", "pw-qp"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	sample := sampleLines(t)
	file := append(append([][]byte(nil), sample...), sample[:5]...) // five duplicates
	sum, err := publish.File(context.Background(), nc, io.Reader(bytes.NewReader(bytes.Join(file, []byte("\n")))), publish.Options{Wait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != len(sample) || sum.Duplicates != 5 || sum.Unresolved != 0 {
		t.Errorf("accepted %d duplicates %d rejected %d unresolved %d", sum.Accepted, sum.Duplicates, sum.Rejected, sum.Unresolved)
	}
	checkT1(t, s)
}
