// Package service assembles ledgerd: the embedded (or an external) NATS
// server with JetStream, the bbolt log, the NATS ingest and the HTTP API,
// started and stopped as one. Tests start the whole service through Start
// on 127.0.0.1:0, exactly as the ledgerd command does.
package service

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/checkpoint"
	"github.com/budgetledger/budgetledger/internal/httpapi"
	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/internal/publish"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

// Config is everything ledgerd is told on its command line.
type Config struct {
	DataDir    string // holds ledger.db and nats/ (the embedded JetStream store)
	HTTPAddr   string // e.g. 127.0.0.1:8080
	NATSListen string // embedded server's client address, e.g. 127.0.0.1:4222
	NATSURL    string // when set, use this NATS instead of the embedded one
	// CatalogFile adds a deployment's classification codes (TSV).
	CatalogFile string
	// DepartmentsFile defines departments as sets of ledgers (TSV with the
	// columns department and ledger, one ledger per line).
	DepartmentsFile string
	// Demo publishes the sample ledger through NATS once started.
	Demo   bool
	Logger *slog.Logger
	// InboxReplicas is the inbox stream's replica count on a NATS cluster.
	InboxReplicas int
	// InboxAckWait is how long JetStream waits before redelivering an inbox
	// message ledgerd fetched but did not ack (default 10s).
	InboxAckWait time.Duration
	// NoSync disables fsync of the log; for benchmarks only.
	NoSync bool
	// DebugAddr, when set, serves Go's profiler (/debug/pprof/) there: on
	// its own listener, so that it is never exposed with the API.
	DebugAddr string
	// AcceptLog starts on DataDir/ledger.db as it is (a new, empty log
	// when it is missing) although the data directory shows it held
	// another or a later one: the operator's way out of a loss with no
	// backup to restore (ledgerd -accept-log).
	AcceptLog bool
	// InboxMaxBytes limits the inbox stream (see ingest.StreamConfig). 0:
	// with the embedded NATS, half of what its disk has free at start
	// beyond a reserve, at most 1 GiB; with another NATS, 1 GiB.
	InboxMaxBytes int64
	// NoVerify skips the log's verification before its first commit
	// (ledger.Options.NoVerify); for benchmarks of the start itself.
	NoVerify bool
}

// Service is a running ledgerd.
type Service struct {
	cfg    Config
	debug  *http.Server
	ns     *server.Server
	nc     *nats.Conn
	log    *ledger.Log
	cp     *checkpoint.Store
	in     *ingest.Ingester
	http   *http.Server
	ln     net.Listener
	logger *slog.Logger
	done   chan error

	// The watchdog (watch.go) and what it keeps.
	stopWatch  context.CancelFunc
	watching   sync.WaitGroup
	jsHealth   atomic.Pointer[readiness] // the embedded JetStream's, as the watchdog last saw it
	reserve    int64                     // the room JetStream's disk needs before it is started again
	jsMaxStore int64                     // the embedded JetStream's store limit
}

// Names in the data directory.
const (
	logFile  = "ledger.db"
	markFile = "ledger.mark"
)

// Start starts every part and returns once all of them serve.
func Start(ctx context.Context, cfg Config) (s *Service, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	cat := events.DefaultCatalog()
	if cfg.CatalogFile != "" {
		if err := cat.LoadFile(cfg.CatalogFile); err != nil {
			return nil, err
		}
		if err := projections.CheckCatalog(cat); err != nil {
			return nil, fmt.Errorf("%s: %w", cfg.CatalogFile, err)
		}
	}
	s = &Service{cfg: cfg, logger: cfg.Logger, done: make(chan error, 1)}
	defer func() {
		if err != nil {
			s.Close()
			s = nil
		}
	}()

	// The profiler comes first, so that a slow start (a checkpoint
	// rebuilt from a long log) can be profiled too.
	if cfg.DebugAddr != "" {
		dln, err := net.Listen("tcp", cfg.DebugAddr)
		if err != nil {
			return s, fmt.Errorf("listen debug %s: %w", cfg.DebugAddr, err)
		}
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
		s.debug = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = s.debug.Serve(dln) }()
		cfg.Logger.Info("profiler serving", "addr", "http://"+dln.Addr().String()+"/debug/pprof/")
	}
	if err := checkDataDir(cfg); err != nil {
		return s, err
	}
	url := cfg.NATSURL
	maxBytes := cfg.InboxMaxBytes
	connOpts := []nats.Option{nats.Name("ledgerd"), nats.MaxReconnects(-1)}
	if url == "" {
		if err := s.sizeInbox(&maxBytes); err != nil {
			return s, err
		}
		var self *server.User
		if s.ns, self, err = startEmbedded(cfg.DataDir, cfg.NATSListen, s.jsMaxStore); err != nil {
			return s, err
		}
		url = s.ns.ClientURL()
		connOpts = append(connOpts, nats.UserInfo(self.Username, self.Password))
	}
	s.nc, err = nats.Connect(url, connOpts...)
	if err != nil {
		return s, fmt.Errorf("connect nats %s: %w", redact(url), err)
	}
	// The log verifies itself before its first commit, once the
	// checkpoints are folded (the fold has the cores first).
	folded := make(chan struct{})
	defer func() {
		select {
		case <-folded:
		default:
			close(folded)
		}
	}()
	s.log, err = ledger.Open(filepath.Join(cfg.DataDir, logFile), ledger.Options{Logger: cfg.Logger, NoSync: cfg.NoSync,
		CarryForward: projections.CarryForward, Mark: filepath.Join(cfg.DataDir, markFile), AcceptFile: cfg.AcceptLog,
		NoVerify: cfg.NoVerify, VerifyAfter: folded})
	if errors.Is(err, ledger.ErrNotTheLog) {
		return s, fmt.Errorf("%w\n\nledgerd will not start on a log it cannot trust. Restore the log from a backup:\n"+
			"    ledgerctl restore -data %s BACKUP-FILE\n"+
			"or, to go on with %s as it is (a new, empty log if it is missing; events acknowledged before may be lost):\n"+
			"    ledgerd -data %s -accept-log", err, cfg.DataDir, filepath.Join(cfg.DataDir, logFile), cfg.DataDir)
	}
	if err != nil {
		return s, err
	}
	// Load each ledger's checkpoint and fold only what came after it, so
	// the first statement after a restart does not read the whole log.
	s.cp = checkpoint.New(s.log, checkpoint.Options{Logger: cfg.Logger})
	if err := s.cp.Open(ctx); err != nil {
		return s, err
	}
	close(folded)
	host, _ := os.Hostname()
	s.in, err = ingest.Start(ctx, ingest.Config{Conn: s.nc, Log: s.log, Catalog: cat, Logger: cfg.Logger, AckWait: cfg.InboxAckWait,
		Replicas: cfg.InboxReplicas, MaxBytes: maxBytes,
		Instance: fmt.Sprintf("log %s in %s on %s, pid %d", s.log.ID(), cfg.DataDir, host, os.Getpid())})
	if err != nil {
		return s, err
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	s.stopWatch = stopWatch
	s.check()
	s.watching.Go(func() { s.watch(watchCtx) })
	s.ln, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return s, fmt.Errorf("listen http %s: %w", cfg.HTTPAddr, err)
	}
	departments, err := loadDepartments(cfg.DepartmentsFile)
	if err != nil {
		return s, err
	}
	s.http = &http.Server{Handler: httpapi.New(s.log, cat, httpapi.Options{Logger: cfg.Logger, Departments: departments, Events: s.cp.EventsAsOf,
		Ready: s.Ready, Refold: s.refold}),
		ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.done <- fmt.Errorf("http: %w", err)
		}
	}()
	cfg.Logger.Info("ledgerd serving", "http", "http://"+s.HTTPAddr(), "nats", redact(url), "data", cfg.DataDir)
	if cfg.Demo {
		if err := s.publishDemo(ctx); err != nil {
			return s, err
		}
	}
	return s, nil
}

// EmbeddedNATS starts the NATS server with JetStream that ledgerd embeds,
// keeping its store under dataDir/nats and serving clients on listen.
// ledgerbench's ceiling runs the same server, so that the two compare.
func EmbeddedNATS(dataDir, listen string) (*server.Server, error) {
	return startNATS(dataDir, listen, 0, nil)
}

// The users of the embedded server. ledgerd's own connection signs in as
// ledgerd with a password made at each start and known to nobody else; any
// other client is the anonymous user, who may publish events, ask for
// outcomes and read them and the inbox's state, but neither administer
// the inbox stream and its consumer nor publish outcomes: without a policy
// of who may write, a client on the same machine can still send events,
// but can no longer delete the inbox or forge a receipt.
const (
	selfUser      = "ledgerd"
	anonymousUser = "anonymous"
)

// anonymousPermissions are the anonymous user's (see selfUser).
func anonymousPermissions() *server.Permissions {
	return &server.Permissions{
		Publish: &server.SubjectPermission{Allow: []string{
			ingest.InboxPrefix + ">", ingest.AppendPrefix + ">", ingest.StatusPrefix + ">",
			// Reading the inbox's state, for a publisher or an operator.
			"$JS.API.INFO", "$JS.API.STREAM.INFO." + ingest.StreamName, "$JS.API.STREAM.MSG.GET." + ingest.StreamName,
			"$JS.API.CONSUMER.INFO." + ingest.StreamName + ".>",
		}},
		Subscribe: &server.SubjectPermission{Allow: []string{"_INBOX.>", ingest.OutcomePrefix + ">"}},
	}
}

// startEmbedded starts ledgerd's embedded server (startNATS) with its two
// users, and returns ledgerd's own.
func startEmbedded(dataDir, listen string, maxStore int64) (*server.Server, *server.User, error) {
	var pw [24]byte
	if _, err := rand.Read(pw[:]); err != nil {
		return nil, nil, fmt.Errorf("embedded nats: %w", err)
	}
	self := &server.User{Username: selfUser, Password: hex.EncodeToString(pw[:])}
	ns, err := startNATS(dataDir, listen, maxStore, func(o *server.Options) {
		o.Users = []*server.User{self, {Username: anonymousUser, Permissions: anonymousPermissions()}}
		o.NoAuthUser = anonymousUser
	})
	return ns, self, err
}

// startNATS is EmbeddedNATS with JetStream's store limited to maxStore
// bytes (0: the server's default, the disk's free space) and, when given,
// configure's changes to the server's options.
func startNATS(dataDir, listen string, maxStore int64, configure func(*server.Options)) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("nats listen %q: port: %w", listen, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "ledgerd-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(dataDir, "nats"),
		// The limit the watchdog starts JetStream again with too
		// (jsConfig).
		JetStreamMaxStore: maxStore,
		// What waits to be stored, of every publisher together: past it
		// a publish is refused (429 Too Many Requests) instead of held in
		// ledgerd's memory. 32 MiB is some 50,000 usual events, far more
		// than the store falls behind by at full speed.
		StreamMaxBufferedSize: 32 << 20,
		NoSigs:                true,
		NoLog:                 true,
	}
	if configure != nil {
		configure(opts)
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded nats on %s: not ready after 10s", listen)
	}
	return ns, nil
}

func (s *Service) publishDemo(ctx context.Context) error {
	sum, err := publish.File(ctx, s.nc, bytes.NewReader(budgetledger.SampleLedger), publish.Options{Wait: time.Minute})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	s.logger.Info("demo ledger published", "ledger", budgetledger.SampleLedgerName,
		"accepted", sum.Accepted, "duplicates", sum.Duplicates, "rejected", sum.Rejected, "unresolved", sum.Unresolved,
		"try", "http://"+s.HTTPAddr()+"/v1/ledgers/"+budgetledger.SampleLedgerName+"/statements/income-expenditure?year=2020")
	return nil
}

// HTTPAddr is the address the API listens on.
func (s *Service) HTTPAddr() string { return s.ln.Addr().String() }

// NATSURL is the client URL of the NATS server in use.
func (s *Service) NATSURL() string { return s.nc.ConnectedUrl() }

// Conn is ledgerd's own NATS connection (for tests and tools in this
// process that act as ledgerd, an operator's change of the stream, say).
func (s *Service) Conn() *nats.Conn { return s.nc }

// Log is the service's ledger log.
func (s *Service) Log() *ledger.Log { return s.log }

// Done reports a part that failed while serving.
func (s *Service) Done() <-chan error { return s.done }

// Close stops every part in reverse order of start: no new input first,
// then the writer, then the servers.
func (s *Service) Close() error {
	var errs []error
	if s.stopWatch != nil {
		s.stopWatch()
		s.watching.Wait()
	}
	if s.debug != nil {
		errs = append(errs, s.debug.Close())
	}
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, s.http.Shutdown(ctx))
		cancel()
	}
	if s.in != nil {
		errs = append(errs, s.in.Close())
	}
	if s.cp != nil {
		errs = append(errs, s.cp.Close())
	}
	if s.log != nil {
		errs = append(errs, s.log.Close())
	}
	if s.nc != nil {
		s.nc.Close()
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
	return errors.Join(errs...)
}

// Run starts the service and serves until ctx ends or a part fails.
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err = <-s.done:
	}
	return errors.Join(err, s.Close())
}

// loadDepartments reads the departments file: a header line naming the
// columns department and ledger, then one ledger of a department per line.
func loadDepartments(path string) (map[string][]string, error) {
	out := map[string][]string{}
	if path == "" {
		return out, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("departments: %w", err)
	}
	dcol, lcol := -1, -1
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		c := strings.Split(line, "\t")
		if dcol < 0 {
			for i, h := range c {
				switch strings.TrimSpace(h) {
				case "department":
					dcol = i
				case "ledger":
					lcol = i
				}
			}
			if dcol < 0 || lcol < 0 {
				return nil, fmt.Errorf("departments %s: the header must name the columns department and ledger", path)
			}
			continue
		}
		if len(c) <= max(dcol, lcol) {
			return nil, fmt.Errorf("departments %s line %d: want a department and a ledger", path, n+1)
		}
		d, l := strings.TrimSpace(c[dcol]), strings.TrimSpace(c[lcol])
		if err := events.ValidateLedger(l); err != nil {
			return nil, fmt.Errorf("departments %s line %d: %w", path, n+1, err)
		}
		if d == "" || strings.ContainsAny(d, "/?#") {
			return nil, fmt.Errorf("departments %s line %d: department %q: want a name usable in a URL", path, n+1, d)
		}
		out[d] = append(out[d], l)
	}
	return out, nil
}

// checkDataDir refuses a data directory whose embedded JetStream store
// shows it held a ledger when neither its log nor its mark is there: the
// state of a directory that ran before marks were kept, whose ledger.db is
// gone. (With a mark, ledger.Open refuses it.)
func checkDataDir(cfg Config) error {
	if cfg.AcceptLog || cfg.NATSURL != "" {
		return nil
	}
	for _, name := range []string{logFile, markFile} {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, name)); !errors.Is(err, os.ErrNotExist) {
			return nil
		}
	}
	streams := filepath.Join(cfg.DataDir, "nats", "jetstream", server.DEFAULT_GLOBAL_ACCOUNT, "streams", ingest.StreamName)
	if _, err := os.Stat(streams); err != nil {
		return nil
	}
	return fmt.Errorf("%s holds the inbox of a ledger (%s) but no %s: ledgerd will not start a new, empty log in its place.\n"+
		"Restore the log from a backup:\n    ledgerctl restore -data %s BACKUP-FILE\n"+
		"or, to start a new, empty log here anyway (events acknowledged before are lost):\n    ledgerd -data %s -accept-log",
		cfg.DataDir, streams, logFile, cfg.DataDir, cfg.DataDir)
}

// sizeInbox chooses the embedded inbox's byte limit and JetStream's store
// limit from the free space of the data directory's disk, leaving a
// reserve: the disk the log grows on too, on the default layout, so that
// JetStream meets its own limit (a publish refused with an error) well
// before the disk's end (a store that cannot write).
func (s *Service) sizeInbox(maxBytes *int64) error {
	free, err := freeBytes(s.cfg.DataDir)
	if err != nil {
		return err
	}
	size, err := sizeBytes(s.cfg.DataDir)
	if err != nil {
		return err
	}
	s.reserve = min(64<<20, max(size/10, 1<<20))
	if *maxBytes <= 0 {
		*maxBytes = min(ingest.DefaultMaxBytes, max((free-s.reserve)/2, 1<<20))
	}
	s.jsMaxStore = *maxBytes + max(*maxBytes/4, 16<<20)
	s.logger.Info("inbox limits", "inbox_max_mib", *maxBytes>>20, "jetstream_max_store_mib", s.jsMaxStore>>20,
		"disk_free_mib", free>>20, "reserve_mib", s.reserve>>20)
	return nil
}

// refold rebuilds a ledger's checkpoint from the log, for a deep
// verification.
func (s *Service) refold(ctx context.Context, ledgerName string, seq uint64) ([]events.Event, error) {
	return checkpoint.Refold(ctx, s.log, ledgerName, seq)
}

// redact hides the passwords and tokens of NATS URLs (a comma-separated
// list of them), which must never reach a log.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := neturl.Parse(strings.TrimSpace(p))
		if err != nil || u.User == nil {
			continue
		}
		if _, ok := u.User.Password(); ok {
			u.User = neturl.UserPassword(u.User.Username(), "REDACTED")
		} else {
			u.User = neturl.User("REDACTED") // a token
		}
		parts[i] = u.String()
	}
	return strings.Join(parts, ",")
}
