package ledger_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/ledger"
)

// A rejected event has no place in the log: its JSON outcome names the
// rejection's number, never a seq.
func TestOutcomeJSON(t *testing.T) {
	at := time.Date(2020, 3, 1, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		o    ledger.Outcome
		want string
	}{
		{ledger.Outcome{Ledger: "l", ID: "a", Status: ledger.Accepted, Seq: 7, RecordedAt: at, Via: "inbox"},
			`{"ledger":"l","id":"a","status":"accepted","seq":7,"recorded_at":"2020-03-01T08:00:00Z","via":"inbox"}`},
		{ledger.Outcome{Ledger: "l", ID: "b", Status: ledger.Rejected, Seq: 3, RecordedAt: at, Code: events.CodeAmountPrecision, Reason: "r"},
			`{"ledger":"l","id":"b","status":"rejected","rejection":3,"recorded_at":"2020-03-01T08:00:00Z","code":"amount_precision","reason":"r"}`},
	} {
		b, err := json.Marshal(c.o)
		if err != nil || string(b) != c.want {
			t.Errorf("marshal %+v:\n got %s\nwant %s", c.o, b, c.want)
		}
		var back ledger.Outcome
		if err := json.Unmarshal(b, &back); err != nil || back != c.o {
			t.Errorf("round trip: %+v, want %+v (%v)", back, c.o, err)
		}
		if strings.Contains(c.want, "rejected") && strings.Contains(string(b), `"seq"`) {
			t.Errorf("rejected outcome carries a seq: %s", b)
		}
	}
}
