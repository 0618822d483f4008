package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/service"
	"github.com/budgetledger/budgetledger/projections"
)

// TestExport exports the sample ledger over the API and from the file of
// the stopped ledgerd: the same journal both ways, and the totals it
// reports for 2020 are the 收入支出决算总表's, which round to the published
// 4,783.98 and 4,638.73 万元.
func TestExport(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	s, err := service.Start(context.Background(), service.Config{DataDir: data, HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	server := "http://" + s.HTTPAddr()
	resp, err := http.Post(server+"/v1/ledgers/qingpu-zwb/events", "application/x-ndjson", bytes.NewReader(budgetledger.SampleLedger))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || bytes.Contains(body, []byte(`"rejected"`)) {
		t.Fatalf("publish the sample: %d %.600s", resp.StatusCode, body)
	}
	ctl := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, &out, &errOut)
		return code, out.String(), errOut.String()
	}

	st, err := projections.FoldIncomeExpenditure(slices.Values(sampleEvents(t)), projections.Filter{Ledger: budgetledger.SampleLedgerName, FiscalYear: 2020})
	if err != nil {
		t.Fatal(err)
	}
	row := func(key string) events.Amount {
		r, _ := st.Row(key)
		return r.Amount()
	}
	if in, out := projections.Wan(row("total:income")), projections.Wan(row("total:expenditure")); in != "4783.98" || out != "4638.73" {
		t.Fatalf("the sample's 2020 收入支出决算总表: 本年收入合计 %s 本年支出合计 %s 万元, published 4783.98 and 4638.73", in, out)
	}
	totals := "2020: 本年收入合计 " + row("total:income").String() + " 本年支出合计 " + row("total:expenditure").String() +
		" 使用非财政拨款结余 " + row("non_fiscal_surplus_used").String() + " 年初结转和结余 " + row("opening_balance").String() +
		" 结余分配 " + row("surplus_distribution").String() + " 年末结转和结余 " + row("closing_balance").String() + "\n"

	file := filepath.Join(dir, "qingpu.journal")
	code, out, errOut := ctl("export", "-server", server, "-ledger", "qingpu-zwb", "-o", file)
	if code != 0 || !strings.Contains(out, totals) || !strings.Contains(out, "transactions from 741 events") || errOut != "" {
		t.Fatalf("export -o: exit %d, want the line\n%s\n%s%s", code, totals, out, errOut)
	}
	journal, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(journal, []byte("\n    收入:一般公共预算财政拨款收入:2019999  -")) {
		t.Errorf("the journal has no 一般公共预算财政拨款收入:\n%.2000s", journal)
	}

	code, out, errOut = ctl("export", "-server", server, "-ledger", "qingpu-zwb")
	if code != 0 || out != string(journal) || !strings.Contains(errOut, totals) {
		t.Errorf("export to standard output: exit %d, same journal %v\n%s", code, out == string(journal), errOut)
	}
	if code, _, errOut = ctl("export", "-server", server, "-ledger", "qingpu-zwb", "-format", "beancount"); code != 2 || !strings.Contains(errOut, `-format "beancount": expected ledger`) {
		t.Errorf("export -format beancount: exit %d %s", code, errOut)
	}
	if code, _, errOut = ctl("export", "-server", server, "-ledger", "nope"); code != 2 || !strings.Contains(errOut, "not found") {
		t.Errorf("export of an unknown ledger: exit %d %s", code, errOut)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	offline := filepath.Join(dir, "offline.journal")
	if code, out, errOut = ctl("export", "-data", data, "-ledger", "qingpu-zwb", "-o", offline); code != 0 || !strings.Contains(out, totals) {
		t.Fatalf("export -data: exit %d\n%s%s", code, out, errOut)
	}
	if b, err := os.ReadFile(offline); err != nil || !bytes.Equal(b, journal) {
		t.Errorf("the journal from the file differs from the one over the API (%v)", err)
	}
}

func sampleEvents(t *testing.T) []events.Event {
	t.Helper()
	evs, err := budgetledger.SampleEvents()
	if err != nil {
		t.Fatal(err)
	}
	return evs
}
