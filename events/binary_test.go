package events_test

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/budgetledger/budgetledger/events"
)

// handEncode writes the version-1 layout exactly as binary.go's design
// comment specifies it, independently of AppendBinary.
func handEncode(e events.Event, body func(b []byte) []byte) []byte {
	str := func(b []byte, s string) []byte {
		return append(binary.AppendUvarint(b, uint64(len(s))), s...)
	}
	b := []byte{1}
	b = str(b, e.ID)
	b = str(b, e.Ledger)
	b = str(b, e.Unit)
	b = binary.AppendVarint(b, int64(e.FiscalYear))
	b = binary.AppendVarint(b, int64(e.Date))
	b = str(b, e.Source)
	b = str(b, e.Voucher)
	b = str(b, e.Memo)
	return body(b)
}

// TestBinaryLayout checks MarshalBinary against the documented layout, so
// that the stored form (and the hashes over it) cannot drift silently.
func TestBinaryLayout(t *testing.T) {
	e, err := ingest([]byte(baseProject), events.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	x := e.Body.(events.Expenditure)
	want := handEncode(e, func(b []byte) []byte {
		b = append(b, 3) // tagExpenditure
		b = append(binary.AppendUvarint(b, uint64(len(x.Functional))), x.Functional...)
		b = append(binary.AppendUvarint(b, uint64(len(x.Economic))), x.Economic...)
		b = append(b, byte(events.ExpenditureProject))
		b = append(binary.AppendUvarint(b, uint64(len(x.Project))), x.Project...)
		b = append(b, byte(events.FundGeneralBudget))
		return binary.AppendVarint(b, 58684900)
	})
	if got := mustBinary(t, e); !bytes.Equal(got, want) {
		t.Errorf("MarshalBinary:\n got %x\nwant %x", got, want)
	}

	// The tags and enum bytes of the other bodies.
	bodies := []struct {
		body events.Body
		tail []byte
	}{
		{events.Appropriation{Fund: events.FundStateCapital, Functional: "2019999", Amount: 1}, []byte{1, 3, 7, '2', '0', '1', '9', '9', '9', '9', 2}},
		{events.OtherIncome{IncomeKind: events.IncomeOther, Functional: "2019999", Amount: 1}, []byte{2, 5, 7, '2', '0', '1', '9', '9', '9', '9', 2}},
		{events.OpeningBalance{Fund: events.FundNonFiscal, Amount: 1}, []byte{4, 4, 2}},
		{events.NonFiscalSurplusUsed{Amount: 1}, []byte{5, 2}},
		{events.SurplusDistribution{Amount: 1}, []byte{6, 2}},
	}
	for _, bt := range bodies {
		e.Body = bt.body
		want := handEncode(e, func(b []byte) []byte { return append(b, bt.tail...) })
		if got := mustBinary(t, e); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", bt.body.Kind(), got, want)
		}
	}
}

func TestAppendBinaryAppends(t *testing.T) {
	e, err := ingest([]byte(baseExpenditure), events.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	prefix := []byte("log-header")
	got, err := e.AppendBinary(bytes.Clone(prefix))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(got, prefix) || !bytes.Equal(got[len(prefix):], mustBinary(t, e)) {
		t.Errorf("AppendBinary = %x", got)
	}
}

func TestMarshalBinaryNoBody(t *testing.T) {
	e := events.Event{ID: "x"}
	if b, err := e.MarshalBinary(); err == nil {
		t.Errorf("MarshalBinary without body = %x, want an error", b)
	}
}

// TestUnmarshalBinaryRejects: every proper prefix of a valid form is
// truncated; a wrong version, an unknown tag and trailing bytes are errors;
// and a failed decode leaves the destination untouched.
func TestUnmarshalBinaryRejects(t *testing.T) {
	c := events.DefaultCatalog()
	var forms [][]byte
	for _, l := range append([]string{baseExpenditure, baseProject, baseAppropriation, baseOtherIncome, baseOpening, baseSurplus}, extraLines...) {
		e, err := ingest([]byte(l), c)
		if err != nil {
			t.Fatal(err)
		}
		forms = append(forms, mustBinary(t, e))
	}
	sentinel := events.Event{ID: "untouched"}
	check := func(name string, data []byte) {
		t.Helper()
		e := sentinel
		if err := e.UnmarshalBinary(data); err == nil {
			t.Errorf("%s: UnmarshalBinary(%x) succeeded: %+v", name, data, e)
		} else if !reflect.DeepEqual(e, sentinel) {
			t.Errorf("%s: failed UnmarshalBinary changed the event to %+v", name, e)
		}
	}
	check("nil", nil)
	for _, b := range forms {
		for n := range len(b) {
			check("truncated", b[:n])
		}
		check("trailing byte", append(bytes.Clone(b), 0))
		for _, v := range []byte{0, 2, 255} {
			bad := bytes.Clone(b)
			bad[0] = v
			check("version", bad)
		}
	}
	// The tag of a surplus body sits just before its one-byte amount varint.
	e := events.Event{ID: "t", Body: events.SurplusDistribution{Amount: 1}}
	b := mustBinary(t, e)
	for _, tag := range []byte{0, 7, 255} {
		bad := bytes.Clone(b)
		bad[len(bad)-2] = tag
		check("unknown tag", bad)
	}
}

// TestUnmarshalBinaryRejectsNonCanonical: the binary form is documented as
// canonical (equal events iff equal bytes), so the decoder must accept only
// what MarshalBinary writes. An overlong varint or a date that does not fit
// Date decodes to an event whose MarshalBinary differs from the input.
func TestUnmarshalBinaryRejectsNonCanonical(t *testing.T) {
	e, err := ingest([]byte(baseSurplus), events.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	good := mustBinary(t, e)
	tests := []struct {
		name string
		data []byte
	}{
		// id length 3 ("x-2") written as the two-byte uvarint 0x83 0x00.
		{"overlong id length", append(append([]byte{1, 0x83, 0x00}, good[2:5]...), good[5:]...)},
		// amount 100 分 written with a redundant continuation byte.
		{"overlong amount", func() []byte {
			v := binary.AppendVarint(nil, 100) // 0xc8 0x01
			b := bytes.Clone(good[:len(good)-len(v)])
			return append(b, v[0], v[1]|0x80, 0x00)
		}()},
		// date 2020-12-31 plus 2^32: wraps to the same int32 Date.
		{"date beyond int32", func() []byte {
			b := []byte{1}
			for _, s := range []string{e.ID, e.Ledger, e.Unit} {
				b = append(binary.AppendUvarint(b, uint64(len(s))), s...)
			}
			b = binary.AppendVarint(b, int64(e.FiscalYear))
			b = binary.AppendVarint(b, int64(e.Date)+1<<32)
			for _, s := range []string{e.Source, e.Voucher, e.Memo} {
				b = append(binary.AppendUvarint(b, uint64(len(s))), s...)
			}
			return append(b, 6, 0xc8, 0x01) // surplus_distribution, 100 分
		}()},
	}
	for _, tt := range tests {
		var got events.Event
		err := got.UnmarshalBinary(tt.data)
		if err != nil {
			continue // rejected: fine
		}
		if re := mustBinary(t, got); !bytes.Equal(re, tt.data) {
			t.Errorf("%s: UnmarshalBinary(%x) accepted a non-canonical form of %x (event %s, date %d)",
				tt.name, tt.data, re, got.ID, got.Date)
		}
	}
}
