package ledger_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
)

// TestAppendSequence: events are appended at seq 1..n in order, acknowledged
// with non-decreasing recorded times, and read back byte for byte by Get,
// Scan and Events.
func TestAppendSequence(t *testing.T) {
	l := openLog(t, logPath(t), ledger.Options{})
	const n = 25
	var want []events.Event
	var subs []ledger.Submission
	for i := 1; i <= n; i++ {
		e := validEvent(t, ledgerA, id("seq", i), events.Amount(1000+i))
		want = append(want, e)
		subs = append(subs, sub(e))
	}
	// One batch of 10, then one at a time: both paths number the same way.
	var outs []ledger.Outcome
	outs = append(outs, appendAll(t, l, subs[:10]...)...)
	for _, s := range subs[10:] {
		outs = append(outs, appendOne(t, l, s))
	}
	var last time.Time
	for i, o := range outs {
		wantStatus(t, o, ledger.Accepted, uint64(i+1))
		if o.Ledger != ledgerA || o.ID != want[i].ID {
			t.Errorf("outcome %d is for %s/%s, want %s/%s", i, o.Ledger, o.ID, ledgerA, want[i].ID)
		}
		if o.RecordedAt.IsZero() || o.RecordedAt.Before(last) {
			t.Errorf("outcome %d recorded at %v, after %v", i, o.RecordedAt, last)
		}
		last = o.RecordedAt
	}

	if got := length(t, l, ledgerA); got != n {
		t.Errorf("Len = %d, want %d", got, n)
	}
	for i, e := range want {
		r, err := l.Get(ledgerA, uint64(i+1))
		if err != nil {
			t.Fatalf("get %d: %v", i+1, err)
		}
		if r.Seq != uint64(i+1) || !sameEvent(t, r.Event, e) || !r.RecordedAt.Equal(outs[i].RecordedAt) {
			t.Errorf("get %d: seq %d, event %s at %v; want %s at %v", i+1, r.Seq, r.Event.ID, r.RecordedAt, e.ID, outs[i].RecordedAt)
		}
	}
	if _, err := l.Get(ledgerA, n+1); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("get past the end: err = %v, want ErrNotFound", err)
	}
	if _, err := l.Get(ledgerA, 0); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("get seq 0: err = %v, want ErrNotFound", err)
	}

	recs := scanAll(t, l, ledgerA)
	if len(recs) != n {
		t.Fatalf("scan: %d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) || !sameEvent(t, r.Event, want[i]) {
			t.Errorf("scan record %d: seq %d event %s, want seq %d event %s", i, r.Seq, r.Event.ID, i+1, want[i].ID)
		}
	}

	// Scan after a sequence starts just past it.
	var tail []uint64
	if err := l.Scan(context.Background(), ledgerA, 20, func(r ledger.Record) error {
		tail = append(tail, r.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tail, []uint64{21, 22, 23, 24, 25}) {
		t.Errorf("scan after 20: seqs %v", tail)
	}

	// An error from fn ends the scan and is returned as is.
	stop := errors.New("enough")
	seen := 0
	if err := l.Scan(context.Background(), ledgerA, 0, func(ledger.Record) error {
		seen++
		if seen == 3 {
			return stop
		}
		return nil
	}); err != stop || seen != 3 {
		t.Errorf("scan stopped by fn: err %v after %d records, want %v after 3", err, seen, stop)
	}

	var iterErr error
	i := 0
	for e := range l.Events(context.Background(), ledgerA, &iterErr) {
		if i >= n || !sameEvent(t, e, want[i]) {
			t.Fatalf("Events item %d: %s", i, e.ID)
		}
		i++
	}
	if iterErr != nil || i != n {
		t.Errorf("Events: %d events, err %v; want %d, nil", i, iterErr, n)
	}
	// Breaking out of the range early is not an error.
	iterErr = nil
	for range l.Events(context.Background(), ledgerA, &iterErr) {
		break
	}
	if iterErr != nil {
		t.Errorf("Events stopped early: err %v", iterErr)
	}

	if v := verify(t, l, ledgerA); v.Events != n || v.Ledger != ledgerA || len(v.HeadHex) != 64 {
		t.Errorf("verify: %+v", v)
	}
}

// TestLedgersIndependent: each ledger has its own sequence from 1, and
// Ledgers lists every ledger that has anything, sorted.
func TestLedgersIndependent(t *testing.T) {
	l := openLog(t, logPath(t), ledger.Options{})
	if names, err := l.Ledgers(); err != nil || len(names) != 0 {
		t.Fatalf("empty log: ledgers %v, err %v", names, err)
	}
	if _, err := l.Len(ledgerA); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Len of a ledger never written: err = %v, want ErrNotFound", err)
	}
	// Interleaved in one batch; the same id in two ledgers is two events.
	var subs []ledger.Submission
	for i := 1; i <= 4; i++ {
		subs = append(subs, sub(validEvent(t, ledgerA, id("x", i), 100)))
		subs = append(subs, sub(validEvent(t, ledgerB, id("x", i), 100)))
	}
	subs = append(subs, sub(validEvent(t, ledgerB, id("x", 5), 100)))
	outs := appendAll(t, l, subs...)
	for i, o := range outs[:8] {
		wantStatus(t, o, ledger.Accepted, uint64(i/2+1))
	}
	wantStatus(t, outs[8], ledger.Accepted, 5)
	if a, b := length(t, l, ledgerA), length(t, l, ledgerB); a != 4 || b != 5 {
		t.Errorf("Len: %s %d, %s %d; want 4 and 5", ledgerA, a, ledgerB, b)
	}
	names, err := l.Ledgers()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ledgerB, ledgerA}; !slices.Equal(names, want) {
		t.Errorf("ledgers %v, want %v", names, want)
	}
	for _, r := range scanAll(t, l, ledgerB) {
		if r.Event.Ledger != ledgerB {
			t.Errorf("ledger %s holds an event of %s", ledgerB, r.Event.Ledger)
		}
	}
	verify(t, l, ledgerA)
	verify(t, l, ledgerB)
}

// TestIdempotency: an id is appended once. The same content again is a
// Duplicate of the original; different content under the id is a conflict,
// recorded as a rejection; neither appends anything, also inside one batch
// and after a restart.
func TestIdempotency(t *testing.T) {
	path := logPath(t)
	l := openLog(t, path, ledger.Options{})
	e1 := validEvent(t, ledgerA, "inv-1", 500)
	e2 := validEvent(t, ledgerA, "inv-2", 700)
	first := appendAll(t, l, sub(e1), sub(e2))
	wantStatus(t, first[0], ledger.Accepted, 1)
	wantStatus(t, first[1], ledger.Accepted, 2)

	dup := appendOne(t, l, sub(e1))
	wantStatus(t, dup, ledger.Duplicate, 1)
	if !dup.RecordedAt.Equal(first[0].RecordedAt) {
		t.Errorf("duplicate recorded at %v, the original at %v", dup.RecordedAt, first[0].RecordedAt)
	}
	if n := length(t, l, ledgerA); n != 2 {
		t.Fatalf("after a duplicate Len = %d, want 2", n)
	}

	changed := e1
	changed.Body = events.Expenditure{Functional: "2019999", Economic: "30201",
		ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 501}
	conflict := appendOne(t, l, sub(changed))
	wantStatus(t, conflict, ledger.Rejected, 0)
	if conflict.Code != events.CodeIDConflict || conflict.ID != "inv-1" || conflict.Reason == "" {
		t.Errorf("conflict outcome %+v, want code %s for inv-1 with a reason", conflict, events.CodeIDConflict)
	}
	if n := length(t, l, ledgerA); n != 2 {
		t.Fatalf("after a conflict Len = %d, want 2", n)
	}
	rjs, err := l.Rejections(ledgerA, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rjs) != 1 || rjs[0].Code != events.CodeIDConflict || rjs[0].ID != "inv-1" || rjs[0].Number != conflict.Seq {
		t.Fatalf("rejections %+v, want one id conflict for inv-1 numbered %d", rjs, conflict.Seq)
	}
	// The accepted event is unchanged and its id still answers Accepted.
	if r, err := l.Get(ledgerA, 1); err != nil || !sameEvent(t, r.Event, e1) {
		t.Errorf("seq 1 after the conflict: %v %v", r.Event, err)
	}
	if o, err := l.Outcome(ledgerA, "inv-1"); err != nil || o.Status != ledger.Accepted || o.Seq != 1 {
		t.Errorf("Outcome(inv-1) = %+v, %v; want Accepted at 1", o, err)
	}

	// In one batch: a new id twice (the second is a duplicate of the first),
	// then the same id with other content (a conflict with the first).
	e3 := validEvent(t, ledgerA, "inv-3", 900)
	e3b := validEvent(t, ledgerA, "inv-3", 901)
	e4 := validEvent(t, ledgerA, "inv-4", 1100)
	outs := appendAll(t, l, sub(e3), sub(e3), sub(e4), sub(e3b), sub(e2))
	wantStatus(t, outs[0], ledger.Accepted, 3)
	wantStatus(t, outs[1], ledger.Duplicate, 3)
	wantStatus(t, outs[2], ledger.Accepted, 4)
	wantStatus(t, outs[3], ledger.Rejected, 0)
	if outs[3].Code != events.CodeIDConflict {
		t.Errorf("conflict inside a batch: code %q", outs[3].Code)
	}
	wantStatus(t, outs[4], ledger.Duplicate, 2)
	if !outs[1].RecordedAt.Equal(outs[0].RecordedAt) {
		t.Errorf("duplicate in batch recorded at %v, original %v", outs[1].RecordedAt, outs[0].RecordedAt)
	}
	if n := length(t, l, ledgerA); n != 4 {
		t.Fatalf("after the batch Len = %d, want 4", n)
	}

	// The index is permanent: after a restart the ids are still known.
	closeLog(t, l)
	l = openLog(t, path, ledger.Options{})
	outs = appendAll(t, l, sub(e1), sub(e3), sub(changed))
	wantStatus(t, outs[0], ledger.Duplicate, 1)
	wantStatus(t, outs[1], ledger.Duplicate, 3)
	wantStatus(t, outs[2], ledger.Rejected, 0)
	if outs[2].Code != events.CodeIDConflict {
		t.Errorf("conflict after restart: code %q", outs[2].Code)
	}
	if outs[2].Seq != 3 {
		t.Errorf("third rejection of the ledger numbered %d", outs[2].Seq)
	}
	if n := length(t, l, ledgerA); n != 4 {
		t.Errorf("after restart and resubmission Len = %d, want 4", n)
	}
	if v := verify(t, l, ledgerA); v.Events != 4 {
		t.Errorf("verify: %d events, want 4", v.Events)
	}
}

// TestRejections: a refused submission is kept with its code, reason, id and
// raw bytes; it does not reserve the id; an unusable ledger name goes to
// UnroutedLedger; an event sent to the wrong ledger is a mismatch.
func TestRejections(t *testing.T) {
	clock := newStepClock(epoch, time.Millisecond)
	l := openLog(t, logPath(t), ledger.Options{Now: clock.Now})

	if _, err := l.Outcome(ledgerA, "never-sent"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Outcome in a ledger never written: err = %v, want ErrNotFound", err)
	}

	raw := []byte(`{"id":"pay-1","ledger":"qingpu-zwb","expenditure":{"amount":"-5"}}`)
	verr := &events.ValidationError{Code: events.CodeAmountNotPositive, Field: "expenditure.amount",
		Value: "-5", Expected: "an amount greater than zero"}
	o := appendOne(t, l, ledger.Submission{Ledger: ledgerA, Err: verr, ID: "pay-1", Raw: raw, Via: "inbox"})
	wantStatus(t, o, ledger.Rejected, 0)
	if o.Seq != 1 || o.Code != events.CodeAmountNotPositive || o.Reason != verr.Error() || o.ID != "pay-1" {
		t.Errorf("rejection outcome %+v", o)
	}
	if _, err := l.Len(ledgerA); err != nil {
		t.Errorf("a ledger with only a rejection: Len err %v", err)
	}
	if n := length(t, l, ledgerA); n != 0 {
		t.Errorf("a rejection appended an event: Len = %d", n)
	}

	rjs, err := l.Rejections(ledgerA, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rjs) != 1 {
		t.Fatalf("%d rejections, want 1", len(rjs))
	}
	rj := rjs[0]
	if rj.Number != 1 || rj.Ledger != ledgerA || rj.ID != "pay-1" || rj.Code != events.CodeAmountNotPositive ||
		rj.Reason != verr.Error() || rj.Via != "inbox" || string(rj.Raw) != string(raw) || !rj.RecordedAt.Equal(o.RecordedAt) {
		t.Errorf("rejection %+v\nwant number 1, id pay-1, code %s, reason %q, via inbox, raw %s, at %v",
			rj, events.CodeAmountNotPositive, verr.Error(), raw, o.RecordedAt)
	}

	got, err := l.Outcome(ledgerA, "pay-1")
	if err != nil || got.Status != ledger.Rejected || got.Code != events.CodeAmountNotPositive || got.Seq != 1 {
		t.Errorf("Outcome(pay-1) after rejection = %+v, %v", got, err)
	}
	if _, err := l.Outcome(ledgerA, "pay-unknown"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Outcome of an unknown id: err = %v, want ErrNotFound", err)
	}

	// A non-validation error is still recorded, with a code.
	o = appendOne(t, l, ledger.Submission{Ledger: ledgerA, Err: errors.New("broken pipe"), ID: "pay-x"})
	if o.Status != ledger.Rejected || o.Code == "" || o.Seq != 2 {
		t.Errorf("rejection for a plain error: %+v", o)
	}

	// The corrected event may reuse the id: rejections do not reserve it.
	fixed := validEvent(t, ledgerA, "pay-1", 500)
	wantStatus(t, appendOne(t, l, sub(fixed)), ledger.Accepted, 1)
	got, err = l.Outcome(ledgerA, "pay-1")
	if err != nil || got.Status != ledger.Accepted || got.Seq != 1 {
		t.Errorf("Outcome(pay-1) after the correction = %+v, %v; want Accepted at 1", got, err)
	}

	// An unusable ledger name: kept under UnroutedLedger, nothing appended.
	bad := validEvent(t, ledgerA, "pay-2", 500)
	o = appendOne(t, l, ledger.Submission{Ledger: "Bad Ledger", Event: bad, Raw: []byte("x")})
	if o.Status != ledger.Rejected || o.Ledger != ledger.UnroutedLedger || o.Code != events.CodeInvalidLedger || o.ID != "pay-2" {
		t.Errorf("unroutable submission: %+v", o)
	}
	urj, err := l.Rejections(ledger.UnroutedLedger, 0, 0)
	if err != nil || len(urj) != 1 || urj[0].Ledger != ledger.UnroutedLedger || urj[0].ID != "pay-2" ||
		!strings.Contains(urj[0].Reason, "Bad Ledger") {
		t.Errorf("unrouted rejections %+v, %v", urj, err)
	}
	if n, err := l.Len(ledger.UnroutedLedger); err != nil || n != 0 {
		t.Errorf("UnroutedLedger Len = %d, %v; want 0", n, err)
	}
	o = appendOne(t, l, ledger.Submission{Ledger: ledger.UnroutedLedger, Event: bad})
	if o.Status != ledger.Rejected || o.Ledger != ledger.UnroutedLedger || o.Code != events.CodeInvalidLedger {
		t.Errorf("submission addressed to the reserved ledger itself: %+v", o)
	}

	// The event names another ledger than the one it was sent to.
	other := validEvent(t, ledgerB, "pay-3", 500)
	o = appendOne(t, l, ledger.Submission{Ledger: ledgerA, Event: other})
	if o.Status != ledger.Rejected || o.Ledger != ledgerA || o.Code != events.CodeLedgerMismatch || o.ID != "pay-3" {
		t.Errorf("ledger mismatch: %+v", o)
	}
	if _, err := l.Len(ledgerB); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("a mismatched event created ledger %s: %v", ledgerB, err)
	}

	// Paging: after and limit.
	rjs, err = l.Rejections(ledgerA, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rjs) != 3 {
		t.Fatalf("%s has %d rejections, want 3: %+v", ledgerA, len(rjs), rjs)
	}
	for i, rj := range rjs {
		if rj.Number != uint64(i+1) {
			t.Errorf("rejection %d numbered %d", i, rj.Number)
		}
	}
	page, err := l.Rejections(ledgerA, 1, 1)
	if err != nil || len(page) != 1 || page[0].Number != 2 {
		t.Errorf("Rejections(after 1, limit 1) = %+v, %v", page, err)
	}
	if _, err := l.Rejections("qingpu-none", 0, 0); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Rejections of an unknown ledger: err = %v", err)
	}

	names, err := l.Ledgers()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ledger.UnroutedLedger, ledgerA}; !slices.Equal(names, want) {
		t.Errorf("ledgers %v, want %v", names, want)
	}
	verify(t, l, ledgerA)
}

// TestRawKeptBounded: a huge rejected payload is kept, but only its start.
func TestRawKeptBounded(t *testing.T) {
	l := openLog(t, logPath(t), ledger.Options{})
	raw := []byte(strings.Repeat("x", 1<<20))
	appendOne(t, l, ledger.Submission{Ledger: ledgerA, Err: errors.New("too big"), ID: "big-1", Raw: raw})
	rjs, err := l.Rejections(ledgerA, 0, 0)
	if err != nil || len(rjs) != 1 {
		t.Fatalf("rejections %v, %v", len(rjs), err)
	}
	if n := len(rjs[0].Raw); n == 0 || n >= len(raw) {
		t.Errorf("kept %d of %d raw bytes, want a bounded prefix", n, len(raw))
	}
}

// TestRestart: after Close and Open the sequence and the hash chain go on
// where they stopped, and recorded times never decrease even when the clock
// goes backwards.
func TestRestart(t *testing.T) {
	path := logPath(t)
	clock := newStepClock(epoch, time.Second)
	l := openLog(t, path, ledger.Options{Now: clock.Now})
	for i := 1; i <= 5; i++ {
		wantStatus(t, appendOne(t, l, sub(validEvent(t, ledgerA, id("r", i), 100))), ledger.Accepted, uint64(i))
	}
	before := verify(t, l, ledgerA)
	lastBefore, err := l.Get(ledgerA, 5)
	if err != nil {
		t.Fatal(err)
	}
	closeLog(t, l)

	// The machine's clock was set back an hour while the service was down.
	clock.Set(epoch.Add(-time.Hour))
	l = openLog(t, path, ledger.Options{Now: clock.Now})
	if n := length(t, l, ledgerA); n != 5 {
		t.Fatalf("after reopen Len = %d, want 5", n)
	}
	if v := verify(t, l, ledgerA); v.HeadHex != before.HeadHex || v.Events != 5 {
		t.Fatalf("after reopen verify %+v, before %+v", v, before)
	}
	var subs []ledger.Submission
	for i := 6; i <= 9; i++ {
		subs = append(subs, sub(validEvent(t, ledgerA, id("r", i), 100)))
	}
	outs := appendAll(t, l, subs[:2]...)
	outs = append(outs, appendAll(t, l, subs[2:]...)...)
	prev := lastBefore.RecordedAt
	for i, o := range outs {
		wantStatus(t, o, ledger.Accepted, uint64(6+i))
		if o.RecordedAt.Before(prev) {
			t.Errorf("seq %d recorded at %v, before seq %d at %v", o.Seq, o.RecordedAt, o.Seq-1, prev)
		}
		prev = o.RecordedAt
	}
	recs := scanAll(t, l, ledgerA)
	for i := 1; i < len(recs); i++ {
		if recs[i].RecordedAt.Before(recs[i-1].RecordedAt) {
			t.Errorf("stored time of seq %d (%v) is before seq %d (%v)", recs[i].Seq, recs[i].RecordedAt, recs[i-1].Seq, recs[i-1].RecordedAt)
		}
	}
	v := verify(t, l, ledgerA)
	if v.Events != 9 {
		t.Errorf("verify after restart: %d events, want 9", v.Events)
	}
	// The head moved: the chain goes on from the old head, it did not restart.
	if v.HeadHex == before.HeadHex {
		t.Errorf("head did not move after 4 more events")
	}
	closeLog(t, l)

	// Once more, to be sure the second head is what the file holds.
	l = openLog(t, path, ledger.Options{Now: clock.Now})
	if again := verify(t, l, ledgerA); again.HeadHex != v.HeadHex {
		t.Errorf("head %s after reopen, %s before", again.HeadHex, v.HeadHex)
	}
	wantStatus(t, appendOne(t, l, sub(validEvent(t, ledgerA, id("r", 10), 100))), ledger.Accepted, 10)
	verify(t, l, ledgerA)
}

// TestReadOnly: a read-only log reads and verifies but does not append.
func TestReadOnly(t *testing.T) {
	path := logPath(t)
	l := openLog(t, path, ledger.Options{})
	appendAll(t, l, sub(validEvent(t, ledgerA, "ro-1", 100)), sub(validEvent(t, ledgerA, "ro-2", 200)))
	want := verify(t, l, ledgerA)
	closeLog(t, l)

	ro := openLog(t, path, ledger.Options{ReadOnly: true})
	if v := verify(t, ro, ledgerA); v.HeadHex != want.HeadHex || v.Events != 2 {
		t.Errorf("read-only verify %+v, want %+v", v, want)
	}
	if recs := scanAll(t, ro, ledgerA); len(recs) != 2 || recs[1].Event.ID != "ro-2" {
		t.Errorf("read-only scan: %d records", len(recs))
	}
	// A second reader shares the file.
	ro2 := openLog(t, path, ledger.Options{ReadOnly: true})
	if n := length(t, ro2, ledgerA); n != 2 {
		t.Errorf("second reader Len = %d", n)
	}
	if out, err := ro.Append(context.Background(), sub(validEvent(t, ledgerA, "ro-3", 300))); err == nil {
		t.Errorf("append on a read-only log succeeded: %+v", out)
	}
	if n := length(t, ro, ledgerA); n != 2 {
		t.Errorf("after a refused append Len = %d", n)
	}
	closeLog(t, ro)
	closeLog(t, ro2)
}

// TestLocked: a second writer on the same file is refused with ErrLocked
// (after the open timeout), and the file opens again once the first closes.
func TestLocked(t *testing.T) {
	path := logPath(t)
	l := openLog(t, path, ledger.Options{})
	appendOne(t, l, sub(validEvent(t, ledgerA, "lock-1", 100)))
	if second, err := ledger.Open(path, ledger.Options{}); !errors.Is(err, ledger.ErrLocked) {
		if second != nil {
			second.Close()
		}
		t.Fatalf("second writer: err = %v, want ErrLocked", err)
	}
	// The refused open left the first writer working.
	wantStatus(t, appendOne(t, l, sub(validEvent(t, ledgerA, "lock-2", 100))), ledger.Accepted, 2)
	closeLog(t, l)
	l = openLog(t, path, ledger.Options{})
	wantStatus(t, appendOne(t, l, sub(validEvent(t, ledgerA, "lock-3", 100))), ledger.Accepted, 3)
}

// TestAppendCancelled: an already cancelled context ends Append with
// ctx.Err() and submits nothing.
func TestAppendCancelled(t *testing.T) {
	l := openLog(t, logPath(t), ledger.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Repeated: Append chooses among ready channels, so one try proves little.
	const tries = 100
	for i := 0; i < tries; i++ {
		out, err := l.Append(ctx, sub(validEvent(t, ledgerA, id("cancel", i), 100)))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("try %d: Append with a cancelled context: outcomes %+v, err %v; want context.Canceled", i, out, err)
		}
	}
	// Something committed after Append told its caller it gave up would be
	// harmless (a retry is a Duplicate), but a call whose context was done
	// before it started should not submit anything. The writer takes
	// requests in order, so this append is numbered after any that slipped in.
	o := appendOne(t, l, sub(validEvent(t, ledgerA, "after-cancel", 100)))
	if o.Status != ledger.Accepted || o.Seq != 1 {
		t.Errorf("%d of %d Append calls with an already cancelled context appended their event anyway "+
			"(the next append got seq %d)", o.Seq-1, tries, o.Seq)
	}
}

// TestCallsAfterClose: Close is idempotent and calls after it fail with
// ErrClosed.
func TestCallsAfterClose(t *testing.T) {
	l := openLog(t, logPath(t), ledger.Options{})
	appendOne(t, l, sub(validEvent(t, ledgerA, "c-1", 100)))
	closeLog(t, l)
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// Append itself is tested from inside the package, where a call that
	// never returns can be caught: TestAppendAfterCloseReturns.
	if _, err := l.Len(ledgerA); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Len after Close: err = %v, want ErrClosed (errors.go: returned by every call after Close)", err)
	}
}

// TestOpenFormat: a file of another format version is refused.
func TestOpenFormat(t *testing.T) {
	path := logPath(t)
	closeLog(t, openLog(t, path, ledger.Options{}))
	alter(t, path, func(tx *boltTx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("format"), []byte("3"))
	})
	if l, err := ledger.Open(path, ledger.Options{}); !errors.Is(err, ledger.ErrFormat) {
		if l != nil {
			l.Close()
		}
		t.Errorf("open a format 3 file: err = %v, want ErrFormat", err)
	}
	if l, err := ledger.Open(path, ledger.Options{ReadOnly: true}); !errors.Is(err, ledger.ErrFormat) {
		if l != nil {
			l.Close()
		}
		t.Errorf("open a format 3 file read-only: err = %v, want ErrFormat", err)
	}
}
