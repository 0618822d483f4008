// Package bench measures budgetledger end to end on a synthetic workload:
// ledgerd's ingest against the ceiling of the parts it is built on
// (JetStream and bbolt alone), replay and as-of statements on large logs,
// ledgerd's memory, and the same as-of question put to hledger and
// ledger-cli. cmd/ledgerbench runs it and prints one table.
package bench

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
)

// Workload describes the synthetic books: departments (one ledger each)
// with their budget units, posting over one fiscal year with the
// classification mix of the sample ledger.
type Workload struct {
	Departments int
	Units       int // budget units per department
	Year        int
	Seed        uint64
	// DuplicateRate is the share of publications that repeat an event
	// already published (a publisher's retry); InvalidRate the share of
	// events the ledger must reject.
	DuplicateRate float64
	InvalidRate   float64
}

// Generator makes the workload's events, deterministically from its seed.
type Generator struct {
	w Workload
	// vouchers are the bodies posted all year (income and spending);
	// others those a department records a few times a year (budgets,
	// asset and liability changes, procurement contracts).
	vouchers, others []events.Body
	ledgers          []string
	units            []string
	rng              *rand.Rand
	days             int
	n                int
}

// NewGenerator reads the sample ledger's bodies as templates, so that the
// mix of kinds, funds and 功能分类/经济分类 codes (and their weights) is the
// sample's. Vouchers are drawn 199 times in 200, the rest once: a year of
// a department has tens of budget and asset events, not thousands.
func NewGenerator(w Workload) (*Generator, error) {
	g := &Generator{w: w, rng: rand.New(rand.NewPCG(w.Seed, 0x6c656467))}
	sample, err := budgetledger.SampleEvents()
	if err != nil {
		return nil, err
	}
	for _, e := range sample {
		switch e.Body.Kind() {
		case events.KindAppropriation, events.KindOtherIncome, events.KindExpenditure:
			g.vouchers = append(g.vouchers, e.Body)
		case events.KindBudget, events.KindAssetChanged, events.KindLiabilityChanged, events.KindProcurement:
			g.others = append(g.others, e.Body)
		}
	}
	for d := range max(w.Departments, 1) {
		g.ledgers = append(g.ledgers, fmt.Sprintf("dept-%02d", d+1))
	}
	for u := range max(w.Units, 1) {
		g.units = append(g.units, fmt.Sprintf("单位%02d", u+1))
	}
	g.days = int(time.Date(w.Year+1, 1, 1, 0, 0, 0, 0, time.UTC).Sub(time.Date(w.Year, 1, 1, 0, 0, 0, 0, time.UTC)).Hours() / 24)
	return g, nil
}

// Ledgers names the workload's ledgers.
func (g *Generator) Ledgers() []string { return g.ledgers }

// Next returns the next distinct event. invalid reports an event the
// ledger must reject (dated outside its fiscal year).
func (g *Generator) Next() (e events.Event, invalid bool) {
	g.n++
	day := time.Date(g.w.Year, 1, 1+g.rng.IntN(g.days), 0, 0, 0, 0, time.UTC)
	e = events.Event{
		ID:         "e" + strconv.Itoa(g.n),
		Ledger:     g.ledgers[g.rng.IntN(len(g.ledgers))],
		Unit:       g.units[g.rng.IntN(len(g.units))],
		FiscalYear: g.w.Year,
		Date:       events.DateOf(day),
		Source:     "ledgerbench",
		Voucher:    "记-" + strconv.Itoa(g.n),
		Body:       g.body(),
	}
	if g.rng.Float64() < g.w.InvalidRate {
		e.Date = events.NewDate(g.w.Year+1, time.January, 5)
		invalid = true
	}
	return e, invalid
}

// body copies a template, with a new amount for what is posted often
// (vouchers) and the template's own for the rest (budgets, assets), whose
// amounts are tied to other fields.
func (g *Generator) body() events.Body {
	if g.rng.IntN(200) == 0 {
		return g.others[g.rng.IntN(len(g.others))]
	}
	amount := events.Amount(1 + g.rng.IntN(5_000_000)) // up to 50,000.00 元
	switch b := g.vouchers[g.rng.IntN(len(g.vouchers))].(type) {
	case events.Expenditure:
		b.Amount = amount
		return b
	case events.Appropriation:
		b.Amount = 4 * amount
		return b
	case events.OtherIncome:
		b.Amount = amount
		return b
	default:
		return b
	}
}

// Message is one publication: the event's bytes and id, and what the
// ledger must answer.
type Message struct {
	Ledger    string
	ID        string
	Data      []byte
	Duplicate bool // a repeat of an earlier message
	Invalid   bool
}

// Messages makes n publications in the given format ("json" or
// "protobuf"): distinct events, each repeated later with DuplicateRate.
func (g *Generator) Messages(n int, encode func(events.Event) ([]byte, error)) ([]Message, error) {
	out := make([]Message, 0, n)
	for len(out) < n {
		if len(out) > 0 && g.rng.Float64() < g.w.DuplicateRate {
			// A retry of a recent publication, as a publisher does after a
			// lost ack.
			m := out[max(0, len(out)-1-g.rng.IntN(1000))]
			if !m.Duplicate {
				m.Duplicate = true
				out = append(out, m)
				continue
			}
		}
		e, invalid := g.Next()
		b, err := encode(e)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", e.ID, err)
		}
		out = append(out, Message{Ledger: e.Ledger, ID: e.ID, Data: b, Invalid: invalid})
	}
	return out, nil
}

// EncodeJSON is the import format, one JSON object per event.
func EncodeJSON(e events.Event) ([]byte, error) { return e.MarshalJSON() }
