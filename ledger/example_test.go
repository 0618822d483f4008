package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
)

// exampleEvent is a 基本支出 of 123.45 元 paid from the 一般公共预算.
func exampleEvent(id string) events.Event {
	return events.Event{
		ID:         id,
		Ledger:     "qingpu-zwb",
		Unit:       "本级",
		FiscalYear: 2020,
		Date:       events.NewDate(2020, time.March, 1),
		Source:     "gl",
		Voucher:    "记-0001",
		Body: events.Expenditure{
			Functional:      "2019999", // 其他一般公共服务支出
			Economic:        "30201",   // 办公费
			ExpenditureKind: events.ExpenditureBasic,
			Fund:            events.FundGeneralBudget,
			Amount:          12345,
		},
	}
}

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "ledger-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	l, err := ledger.Open(filepath.Join(dir, "ledger.db"), ledger.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	ctx := context.Background()
	e := exampleEvent("gl-2020-0001")
	if _, err := l.Append(ctx, ledger.Submission{Ledger: e.Ledger, Event: e}); err != nil {
		log.Fatal(err)
	}
	err = l.Scan(ctx, "qingpu-zwb", 0, func(r ledger.Record) error {
		fmt.Println(r.Seq, r.Event.ID, events.BodyAmount(r.Event.Body), "元")
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	v, err := l.Verify(ctx, "qingpu-zwb")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("verified", v.Events, "event(s)")
	// Output:
	// 1 gl-2020-0001 123.45 元
	// verified 1 event(s)
}

func ExampleLog_Append() {
	dir, err := os.MkdirTemp("", "ledger-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	l, err := ledger.Open(filepath.Join(dir, "ledger.db"), ledger.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	e := exampleEvent("gl-2020-0001")
	changed := e
	changed.Memo = "corrected after publishing"
	refused := &events.ValidationError{Code: events.CodeUnknownCode, Field: "expenditure.economic",
		Value: "39999", Expected: "a code in the 经济分类 catalog"}

	outcomes, err := l.Append(context.Background(),
		ledger.Submission{Ledger: "qingpu-zwb", Event: e},
		ledger.Submission{Ledger: "qingpu-zwb", Event: e},       // published twice
		ledger.Submission{Ledger: "qingpu-zwb", Event: changed}, // same id, other content
		ledger.Submission{Ledger: "qingpu-zwb", ID: "gl-2020-0002", Err: refused},
	)
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range outcomes {
		if o.Status == ledger.Rejected {
			fmt.Println(o.ID, o.Status, "as rejection", o.Seq, "for", o.Code)
			continue
		}
		fmt.Println(o.ID, o.Status, "at seq", o.Seq)
	}
	n, _ := l.Len("qingpu-zwb")
	fmt.Println("events in the ledger:", n)
	// Output:
	// gl-2020-0001 accepted at seq 1
	// gl-2020-0001 duplicate at seq 1
	// gl-2020-0001 rejected as rejection 1 for id_conflict
	// gl-2020-0002 rejected as rejection 2 for unknown_code
	// events in the ledger: 1
}

// A backup taken while the log is open, verified, and put in place of a
// lost log file: the data directory's mark then names it, so that Open
// takes it.
func ExampleRestore() {
	dir, err := os.MkdirTemp("", "ledger-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path, mark := filepath.Join(dir, "ledger.db"), filepath.Join(dir, "ledger.mark")
	quiet := slog.New(slog.DiscardHandler)
	l, err := ledger.Open(path, ledger.Options{Mark: mark, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	e := exampleEvent("gl-2020-0001")
	if _, err := l.Append(context.Background(), ledger.Submission{Ledger: e.Ledger, Event: e}); err != nil {
		log.Fatal(err)
	}
	backup, err := os.Create(filepath.Join(dir, "backup.db"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := l.Backup(backup, nil); err != nil {
		log.Fatal(err)
	}
	backup.Close()
	l.Close()

	os.Remove(path) // the log is lost
	if _, err := ledger.Open(path, ledger.Options{Mark: mark, Logger: quiet}); errors.Is(err, ledger.ErrNotTheLog) {
		fmt.Println("refused: the log is missing")
	}
	r, err := ledger.Restore(context.Background(), backup.Name(), path, mark)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("restored", r.Ledgers[0].Ledger, "with", r.Ledgers[0].Events, "event(s), verified")
	l, err = ledger.Open(path, ledger.Options{Mark: mark, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	o, _ := l.Outcome("qingpu-zwb", "gl-2020-0001")
	fmt.Println(o.ID, o.Status, "at seq", o.Seq)
	// Output:
	// refused: the log is missing
	// restored qingpu-zwb with 1 event(s), verified
	// gl-2020-0001 accepted at seq 1
}
