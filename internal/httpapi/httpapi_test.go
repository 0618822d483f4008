package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/httpapi"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	l, err := ledger.Open(filepath.Join(t.TempDir(), "ledger.db"), ledger.Options{CarryForward: projections.CarryForward})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	srv := httptest.NewServer(httpapi.New(l, events.DefaultCatalog(), httpapi.Options{Departments: map[string][]string{"qingpu": {"qingpu-zwb", "copy-zwb"}}}))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url, contentType string, body []byte, accept string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestAPI(t *testing.T) {
	srv := newServer(t)
	base := srv.URL + "/v1/ledgers/qingpu-zwb"

	// Append the sample ledger as JSON Lines over HTTP.
	code, _, body := do(t, "POST", base+"/events", "application/x-ndjson", budgetledger.SampleLedger, "")
	var res struct {
		Outcomes []ledger.Outcome `json:"outcomes"`
	}
	if err := json.Unmarshal(body, &res); err != nil || code != 200 || len(res.Outcomes) != bytes.Count(budgetledger.SampleLedger, []byte("\n")) {
		t.Fatalf("POST events: %d %v %.200s", code, err, body)
	}
	for i, o := range res.Outcomes {
		if o.Status != ledger.Accepted || o.Seq != uint64(i+1) {
			t.Fatalf("outcome %d: %+v", i, o)
		}
	}

	cases := []struct {
		name, url, accept string
		status            int
		contains          string
	}{
		{"statement", base + "/statements/income-expenditure?year=2020", "", 200, `"value": "4096.66"`},
		{"statement as of", base + "/statements/income-expenditure?as_of=2020-01-31", "", 200, `"as_of": "2020-01-31"`},
		{"statement csv by Accept", base + "/statements/income-expenditure?year=2020", "text/csv", 200, "总计,4785.08,47850798.00"},
		{"statement unit", base + "/statements/income-expenditure?year=2020&unit=" + "%E6%9C%AC%E7%BA%A7", "", 200, `"unit": "本级"`},
		{"statement of a unit with no events", base + "/statements/income-expenditure?year=2020&unit=%E6%9C%AC", "", 404, "its units: 本级, 行政服务中心"},
		{"statement without year", base + "/statements/income-expenditure", "", 400, "year is required"},
		{"statement bad year", base + "/statements/income-expenditure?year=twenty", "", 400, `year=\"twenty\"`},
		{"statement bad as_of", base + "/statements/income-expenditure?year=2020&as_of=2020-02-30", "", 400, "as_of"},
		{"statement as_of outside year", base + "/statements/income-expenditure?year=2020&as_of=2021-01-01", "", 400, "outside fiscal year"},
		{"statement unknown ledger", srv.URL + "/v1/ledgers/nobody/statements/income-expenditure?year=2020", "", 404, "not found"},
		{"T2 收入决算表", base + "/statements/income?year=2020", "", 200, `"values": [`},
		{"T4 财政拨款收入支出决算总表", base + "/statements/fiscal-summary?year=2020", "", 200, `"side_columns"`},
		{"T6 基本支出决算表", base + "/statements/basic-expenditure?year=2020", "", 200, `"value": "187.90"`},
		{"T7 三公", base + "/statements/three-public?year=2020", "", 200, `"value": "476"`},
		{"T8 政府性基金 empty", base + "/statements/government-fund?year=2020", "", 200, "故本表无数据"},
		{"T9 国有资本经营 empty", base + "/statements/state-capital?year=2020", "", 200, "国有资本经营预算财政拨款收入和支出"},
		{"T10 资产负债情况表", base + "/statements/balance-sheet?year=2020", "", 200, `"value": "1419.89"`},
		{"checks", base + "/checks?year=2020", "", 200, `"failed": 0`},
		{"checks of a unit with no events", base + "/checks?year=2020&unit=x", "", 404, "has no events"},
		{"notes", base + "/statements/notes?year=2020", "", 200, `"key": "general:completion"`},
		{"unknown statement", base + "/statements/balance?year=2020", "", 404, "the statements are income-expenditure, income"},
		{"statement list", srv.URL + "/v1/statements", "", 200, `"general-budget-expenditure"`},
		{"outcome", base + "/events/qp2020-000684", "", 200, `"status": "accepted"`},
		{"outcome unknown", base + "/events/never-sent", "", 404, `"status": "unknown"`},
		{"events page", base + "/events?after=10&limit=2", "", 200, `"seq": 11`},
		{"events bad limit", base + "/events?limit=0", "", 400, "limit"},
		{"rejections empty", base + "/rejections", "", 200, `"rejections": []`},
		{"verify", base + "/verify", "", 200, fmt.Sprintf(`"events": %d`, bytes.Count(budgetledger.SampleLedger, []byte("\n")))},
		{"ledgers", srv.URL + "/v1/ledgers", "", 200, `"qingpu-zwb"`},
	}
	for _, c := range cases {
		code, _, body := do(t, "GET", c.url, "", nil, c.accept)
		if code != c.status || !strings.Contains(string(body), c.contains) {
			t.Errorf("%s: %d %.300s; want %d containing %s", c.name, code, body, c.status, c.contains)
		}
	}

	// A bad event over HTTP is rejected, kept and listed; the statement is unchanged.
	bad := `{"id":"bad-1","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-03-01","source":"s","voucher":"v","surplus_distribution":{"amount":"-1.00"}}`
	code, _, body = do(t, "POST", base+"/events", "application/json", []byte(bad), "")
	if code != 200 || !strings.Contains(string(body), `"code": "amount_not_positive"`) {
		t.Errorf("POST bad event: %d %s", code, body)
	}
	code, _, body = do(t, "GET", base+"/rejections", "", nil, "")
	if code != 200 || !strings.Contains(string(body), `"id": "bad-1"`) || !strings.Contains(string(body), `"via": "http"`) {
		t.Errorf("rejections: %d %s", code, body)
	}
	// One event laid out over several lines is one event; a type error
	// still files the rejection under the event's id.
	pretty := "{\n  \"id\": \"bad-2\",\n  \"ledger\": \"qingpu-zwb\",\n  \"unit\": \"本级\",\n  \"fiscal_year\": \"2020\",\n" +
		"  \"date\": \"2020-03-01\", \"source\": \"s\", \"voucher\": \"v\",\n  \"surplus_distribution\": {\"amount\": \"1.00\"}\n}\n"
	code, _, body = do(t, "POST", base+"/events", "application/json", []byte(pretty), "")
	if code != 200 || strings.Count(string(body), `"status"`) != 1 || !strings.Contains(string(body), `"id": "bad-2"`) ||
		!strings.Contains(string(body), `"code": "invalid_field"`) {
		t.Errorf("POST pretty-printed event: %d %s", code, body)
	}
	if code, _, body = do(t, "GET", base+"/events/bad-2", "", nil, ""); code != 200 || !strings.Contains(string(body), `"status": "rejected"`) {
		t.Errorf("outcome of bad-2: %d %s", code, body)
	}
	if code, _, body = do(t, "POST", base+"/events", "application/json", nil, ""); code != 400 {
		t.Errorf("POST empty body: %d %s", code, body)
	}
	if _, _, body = do(t, "GET", base+"/statements/income-expenditure?year=2020", "", nil, ""); !strings.Contains(string(body), `"value": "0.00"`) ||
		!strings.Contains(string(body), `"amount_yuan": "46387324.00"`) {
		t.Errorf("statement changed by a rejected event: %.300s", body)
	}
}

// TestDepartmentConsolidates: a department defined as two ledgers prints
// the sum of both, cell by cell from the exact amounts.
func TestDepartmentConsolidates(t *testing.T) {
	srv := newServer(t)
	cp := bytes.ReplaceAll(budgetledger.SampleLedger, []byte(`"ledger":"qingpu-zwb"`), []byte(`"ledger":"copy-zwb"`))
	for _, c := range []struct {
		ledger string
		body   []byte
	}{{"qingpu-zwb", budgetledger.SampleLedger}, {"copy-zwb", cp}} {
		if code, _, body := do(t, "POST", srv.URL+"/v1/ledgers/"+c.ledger+"/events", "application/x-ndjson", c.body, ""); code != 200 {
			t.Fatalf("POST %s: %d %.200s", c.ledger, code, body)
		}
	}
	var doc struct {
		Ledger string
		Rows   []struct {
			Key        string
			Value      string
			AmountYuan string `json:"amount_yuan"`
		}
	}
	code, _, body := do(t, "GET", srv.URL+"/v1/departments/qingpu/statements/income-expenditure?year=2020", "", nil, "")
	if code != 200 || json.Unmarshal(body, &doc) != nil {
		t.Fatalf("department statement: %d %.300s", code, body)
	}
	want := map[string]string{"total:income": "95679596.00", "total:expenditure": "92774648.00", "opening_balance": "22000.00"}
	for _, r := range doc.Rows {
		if w, ok := want[r.Key]; ok && r.AmountYuan != w {
			t.Errorf("%s = %s, want %s (twice the ledger)", r.Key, r.AmountYuan, w)
		}
	}
	if doc.Ledger != "qingpu" {
		t.Errorf("statement of %q", doc.Ledger)
	}
	if code, _, _ := do(t, "GET", srv.URL+"/v1/departments/nobody/statements/income?year=2020", "", nil, ""); code != 404 {
		t.Errorf("unknown department: %d", code)
	}
	if code, _, body := do(t, "GET", srv.URL+"/v1/departments", "", nil, ""); code != 200 || !strings.Contains(string(body), `"copy-zwb"`) {
		t.Errorf("departments: %d %s", code, body)
	}
}

// TestKnownAt: an event published late, dated early, changes the statement
// as of its date, but not the statement as the books stood before it
// arrived (known_at= a sequence or a moment).
func TestKnownAt(t *testing.T) {
	srv := newServer(t)
	base := srv.URL + "/v1/ledgers/qingpu-zwb"
	if code, _, body := do(t, "POST", base+"/events", "application/x-ndjson", budgetledger.SampleLedger, ""); code != 200 {
		t.Fatalf("POST: %d %.200s", code, body)
	}
	n := bytes.Count(budgetledger.SampleLedger, []byte("\n"))
	var last struct {
		RecordedAt string `json:"recorded_at"`
	}
	_, _, body := do(t, "GET", base+"/events/qp2020-000684", "", nil, "")
	_ = json.Unmarshal(body, &last)
	late := `{"id":"late-1","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-03-01","source":"s","voucher":"补-1","expenditure":{"functional":"2019999","economic":"30201","kind":"basic","fund":"general_budget","amount":"10000.00"}}`
	if code, _, body := do(t, "POST", base+"/events", "application/json", []byte(late), ""); code != 200 || !strings.Contains(string(body), `"accepted"`) {
		t.Fatalf("POST late: %d %s", code, body)
	}
	spent := func(query string) string {
		t.Helper()
		var doc struct {
			KnownAt string `json:"known_at"`
			Rows    []struct {
				Key        string
				AmountYuan string `json:"amount_yuan"`
			}
		}
		code, _, body := do(t, "GET", base+"/statements/income-expenditure?year=2020&as_of=2020-03-31"+query, "", nil, "")
		if code != 200 || json.Unmarshal(body, &doc) != nil {
			t.Fatalf("GET %s: %d %.300s", query, code, body)
		}
		for _, r := range doc.Rows {
			if r.Key == "total:expenditure" {
				return r.AmountYuan + "|" + doc.KnownAt
			}
		}
		return ""
	}
	now, before, atTime := spent(""), spent(fmt.Sprintf("&known_at=%d", n)), spent("&known_at="+last.RecordedAt)
	nowYuan, _, _ := strings.Cut(now, "|")
	beforeYuan, beforeKnown, _ := strings.Cut(before, "|")
	atYuan, _, _ := strings.Cut(atTime, "|")
	if nowYuan == beforeYuan || beforeKnown != fmt.Sprintf("seq %d", n) {
		t.Errorf("as of 2020-03-31: now %s, known at seq %d %s: the late event must count now and not before", now, n, before)
	}
	if atYuan != beforeYuan {
		t.Errorf("known at %s: %s, want %s", last.RecordedAt, atTime, before)
	}
	for _, q := range []string{"yesterday", fmt.Sprint(n + 5), "2999-01-01T00:00:00Z"} {
		if code, _, body := do(t, "GET", base+"/statements/income?year=2020&known_at="+q, "", nil, ""); code != 400 || !strings.Contains(string(body), "known_at") {
			t.Errorf("known_at=%s: %d %s", q, code, body)
		}
	}
	// An unencoded + (read as a space) before the offset is understood.
	if code, _, body := do(t, "GET", base+"/statements/income?year=2020&known_at=2020-07-15T18:00:00+08:00", "", nil, ""); code != 200 {
		t.Errorf("known_at with a raw +: %d %s", code, body)
	}
}

// TestYearEndClose: 年终结账 of 2020 carries every unit's 年末结转和结余 into
// 2021 as 年初结转和结余 (rule 12 then holds), refuses later 2020 events and a
// second close, and keeps the carried balances in the log.
func TestYearEndClose(t *testing.T) {
	srv := newServer(t)
	base := srv.URL + "/v1/ledgers/qingpu-zwb"
	if code, _, body := do(t, "POST", base+"/events", "application/x-ndjson", budgetledger.SampleLedger, ""); code != 200 {
		t.Fatalf("POST: %d %.200s", code, body)
	}
	closeEvent := `{"id":"close-2020","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-31","source":"财务系统","voucher":"结-2020","year_end_closed":{}}`
	if code, _, body := do(t, "POST", base+"/events", "application/json", []byte(closeEvent), ""); code != 200 || !strings.Contains(string(body), `"accepted"`) {
		t.Fatalf("close: %d %s", code, body)
	}
	value := func(year int, statement, key string, col int) string {
		t.Helper()
		var doc struct {
			Rows []struct {
				Side, Key, Name string
				Value           string
				Values          []string
			}
		}
		code, _, body := do(t, "GET", fmt.Sprintf("%s/statements/%s?year=%d", base, statement, year), "", nil, "")
		if code != 200 || json.Unmarshal(body, &doc) != nil {
			t.Fatalf("GET %s %d: %d %.300s", statement, year, code, body)
		}
		for _, r := range doc.Rows {
			if r.Key == key || r.Name == key {
				if col > 0 {
					return r.Values[col]
				}
				return r.Value
			}
		}
		t.Fatalf("%s %d has no row %s", statement, year, key)
		return ""
	}
	if o, c := value(2021, "income-expenditure", "opening_balance", 0), value(2020, "income-expenditure", "closing_balance", 0); o != c || o != "146.35" {
		t.Errorf("2021 年初结转和结余 %s, 2020 年末结转和结余 %s, published 146.35", o, c)
	}
	if o := value(2021, "fiscal-summary", "opening_balance", 0); o != "145.75" {
		t.Errorf("2021 年初财政拨款结转和结余 %s, 2020 年末 published 145.75", o)
	}
	late := `{"id":"late-2020","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-12-31","source":"s","voucher":"v","surplus_distribution":{"amount":"1.00"}}`
	again := strings.Replace(closeEvent, `"id":"close-2020"`, `"id":"close-2020-b"`, 1)
	for _, ev := range []string{late, again} {
		if code, _, body := do(t, "POST", base+"/events", "application/json", []byte(ev), ""); code != 200 || !strings.Contains(string(body), `"code": "year_closed"`) {
			t.Errorf("after the close: %d %s", code, body)
		}
	}
	if code, _, body := do(t, "GET", base+"/checks?year=2020", "", nil, ""); code != 200 || !strings.Contains(string(body), `"failed": 0`) || !strings.Contains(string(body), `"rule": "12"`) {
		t.Errorf("checks after the close: %d %.400s", code, body)
	}
	// A correction of 2020 found later is a 年初调整 of 2021: counted in its
	// 年初, shown as such, and rule 12 holds net of it. Before a close it is
	// refused.
	adj := `{"id":"adj-1","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2021,"date":"2021-03-10","source":"s","voucher":"v","opening_adjusted":{"fund":"general_budget","change":"decrease","amount":"1000.00","reason":"2020年多计收入"}}`
	if code, _, body := do(t, "POST", base+"/events", "application/json", []byte(adj), ""); code != 200 || !strings.Contains(string(body), `"accepted"`) {
		t.Fatalf("adjustment: %d %s", code, body)
	}
	if o := value(2021, "income-expenditure", "opening_balance", 0); o != "146.25" {
		t.Errorf("2021 年初 after a 1,000 元 decrease: %s, want 146.25", o)
	}
	if code, _, body := do(t, "GET", base+"/checks?year=2020", "", nil, ""); code != 200 || !strings.Contains(string(body), `"failed": 0`) {
		t.Errorf("checks with an adjustment: %d %.600s", code, body)
	}
	early := strings.NewReplacer(`"id":"adj-1"`, `"id":"adj-0"`, `"fiscal_year":2021`, `"fiscal_year":2020`, `"2021-03-10"`, `"2020-03-10"`).Replace(adj)
	if code, _, body := do(t, "POST", srv.URL+"/v1/ledgers/qingpu-zwb/events", "application/json", []byte(early), ""); code != 200 || !strings.Contains(string(body), `"code": "year_closed"`) {
		t.Errorf("adjustment of a closed year itself: %d %s", code, body)
	}
	if code, _, body := do(t, "GET", base+"/verify", "", nil, ""); code != 200 {
		t.Errorf("verify: %d %s", code, body)
	}
}
