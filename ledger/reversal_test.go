package ledger_test

import (
	"context"
	"testing"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
)

// TestReversal: a reversal (红字冲销) is accepted only for an event of the
// same ledger, unit and fiscal year, restated exactly, dated no earlier,
// and only once.
func TestReversal(t *testing.T) {
	path := logPath(t)
	l := openLog(t, path, ledger.Options{})
	orig := validEvent(t, "qingpu-zwb", "orig-1", 123_45)
	appendOne(t, l, sub(orig))
	rev := func(id string, mutate func(*events.Event, *events.Reversal)) ledger.Submission {
		e := orig
		e.ID = id
		r := events.Reversal{EventID: orig.ID, Reason: "金额录入错误", Body: orig.Body}
		if mutate != nil {
			mutate(&e, &r)
		}
		e.Body = r
		if err := events.Validate(&e, events.DefaultCatalog()); err != nil {
			t.Fatalf("reversal %s invalid: %v", id, err)
		}
		return sub(e)
	}
	for _, c := range []struct {
		name   string
		s      ledger.Submission
		status ledger.Status
		code   events.Code
	}{
		{"unknown event", rev("r-unknown", func(_ *events.Event, r *events.Reversal) { r.EventID = "nope" }), ledger.Rejected, events.CodeReversalTarget},
		{"other amount", rev("r-amount", func(_ *events.Event, r *events.Reversal) {
			x := r.Body.(events.Expenditure)
			x.Amount++
			r.Body = x
		}), ledger.Rejected, events.CodeReversalMismatch},
		{"other unit", rev("r-unit", func(e *events.Event, _ *events.Reversal) { e.Unit = "行政服务中心" }), ledger.Rejected, events.CodeReversalMismatch},
		{"dated before", rev("r-early", func(e *events.Event, _ *events.Reversal) { e.Date = events.NewDate(2020, 2, 28) }), ledger.Rejected, events.CodeReversalMismatch},
		{"accepted", rev("r-ok", nil), ledger.Accepted, ""},
		{"the same reversal again", rev("r-ok", nil), ledger.Duplicate, ""},
		{"a second reversal", rev("r-again", nil), ledger.Rejected, events.CodeAlreadyReversed},
	} {
		o := appendOne(t, l, c.s)
		if o.Status != c.status || o.Code != c.code {
			t.Errorf("%s: %+v, want %s %s", c.name, o, c.status, c.code)
		}
	}
	// Reversing the reversal is refused too: it is not an ordinary event.
	rr := orig
	rr.ID, rr.Body = "r-of-r", events.Reversal{EventID: "r-ok", Reason: "撤销冲销", Body: orig.Body}
	if o := appendOne(t, l, sub(rr)); o.Status != ledger.Rejected || o.Code != events.CodeReversalMismatch {
		t.Errorf("reversal of a reversal: %+v", o)
	}
	if _, err := l.Verify(context.Background(), "qingpu-zwb"); err != nil {
		t.Errorf("verify with a reversal: %v", err)
	}
	// Final across a restart.
	closeLog(t, l)
	l = openLog(t, path, ledger.Options{})
	if o := appendOne(t, l, rev("r-after-restart", nil)); o.Code != events.CodeAlreadyReversed {
		t.Errorf("after a restart: %+v", o)
	}
}
