package events

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
)

// The binary form is how the log stores an event and what its content hash
// covers. It is canonical: two events are equal if and only if their binary
// forms are equal, which is what idempotency ("same id, same content")
// compares. Layout, version 1:
//
//	byte     version (1)
//	string   id, ledger, unit        (uvarint length + UTF-8 bytes each)
//	varint   fiscal year
//	varint   date (yyyymmdd)
//	string   source, voucher, memo
//	byte     body tag (see bodyTags)
//	...      body fields in declaration order: strings as above, enums as
//	         one byte, amounts as varint 分
//
// A new field or body means a new version byte; old versions stay readable.
const binaryVersion = 1

var errTruncated = errors.New("truncated event")

// body tags, stable on disk.
const (
	tagAppropriation        = 1
	tagOtherIncome          = 2
	tagExpenditure          = 3
	tagOpeningBalance       = 4
	tagNonFiscalSurplusUsed = 5
	tagSurplusDistribution  = 6
	tagBudget               = 7
	tagUnitRegistered       = 8
	// An expenditure that carries reception counts: the fields of
	// tagExpenditure, then batches, visitors and foreign visitors as
	// varints. Without counts an expenditure keeps tag 3, so each value has
	// exactly one encoding.
	tagExpenditureReception = 9
	tagAssetChanged         = 10
	tagLiabilityChanged     = 11
	tagProcurement          = 12
	tagPerformance          = 13
	// An opening balance with its 功能分类: the fields of tagOpeningBalance,
	// then the code. Without a code it keeps tag 4.
	tagOpeningFunctional = 14
	// An asset change with a unit price: the fields of tagAssetChanged, then
	// the price. Without one it keeps tag 10.
	tagAssetUnitPrice = 15
	// A reversal: the id reversed, the reason, then the restated body with
	// its own tag.
	tagReversal = 16
	// A year-end close: no fields.
	tagYearEndClosed   = 17
	tagOpeningAdjusted = 18
)

// AppendBinary appends the binary form of e to b.
func (e *Event) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, binaryVersion)
	b = appendString(b, e.ID)
	b = appendString(b, e.Ledger)
	b = appendString(b, e.Unit)
	b = binary.AppendVarint(b, int64(e.FiscalYear))
	b = binary.AppendVarint(b, int64(e.Date))
	b = appendString(b, e.Source)
	b = appendString(b, e.Voucher)
	b = appendString(b, e.Memo)
	b, err := appendBody(b, e.Body)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	return b, nil
}

// appendBody appends a body: its tag, then its fields.
func appendBody(b []byte, body Body) ([]byte, error) {
	switch x := body.(type) {
	case Appropriation:
		b = append(b, tagAppropriation, byte(x.Fund))
		b = appendString(b, x.Functional)
		b = binary.AppendVarint(b, int64(x.Amount))
	case OtherIncome:
		b = append(b, tagOtherIncome, byte(x.IncomeKind))
		b = appendString(b, x.Functional)
		b = binary.AppendVarint(b, int64(x.Amount))
	case Expenditure:
		tag := byte(tagExpenditure)
		if x.Reception != nil {
			tag = tagExpenditureReception
		}
		b = append(b, tag)
		b = appendString(b, x.Functional)
		b = appendString(b, x.Economic)
		b = append(b, byte(x.ExpenditureKind))
		b = appendString(b, x.Project)
		b = append(b, byte(x.Fund))
		b = binary.AppendVarint(b, int64(x.Amount))
		if r := x.Reception; r != nil {
			b = binary.AppendVarint(b, int64(r.Batches))
			b = binary.AppendVarint(b, int64(r.Visitors))
			b = binary.AppendVarint(b, int64(r.ForeignVisitors))
		}
	case Budget:
		b = append(b, tagBudget, byte(x.Stage), boolByte(x.Decrease))
		b = appendString(b, x.Functional)
		b = appendString(b, x.Economic)
		b = append(b, byte(x.ExpenditureKind))
		b = appendString(b, x.Project)
		b = append(b, byte(x.Fund))
		b = binary.AppendVarint(b, int64(x.Amount))
	case AssetChanged:
		tag := byte(tagAssetChanged)
		if x.UnitPrice != 0 {
			tag = tagAssetUnitPrice
		}
		b = append(b, tag, byte(x.Class), boolByte(x.Decrease))
		b = binary.AppendVarint(b, x.Quantity)
		b = binary.AppendVarint(b, int64(x.Amount))
		if x.UnitPrice != 0 {
			b = binary.AppendVarint(b, int64(x.UnitPrice))
		}
	case LiabilityChanged:
		b = append(b, tagLiabilityChanged, boolByte(x.Decrease))
		b = binary.AppendVarint(b, int64(x.Amount))
	case ProcurementContracted:
		b = append(b, tagProcurement, byte(x.Category), byte(x.Reserved), byte(x.Supplier))
		b = binary.AppendVarint(b, int64(x.Amount))
	case PerformanceEvaluated:
		b = append(b, tagPerformance)
		b = appendString(b, x.Project)
		b = binary.AppendVarint(b, int64(x.Score))
		b = append(b, byte(x.Grade))
		b = binary.AppendVarint(b, int64(x.ProblemsFound))
		b = binary.AppendVarint(b, int64(x.ProblemsFixed))
	case UnitRegistered:
		b = append(b, tagUnitRegistered)
		b = appendString(b, x.Name)
		b = appendString(b, x.Department)
		b = append(b, byte(x.UnitType))
	case OpeningBalance:
		tag := byte(tagOpeningBalance)
		if x.Functional != "" {
			tag = tagOpeningFunctional
		}
		b = append(b, tag, byte(x.Fund))
		b = binary.AppendVarint(b, int64(x.Amount))
		if x.Functional != "" {
			b = appendString(b, x.Functional)
		}
	case NonFiscalSurplusUsed:
		b = append(b, tagNonFiscalSurplusUsed)
		b = binary.AppendVarint(b, int64(x.Amount))
	case SurplusDistribution:
		b = append(b, tagSurplusDistribution)
		b = binary.AppendVarint(b, int64(x.Amount))
	case YearEndClosed:
		b = append(b, tagYearEndClosed)
	case OpeningAdjusted:
		b = append(b, tagOpeningAdjusted, byte(x.Fund), boolByte(x.Decrease))
		b = appendString(b, x.Functional)
		b = binary.AppendVarint(b, int64(x.Amount))
		b = appendString(b, x.Reason)
	case Reversal:
		if _, nested := x.Body.(Reversal); nested || x.Body == nil {
			return nil, fmt.Errorf("reversal of %T", x.Body)
		}
		b = append(b, tagReversal)
		b = appendString(b, x.EventID)
		b = appendString(b, x.Reason)
		return appendBody(b, x.Body)
	default:
		return nil, fmt.Errorf("body %T", body)
	}
	return b, nil
}

// MarshalBinary returns the binary form of e.
func (e Event) MarshalBinary() ([]byte, error) { return e.AppendBinary(make([]byte, 0, 128)) }

// UnmarshalBinary decodes the binary form into e. A failed decode leaves e
// untouched.
func (e *Event) UnmarshalBinary(data []byte) error { return decodeEvent(data, e, nil) }

// A Decoder decodes binary events exactly as Event.UnmarshalBinary does, for
// a reader that decodes many of them in a row (a replay of the log). It
// allocates far less, which is most of the cost of a replay once the garbage
// collector is counted: the strings that recur from event to event (ledger,
// unit, source, classification codes, project and unit names) are allocated
// once per Decoder and shared by every event that carries them. What is
// unique to an event (id, voucher, memo, a reversal's reason) is allocated
// for each event, as UnmarshalBinary does. The zero value is ready to use; a
// Decoder is not safe for concurrent use.
//
// The table stops growing at internMax strings of at most internMaxLen bytes
// each, so a log of ever new names (a careless or hostile publisher) costs a
// bounded amount of memory; past that, new strings are allocated per event.
type Decoder struct {
	strs map[string]string
	last [numFields]string // each field's string in the previous event
}

const (
	internMaxLen = 64
	internMax    = 4096
)

// The fields whose strings recur, each with its slot in Decoder.last.
const (
	fieldLedger = iota
	fieldUnit
	fieldSource
	fieldFunctional
	fieldEconomic
	fieldProject
	fieldUnitName
	fieldDepartment
	numFields
)

// Decode decodes the binary form data into e, with the same result and the
// same errors as e.UnmarshalBinary(data); a failed decode leaves e
// untouched. The event keeps no reference to data, which may be reused.
func (d *Decoder) Decode(data []byte, e *Event) error {
	if d.strs == nil {
		d.strs = make(map[string]string)
	}
	return decodeEvent(data, e, d)
}

// BinaryDate reads the date of an event from its binary form without
// decoding the rest: a fold that files events by date picks where an event
// goes before reading it. For data UnmarshalBinary accepts it returns that
// event's Date; other data may give an error or a date, and is rejected
// when decoded.
func BinaryDate(data []byte) (Date, error) {
	d := decoder{b: data}
	if v := d.byte(); v != binaryVersion {
		if d.err != nil {
			return 0, fmt.Errorf("event date: %w", d.err)
		}
		return 0, fmt.Errorf("event date: binary version %d, want %d", v, binaryVersion)
	}
	d.bytes() // id
	d.bytes() // ledger
	d.bytes() // unit
	d.varint()
	date := d.varint()
	if d.err != nil {
		return 0, fmt.Errorf("event date: %w", d.err)
	}
	return Date(date), nil
}

// AmountView is an event whose body's amount is its last field
// (appropriations, other incomes, expenditures and budgets: nearly every
// event of a ledger), read from its binary form without decoding it. It is
// what a fold that only adds amounts up needs, at a fraction of the cost
// of decoding: the slices point into the data read.
type AmountView struct {
	// Filing is the event's ledger, unit and fiscal year, as encoded.
	Filing []byte
	Date   Date
	// Head is the body's tag and its fields before the amount, as
	// encoded. The binary form is canonical, so two events have equal
	// Filing and Head exactly when their ledger, unit, fiscal year and
	// bodies are equal but for the amount and the reception counts.
	Head   []byte
	Amount Amount
	// The reception counts of an expenditure that has them (its Head
	// says so); zero otherwise.
	Batches, Visitors, ForeignVisitors int
}

// ViewAmount reads data as UnmarshalBinary would, without allocating. It
// is false for the binary form of any other body and for data that
// UnmarshalBinary rejects; when true, UnmarshalBinary accepts data and
// decodes the same date, amount and counts.
func ViewAmount(data []byte) (AmountView, bool) {
	var v AmountView
	d := decoder{b: data}
	at := func() int { return len(data) - len(d.b) }
	if d.byte() != binaryVersion {
		return v, false
	}
	d.bytes() // id
	filing := at()
	d.bytes() // ledger
	d.bytes() // unit
	d.varint()
	v.Filing = data[filing:at()]
	date := d.varint()
	if date != int64(int32(date)) {
		return v, false
	}
	v.Date = Date(date)
	d.bytes() // source
	d.bytes() // voucher
	d.bytes() // memo
	head := at()
	// Each case reads the fields before the amount as body does.
	tag := d.byte()
	switch tag {
	case tagAppropriation, tagOtherIncome:
		d.byte()
		d.bytes()
	case tagExpenditure, tagExpenditureReception:
		d.bytes()
		d.bytes()
		d.byte()
		d.bytes()
		d.byte()
	case tagBudget:
		d.byte()
		d.bool()
		d.bytes()
		d.bytes()
		d.byte()
		d.bytes()
		d.byte()
	default:
		return v, false
	}
	v.Head = data[head:at()]
	v.Amount = Amount(d.varint())
	if tag == tagExpenditureReception {
		v.Batches, v.Visitors, v.ForeignVisitors = int(d.varint()), int(d.varint()), int(d.varint())
	}
	if d.err != nil || len(d.b) != 0 {
		return AmountView{}, false
	}
	return v, true
}

// decodeEvent is UnmarshalBinary, interning recurring strings in t when it
// is not nil.
func decodeEvent(data []byte, e *Event, t *Decoder) error {
	d := decoder{b: data, t: t}
	if v := d.byte(); v != binaryVersion {
		if d.err != nil {
			return d.err
		}
		return fmt.Errorf("decode event: binary version %d, want %d", v, binaryVersion)
	}
	var out Event
	id := d.bytes()
	out.Ledger = d.code(fieldLedger)
	out.Unit = d.code(fieldUnit)
	out.FiscalYear = int(d.varint())
	date := d.varint()
	if date != int64(int32(date)) {
		d.err = fmt.Errorf("date %d out of range", date)
	}
	out.Date = Date(date)
	out.Source = d.code(fieldSource)
	voucher := d.bytes()
	memo := d.bytes()
	out.Body = d.body()
	if d.err != nil {
		return fmt.Errorf("decode event: %w", d.err)
	}
	if len(d.b) != 0 {
		return fmt.Errorf("decode event %s: %d trailing bytes", id, len(d.b))
	}
	out.ID, out.Voucher, out.Memo = ownStrings(id, voucher, memo)
	*e = out
	return nil
}

// ownStrings copies the three into one allocation instead of three. They
// belong to one event and are normally kept and dropped with it; a reader
// that keeps only the id keeps the voucher and memo bytes with it, which is
// cheaper than two more allocations for every event read.
func ownStrings(a, b, c []byte) (string, string, string) {
	var buf [128]byte
	s := string(append(append(append(buf[:0], a...), b...), c...))
	i, j := len(a), len(a)+len(b)
	return s[:i], s[i:j], s[j:]
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// body reads a body: its tag, then its fields.
func (d *decoder) body() Body {
	switch tag := d.byte(); tag {
	case tagAppropriation:
		return Appropriation{Fund: Fund(d.byte()), Functional: d.code(fieldFunctional), Amount: Amount(d.varint())}
	case tagOtherIncome:
		return OtherIncome{IncomeKind: IncomeKind(d.byte()), Functional: d.code(fieldFunctional), Amount: Amount(d.varint())}
	case tagExpenditure, tagExpenditureReception:
		x := Expenditure{
			Functional: d.code(fieldFunctional), Economic: d.code(fieldEconomic), ExpenditureKind: ExpenditureKind(d.byte()),
			Project: d.code(fieldProject), Fund: Fund(d.byte()), Amount: Amount(d.varint()),
		}
		if tag == tagExpenditureReception {
			x.Reception = &Reception{Batches: int(d.varint()), Visitors: int(d.varint()), ForeignVisitors: int(d.varint())}
		}
		return x
	case tagBudget:
		x := Budget{Stage: BudgetStage(d.byte()), Decrease: d.bool()}
		x.Functional, x.Economic = d.code(fieldFunctional), d.code(fieldEconomic)
		x.ExpenditureKind = ExpenditureKind(d.byte())
		x.Project = d.code(fieldProject)
		x.Fund = Fund(d.byte())
		x.Amount = Amount(d.varint())
		return x
	case tagUnitRegistered:
		return UnitRegistered{Name: d.code(fieldUnitName), Department: d.code(fieldDepartment), UnitType: UnitType(d.byte())}
	case tagAssetChanged, tagAssetUnitPrice:
		x := AssetChanged{Class: AssetClass(d.byte()), Decrease: d.bool()}
		x.Quantity = d.varint()
		x.Amount = Amount(d.varint())
		if tag == tagAssetUnitPrice {
			x.UnitPrice = Amount(d.varint())
			if x.UnitPrice == 0 && d.err == nil {
				d.err = errNonCanonical
			}
		}
		return x
	case tagLiabilityChanged:
		x := LiabilityChanged{Decrease: d.bool()}
		x.Amount = Amount(d.varint())
		return x
	case tagProcurement:
		x := ProcurementContracted{Category: ProcurementCategory(d.byte()), Reserved: Enterprise(d.byte()), Supplier: Enterprise(d.byte())}
		x.Amount = Amount(d.varint())
		return x
	case tagPerformance:
		x := PerformanceEvaluated{Project: d.code(fieldProject)}
		x.Score = int(d.varint())
		x.Grade = Grade(d.byte())
		x.ProblemsFound = int(d.varint())
		x.ProblemsFixed = int(d.varint())
		return x
	case tagOpeningBalance:
		return OpeningBalance{Fund: Fund(d.byte()), Amount: Amount(d.varint())}
	case tagOpeningFunctional:
		x := OpeningBalance{Fund: Fund(d.byte())}
		x.Amount = Amount(d.varint())
		x.Functional = d.code(fieldFunctional)
		if x.Functional == "" && d.err == nil {
			d.err = errNonCanonical
		}
		return x
	case tagNonFiscalSurplusUsed:
		return NonFiscalSurplusUsed{Amount: Amount(d.varint())}
	case tagSurplusDistribution:
		return SurplusDistribution{Amount: Amount(d.varint())}
	case tagYearEndClosed:
		return YearEndClosed{}
	case tagOpeningAdjusted:
		x := OpeningAdjusted{Fund: Fund(d.byte()), Decrease: d.bool()}
		x.Functional = d.code(fieldFunctional)
		x.Amount = Amount(d.varint())
		x.Reason = d.string()
		return x
	case tagReversal:
		x := Reversal{EventID: d.string(), Reason: d.string()}
		if len(d.b) > 0 && d.b[0] == tagReversal {
			d.err = fmt.Errorf("decode event: a reversal of a reversal")
			return nil
		}
		x.Body = d.body()
		return x
	default:
		if d.err == nil {
			d.err = fmt.Errorf("decode event: unknown body tag %d", tag)
		}
	}
	return nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads the binary form; the first error sticks and later reads
// return zero values, so callers check once at the end.
type decoder struct {
	b   []byte
	err error
	t   *Decoder // nil: intern nothing
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

// bool reads a byte that must be 0 or 1.
func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	if d.err == nil {
		d.err = errNonCanonical
	}
	return false
}

// varint reads a signed varint in its shortest encoding: the binary form is
// canonical, so a padded encoding of the same number is not the same event.
func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	// One byte (-64..63) is the common case, and always canonical.
	if len(d.b) > 0 && d.b[0] < 0x80 {
		u := d.b[0]
		d.b = d.b[1:]
		return int64(u>>1) ^ -int64(u&1)
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	if n != varintLen(uint64(v)<<1^uint64(v>>63)) {
		d.err = errNonCanonical
		return 0
	}
	d.b = d.b[n:]
	return v
}

var errNonCanonical = errors.New("non-canonical varint")

// varintLen is the length of the shortest uvarint encoding of u.
func varintLen(u uint64) int { return (bits.Len64(u|1) + 6) / 7 }

// bytes reads a string's bytes without copying them: they alias the input.
func (d *decoder) bytes() []byte {
	if d.err != nil {
		return nil
	}
	// A length under 128 is one byte, always canonical: nearly every field.
	if len(d.b) > 0 && d.b[0] < 0x80 {
		n := int(d.b[0])
		if n >= len(d.b) {
			d.fail()
			return nil
		}
		s := d.b[1 : 1+n]
		d.b = d.b[1+n:]
		return s
	}
	n, k := binary.Uvarint(d.b)
	if k <= 0 || n > uint64(len(d.b)-k) {
		d.fail()
		return nil
	}
	if k != varintLen(n) {
		d.err = errNonCanonical
		return nil
	}
	s := d.b[k : k+int(n)]
	d.b = d.b[k+int(n):]
	return s
}

func (d *decoder) string() string { return string(d.bytes()) }

// code reads the string of field f, which recurs across events (a name or
// a classification code), and returns the Decoder's shared copy of it. The
// previous event's value comes first: a ledger's events share ledger and
// source and often unit and codes, and comparing is cheaper than hashing.
func (d *decoder) code(f int) string {
	b := d.bytes()
	t := d.t
	if t == nil || len(b) == 0 || len(b) > internMaxLen {
		return string(b)
	}
	if s := t.last[f]; s == string(b) {
		return s
	}
	s, ok := t.strs[string(b)]
	if !ok {
		s = string(b)
		if len(t.strs) < internMax {
			t.strs[s] = s
		}
	}
	t.last[f] = s
	return s
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errTruncated
	}
}
