package ledger

import (
	"testing"
	"time"

	"github.com/budgetledger/budgetledger/events"
)

// FuzzDecodeCheckpoint: any bytes stored as a checkpoint decode or are
// refused as ErrCheckpointDamaged; they never panic, and what an intact
// one holds comes back.
func FuzzDecodeCheckpoint(f *testing.F) {
	e := events.Event{ID: "x", Ledger: "qingpu-zwb", Unit: "本级", FiscalYear: 2020, Date: events.NewDate(2020, time.March, 1),
		Source: "s", Voucher: "v", Body: events.Expenditure{Functional: "2019999", Economic: "30201",
			ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 100}}
	good, err := encodeCheckpoint(Checkpoint{Version: "v1", Seq: 7, RecordedAt: time.Unix(0, 42), Events: []events.Event{e, e}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{checkpointVersion})
	f.Fuzz(func(t *testing.T, v []byte) {
		var cp Checkpoint
		n, err := decodeCheckpoint(v, &cp, true)
		if err != nil {
			return
		}
		if n != len(cp.Events) {
			t.Fatalf("%d events counted, %d decoded", n, len(cp.Events))
		}
		again, err := encodeCheckpoint(cp)
		if err != nil || string(again) != string(v) {
			t.Fatalf("a checkpoint that decoded does not encode back to its bytes: %v", err)
		}
	})
}

// FuzzDecodeRejection: any bytes stored as a rejection decode or are
// refused; they never panic.
func FuzzDecodeRejection(f *testing.F) {
	f.Add([]byte(`{"number":1,"ledger":"l","code":"malformed_json","reason":"r"}`))
	f.Add(append([]byte{rejectionVersion}, make([]byte, 32)...))
	f.Add([]byte{rejectionVersion, 1, 2})
	f.Fuzz(func(t *testing.T, v []byte) {
		_, _, _ = decodeRejection(1, v)
	})
}
