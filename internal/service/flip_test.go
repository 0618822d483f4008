package service_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/service"
	"github.com/budgetledger/budgetledger/internal/submit"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

// TestFlipSweep flips one byte at a random offset of the pages in use of a
// ledger.db and starts ledgerd on it, for many offsets, on a demo-sized
// log and a larger one: no flip may change a figure served (every
// statement of the year, as JSON), and every flip of a byte the ledger
// reads (anything but a free page or the unused end of a page) must be
// reported by the verification of the file (ledgerctl verify -data). The
// table of where the flips fell and what came of them is logged.
//
// BUDGETLEDGER_FLIPS sets the flips per file (30), BUDGETLEDGER_FLIP_EVENTS
// the larger log's events (20,000).
func TestFlipSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("starts ledgerd for every flip")
	}
	rng := rand.New(rand.NewPCG(seed(t), 13))
	flips := envInt(t, "BUDGETLEDGER_FLIPS", 30)
	large := envInt(t, "BUDGETLEDGER_FLIP_EVENTS", 20_000)
	t.Run("demo", func(t *testing.T) {
		sweep(t, rng, sampleDir(t), []string{"qingpu-zwb"}, flips)
	})
	t.Run(fmt.Sprintf("%d events", large), func(t *testing.T) {
		sweep(t, rng, largeDir(t, large), []string{"qingpu-zwb", loadLedger}, flips)
	})
}

// largeDir is a data directory of the sample and n more events in a second
// ledger, with both checkpoints stored.
func largeDir(t *testing.T, n int) string {
	t.Helper()
	dir := sampleDir(t)
	l, err := ledger.Open(filepath.Join(dir, "ledger.db"), ledger.Options{Mark: filepath.Join(dir, "ledger.mark"),
		CarryForward: projections.CarryForward, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	cat := events.DefaultCatalog()
	lines := loadLines(t, n/len(sampleLines(t))+1)[:n]
	for i := 0; i < len(lines); i += 1000 {
		var subs []ledger.Submission
		for _, line := range lines[i:min(i+1000, len(lines))] {
			subs = append(subs, submit.Decode(submit.Payload{Ledger: loadLedger, Data: line, Via: "test"}, cat))
		}
		if _, err := l.Append(context.Background(), subs...); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	s := startService(t, dir)
	statements(t, s, loadLedger) // the reads make the checkpoint Close stores
	s.Close()
	return dir
}

// statements reads every statement of 2020 of a ledger: the JSON of each,
// or its status when it is not served.
func statements(t *testing.T, s *service.Service, ledgerName string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, spec := range projections.Specs {
		url := fmt.Sprintf("http://%s/v1/ledgers/%s/statements/%s?year=2020", s.HTTPAddr(), ledgerName, spec.Name)
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			out[spec.Name] = fmt.Sprintf("status %d", resp.StatusCode)
			continue
		}
		out[spec.Name] = string(b)
	}
	return out
}

// pageMap tells, for every page of a log file, what it is and how much of
// it is used: read from the file itself, as bbolt lays it out.
type pageMap struct {
	pageSize int
	kind     []string // "meta", "freelist", "branch", "leaf", "free"
	used     []int    // bytes of the page (with its overflow) that are read
	first    []int    // the first page of the run a page belongs to
}

func mapPages(t *testing.T, path string) pageMap {
	t.Helper()
	st, err := ledger.CheckFile(path)
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := pageMap{pageSize: st.PageSize, kind: make([]string, st.Pages), used: make([]int, st.Pages), first: make([]int, st.Pages)}
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	le := binary.LittleEndian
	err = db.View(func(tx *bolt.Tx) error {
		for id := 0; id < int(st.Pages); {
			info, err := tx.Page(id)
			if err != nil || info == nil {
				return fmt.Errorf("page %d: %v", id, err)
			}
			p := file[id*st.PageSize:]
			count := int(le.Uint16(p[10:]))
			used := 16
			switch info.Type {
			case "meta":
				used = 16 + 64
			case "freelist":
				used = 16 + 8*count
				if count == 0xFFFF {
					used = 16 + 8 + 8*int(le.Uint64(p[16:]))
				}
			case "branch", "leaf":
				for i := range count {
					e := 16 + 16*i
					if info.Type == "branch" {
						used = max(used, e+int(le.Uint32(p[e:]))+int(le.Uint32(p[e+4:])))
					} else {
						used = max(used, e+int(le.Uint32(p[e+4:]))+int(le.Uint32(p[e+8:]))+int(le.Uint32(p[e+12:])))
					}
				}
			case "free":
				used, info.OverflowCount = 0, 0
			}
			for k := 0; k <= info.OverflowCount && id+k < int(st.Pages); k++ {
				m.kind[id+k], m.first[id+k] = info.Type, id
			}
			m.used[id] = used
			id += info.OverflowCount + 1
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// matters reports whether the byte at off is one the ledger reads.
func (m pageMap) matters(off int64) bool {
	page := int(off / int64(m.pageSize))
	first := m.first[page]
	return m.kind[page] != "free" && off-int64(first*m.pageSize) < int64(m.used[first])
}

type flipRow struct {
	flips, mattered, reported, refused, stopped, unchanged, notServed, changed int
}

func sweep(t *testing.T, rng *rand.Rand, dir string, ledgers []string, flips int) {
	t.Helper()
	s := startService(t, dir)
	want := map[string]map[string]string{}
	for _, name := range ledgers {
		want[name] = statements(t, s, name)
	}
	s.Close()
	path := filepath.Join(dir, "ledger.db")
	pristine, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	mark, _ := os.ReadFile(filepath.Join(dir, "ledger.mark"))
	pages := mapPages(t, path)
	rows := map[string]*flipRow{}
	// Random offsets, then one in the used part of each meta page and of
	// the freelist, which few random offsets reach.
	offsets := make([]int64, flips)
	for i := range offsets {
		offsets[i] = rng.Int64N(int64(len(pages.kind) * pages.pageSize))
	}
	for id, kind := range pages.kind {
		if (kind == "meta" || kind == "freelist") && pages.first[id] == id {
			offsets = append(offsets, int64(id*pages.pageSize)+rng.Int64N(int64(pages.used[id])))
		}
	}
	for i, off := range offsets {
		kind := pages.kind[off/int64(pages.pageSize)]
		matters := pages.matters(off)
		region := kind
		if !matters && kind != "free" {
			region += " (unused end)"
		}
		row := rows[region]
		if row == nil {
			row = &flipRow{}
			rows[region] = row
		}
		row.flips++
		if matters {
			row.mattered++
		}
		flipped := t.TempDir()
		b := slices.Clone(pristine)
		b[off] ^= byte(1 << rng.IntN(8))
		if err := os.WriteFile(filepath.Join(flipped, "ledger.db"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(flipped, "ledger.mark"), mark, 0o600); err != nil {
			t.Fatal(err)
		}
		// Verify first, as ledgerctl verify -data would on the file as the
		// flip left it: a ledgerd started on it rebuilds and stores a
		// damaged checkpoint again.
		_, _, verr := ledger.VerifyFile(context.Background(), filepath.Join(flipped, "ledger.db"))
		if verr != nil {
			row.reported++
		} else if matters {
			t.Errorf("flip %d of byte %d (a %s page, used) not reported by verify", i, off, kind)
		}
		s, err := service.Start(context.Background(), service.Config{DataDir: flipped, HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", Logger: quiet})
		if err != nil {
			row.refused++
		} else {
			<-s.Log().Verified()
			if errors.Is(s.Log().Health(), ledger.ErrStopped) {
				row.stopped++
			}
			for _, name := range ledgers {
				for st, got := range statements(t, s, name) {
					switch {
					case got == want[name][st]:
						row.unchanged++
					case strings.HasPrefix(got, "status "):
						row.notServed++
					default:
						row.changed++
						t.Errorf("flip %d (%s page, byte %d): %s %s served other figures", i, kind, off, name, st)
					}
				}
			}
			s.Close()
		}
	}
	var lines []string
	for region, r := range rows {
		lines = append(lines, fmt.Sprintf("| %-22s | %5d | %8d | %8d | %7d | %7d | %9d | %10d | %7d |",
			region, r.flips, r.mattered, r.reported, r.refused, r.stopped, r.unchanged, r.notServed, r.changed))
	}
	sort.Strings(lines)
	t.Logf("%d flips (%d at random offsets) in %d pages of %d bytes; reported: by verify of the flipped file; refused: ledgerd would not start; "+
		"stopped: it started and stopped taking events; then each statement of each ledger, served unchanged, not served, or changed:\n"+
		"| where                  | flips | mattered | reported | refused | stopped | unchanged | not served | changed |\n%s",
		len(offsets), flips, len(pages.kind), pages.pageSize, strings.Join(lines, "\n"))
}
