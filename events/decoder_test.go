package events_test

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"

	budgetledger "github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
)

// binaryForms is the binary form of every event of the sample ledger, of
// extraLines and of the base lines, so that every body and every string
// field is covered.
func binaryForms(tb testing.TB) [][]byte {
	tb.Helper()
	var lines [][]byte
	for l := range bytes.Lines(budgetledger.SampleLedger) {
		if l = bytes.TrimRight(l, "\r\n"); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	for _, s := range append([]string{baseExpenditure, baseProject, baseAppropriation, baseOtherIncome, baseOpening, baseSurplus}, extraLines...) {
		lines = append(lines, []byte(s))
	}
	forms := make([][]byte, 0, len(lines))
	for i, l := range lines {
		e, err := events.DecodeJSON(l)
		if err != nil {
			tb.Fatalf("line %d: %v", i+1, err)
		}
		forms = append(forms, mustBinary(tb, e))
	}
	return forms
}

// sameAsUnmarshalBinary fails unless d decodes data to what UnmarshalBinary
// gives, or fails with the same error and leaves the destination untouched.
func sameAsUnmarshalBinary(t *testing.T, d *events.Decoder, data []byte) {
	t.Helper()
	sentinel := events.Event{ID: "untouched", Body: events.YearEndClosed{}}
	want, got := sentinel, sentinel
	werr := want.UnmarshalBinary(data)
	gerr := d.Decode(data, &got)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("Decode(%x) error %v, UnmarshalBinary %v", data, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Decode(%x)\n got %+v\nwant %+v", data, got, want)
	}
}

// TestDecoderMatchesUnmarshalBinary decodes the whole sample twice with one
// Decoder, as a scan does (the second pass finds every code in the table),
// then damaged forms of each event: every truncation, a trailing byte, other
// versions, and each byte in turn replaced by values that make unknown tags,
// overlong varints, bad booleans and lengths past the end.
func TestDecoderMatchesUnmarshalBinary(t *testing.T) {
	forms := binaryForms(t)
	var d events.Decoder
	for range 2 {
		for _, b := range forms {
			sameAsUnmarshalBinary(t, &d, b)
		}
	}
	for _, b := range forms {
		for n := range len(b) {
			sameAsUnmarshalBinary(t, &d, b[:n])
		}
		sameAsUnmarshalBinary(t, &d, append(bytes.Clone(b), 0))
		for i := range b {
			for _, v := range []byte{0, 1, 2, 0x7f, 0x80, 0xff} {
				bad := bytes.Clone(b)
				bad[i] = v
				sameAsUnmarshalBinary(t, &d, bad)
			}
		}
	}
}

// TestDecoderDoesNotAlias: the decoded event must not share memory with the
// input, which the log only lends for the length of a read transaction.
func TestDecoderDoesNotAlias(t *testing.T) {
	var d events.Decoder
	for _, b := range binaryForms(t) {
		var want, got events.Event
		if err := want.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		data := bytes.Clone(b)
		if err := d.Decode(data, &got); err != nil {
			t.Fatal(err)
		}
		for i := range data {
			data[i] = 0xff
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("overwriting the input changed the event\n got %+v\nwant %+v", got, want)
		}
	}
}

// TestDecoderAllocs: once the codes are in the table, an expenditure costs
// two allocations, its own strings and its body, where UnmarshalBinary
// spends one per string.
func TestDecoderAllocs(t *testing.T) {
	e, err := events.DecodeJSON([]byte(baseProject))
	if err != nil {
		t.Fatal(err)
	}
	data := mustBinary(t, e)
	var d events.Decoder
	var out events.Event
	if n := testing.AllocsPerRun(100, func() {
		if err := d.Decode(data, &out); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Errorf("Decode allocates %v times per event, want at most 2", n)
	}
}

func ExampleDecoder() {
	e := events.Event{
		ID: "qp2020-000071", Ledger: "qingpu-zwb", Unit: "本级", FiscalYear: 2020,
		Date: events.NewDate(2020, 2, 5), Source: "青浦区财务核算系统", Voucher: "记-202002-0014",
		Body: events.Expenditure{Functional: "2019999", Economic: "30229",
			ExpenditureKind: events.ExpenditureBasic, Fund: events.FundGeneralBudget, Amount: 444500},
	}
	data, err := e.MarshalBinary()
	if err != nil {
		fmt.Println(err)
		return
	}
	// One Decoder for a whole replay: later events share the first one's
	// copy of the codes.
	var d events.Decoder
	var a, b events.Event
	if err := d.Decode(data, &a); err != nil {
		fmt.Println(err)
		return
	}
	if err := d.Decode(data, &b); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.ID, a.Body.(events.Expenditure).Economic, reflect.DeepEqual(a, b))
	// Output: qp2020-000071 30229 true
}
