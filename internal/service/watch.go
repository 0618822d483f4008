package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// watchEvery is how often the watchdog looks at the parts.
const watchEvery = time.Second

// watch is the service's watchdog, on its own goroutine until ctx ends.
//
// It keeps the readiness reason up to date, and it brings the embedded
// JetStream back after its disk filled up. nats-server answers a store
// write that fails for want of space by marking the stream (or all of
// JetStream) unable to write until it is restarted, while publishers to
// the stream wait for an answer that never comes. So the watchdog, once
// the server reports such a failure, shuts JetStream down at once (a
// publish then fails with "no responders", which a publisher sees and
// retries), waits until the store's disk has room again, starts JetStream
// anew from its files (nothing in the stream is lost) and has the
// ingester consume from the inbox's first message again.
func (s *Service) watch(ctx context.Context) {
	t := time.NewTicker(watchEvery)
	defer t.Stop()
	for {
		s.check()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check looks at the embedded JetStream, which takes acting on (see
// watch); Ready looks at the rest itself.
func (s *Service) check() {
	var err error
	if s.ns != nil {
		err = s.jetStreamHealth()
	}
	s.jsHealth.Store(&readiness{err: err})
}

type readiness struct{ err error }

// Ready tells why the service cannot take events now, or nil: the log
// cannot commit (a full disk) or stopped, NATS is unreachable, JetStream
// cannot store, or the inbox is not being consumed.
func (s *Service) Ready() error {
	var reasons []string
	if err := s.log.Health(); err != nil {
		reasons = append(reasons, "log: "+err.Error())
	}
	if !s.nc.IsConnected() {
		reasons = append(reasons, "nats: not connected ("+s.nc.Status().String()+")")
	}
	if r := s.jsHealth.Load(); r != nil && r.err != nil {
		reasons = append(reasons, "jetstream: "+r.err.Error())
	}
	if err := s.in.Health(); err != nil {
		reasons = append(reasons, "ingest: "+err.Error())
	}
	if len(reasons) > 0 {
		return errors.New(strings.Join(reasons, "; "))
	}
	return nil
}

// jetStreamHealth checks the embedded JetStream and, after a failure to
// store, takes it down and brings it back once there is room (see watch).
func (s *Service) jetStreamHealth() error {
	h := s.ns.Healthz(nil)
	if h.Status == "ok" {
		return nil
	}
	problem := h.Error
	if problem == "" {
		problem = h.Status
	}
	if s.ns.JetStreamEnabled() {
		// Enabled but unable to write (the stream's write error):
		// publishers would get no answer at all.
		s.logger.Error("JetStream cannot store; taking it down until its disk has room, so that publishers get an error", "err", problem)
		if err := s.ns.ShutdownJetStream(); err != nil {
			s.logger.Warn("shut JetStream down", "err", err)
		}
		return fmt.Errorf("%s: taken down until its disk has room", problem)
	}
	store := filepath.Join(s.cfg.DataDir, "nats")
	free, err := freeBytes(store)
	if err != nil {
		return fmt.Errorf("%s; %v", problem, err)
	}
	if free < s.reserve {
		return fmt.Errorf("%s; waiting for room on the disk of %s (%d MiB free, %d MiB needed)", problem, store, free>>20, s.reserve>>20)
	}
	if err := s.ns.EnableJetStream(s.jsConfig()); err != nil {
		return fmt.Errorf("%s; starting it again: %v", problem, err)
	}
	s.logger.Info("JetStream started again: its disk has room", "free_mib", free>>20)
	s.in.Restart("JetStream started again")
	return errors.New("JetStream starting again")
}

// freeBytes is the space left to an unprivileged writer on the file
// system holding path.
func freeBytes(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", path, err)
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

// sizeBytes is the size of the file system holding path.
func sizeBytes(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("size of %s: %w", path, err)
	}
	return int64(st.Blocks) * int64(st.Bsize), nil
}

// jsConfig is the embedded JetStream's configuration, the same at start
// and at every start again.
func (s *Service) jsConfig() *server.JetStreamConfig {
	return &server.JetStreamConfig{StoreDir: filepath.Join(s.cfg.DataDir, "nats"), MaxStore: s.jsMaxStore}
}
