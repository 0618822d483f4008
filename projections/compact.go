package projections

import (
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
type Compactor struct {
	index map[string]int
	evs   []events.Event
	key   []byte
}

// NewCompactor returns an empty Compactor.
func NewCompactor() *Compactor {
	return &Compactor{index: map[string]int{}}
}

// Add folds one event (as recorded in the log) into the compaction.
func (c *Compactor) Add(e events.Event) {
	if r, ok := e.Body.(events.Reversal); ok {
		if e.Body = negate(r.Body); e.Body == nil {
			return
		}
	}
	key, sums, ok := additive(e.Body)
	if !ok {
		c.evs = append(c.evs, e)
		return
	}
	k := events.Event{Ledger: e.Ledger, Unit: e.Unit, FiscalYear: e.FiscalYear, Date: e.Date, Body: key}
	b, err := k.AppendBinary(c.key[:0])
	if err != nil {
		// Only a body the encoder does not know fails; keep it as it came.
		c.evs = append(c.evs, e)
		return
	}
	c.key = b
	if i, ok := c.index[string(b)]; ok {
		c.evs[i].Body = addSums(c.evs[i].Body, sums)
		return
	}
	c.index[string(b)] = len(c.evs)
	// The entry starts from the key, not from e's body, so it shares no
	// Reception with the caller's event and keeps no one event's reason. It
	// keeps the first event's id, so that a fold's error about it (an
	// unplaced code) names an event that can be looked up.
	k.ID, k.Body = e.ID, addSums(key, sums)
	c.evs = append(c.evs, k)
}

// Len is the number of events the compaction holds.
func (c *Compactor) Len() int { return len(c.evs) }

// Events returns a copy of the compaction, safe to fold while c goes on
// taking events.
func (c *Compactor) Events() []events.Event {
	out := make([]events.Event, len(c.evs))
	copy(out, c.evs)
	for i := range out {
		if x, ok := out[i].Body.(events.Expenditure); ok && x.Reception != nil {
			r := *x.Reception
			x.Reception = &r
			out[i].Body = x
		}
	}
	return out
}

// sums are the parts of a body that add up.
type sums struct {
	amount                             events.Amount
	batches, visitors, foreignVisitors int
}

// additive splits a body into its key (the body with everything that adds
// up zeroed, and identity dropped) and its sums; ok is false for a body
// that must not be merged.
func additive(b events.Body) (key events.Body, s sums, ok bool) {
	switch x := b.(type) {
	case events.Appropriation:
		s.amount, x.Amount = x.Amount, 0
		return x, s, true
	case events.OtherIncome:
		s.amount, x.Amount = x.Amount, 0
		return x, s, true
	case events.Expenditure:
		s.amount, x.Amount = x.Amount, 0
		if r := x.Reception; r != nil {
			s.batches, s.visitors, s.foreignVisitors = r.Batches, r.Visitors, r.ForeignVisitors
			x.Reception = &events.Reception{}
		}
		return x, s, true
	case events.Budget:
		s.amount, x.Amount = x.Amount, 0
		return x, s, true
	case events.OpeningBalance:
		s.amount, x.Amount = x.Amount, 0
		return x, s, true
	case events.NonFiscalSurplusUsed:
		s.amount, x.Amount = x.Amount, 0
		return x, s, true
	case events.SurplusDistribution:
		s.amount, x.Amount = x.Amount, 0
		return x, s, true
	case events.LiabilityChanged:
		s.amount, x.Amount = x.Amount, 0
		return x, s, true
	case events.ProcurementContracted:
		s.amount, x.Amount = x.Amount, 0
		return x, s, true
	case events.OpeningAdjusted:
		s.amount, x.Amount, x.Reason = x.Amount, 0, ""
		return x, s, true
	}
	return nil, s, false
}

// addSums returns b (a body additive accepts) with s added.
func addSums(b events.Body, s sums) events.Body {
	switch x := b.(type) {
	case events.Appropriation:
		x.Amount += s.amount
		return x
	case events.OtherIncome:
		x.Amount += s.amount
		return x
	case events.Expenditure:
		x.Amount += s.amount
		if r := x.Reception; r != nil {
			r.Batches += s.batches
			r.Visitors += s.visitors
			r.ForeignVisitors += s.foreignVisitors
		}
		return x
	case events.Budget:
		x.Amount += s.amount
		return x
	case events.OpeningBalance:
		x.Amount += s.amount
		return x
	case events.NonFiscalSurplusUsed:
		x.Amount += s.amount
		return x
	case events.SurplusDistribution:
		x.Amount += s.amount
		return x
	case events.LiabilityChanged:
		x.Amount += s.amount
		return x
	case events.ProcurementContracted:
		x.Amount += s.amount
		return x
	case events.OpeningAdjusted:
		x.Amount += s.amount
		return x
	}
	return b
}
