package events_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/budgetledger/budgetledger/events"
)

// FuzzDecodeJSON: DecodeJSON and Validate never panic, every rejection is a
// *ValidationError that names a field, and an accepted event survives
// MarshalJSON -> DecodeJSON with the same content (binary form).
func FuzzDecodeJSON(f *testing.F) {
	lines := sampleLines(f)
	for _, i := range []int{0, 3, 4, 104, 136, len(lines) - 1} {
		f.Add(lines[i])
	}
	for _, s := range extraLines {
		f.Add([]byte(s))
	}
	for _, s := range []string{
		"", "{}", "[]", "null", `"x"`, "not json", baseExpenditure + "}",
		baseExpenditure + baseExpenditure,
		`{"id":"a","asset_acquired":{"amount":"1"}}`,
		`{"id":"a","expenditure":{"amount":1e3}}`,
		`{"id":"a","fiscal_year":"2020","expenditure":{}}`,
		`{"id":"a","appropriation":{},"expenditure":{}}`,
		`{"expenditure":{"functional":"2019999","economic":"30205","kind":"基本支出","fund":"一般公共预算","amount":12.5},"id":"q","ledger":"l","unit":"u","fiscal_year":2020,"date":"2020-02-29","source":"s","voucher":"v","memo":"a\nb"}`,
	} {
		f.Add([]byte(s))
	}
	c := events.DefaultCatalog()
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := events.DecodeJSON(data)
		if err == nil {
			err = events.Validate(&e, c)
		}
		if err != nil {
			var ve *events.ValidationError
			if !errors.As(err, &ve) || ve.Code == "" || ve.Field == "" {
				t.Fatalf("rejection %v (%T) is not a ValidationError with code and field", err, err)
			}
			return
		}
		bin, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("valid event does not encode: %v", err)
		}
		j, err := e.MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON: %v", err)
		}
		e2, err := events.DecodeJSON(j)
		if err != nil {
			t.Fatalf("DecodeJSON(MarshalJSON) = %v\nin:  %q\nout: %s", err, data, j)
		}
		if err := events.Validate(&e2, c); err != nil {
			t.Fatalf("Validate after round trip = %v\nin:  %q\nout: %s", err, data, j)
		}
		bin2, err := e2.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bin, bin2) {
			t.Fatalf("JSON round trip changed the event\nin:  %q\nout: %s\n got %+v\nwant %+v", data, j, e2, e)
		}
	})
}

// FuzzUnmarshalBinary: UnmarshalBinary never panics, and the binary form is
// canonical: whatever it accepts, MarshalBinary writes back byte for byte.
// A Decoder gives the same event or the same error, on a first decode (codes
// enter its table) and on a second (codes come from it).
func FuzzUnmarshalBinary(f *testing.F) {
	c := events.DefaultCatalog()
	lines := sampleLines(f)
	var seeds [][]byte
	for _, i := range []int{0, 3, 4, 104, 136} {
		seeds = append(seeds, lines[i])
	}
	for _, s := range extraLines {
		seeds = append(seeds, []byte(s))
	}
	for _, l := range seeds {
		e, err := events.DecodeJSON(l)
		if err != nil {
			f.Fatal(err)
		}
		if err := events.Validate(&e, c); err != nil {
			f.Fatal(err)
		}
		b, err := e.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		f.Add(b[:len(b)-1])
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{2})
	f.Fuzz(func(t *testing.T, data []byte) {
		var d events.Decoder
		sameAsUnmarshalBinary(t, &d, data)
		sameAsUnmarshalBinary(t, &d, data)
		var e events.Event
		err := e.UnmarshalBinary(data)
		v, ok := events.ViewAmount(data)
		if ok {
			if err != nil {
				t.Fatalf("ViewAmount reads what UnmarshalBinary rejects (%v): %x", err, data)
			}
			var counts [3]int
			if r := receptionOf(e.Body); r != nil {
				counts = [3]int{r.Batches, r.Visitors, r.ForeignVisitors}
			}
			if v.Date != e.Date || v.Amount != amountField(e.Body) || counts != [3]int{v.Batches, v.Visitors, v.ForeignVisitors} {
				t.Fatalf("ViewAmount: %+v; UnmarshalBinary: %+v", v, e)
			}
		}
		if err != nil {
			return
		}
		if d, err := events.BinaryDate(data); err != nil || d != e.Date {
			t.Fatalf("BinaryDate: %v, %v; the decoded event's date is %v", d, err, e.Date)
		}
		switch e.Body.(type) {
		case events.Appropriation, events.OtherIncome, events.Expenditure, events.Budget:
			if !ok {
				t.Fatalf("ViewAmount does not read a %T UnmarshalBinary reads: %x", e.Body, data)
			}
		}
		b, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded event does not encode: %v (%+v)", err, e)
		}
		if !bytes.Equal(b, data) {
			t.Fatalf("not canonical: UnmarshalBinary accepted\n%x\nbut MarshalBinary writes\n%x", data, b)
		}
	})
}

func receptionOf(b events.Body) *events.Reception {
	if x, ok := b.(events.Expenditure); ok {
		return x.Reception
	}
	return nil
}

// amountField is the Amount field of the bodies ViewAmount reads.
func amountField(b events.Body) events.Amount {
	switch x := b.(type) {
	case events.Appropriation:
		return x.Amount
	case events.OtherIncome:
		return x.Amount
	case events.Expenditure:
		return x.Amount
	case events.Budget:
		return x.Amount
	}
	return -1
}
