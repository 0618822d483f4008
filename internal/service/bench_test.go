package service_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/internal/service"
)

// benchEvents returns n distinct events of the sample's mix, ids prefixed.
func benchEvents(b *testing.B, prefix string, n int) [][]byte {
	b.Helper()
	sample := bytes.Split(bytes.TrimSpace(sampleBytes()), []byte("\n"))
	out := make([][]byte, 0, n)
	for c := 0; len(out) < n; c++ {
		for _, l := range sample {
			if len(out) == n {
				break
			}
			out = append(out, bytes.Replace(l, []byte(`"id":"`), []byte(fmt.Sprintf(`"id":"%s%d-`, prefix, c)), 1))
		}
	}
	return out
}

func startBench(b *testing.B) (*service.Service, *nats.Conn) {
	b.Helper()
	s, err := service.Start(context.Background(), service.Config{DataDir: b.TempDir(), HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	nc, err := nats.Connect(s.NATSURL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return s, nc
}

// BenchmarkInboxIngest measures the whole inbox path: async JetStream
// publish, pull fetch, validation, one durable (fsynced) bbolt commit per
// batch, ack. One op is 10,000 events published and committed.
func BenchmarkInboxIngest(b *testing.B) {
	const perOp = 10_000
	s, nc := startBench(b)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	var total uint64
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		evs := benchEvents(b, fmt.Sprintf("in%d-", i), perOp)
		b.StartTimer()
		for _, e := range evs {
			id := e[len(`{"id":"`) : bytes.IndexByte(e[len(`{"id":"`):], '"')+len(`{"id":"`)]
			jsPublish(b, js, &nats.Msg{Subject: ingest.InboxSubject("qingpu-zwb"), Data: e,
				Header: nats.Header{jetstream.MsgIDHeader: []string{string(id)}}})
		}
		total += perOp
		for n, _ := s.Log().Len("qingpu-zwb"); n < total; n, _ = s.Log().Len("qingpu-zwb") {
			time.Sleep(200 * time.Microsecond)
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRequestReply64 measures 64 concurrent requesters, each waiting
// for its outcome (after the durable commit) before sending the next: the
// writer's group commit is what makes this scale.
func BenchmarkRequestReply64(b *testing.B) {
	const requesters, perRequester = 64, 100
	_, nc := startBench(b)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		evs := benchEvents(b, fmt.Sprintf("rr%d-", i), requesters*perRequester)
		b.StartTimer()
		var wg sync.WaitGroup
		for r := range requesters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, e := range evs[r*perRequester : (r+1)*perRequester] {
					reply, err := nc.Request(ingest.AppendSubject("qingpu-zwb"), e, 30*time.Second)
					if err != nil || !bytes.Contains(reply.Data, []byte(`"accepted"`)) {
						b.Errorf("request: %v %s", err, reply.Data)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.N*requesters*perRequester)/b.Elapsed().Seconds(), "events/s")
}
