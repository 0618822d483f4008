package projections

import "github.com/budgetledger/budgetledger/events"

// effective turns every reversal (红字冲销) into the body it reverses with
// its amounts and counts negated, dated and filed as the reversal: a red
// entry. Every fold reads its events through it, so from the reversal's date
// on the original and its reversal cancel, and as of an earlier date the
// original still counts. The ledger has checked that the reversal restates
// its original exactly, in the same unit and fiscal year.
func effective(evs Events) Events {
	return func(yield func(events.Event) bool) {
		for e := range evs {
			if r, ok := e.Body.(events.Reversal); ok {
				if e.Body = negate(r.Body); e.Body == nil {
					continue
				}
			}
			if !yield(e) {
				return
			}
		}
	}
}

// negate returns b with its amount (and counts) of the opposite sign, or
// nil for a body without one: registrations and evaluations are corrected,
// not reversed.
func negate(b events.Body) events.Body {
	rest, s, ok := split(b)
	if !ok {
		return nil
	}
	return join(rest, s.neg())
}
