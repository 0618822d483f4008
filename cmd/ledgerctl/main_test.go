package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/internal/service"
)

// TestCommands drives ledgerctl against a real ledgerd (embedded NATS,
// bbolt file) the way an operator would.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	s, err := service.Start(context.Background(), service.Config{DataDir: filepath.Join(dir, "data"), HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	server := "http://" + s.HTTPAddr()
	ctl := func(args ...string) (int, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, &out, &errOut)
		return code, out.String() + errOut.String()
	}

	file := filepath.Join(dir, "events.jsonl")
	bad := `{"id":"bad-amount","ledger":"qingpu-zwb","unit":"本级","fiscal_year":2020,"date":"2020-03-01","source":"s","voucher":"v",` +
		`"expenditure":{"functional":"2019999","economic":"30201","kind":"basic","fund":"general_budget","amount":"12.345"}}`
	if err := os.WriteFile(file, append(bytes.Clone(budgetledger.SampleLedger), []byte(bad+"\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	n := bytes.Count(budgetledger.SampleLedger, []byte("\n"))
	code, out := ctl("publish", "-nats", s.NATSURL(), file)
	if code != 1 || !strings.Contains(out, fmt.Sprintf("accepted   %d\n", n)) || !strings.Contains(out, "rejected   1") ||
		!strings.Contains(out, fmt.Sprintf("line %d  bad-amount  rejected  amount_precision", n+1)) {
		t.Errorf("publish: exit %d\n%s", code, out)
	}
	code, out = ctl("publish", "-nats", s.NATSURL(), file)
	if code != 1 || !strings.Contains(out, fmt.Sprintf("duplicates %d\n", n)) {
		t.Errorf("publish again: exit %d\n%s", code, out)
	}

	code, out = ctl("report", "income-expenditure", "-server", server, "-ledger", "qingpu-zwb", "-year", "2020")
	for _, want := range []string{"收入支出决算总表", "一、一般公共预算财政拨款收入", "4,096.66", "本年支出合计", "4,638.73", "年末结转和结余", "146.35"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("report lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	code, out = ctl("report", "general-budget-expenditure", "-server", server, "-ledger", "qingpu-zwb", "-year", "2020")
	if code != 0 || !strings.Contains(out, "一般公共预算财政拨款支出决算表") || !strings.Contains(out, "3,951.91") || !strings.Contains(out, "2,797.63") {
		t.Errorf("report general-budget-expenditure (exit %d):\n%s", code, out)
	}
	code, out = ctl("report", "income-expenditure", "-server", server, "-ledger", "qingpu-zwb", "-year", "2020", "-format", "csv")
	if code != 0 || !strings.Contains(out, "八、其他收入,687.32,6873200.00") {
		t.Errorf("report csv (exit %d):\n%s", code, out)
	}
	if code, out = ctl("report", "income-expenditure", "-server", server, "-ledger", "qingpu-zwb", "-year", "2020", "-as-of", "2021-01-01"); code != 2 || !strings.Contains(out, "outside fiscal year") {
		t.Errorf("report with as-of outside the year: exit %d\n%s", code, out)
	}

	if code, out = ctl("status", "-server", server, "-ledger", "qingpu-zwb", "qp2020-000001"); code != 0 || !strings.Contains(out, "accepted, seq 1") {
		t.Errorf("status accepted: exit %d %s", code, out)
	}
	if code, out = ctl("status", "-server", server, "-ledger", "qingpu-zwb", "bad-amount"); code != 1 || !strings.Contains(out, "rejected (amount_precision)") {
		t.Errorf("status rejected: exit %d %s", code, out)
	}
	if code, out = ctl("status", "-server", server, "-ledger", "qingpu-zwb", "never-sent"); code != 1 || !strings.Contains(out, "unknown") {
		t.Errorf("status unknown: exit %d %s", code, out)
	}
	if code, out = ctl("rejections", "-server", server, "-ledger", "qingpu-zwb"); code != 0 || strings.Count(out, "bad-amount\tamount_precision") != 2 {
		t.Errorf("rejections (one per publish): exit %d\n%s", code, out)
	}
	if code, out = ctl("verify", "-server", server, "-ledger", "qingpu-zwb"); code != 0 || !strings.Contains(out, fmt.Sprintf("verified %d events", n)) {
		t.Errorf("verify: exit %d %s", code, out)
	}
	if code, out = ctl("check", "-server", server, "-ledger", "qingpu-zwb", "-year", "2020"); code != 0 || !strings.Contains(out, " 0 fail") || !strings.Contains(out, "rounding") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	if code, out = ctl("check", "-published", "../../testdata/golden", "-year", "2020"); code != 1 || !strings.Contains(out, " 15 fail") ||
		!strings.Contains(out, "fail     rule 3      基本支出决算表: 类 310 = Σ its 款: 13.39 vs 495.59") {
		t.Errorf("check published: exit %d\n%s", code, out)
	}
	// The published 2020 report against the books: the internal rules find
	// D1, D2, D3; the comparison finds every published deviation.
	if code, out = ctl("check", "-server", server, "-published", "../../testdata/golden", "-ledger", "qingpu-zwb", "-year", "2020"); code != 1 ||
		!strings.Contains(out, "fail     rule books  notes general:completion value = the books: 145.71 vs 124.14") {
		t.Errorf("check published against the books: exit %d\n%s", code, out)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if code, out = ctl("verify", "-data", filepath.Join(dir, "data"), "-ledger", "qingpu-zwb"); code != 0 || !strings.Contains(out, fmt.Sprintf("verified %d events", n)) {
		t.Errorf("verify -data: exit %d %s", code, out)
	}
	if code, _ = ctl("frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}
