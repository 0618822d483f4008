package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// process is a child ledgerd (or the ceiling server), measured from the
// outside as an operator sees it: its own address space, so that its peak
// RSS is its own and not the publishers'.
type process struct {
	cmd     *exec.Cmd
	HTTP    string // http://host:port, if it serves HTTP
	NATS    string // nats://host:port
	started time.Time
	Ready   time.Duration // from exec to the first answered request
	exited  chan error
	// peakAnon is the most anonymous memory (heap, stacks: what the
	// process itself holds, not the file pages of its bbolt mmap) seen by
	// sampling.
	peakAnon atomic.Int64
}

// sample records the process's anonymous memory every 20 ms until it
// exits: the kernel keeps a high-water mark of the whole RSS (VmHWM) only,
// and that counts every page of the bbolt file a scan touched, which the
// kernel can drop at will.
func (p *process) sample() {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-p.exited:
			p.exited <- err
			return
		case <-tick.C:
			if v, err := procStatus(p.cmd.Process.Pid, "RssAnon:"); err == nil && v > p.peakAnon.Load() {
				p.peakAnon.Store(v)
			}
		}
	}
}

// PeakAnon is the most anonymous memory the process was seen to hold.
func (p *process) PeakAnon() int64 { return p.peakAnon.Load() }

// BuildLedgerd compiles cmd/ledgerd into dir, so that the figures are of
// the real binary. It must run inside the module.
func BuildLedgerd(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "ledgerd")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/budgetledger/budgetledger/cmd/ledgerd")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build ledgerd: %w: %s", err, out)
	}
	return bin, nil
}

// freePort asks the kernel for a port no one listens on.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Ledgerd is how to start ledgerd: its binary and the flags added to the
// benchmark's own (-debug-addr, say, to profile it during a run).
type Ledgerd struct {
	Bin   string
	Flags []string
}

// startLedgerd starts ld on dataDir and waits until it answers HTTP, which
// it does only once every checkpoint is loaded (or rebuilt from the log).
func startLedgerd(ctx context.Context, ld Ledgerd, dataDir string) (*process, error) {
	httpAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	natsAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"-data", dataDir, "-http", httpAddr, "-nats-listen", natsAddr}, ld.Flags...)
	p, err := startProcess(ctx, ld.Bin, filepath.Join(filepath.Dir(dataDir), filepath.Base(dataDir)+".log"), args...)
	if err != nil {
		return nil, err
	}
	p.HTTP, p.NATS = "http://"+httpAddr, "nats://"+natsAddr
	if err := p.waitHTTP(ctx, 30*time.Minute); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

func startProcess(ctx context.Context, bin, logPath string, args ...string) (*process, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o750); err != nil {
		return nil, err
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	p := &process{cmd: cmd, started: time.Now(), exited: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { p.exited <- cmd.Wait(); logf.Close() }()
	go p.sample()
	return p, nil
}

func (p *process) waitHTTP(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("ledgerd exited before serving: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		resp, err := client.Get(p.HTTP + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Ready = time.Since(p.started)
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("ledgerd not serving after %s", limit)
}

// waitReady waits until /readyz answers 200: after a start, ledgerd has
// verified its log and takes events. It returns the time since exec.
func (p *process) waitReady(ctx context.Context, limit time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		resp, err := client.Get(p.HTTP + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(p.started), nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, fmt.Errorf("ledgerd not ready after %s", limit)
}

// PeakRSS is the most resident memory the process has had (VmHWM), in
// bytes.
func (p *process) PeakRSS() (int64, error) {
	return procStatus(p.cmd.Process.Pid, "VmHWM:")
}

// procStatus reads one of the memory lines of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// Stop asks the process to shut down cleanly (ledgerd stores its
// checkpoints then) and waits for it.
func (p *process) Stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		return err
	case <-time.After(5 * time.Minute):
		p.Kill()
		return errors.New("did not stop within 5 minutes; killed")
	}
}

// Kill ends the process at once.
func (p *process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// dirSize is the bytes the files under dir take on disk.
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				if st, ok := fi.Sys().(*syscall.Stat_t); ok {
					n += st.Blocks * 512
				} else {
					n += fi.Size()
				}
			}
		}
		return nil
	})
	return n
}
