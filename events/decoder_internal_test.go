package events

import (
	"strconv"
	"strings"
	"testing"
)

// TestDecoderTableBounded: a log of ever new units and projects (a hostile
// or merely odd publisher) fills the table to its cap and no further, and
// strings too long to be codes are never kept.
func TestDecoderTableBounded(t *testing.T) {
	var d Decoder
	long := strings.Repeat("长", internMaxLen)
	for i := range 2 * internMax {
		e := Event{ID: "e", Ledger: "l", Unit: "u" + strconv.Itoa(i), Body: Expenditure{
			Functional: "2019999", Economic: "30201", Project: long + strconv.Itoa(i), Amount: 1}}
		data, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got Event
		if err := d.Decode(data, &got); err != nil {
			t.Fatal(err)
		}
		if got.Unit != e.Unit || got.Body.(Expenditure).Project != e.Body.(Expenditure).Project {
			t.Fatalf("event %d decoded as %+v", i, got)
		}
	}
	if len(d.strs) != internMax {
		t.Errorf("table holds %d strings, want its cap %d", len(d.strs), internMax)
	}
	for s := range d.strs {
		if len(s) > internMaxLen {
			t.Errorf("table keeps a %d-byte string", len(s))
		}
	}
}
