package ledger

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
)

// outcomeJSONReflect is the form AppendJSON must write, by encoding/json.
func outcomeJSONReflect(o Outcome) []byte {
	j := outcomeJSON{Ledger: o.Ledger, ID: o.ID, Status: o.Status, Seq: o.Seq, RecordedAt: o.RecordedAt.UTC(),
		Code: o.Code, Reason: o.Reason, Via: o.Via, InboxSeq: o.InboxSeq}
	if o.Status == Rejected {
		j.Seq, j.Rejection = 0, o.Seq
	}
	b, _ := json.Marshal(j)
	return b
}

func TestOutcomeAppendJSON(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	texts := []string{"", "qp2020-zc-0001", "本级", "a<b>&c", `quote " and \ back`, "tab\there", "\x00nul", "bad \xff utf8",
		"line\u2028sep", "�", "日期 2020-13-01 不是日历上的日子", "e123"}
	pick := func() string { return texts[rng.IntN(len(texts))] + texts[rng.IntN(len(texts))] }
	statuses := []Status{Accepted, Duplicate, Rejected, Unknown}
	for range 5000 {
		o := Outcome{Ledger: pick(), ID: pick(), Status: statuses[rng.IntN(len(statuses))], Seq: rng.Uint64N(3) * rng.Uint64(),
			RecordedAt: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(time.FixedZone("x", 8*3600)),
			Code:       events.Code(pick()), Reason: pick(), Via: pick(), InboxSeq: rng.Uint64N(2) * rng.Uint64()}
		want := outcomeJSONReflect(o)
		got := o.AppendJSON(nil)
		if string(got) != string(want) {
			t.Fatalf("AppendJSON(%#v)\n got %s\nwant %s", o, got, want)
		}
		var back Outcome
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("read back %s: %v", got, err)
		}
	}
}

func BenchmarkOutcomeAppendJSON(b *testing.B) {
	o := Outcome{Ledger: "qingpu-zwb", ID: "qp2020-zc-0001", Status: Accepted, Seq: 12345, RecordedAt: time.Now(), Via: "inbox", InboxSeq: 99}
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = o.AppendJSON(buf[:0])
	}
}
