package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/internal/service"
	"github.com/budgetledger/budgetledger/projections"
)

// multiYear builds a two-year ledger from the sample the way books really
// arrive: 2020 shuffled (late and out of date order) with duplicates and
// 红字冲销, closed, then a 2021 made of the sample's flows a year on, again
// shuffled and partly reversed, a 年初调整, and a late 2020 event the closed
// year refuses. It returns the NDJSON batches in publishing order.
func multiYear(t *testing.T, rng *rand.Rand) [][]byte {
	t.Helper()
	var y2020, y2021 []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(budgetledger.SampleLedger))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		y2020 = append(y2020, e)
		if e["fiscal_year"].(float64) != 2020 {
			continue
		}
		kind := ""
		for _, k := range []string{"expenditure", "appropriation", "other_income", "budget"} {
			if _, ok := e[k]; ok {
				kind = k
			}
		}
		if kind == "" {
			continue
		}
		n := map[string]any{}
		for k, v := range e {
			n[k] = v
		}
		n["id"] = "y2021-" + e["id"].(string)
		n["fiscal_year"] = 2021
		d := strings.Replace(e["date"].(string), "2020-", "2021-", 1)
		if d == "2021-02-29" {
			d = "2021-02-28"
		}
		n["date"] = d
		y2021 = append(y2021, n)
	}
	reverse := func(evs []map[string]any, n int) []map[string]any {
		var out []map[string]any
		for _, i := range rng.Perm(len(evs))[:n] {
			e := evs[i]
			if _, ok := e["expenditure"]; !ok {
				continue
			}
			out = append(out, map[string]any{"id": "rv-" + e["id"].(string), "ledger": e["ledger"], "unit": e["unit"], "fiscal_year": e["fiscal_year"],
				"date": e["date"], "source": "财务系统", "voucher": "红字", "reversal": map[string]any{"event_id": e["id"], "reason": "重复记账", "expenditure": e["expenditure"]}})
		}
		return out
	}
	batch := func(evs []map[string]any, dupFrac float64) []byte {
		rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		var b bytes.Buffer
		for _, e := range evs {
			line, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			b.Write(line)
			b.WriteByte('\n')
			if rng.Float64() < dupFrac {
				b.Write(line)
				b.WriteByte('\n')
			}
		}
		return b.Bytes()
	}
	line := func(s string) []byte { return []byte(s + "\n") }
	return [][]byte{
		batch(y2020[:len(y2020)/2], 0.1),
		batch(y2020[len(y2020)/2:], 0.1),
		batch(reverse(y2020, 40), 0),
		line(`{"id":"close-2020","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-31","source":"财务系统","voucher":"结-2020","year_end_closed":{}}`),
		batch(y2021, 0.1),
		batch(reverse(y2021, 40), 0),
		line(`{"id":"late-2020","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-06-30","source":"s","voucher":"v","other_income":{"fund":"other","amount":"1.00"}}`),
		line(`{"id":"adj-1","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2021,"date":"2021-03-10","source":"s","voucher":"v","opening_adjusted":{"fund":"general_budget","change":"decrease","amount":"1000.00","reason":"2020年多计收入"}}`),
	}
}

// TestReplay rebuilds every statement of the sample ledger, and of a
// generated two-year ledger with late, out-of-order, duplicated and reversed
// events, a close and an adjustment, from the log alone; each must equal
// the live statement byte for byte, over the API and from the file. A
// tampered file is refused.
func TestReplay(t *testing.T) {
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	for _, tc := range []struct {
		name    string
		batches [][]byte
		years   int
	}{
		{"sample", [][]byte{budgetledger.SampleLedger}, 2},
		{"two years", multiYear(t, rng), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data := filepath.Join(dir, "data")
			s, err := service.Start(context.Background(), service.Config{DataDir: data, HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0",
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			server := "http://" + s.HTTPAddr()
			for i, b := range tc.batches {
				resp, err := http.Post(server+"/v1/ledgers/qingpu-zwb/events", "application/x-ndjson", bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || strings.Contains(string(body), `"rejected"`) != (tc.name != "sample" && i == 6) {
					t.Fatalf("batch %d: %d %.600s", i, resp.StatusCode, body)
				}
			}
			ctl := func(args ...string) (int, string) {
				t.Helper()
				var out, errOut bytes.Buffer
				code := run(context.Background(), args, &out, &errOut)
				return code, out.String() + errOut.String()
			}
			live := filepath.Join(dir, "live")
			code, out := ctl("replay", "-server", server, "-ledger", "qingpu-zwb", "-out", live)
			if code != 0 || strings.Count(out, " identical") != tc.years*len(projections.Specs) || !strings.Contains(out, "; 0 statements differ") ||
				!strings.Contains(out, "events/s  ETA") {
				t.Fatalf("replay over the API: exit %d\n%s", code, out)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			offline := filepath.Join(dir, "offline")
			code, out = ctl("replay", "-data", data, "-ledger", "qingpu-zwb", "-out", offline, "-quiet")
			if code != 0 || strings.Count(out, " rebuilt") != tc.years*len(projections.Specs) {
				t.Fatalf("replay -data: exit %d\n%s", code, out)
			}
			files, _ := filepath.Glob(filepath.Join(live, "*.csv"))
			if len(files) != tc.years*len(projections.Specs) {
				t.Fatalf("%d statements written, want %d", len(files), tc.years*len(projections.Specs))
			}
			for _, f := range files {
				a, _ := os.ReadFile(f)
				b, err := os.ReadFile(filepath.Join(offline, filepath.Base(f)))
				if err != nil || !bytes.Equal(a, b) {
					t.Errorf("%s: the file replay differs from the API replay (%v)", filepath.Base(f), err)
				}
			}
			if sum, _ := os.ReadFile(filepath.Join(live, "2020-income-expenditure.csv")); !bytes.Contains(sum, []byte("收入,,一、一般公共预算财政拨款收入,")) ||
				(tc.name == "sample" && !bytes.Contains(sum, []byte("146.35"))) {
				t.Errorf("2020 收入支出决算总表 as replayed:\n%s", sum)
			}

			// Alter one stored hash: the replay must refuse the log.
			db, err := bolt.Open(filepath.Join(data, "ledger.db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("ledgers")).Bucket([]byte("qingpu-zwb")).Bucket([]byte("log"))
				k, v := b.Cursor().Last()
				v = bytes.Clone(v)
				v[20] ^= 1
				return b.Put(k, v)
			})
			if err := errors.Join(err, db.Close()); err != nil {
				t.Fatal(err)
			}
			if code, out = ctl("replay", "-data", data, "-ledger", "qingpu-zwb", "-quiet"); code != 1 || !strings.Contains(out, "NOT VERIFIED") {
				t.Errorf("replay of a tampered log: exit %d\n%s", code, out)
			}
		})
	}
}

func TestFirstDifferentLine(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{{"x\ny\n", "x\nz\n", 2}, {"x\n", "x\ny\n", 2}, {"x", "x\ny", 2}, {"a", "b", 1}} {
		if got := firstDifferentLine([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("%q vs %q: line %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
