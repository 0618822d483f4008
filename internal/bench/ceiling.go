package bench

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/internal/service"
)

// RunCeilingServer is the JetStream ceiling's server process: the NATS
// server ledgerd embeds, with the same inbox stream and consumer, and a
// consumer that acks every message and does nothing else. What ledgerd
// does on top of this (decode, validate, append, fsync, outcomes) is what
// the ceiling leaves out.
func RunCeilingServer(ctx context.Context, dir, listen string) error {
	ns, err := service.EmbeddedNATS(dir, listen)
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	nc, err := nats.Connect(ns.ClientURL(), nats.Name("ceiling"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	stream, err := js.CreateOrUpdateStream(ctx, ingest.StreamConfig(1, 0))
	if err != nil {
		return fmt.Errorf("ceiling stream: %w", err)
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, ingest.ConsumerConfig(ingest.DefaultBatch, 10*time.Second))
	if err != nil {
		return fmt.Errorf("ceiling consumer: %w", err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { _ = m.Ack() }, ingest.PullOptions(ingest.DefaultBatch)...)
	if err != nil {
		return fmt.Errorf("ceiling consume: %w", err)
	}
	defer cc.Stop()
	<-ctx.Done()
	return nil
}

// startCeiling starts RunCeilingServer in a child process (this program,
// run with -ceiling-server), so that it is measured like ledgerd.
func startCeiling(ctx context.Context, self, dir string) (*process, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	p, err := startProcess(ctx, self, filepath.Join(filepath.Dir(dir), filepath.Base(dir)+".log"), "-ceiling-server", dir, "-ceiling-listen", addr)
	if err != nil {
		return nil, err
	}
	p.NATS = "nats://" + addr
	// Ready once the stream exists: the publishers need it.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if nc, err := nats.Connect(p.NATS); err == nil {
			js, _ := jetstream.New(nc)
			_, err = js.Stream(ctx, ingest.StreamName)
			nc.Close()
			if err == nil {
				p.Ready = time.Since(p.started)
				return p, nil
			}
		}
		if time.Now().After(deadline) {
			p.Kill()
			return nil, fmt.Errorf("ceiling server not ready after 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// CeilingJetStream publishes msgs to the ceiling server as the ingest
// benchmark does to ledgerd, and returns when every message is acked (the
// work queue is empty).
func CeilingJetStream(ctx context.Context, self, dir string, publishers int, msgs []Message) (Result, error) {
	p, err := startCeiling(ctx, self, dir)
	if err != nil {
		return Result{}, err
	}
	defer p.Stop()
	nc, err := nats.Connect(p.NATS)
	if err != nil {
		return Result{}, err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return Result{}, err
	}
	stream, err := js.Stream(ctx, ingest.StreamName)
	if err != nil {
		return Result{}, err
	}
	peakStore := samplePeak(filepath.Join(dir, "nats"))
	defer peakStore()
	start := time.Now()
	dupAcks, err := publishInbox(ctx, p.NATS, publishers, msgs, nil, 0)
	if err != nil {
		return Result{}, err
	}
	for {
		info, err := stream.Info(ctx)
		if err != nil {
			return Result{}, err
		}
		if info.State.Msgs == 0 {
			break
		}
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	rss, _ := p.PeakRSS()
	return Result{
		Elapsed: elapsed, Events: len(msgs), Stored: len(msgs) - dupAcks, PeakRSS: rss, PeakAnon: p.PeakAnon(),
		StoreBytes: peakStore(),
	}, nil
}

// CeilingBolt appends the messages' bytes to a bare bbolt file, 1000 to a
// fsynced transaction, keyed by sequence: the least a durable log must do.
func CeilingBolt(dir string, msgs []Message) (Result, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Result{}, err
	}
	path := filepath.Join(dir, "raw.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	start := time.Now()
	var seq uint64
	for i := 0; i < len(msgs); i += 1000 {
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("events"))
			if err != nil {
				return err
			}
			for _, m := range msgs[i:min(i+1000, len(msgs))] {
				seq++
				var k [8]byte
				binary.BigEndian.PutUint64(k[:], seq)
				if err := b.Put(k[:], m.Data); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return Result{}, fmt.Errorf("raw bbolt: %w", err)
		}
	}
	elapsed := time.Since(start)
	fi, err := os.Stat(path)
	if err != nil {
		return Result{}, err
	}
	return Result{Elapsed: elapsed, Events: len(msgs), Stored: len(msgs), LedgerBytes: fi.Size()}, nil
}
