package projections

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/budgetledger/budgetledger/events"
)

// CompactVersion names the rules of Compactor. A stored compaction made
// under other rules (or by folds that read other fields) must be rebuilt
// from the log, not used: bump it whenever Compactor or a fold changes which
// fields of an event matter.
const CompactVersion = "compact-1"

// Compactor folds events into the smallest set of events every statement
// folds to the same figures: events that differ only in identity (id,
// source, voucher, memo, a reversal's target and reason) and in what adds
// up (amounts, reception counts) become one event carrying the sums.
//
// It is what makes a statement as of any date cheap on a long log: a
// checkpoint keeps the compaction of the log up to a sequence, and a query
// folds that (thousands of events per unit and day at most) plus the few
// events recorded since, instead of every event ever recorded. The date
// stays part of the key, so as-of filtering is unchanged; reversals are
// turned into their red entries first, as every fold does.
//
// Bodies whose figures do not add up are kept one by one: registrations,
// evaluations, closes, and asset changes (a 50万 line depends on each
// item's price, which a sum of two purchases would lose).
//
// # The index
//
// A merged entry is found by a key made of where the event is filed
// (ledger, unit, fiscal year, date) and its body with the sums zeroed, the
// body's own struct: one Go map per kind of body, so that a key is a plain
// comparable value, built on the stack, hashed and compared by the map
// without being encoded or boxed. Because the key is the whole body, a
// field added to a body type is part of the key without anyone remembering
// to add it. Strings an events.Decoder interned compare by pointer first.
//
// An earlier index (the key's binary form, hashed to 64 bits, verified
// against a copy of every key) cost three cache misses and an encoding per
// event; with this one, ledgerd's first start on 1M events went from about
// 1.3 s to 1.0 s (2 cores). A first fold now goes through AddBinary, whose
// memo of encoded keys spares it decoding most events as well.
type Compactor struct {
	entries []entry
	indexed int // entries[:indexed] are in the index (see Load)

	// encoded finds the entry of an event AddBinary read, by the encoded
	// form of its filing, date and body without the amount: a memo in
	// front of the index, filled from it (see AddBinary). What AddBinary
	// adds stays in the memo's slots, and Events adds it to the entries.
	encoded memo
	scratch []byte
	// deferred lists the entries AddView made for the first event of a
	// memo key while no index of those kinds had been used (indexUsed
	// false): the memo alone finds them, so they go into the index only
	// when something else must find them (indexDeferred). A first fold
	// leaves most of its days' entries out of the index for good, which
	// spares it a map insert (and the map's memory) per key.
	deferred  []int32
	indexUsed bool
	// sums holds each entry's sums (zero for an entry kept whole), apart
	// from the entries: merging touches only these 40 bytes, and a first
	// fold's entries, which it touches once, stay out of the caches.
	sums []sums

	appropriations index[events.Appropriation]
	otherIncomes   index[events.OtherIncome]
	expenditures   index[events.Expenditure]
	budgets        index[events.Budget]
	openings       index[events.OpeningBalance]
	surplusUsed    index[events.NonFiscalSurplusUsed]
	distributions  index[events.SurplusDistribution]
	liabilities    index[events.LiabilityChanged]
	procurements   index[events.ProcurementContracted]
	adjustments    index[events.OpeningAdjusted]
}

// filed is where an event is filed: the part of a merge key every kind
// shares.
type filed struct {
	ledger, unit string
	year         int
	date         events.Date
}

// key is a merge key: where the event is filed and its body with the sums
// (and for an expenditure, its Reception) zeroed.
type key[B comparable] struct {
	filed
	body B
}

// index finds the merged entry of a key; nil until the first event of its
// kind.
type index[B comparable] map[key[B]]int32

// entry is one event of the compaction. A merged entry keeps its body
// with the sums zeroed and the sums beside it, in Compactor.sums, so that
// merging an event adds numbers instead of rebuilding (and boxing) a body;
// Events joins them.
type entry struct {
	e      events.Event
	merged bool
}

// NewCompactor returns an empty Compactor.
func NewCompactor() *Compactor {
	return &Compactor{}
}

// merge adds s to the entry of (e's filing, rest), making the entry if it
// is the first. With at >= 0 it indexes entry at (an event Load kept
// whole) instead: the entry takes the split form, or, if an earlier entry
// has its key (Load was given events that are not a compaction), stays
// whole; a whole entry counts in every fold as the event it is.
func merge[B interface {
	comparable
	events.Body
}](c *Compactor, ix *index[B], e *events.Event, rest B, s sums, at int32) int32 {
	k := key[B]{filed{e.Ledger, e.Unit, e.FiscalYear, e.Date}, rest}
	if i, ok := (*ix)[k]; ok {
		if at < 0 {
			c.sums[i] = c.sums[i].plus(s)
		}
		return i
	}
	if at >= 0 {
		put(ix, k.filed, rest, at)
		c.entries[at], c.sums[at] = mergedEntry(e, rest), s
		return at
	}
	i := c.appendMerged(e, rest, s)
	put(ix, k.filed, rest, i)
	return i
}

// mergedEntry is the entry of a key whose first event is e, rest its body
// with the sums zeroed. It is made from the key, so it shares no Reception
// with the caller's event and keeps no one event's reason. It keeps the
// first event's id, so that a fold's error about it (an unplaced code)
// names an event that can be looked up.
func mergedEntry(e *events.Event, rest events.Body) entry {
	return entry{
		e:      events.Event{ID: e.ID, Ledger: e.Ledger, Unit: e.Unit, FiscalYear: e.FiscalYear, Date: e.Date, Body: rest},
		merged: true,
	}
}

// appendMerged appends a new merged entry and returns its number.
func (c *Compactor) appendMerged(e *events.Event, rest events.Body, s sums) int32 {
	c.entries = append(c.entries, mergedEntry(e, rest))
	c.sums = append(c.sums, s)
	return int32(len(c.entries) - 1)
}

// Add folds one event (as recorded in the log) into the compaction.
func (c *Compactor) Add(e events.Event) {
	c.catchUp()
	c.add(&e, -1)
}

// AddBinary is Add for an event in its binary form (events.Event's
// MarshalBinary), dated date instead of its own date (the period it is
// compacted into); d decodes it when it must be decoded. It returns the
// error of an event that does not decode, and adds nothing then.
//
// Most events are added without being decoded. An appropriation, other
// income, expenditure or budget is read as an events.AmountView: its
// filing, the date and its body up to the amount are the key of a memo of
// the entries such events went to, and a known key only adds the amount
// (and reception counts) to its entry. Any other event, and the first of
// each key, is decoded and added as Add would, and the memo learns the
// entry. The memo is right because two events with one such key are equal
// but for identity, amount and counts (the binary form is canonical), so
// Add puts them in one entry; it is what makes a first fold of a long log
// cost a few hundred nanoseconds an event instead of decoding every event
// (half a microsecond) and finding its entry by its fields.
func (c *Compactor) AddBinary(data []byte, date events.Date, d *events.Decoder) error {
	v, ok := events.ViewAmount(data)
	return c.AddView(v, ok, data, date, d)
}

// AddView is AddBinary for a caller that has read data with
// events.ViewAmount already (v, ok are what it returned).
func (c *Compactor) AddView(v events.AmountView, ok bool, data []byte, date events.Date, d *events.Decoder) error {
	if !ok {
		var e events.Event
		if err := d.Decode(data, &e); err != nil {
			return err
		}
		e.Date = date
		c.Add(e)
		return nil
	}
	k := append(c.scratch[:0], v.Filing...)
	k = binary.AppendVarint(k, int64(date))
	k = append(k, v.Head...)
	c.scratch = k
	add := sums{amount: v.Amount, batches: v.Batches, visitors: v.Visitors, foreignVisitors: v.ForeignVisitors}
	tag := memoTag(k)
	if m := c.encoded.find(k, tag); m != nil {
		m.add = m.add.plus(add)
		return nil
	}
	var e events.Event
	if err := d.Decode(data, &e); err != nil {
		return err // cannot be: ViewAmount read it
	}
	e.Date = date
	var i int32
	if c.indexUsed {
		c.catchUp()
		i = c.add(&e, -1)
	} else {
		// Only the memo has ever found an entry of these kinds, so no
		// entry has this key (the memo's key and the index's are equal
		// exactly when the events' are): a new one is made without
		// looking.
		rest, s, _ := split(e.Body)
		i = c.appendMerged(&e, rest, s)
		c.deferred = append(c.deferred, i)
	}
	c.encoded.insert(k, tag, i)
	return nil
}

// indexDeferred puts the entries AddView deferred into the index, before
// the index is first used for the kinds AddView reads, and marks it used.
func (c *Compactor) indexDeferred() {
	c.indexUsed = true
	for _, i := range c.deferred {
		e := &c.entries[i].e
		f := filed{e.Ledger, e.Unit, e.FiscalYear, e.Date}
		switch x := e.Body.(type) {
		case events.Appropriation:
			put(&c.appropriations, f, x, i)
		case events.OtherIncome:
			put(&c.otherIncomes, f, x, i)
		case events.Expenditure:
			put(&c.expenditures, f, x, i)
		case events.Budget:
			put(&c.budgets, f, x, i)
		default:
			panic(fmt.Sprintf("projections: AddView deferred a %T", x))
		}
	}
	c.deferred = nil
}

func put[B comparable](ix *index[B], f filed, b B, i int32) {
	if *ix == nil {
		*ix = index[B]{}
	}
	(*ix)[key[B]{f, b}] = i
}

// SettleBinary adds into the entries what AddBinary keeps in its memo,
// and frees the memo: a long log's memo is tens of megabytes that only
// its first fold uses. A later AddBinary starts a new one.
func (c *Compactor) SettleBinary() {
	for m := range c.encoded.all {
		c.sums[m.entry] = c.sums[m.entry].plus(m.add)
	}
	c.encoded = memo{}
	// The deferred entries are in no memo now: the next event of their
	// keys must find them in the index.
	c.indexUsed = true
}

// Load appends an event of a compaction made before (one of a stored
// checkpoint's, as Events returned them) without looking up its key: a
// restart loads hundreds of thousands, and most of the periods they fill
// never take another event. The events Load took are indexed when an Add
// first needs them. Given events that are not a compaction (two with one
// key), the Compactor stays right but holds more events.
func (c *Compactor) Load(e events.Event) {
	c.indexUsed = true // the memo knows nothing of e
	c.entries = append(c.entries, entry{e: e})
	c.sums = append(c.sums, sums{})
}

// catchUp indexes the entries Load appended.
func (c *Compactor) catchUp() {
	for ; c.indexed < len(c.entries); c.indexed++ {
		if !c.entries[c.indexed].merged {
			e := c.entries[c.indexed].e
			c.add(&e, int32(c.indexed))
		}
	}
}

// add is Add, or with at >= 0 the indexing of entry at (see merge). It
// returns the entry the event went to, or -1 for none.
func (c *Compactor) add(e *events.Event, at int32) int32 {
	if r, ok := e.Body.(events.Reversal); ok {
		if e.Body = negate(r.Body); e.Body == nil {
			return -1 // a loaded one stays as it is: folds skip it alike
		}
	}
	switch e.Body.(type) {
	case events.Appropriation, events.OtherIncome, events.Expenditure, events.Budget:
		if !c.indexUsed || len(c.deferred) > 0 {
			c.indexDeferred()
		}
	}
	// Each case is split's for its kind, without boxing the rest.
	switch x := e.Body.(type) {
	case events.Appropriation:
		rest, s := splitAppropriation(x)
		return merge(c, &c.appropriations, e, rest, s, at)
	case events.OtherIncome:
		rest, s := splitOtherIncome(x)
		return merge(c, &c.otherIncomes, e, rest, s, at)
	case events.Expenditure:
		rest, s := splitExpenditure(x)
		return merge(c, &c.expenditures, e, rest, s, at)
	case events.Budget:
		rest, s := splitBudget(x)
		return merge(c, &c.budgets, e, rest, s, at)
	case events.OpeningBalance:
		rest, s := splitOpeningBalance(x)
		return merge(c, &c.openings, e, rest, s, at)
	case events.NonFiscalSurplusUsed:
		rest, s := splitNonFiscalSurplusUsed(x)
		return merge(c, &c.surplusUsed, e, rest, s, at)
	case events.SurplusDistribution:
		rest, s := splitSurplusDistribution(x)
		return merge(c, &c.distributions, e, rest, s, at)
	case events.LiabilityChanged:
		rest, s := splitLiabilityChanged(x)
		return merge(c, &c.liabilities, e, rest, s, at)
	case events.ProcurementContracted:
		rest, s := splitProcurementContracted(x)
		return merge(c, &c.procurements, e, rest, s, at)
	case events.OpeningAdjusted:
		rest, s := splitOpeningAdjusted(x)
		rest.Reason = "" // one adjustment's reason is not the sum's
		return merge(c, &c.adjustments, e, rest, s, at)
	default:
		// Kept one by one: registrations, evaluations and closes have no
		// sums, and an asset change's 50万 line depends on each item's own
		// price.
		if at >= 0 {
			return at
		}
		c.entries = append(c.entries, entry{e: *e})
		c.sums = append(c.sums, sums{})
		return int32(len(c.entries) - 1)
	}
}

// Len is the number of events the compaction holds.
func (c *Compactor) Len() int { return len(c.entries) }

// Events returns the compaction as events, safe to fold while c goes on
// taking events: every merged body is made anew from its sums.
func (c *Compactor) Events() []events.Event {
	total := c.sums
	if c.encoded.n > 0 {
		total = slices.Clone(c.sums)
		for m := range c.encoded.all {
			total[m.entry] = total[m.entry].plus(m.add)
		}
	}
	out := make([]events.Event, len(c.entries))
	for i, en := range c.entries {
		out[i] = en.e
		if en.merged {
			out[i].Body = join(en.e.Body, total[i])
		}
	}
	return out
}

// sums are the parts of a body that add up: its amount and its counts.
type sums struct {
	amount                             events.Amount
	quantity                           int64
	batches, visitors, foreignVisitors int
}

func (s sums) plus(o sums) sums {
	return sums{s.amount + o.amount, s.quantity + o.quantity, s.batches + o.batches, s.visitors + o.visitors, s.foreignVisitors + o.foreignVisitors}
}

func (s sums) neg() sums {
	return sums{-s.amount, -s.quantity, -s.batches, -s.visitors, -s.foreignVisitors}
}

// split separates a body into what adds up and the rest (the body with its
// sums zeroed); ok is false for a body without an amount (registrations,
// evaluations, closes). It and the split functions below are the one place
// that knows each body's sums: red entries and the compaction are both
// made from them.
func split(b events.Body) (rest events.Body, s sums, ok bool) {
	switch x := b.(type) {
	case events.Appropriation:
		rest, s = splitAppropriation(x)
	case events.OtherIncome:
		rest, s = splitOtherIncome(x)
	case events.Expenditure:
		rest, s = splitExpenditure(x)
	case events.Budget:
		rest, s = splitBudget(x)
	case events.OpeningBalance:
		rest, s = splitOpeningBalance(x)
	case events.NonFiscalSurplusUsed:
		rest, s = splitNonFiscalSurplusUsed(x)
	case events.SurplusDistribution:
		rest, s = splitSurplusDistribution(x)
	case events.AssetChanged:
		s.amount, s.quantity, x.Amount, x.Quantity = x.Amount, x.Quantity, 0, 0
		rest = x
	case events.LiabilityChanged:
		rest, s = splitLiabilityChanged(x)
	case events.ProcurementContracted:
		rest, s = splitProcurementContracted(x)
	case events.OpeningAdjusted:
		rest, s = splitOpeningAdjusted(x)
	default:
		return b, s, false
	}
	return rest, s, true
}

// zeroAmount takes a body's amount out of it, for the bodies whose one
// sum is their amount.
func zeroAmount(a *events.Amount) sums {
	s := sums{amount: *a}
	*a = 0
	return s
}

func splitAppropriation(x events.Appropriation) (events.Appropriation, sums) {
	s := zeroAmount(&x.Amount)
	return x, s
}

func splitOtherIncome(x events.OtherIncome) (events.OtherIncome, sums) {
	s := zeroAmount(&x.Amount)
	return x, s
}

func splitBudget(x events.Budget) (events.Budget, sums) {
	s := zeroAmount(&x.Amount)
	return x, s
}

func splitOpeningBalance(x events.OpeningBalance) (events.OpeningBalance, sums) {
	s := zeroAmount(&x.Amount)
	return x, s
}

func splitNonFiscalSurplusUsed(x events.NonFiscalSurplusUsed) (events.NonFiscalSurplusUsed, sums) {
	s := zeroAmount(&x.Amount)
	return x, s
}

func splitSurplusDistribution(x events.SurplusDistribution) (events.SurplusDistribution, sums) {
	s := zeroAmount(&x.Amount)
	return x, s
}

func splitLiabilityChanged(x events.LiabilityChanged) (events.LiabilityChanged, sums) {
	s := zeroAmount(&x.Amount)
	return x, s
}

func splitProcurementContracted(x events.ProcurementContracted) (events.ProcurementContracted, sums) {
	s := zeroAmount(&x.Amount)
	return x, s
}

func splitOpeningAdjusted(x events.OpeningAdjusted) (events.OpeningAdjusted, sums) {
	s := zeroAmount(&x.Amount)
	return x, s
}

// received stands for "has a Reception" in a split expenditure, so that
// two expenditures' keys compare equal whatever their Reception's address.
// join replaces it, so it never reaches a fold.
var received = &events.Reception{}

func splitExpenditure(x events.Expenditure) (events.Expenditure, sums) {
	s := sums{amount: x.Amount}
	x.Amount = 0
	if r := x.Reception; r != nil {
		s.batches, s.visitors, s.foreignVisitors = r.Batches, r.Visitors, r.ForeignVisitors
		x.Reception = received
	}
	return x, s
}

// join puts sums s into rest (a body split returned); a Reception is new,
// never shared with the body rest came from.
func join(rest events.Body, s sums) events.Body {
	switch x := rest.(type) {
	case events.Appropriation:
		x.Amount = s.amount
		return x
	case events.OtherIncome:
		x.Amount = s.amount
		return x
	case events.Expenditure:
		x.Amount = s.amount
		if x.Reception != nil {
			x.Reception = &events.Reception{Batches: s.batches, Visitors: s.visitors, ForeignVisitors: s.foreignVisitors}
		}
		return x
	case events.Budget:
		x.Amount = s.amount
		return x
	case events.OpeningBalance:
		x.Amount = s.amount
		return x
	case events.NonFiscalSurplusUsed:
		x.Amount = s.amount
		return x
	case events.SurplusDistribution:
		x.Amount = s.amount
		return x
	case events.AssetChanged:
		x.Amount, x.Quantity = s.amount, s.quantity
		return x
	case events.LiabilityChanged:
		x.Amount = s.amount
		return x
	case events.ProcurementContracted:
		x.Amount = s.amount
		return x
	case events.OpeningAdjusted:
		x.Amount = s.amount
		return x
	}
	return rest
}
