package httpapi_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/httpapi"
	"github.com/budgetledger/budgetledger/internal/submit"
	"github.com/budgetledger/budgetledger/ledger"
)

func sampleLines(t *testing.T, n int) [][]byte {
	t.Helper()
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(budgetledger.SampleLedger))
	for sc.Scan() && len(out) < n {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	return out
}

type appendAnswer struct {
	Outcomes []ledger.Outcome `json:"outcomes"`
	Error    string           `json:"error"`
	Code     string           `json:"code"`
}

func post(t *testing.T, url string, body io.Reader, length int64) (int, appendAnswer) {
	t.Helper()
	req, err := http.NewRequest("POST", url, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a appendAnswer
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer %d is not JSON: %.300s", resp.StatusCode, b)
	}
	return resp.StatusCode, a
}

// TestAppendLimits: a line over submit.MaxEvent is refused on its own,
// kept as its start with its length and SHA-256, while the lines around it
// are appended; invalid UTF-8 has its own code; a body announced over the
// request limit is refused before it is read; a body that turns out too
// long, or with too many events, is refused with the outcomes of what was
// appended before.
func TestAppendLimits(t *testing.T) {
	srv := newServer(t)
	url := srv.URL + "/v1/ledgers/qingpu-zwb/events"
	lines := sampleLines(t, 3)
	long := append([]byte(`{"id":"too-long-1","memo":"`), bytes.Repeat([]byte("长"), 40000)...)
	long = append(long, `"}`...)
	badUTF8 := bytes.Replace(lines[2], []byte(`"source":"`), []byte("\"source\":\"\xff"), 1)
	body := bytes.Join([][]byte{lines[0], long, lines[1], badUTF8}, []byte("\n"))
	code, a := post(t, url, bytes.NewReader(body), int64(len(body)))
	if code != 200 || len(a.Outcomes) != 4 {
		t.Fatalf("POST: %d %+v", code, a)
	}
	if a.Outcomes[0].Status != ledger.Accepted || a.Outcomes[2].Status != ledger.Accepted {
		t.Errorf("the lines around the long one: %+v, %+v", a.Outcomes[0], a.Outcomes[2])
	}
	if o := a.Outcomes[1]; o.Status != ledger.Rejected || o.Code != events.CodeEventTooLarge || o.ID != "too-long-1" {
		t.Errorf("the long line: %+v", o)
	}
	if o := a.Outcomes[3]; o.Status != ledger.Rejected || o.Code != events.CodeInvalidUTF8 || !strings.Contains(o.Reason, "source") {
		t.Errorf("the line with invalid UTF-8: %+v", o)
	}
	var rj struct {
		Rejections []ledger.Rejection `json:"rejections"`
	}
	getJSON(t, srv.URL+"/v1/ledgers/qingpu-zwb/rejections", &rj)
	sum := sha256.Sum256(long)
	if len(rj.Rejections) != 2 {
		t.Fatalf("rejections %+v", rj.Rejections)
	}
	if r := rj.Rejections[0]; len(r.Raw) != ledger.MaxRawKept || r.RawLen != len(long) || r.RawSHA256 != fmt.Sprintf("%x", sum) {
		t.Errorf("the long line kept %d bytes, length %d (want %d), sha %s", len(r.Raw), r.RawLen, len(long), r.RawSHA256)
	}

	// Announced too large: refused before a byte is read.
	code, a = post(t, url, io.LimitReader(endless{}, httpapi.MaxRequestBytes+1), httpapi.MaxRequestBytes+1)
	if code != http.StatusRequestEntityTooLarge || a.Code != "too_large" || len(a.Outcomes) != 0 {
		t.Errorf("a body announced too large: %d %+v", code, a)
	}
	// Too long without a length (chunked): refused where it passes the
	// limit, with what came before appended.
	var chunked bytes.Buffer
	for i := 0; chunked.Len() <= httpapi.MaxRequestBytes; i++ {
		fmt.Fprintf(&chunked, `{"id":"junk-%d","junk":"%s"}`+"\n", i, strings.Repeat("x", 60000))
	}
	code, a = post(t, url, io.MultiReader(&chunked), -1)
	if code != http.StatusRequestEntityTooLarge || len(a.Outcomes) == 0 || a.Outcomes[0].Code != events.CodeUnknownField {
		t.Errorf("a chunked body too long: %d, %d outcomes, %.200s", code, len(a.Outcomes), a.Error)
	}
	// Too many events.
	var many bytes.Buffer
	for i := range httpapi.MaxRequestEvents + 1 {
		fmt.Fprintf(&many, "{\"id\":\"many-%d\"}\n", i)
	}
	code, a = post(t, url, bytes.NewReader(many.Bytes()), int64(many.Len()))
	if code != http.StatusRequestEntityTooLarge || len(a.Outcomes) != httpapi.MaxRequestEvents {
		t.Errorf("%d events: %d with %d outcomes (%s)", httpapi.MaxRequestEvents+1, code, len(a.Outcomes), a.Error)
	}
	// A single event too large, as protobuf.
	req, _ := http.NewRequest("POST", url, bytes.NewReader(make([]byte, submit.MaxEvent+10)))
	req.Header.Set("Content-Type", submit.ContentTypeProtobuf)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), string(events.CodeEventTooLarge)) {
		t.Errorf("a protobuf event too large: %d %s", resp.StatusCode, b)
	}
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %.200s", url, err, b)
	}
	return resp.StatusCode
}

// endless reads as endless x's.
type endless struct{}

func (endless) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 'x'
	}
	return len(b), nil
}
