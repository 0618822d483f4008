package bench

import (
	"bytes"
	"testing"

	"github.com/budgetledger/budgetledger/events"
)

// The workload must be what the table says it is: valid events of the
// sample's mix, with the stated shares of repeats and invalid events, the
// same for the same seed.
func TestWorkload(t *testing.T) {
	w := Workload{Departments: 4, Units: 3, Year: 2025, Seed: 9, DuplicateRate: 0.01, InvalidRate: 0.001}
	g, err := NewGenerator(w)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200_000
	msgs, err := g.Messages(n, EncodeJSON)
	if err != nil {
		t.Fatal(err)
	}
	cat := events.DefaultCatalog()
	var dups, invalid int
	kinds := map[events.Kind]int{}
	units := map[string]bool{}
	for _, m := range msgs {
		e, err := events.DecodeJSON(m.Data)
		if err != nil {
			t.Fatalf("%s: %v", m.Data, err)
		}
		if e.ID != m.ID || e.Ledger != m.Ledger {
			t.Fatalf("message %s/%s carries event %s/%s", m.Ledger, m.ID, e.Ledger, e.ID)
		}
		err = events.Validate(&e, cat)
		if m.Invalid != (err != nil) {
			t.Fatalf("%s: invalid=%v but Validate says %v", m.Data, m.Invalid, err)
		}
		if m.Duplicate {
			dups++
			continue
		}
		if m.Invalid {
			invalid++
		}
		kinds[e.Body.Kind()]++
		units[e.Ledger+"/"+e.Unit] = true
	}
	if dups < n*8/1000 || dups > n*12/1000 {
		t.Errorf("%d repeats in %d messages, want about 1%%", dups, n)
	}
	if invalid < n/2000 || invalid > n*2/1000 {
		t.Errorf("%d invalid events in %d messages, want about 0.1%%", invalid, n)
	}
	if len(units) != 12 {
		t.Errorf("%d units posted to, want 4 departments × 3", len(units))
	}
	// The sample has 544 expenditures, 132 appropriations and 5 other
	// incomes among its vouchers.
	if x, a := kinds[events.KindExpenditure], kinds[events.KindAppropriation]; x < 3*a || x > 5*a {
		t.Errorf("%d expenditures against %d appropriations: not the sample's mix", x, a)
	}
	if kinds[events.KindBudget] == 0 || kinds[events.KindBudget] > n/100 {
		t.Errorf("%d budgets in %d events", kinds[events.KindBudget], n)
	}

	again, err := NewGenerator(w)
	if err != nil {
		t.Fatal(err)
	}
	msgs2, err := again.Messages(1000, EncodeJSON)
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgs2 {
		if !bytes.Equal(msgs[i].Data, msgs2[i].Data) {
			t.Fatalf("message %d differs for the same seed", i)
		}
	}
}
