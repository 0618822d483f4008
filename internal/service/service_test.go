package service_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/golden"
	"github.com/budgetledger/budgetledger/internal/ingest"
	"github.com/budgetledger/budgetledger/internal/publish"
	"github.com/budgetledger/budgetledger/internal/report"
	"github.com/budgetledger/budgetledger/internal/service"
	"github.com/budgetledger/budgetledger/internal/wire"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

// startService runs the whole ledgerd (embedded NATS with JetStream, bbolt
// file, ingest, HTTP) on loopback with ephemeral ports.
func startService(t *testing.T, dir string) *service.Service {
	t.Helper()
	s, err := service.Start(context.Background(), service.Config{
		DataDir: dir, HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", InboxAckWait: testAckWait, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func connect(t *testing.T, s *service.Service) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func sampleBytes() []byte { return budgetledger.SampleLedger }

func sampleLines(t *testing.T) [][]byte {
	t.Helper()
	var lines [][]byte
	sc := bufio.NewScanner(bytes.NewReader(budgetledger.SampleLedger))
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if len(lines) < 600 {
		t.Fatalf("sample ledger has %d lines", len(lines))
	}
	return lines
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, b)
		}
	}
	return resp.StatusCode
}

// checkT1 fetches the 收入支出决算总表 over HTTP and compares every row with
// the published reference, typed in testdata/golden.
func checkT1(t *testing.T, s *service.Service) {
	t.Helper()
	want, err := golden.Load("income-expenditure-2020")
	if err != nil {
		t.Fatal(err)
	}
	var doc report.Document
	url := "http://" + s.HTTPAddr() + "/v1/ledgers/qingpu-zwb/statements/income-expenditure?year=2020"
	if code := getJSON(t, url, &doc); code != 200 {
		t.Fatalf("GET statement: %d", code)
	}
	if doc.Title != "收入支出决算总表" || doc.AmountUnit != "万元" || doc.AsOf != "2020-12-31" || doc.FiscalYear != 2020 {
		t.Errorf("statement header: %+v", doc)
	}
	if len(doc.Rows) != len(want) {
		t.Fatalf("%d rows, published table has %d", len(doc.Rows), len(want))
	}
	for i, w := range want {
		r := doc.Rows[i]
		if r.Side != w.Side || r.Name != w.Name || projections.GroupThousands(r.Value) != w.Value {
			t.Errorf("row %d: got %s %s %s, published %s %s %s", i+1, r.Side, r.Name, r.Value, w.Side, w.Name, w.Value)
		}
	}
}

// TestEndToEndSample publishes the sample ledger through the JetStream inbox
// in shuffled order with duplicates mixed in, and reads the published
// 收入支出决算总表 back over HTTP.
func TestEndToEndSample(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	s := startService(t, t.TempDir())
	defer s.Close()
	nc := connect(t, s)

	lines := sampleLines(t)
	file := append([][]byte(nil), lines...)
	for range len(lines) / 10 { // 10% duplicates
		file = append(file, lines[rng.IntN(len(lines))])
	}
	rng.Shuffle(len(file), func(i, j int) { file[i], file[j] = file[j], file[i] })

	sum, err := publish.File(context.Background(), nc, bytes.NewReader(bytes.Join(file, []byte("\n"))), publish.Options{Wait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != len(lines) || sum.Duplicates != len(file)-len(lines) || sum.Rejected != 0 || sum.Unresolved != 0 {
		t.Fatalf("outcomes: accepted %d duplicates %d rejected %d unresolved %d; want %d, %d, 0, 0",
			sum.Accepted, sum.Duplicates, sum.Rejected, sum.Unresolved, len(lines), len(file)-len(lines))
	}
	checkT1(t, s)

	// CSV for spreadsheets: BOM, header, and the same figures.
	resp, err := http.Get("http://" + s.HTTPAddr() + "/v1/ledgers/qingpu-zwb/statements/income-expenditure?year=2020&format=csv")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.HasPrefix(body, []byte("\uFEFF")) || !strings.Contains(string(body), "一、一般公共预算财政拨款收入,4096.66,40966598.00") ||
		!strings.Contains(string(body), "本年支出合计,4638.73,46387324.00") {
		t.Errorf("CSV:\n%s", body)
	}

	// As of mid-year, fewer events count.
	var half report.Document
	getJSON(t, "http://"+s.HTTPAddr()+"/v1/ledgers/qingpu-zwb/statements/income-expenditure?year=2020&as_of=2020-06-30", &half)
	if half.AsOf != "2020-06-30" || half.Rows[0].Value == "4096.66" || half.Rows[0].Value == "0.00" {
		t.Errorf("as of 2020-06-30: %+v", half.Rows[0])
	}
	var v struct {
		Events   uint64 `json:"events"`
		Verified bool   `json:"verified"`
	}
	getJSON(t, "http://"+s.HTTPAddr()+"/v1/ledgers/qingpu-zwb/verify", &v)
	if !v.Verified || v.Events != uint64(len(lines)) {
		t.Errorf("verify: %+v", v)
	}
}

// TestBadInputRejectedAndKept sends each kind of bad input through the
// inbox beside the sample ledger: every one is rejected with its code, kept
// in the rejection list, and the statement is unchanged.
func TestBadInputRejectedAndKept(t *testing.T) {
	s := startService(t, t.TempDir())
	defer s.Close()
	nc := connect(t, s)
	good := `{"id":"%s","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-05-06","source":"s","voucher":"v1",` +
		`"expenditure":{"functional":"%s","economic":"%s","kind":"basic","fund":"general_budget","amount":"%s"}}`
	bad := []struct {
		line string
		code events.Code
	}{
		{`{not json`, events.CodeMalformedJSON},
		{`{"id":"b-body","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-05-06","source":"s","voucher":"v","asset_acquired":{"amount":"1.00"}}`, events.CodeUnknownBody},
		{`{"ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-05-06","source":"s","voucher":"v","surplus_distribution":{"amount":"1.00"}}`, events.CodeMissingField},
		{fmt.Sprintf(good, "b-prec", "2019999", "30201", "12.345"), events.CodeAmountPrecision},
		{fmt.Sprintf(good, "b-zero", "2019999", "30201", "0"), events.CodeAmountNotPositive},
		{fmt.Sprintf(good, "b-neg", "2019999", "30201", "-5.00"), events.CodeAmountNotPositive},
		{fmt.Sprintf(good, "b-nan", "2019999", "30201", "abc"), events.CodeInvalidAmount},
		{fmt.Sprintf(good, "b-huge", "2019999", "30201", "99999999999999999.00"), events.CodeAmountTooLarge},
		{fmt.Sprintf(good, "b-fcode", "2019998", "30201", "1.00"), events.CodeUnknownCode},
		{fmt.Sprintf(good, "b-fshape", "20199", "30201", "1.00"), events.CodeMalformedCode},
		{fmt.Sprintf(good, "b-ecode", "2019999", "30298", "1.00"), events.CodeUnknownCode},
		{strings.Replace(fmt.Sprintf(good, "b-date", "2019999", "30201", "1.00"), "2020-05-06", "2021-01-04", 1), events.CodeDateOutsideYear},
		{strings.Replace(fmt.Sprintf(good, "qp2020-000010", "2019999", "30201", "1.00"), "2020-05-06", "2020-05-07", 1), events.CodeIDConflict},
	}
	lines := sampleLines(t)
	var file [][]byte
	file = append(file, lines...)
	for _, b := range bad {
		file = append(file, []byte(b.line))
	}
	sum, err := publish.File(context.Background(), nc, bytes.NewReader(bytes.Join(file, []byte("\n"))), publish.Options{Ledger: "qingpu-zwb", Wait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != len(lines) || sum.Rejected != len(bad) {
		t.Fatalf("accepted %d rejected %d, want %d and %d", sum.Accepted, sum.Rejected, len(lines), len(bad))
	}
	for i, b := range bad {
		o := sum.Lines[len(lines)+i].Outcome
		if o.Status != ledger.Rejected || o.Code != b.code || o.Reason == "" {
			t.Errorf("bad input %d (%.60s): %+v, want rejected %s", i, b.line, o, b.code)
		}
		// The publisher can always learn the outcome again, by id.
		var got map[string]any
		getJSON(t, "http://"+s.HTTPAddr()+"/v1/ledgers/qingpu-zwb/events/"+sum.Lines[len(lines)+i].ID, &got)
		if b.code != events.CodeIDConflict && (got["status"] != "rejected" || got["code"] != string(b.code)) {
			t.Errorf("outcome of %s: %v", sum.Lines[len(lines)+i].ID, got)
		}
	}
	var rj struct{ Rejections []ledger.Rejection }
	getJSON(t, "http://"+s.HTTPAddr()+"/v1/ledgers/qingpu-zwb/rejections?limit=1000", &rj)
	if len(rj.Rejections) != len(bad) {
		t.Errorf("rejection list has %d entries, want %d", len(rj.Rejections), len(bad))
	}
	for _, r := range rj.Rejections {
		if r.Code == "" || r.Reason == "" || len(r.Raw) == 0 || r.Via == "" {
			t.Errorf("rejection kept without its evidence: %+v", r)
		}
	}
	checkT1(t, s)
}

// TestRequestReply appends through the request subject, in JSON and in
// protobuf, and asks the status subject.
func TestRequestReply(t *testing.T) {
	s := startService(t, t.TempDir())
	defer s.Close()
	nc := connect(t, s)
	line := sampleLines(t)[0]
	ask := func(data []byte, protobuf bool) ledger.Outcome {
		t.Helper()
		m := nats.NewMsg(ingest.AppendSubject("qingpu-zwb"))
		m.Data = data
		if protobuf {
			m.Header.Set("Content-Type", "application/protobuf")
		}
		reply, err := nc.RequestMsg(m, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if protobuf {
			o, err := wire.DecodeOutcome(reply.Data)
			if err != nil {
				t.Fatal(err)
			}
			return o
		}
		var o ledger.Outcome
		if err := json.Unmarshal(reply.Data, &o); err != nil {
			t.Fatalf("%v: %s", err, reply.Data)
		}
		return o
	}
	if o := ask(line, false); o.Status != ledger.Accepted || o.Seq != 1 || o.RecordedAt.IsZero() {
		t.Errorf("first append: %+v", o)
	}
	if o := ask(line, false); o.Status != ledger.Duplicate || o.Seq != 1 {
		t.Errorf("second append: %+v", o)
	}
	e, err := events.DecodeJSON(sampleLines(t)[1])
	if err != nil {
		t.Fatal(err)
	}
	pb, err := wire.EncodeEvent(e)
	if err != nil {
		t.Fatal(err)
	}
	if o := ask(pb, true); o.Status != ledger.Accepted || o.Seq != 2 || o.ID != e.ID {
		t.Errorf("protobuf append: %+v", o)
	}
	if o := ask([]byte{0xff, 0x01}, true); o.Status != ledger.Rejected || o.Code != events.CodeMalformedProtobuf {
		t.Errorf("malformed protobuf: %+v", o)
	}
	reply, err := nc.Request(ingest.StatusSubject("qingpu-zwb"), []byte(e.ID), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var st ledger.Outcome
	if err := json.Unmarshal(reply.Data, &st); err != nil || st.Status != ledger.Accepted || st.Seq != 2 {
		t.Errorf("status: %s", reply.Data)
	}
	reply, err = nc.Request(ingest.StatusSubject("qingpu-zwb"), []byte("never-sent"), 10*time.Second)
	if err != nil || !strings.Contains(string(reply.Data), `"unknown"`) {
		t.Errorf("status of unknown id: %s %v", reply.Data, err)
	}
	m := nats.NewMsg(ingest.StatusSubject("qingpu-zwb"))
	m.Header.Set("Content-Type", "application/protobuf")
	m.Data = []byte("never-sent")
	if reply, err = nc.RequestMsg(m, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if o, err := wire.DecodeOutcome(reply.Data); err != nil || o.Status != ledger.Unknown {
		t.Errorf("protobuf status of unknown id: %+v %v (%s)", o, err, reply.Header)
	}
}

// waitLen polls until the ledger holds n events.
func waitLen(t *testing.T, l *ledger.Log, name string, n uint64) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		got, _ := l.Len(name)
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger holds %d events, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// publishRaw sends lines to the inbox and waits only for JetStream's
// publish acks, like a publisher that does not wait for the ledger.
func publishRaw(t *testing.T, nc *nats.Conn, lines [][]byte) {
	t.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		e, err := events.DecodeJSON(l)
		if err != nil {
			t.Fatal(err)
		}
		jsPublish(t, js, &nats.Msg{Subject: ingest.InboxSubject(e.Ledger), Data: l, Header: nats.Header{jetstream.MsgIDHeader: []string{e.ID}}})
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(time.Minute):
		t.Fatal("publish acks did not arrive")
	}
}

// jsPublish publishes asynchronously, waiting for outstanding acks when
// JetStream's async window is full.
func jsPublish(tb testing.TB, js jetstream.JetStream, m *nats.Msg) {
	tb.Helper()
	for {
		_, err := js.PublishMsgAsync(m)
		if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			<-js.PublishAsyncComplete()
			continue
		}
		if err != nil {
			tb.Fatal(err)
		}
		return
	}
}

// checkExactlyOnce scans the log: every sample event exactly once, the hash
// chain intact.
func checkExactlyOnce(t *testing.T, l *ledger.Log, name string, lines [][]byte) {
	t.Helper()
	seen := map[string]int{}
	err := l.Scan(context.Background(), name, 0, func(r ledger.Record) error {
		seen[r.Event.ID]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(lines) {
		t.Errorf("%d distinct events in the log, want %d", len(seen), len(lines))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s appears %d times", id, n)
		}
	}
	v, err := l.Verify(context.Background(), name)
	if err != nil || v.Events != uint64(len(lines)) {
		t.Errorf("verify: %+v %v", v, err)
	}
}

// loadLines makes copies of the sample ledger in a second ledger, so that
// ingest takes long enough to be interrupted in the middle.
func loadLines(t *testing.T, copies int) [][]byte {
	t.Helper()
	var out [][]byte
	for c := range copies {
		for _, l := range sampleLines(t) {
			l = bytes.Replace(l, []byte(`"ledger":"qingpu-zwb"`), []byte(`"ledger":"`+loadLedger+`"`), 1)
			l = bytes.Replace(l, []byte(`"id":"`), []byte(fmt.Sprintf(`"id":"c%d-`, c)), 1)
			out = append(out, l)
		}
	}
	return out
}

const loadLedger = "load-test"

// quiet keeps ledgerd's operational log out of test and benchmark output.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testAckWait makes redelivery after an interrupted batch quick.
const testAckWait = time.Second

// TestRestartMidIngest stops ledgerd while the inbox still holds events and
// starts it again on the same data: every event ends up in the log exactly
// once, and the statement is the published one.
func TestRestartMidIngest(t *testing.T) {
	dir := t.TempDir()
	lines, load := sampleLines(t), loadLines(t, 20)
	s := startService(t, dir)
	nc := connect(t, s)
	publishRaw(t, nc, append(append([][]byte(nil), lines...), load...))
	// Stop as soon as the ledger has started taking the load.
	for n, _ := s.Log().Len(loadLedger); n == 0; n, _ = s.Log().Len(loadLedger) {
		time.Sleep(time.Millisecond)
	}
	nc.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = startService(t, dir)
	defer s.Close()
	if n, _ := s.Log().Len(loadLedger); n == uint64(len(load)) {
		t.Logf("the whole inbox was taken before the stop; restart saw no work")
	}
	// Publish part of the file again, as a publisher retrying would.
	publishRaw(t, connect(t, s), lines[:100])
	waitLen(t, s.Log(), "qingpu-zwb", uint64(len(lines)))
	waitLen(t, s.Log(), loadLedger, uint64(len(load)))
	checkExactlyOnce(t, s.Log(), "qingpu-zwb", lines)
	checkExactlyOnce(t, s.Log(), loadLedger, load)
	checkT1(t, s)
}

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		runChild()
		return
	}
	os.Exit(m.Run())
}

// TestDemo: ledgerd -demo publishes the sample ledger through NATS at start,
// so the published statement is there at once.
func TestDemo(t *testing.T) {
	s, err := service.Start(context.Background(), service.Config{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", Demo: true, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, _ := s.Log().Len(budgetledger.SampleLedgerName); n != uint64(len(sampleLines(t))) {
		t.Fatalf("demo loaded %d events", n)
	}
	checkT1(t, s)
}

// TestMsgIDMustBeEventID: Nats-Msg-Id is the idempotency key JetStream
// dedups on; a message whose header names another id is rejected, not
// appended under a key JetStream and the ledger disagree about.
func TestMsgIDMustBeEventID(t *testing.T) {
	s := startService(t, t.TempDir())
	defer s.Close()
	nc := connect(t, s)
	m := nats.NewMsg(ingest.AppendSubject("qingpu-zwb"))
	m.Header.Set(jetstream.MsgIDHeader, "some-other-id")
	m.Data = sampleLines(t)[0]
	reply, err := nc.RequestMsg(m, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var o ledger.Outcome
	if err := json.Unmarshal(reply.Data, &o); err != nil || o.Status != ledger.Rejected || o.Code != events.CodeInvalidID || o.ID != "some-other-id" {
		t.Errorf("outcome %+v (%v)", o, err)
	}
	if n, _ := s.Log().Len("qingpu-zwb"); n != 0 {
		t.Errorf("%d events appended", n)
	}
}
