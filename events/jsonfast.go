package events

import "unicode/utf8"

// The strict decoder (json.Unmarshal by reflection, then checkKeys walking
// the line a second time) costs about 10 µs and 47 allocations an event,
// the largest CPU cost of ingest. Nearly every line a publisher sends is in
// one plain form: exact keys, each once, strings without escapes, whole
// numbers where whole numbers belong. decodeJSONFast reads that form in a
// single pass into the same jsonEvent and finishes as the strict decoder
// does; at the first thing outside it, it gives up and DecodeJSON runs the
// strict decoder on the line, so that every rejection keeps its exact code,
// message and envelope.
//
// The invariant: whenever decodeJSONFast handles a line, json.Unmarshal
// would have succeeded on it, checkKeys would have found nothing, and
// jsonEvent holds exactly what Unmarshal would have put there. It gives up
// on:
//   - a backslash escape, a control character or invalid UTF-8 in a string
//     (Unmarshal rewrites or rejects these);
//   - an unknown key, a key in another case, a repeated key, a reversal
//     inside a reversal (checkKeys rules, and Unmarshal's last-one-wins);
//   - null, true, false, an array, or a value of the wrong JSON type
//     anywhere (Unmarshal ignores null and reports type errors);
//   - a whole-number field that is not a plain integer of at most 9 digits
//     (18 for an int64): no fraction, exponent or leading zero;
//   - an amount that is neither a string nor a JSON number;
//   - year_end_closed other than {} with optional whitespace;
//   - anything before or after the object but JSON whitespace, and any
//     syntax error.
// The differential test and FuzzDecodeJSONFast hold it to this.

// fastScanner reads one line. The line is copied into a single string and
// every field is a substring of it: one allocation instead of one a field,
// and the fields of an event are most of its line anyway.
type fastScanner struct {
	s string
	i int
}

// decodeJSONFast is DecodeJSON for the plain form. handled is false when
// the line is not in that form; then e and err mean nothing.
func decodeJSONFast(data []byte) (e Event, handled bool, err error) {
	s := fastScanner{s: string(data)}
	var j jsonEvent
	var sc fastBodies
	s.ws()
	seen, ok := s.event(&j, &sc)
	if !ok {
		return Event{}, false, nil
	}
	if s.ws(); s.i != len(s.s) {
		return Event{}, false, nil
	}
	// From here on exactly as decodeJSONStrict after Unmarshal and checkKeys.
	e = Event{
		ID: j.ID, Ledger: j.Ledger, Unit: j.Unit, FiscalYear: j.FiscalYear,
		Source: j.Source, Voucher: j.Voucher, Memo: j.Memo,
	}
	if j.Date != "" {
		d, err := ParseDate(j.Date)
		if err != nil {
			return e, true, invalid(CodeInvalidDate, "date", j.Date, "a real calendar date as YYYY-MM-DD")
		}
		e.Date = d
	}
	// The bodies stay out of j: escape analysis does not tell j's fields
	// apart, and the strings of j escape, which would take sc with them.
	bodies := sc.bodies(seen)
	body, err := bodies.decode()
	if err != nil {
		return e, true, err
	}
	e.Body = body
	return e, true, nil
}

// ws skips JSON whitespace only. A line with any other space around it,
// which the strict decoder's bytes.TrimSpace strips, goes to that decoder.
func (s *fastScanner) ws() {
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// open reads the { of an object.
func (s *fastScanner) open() bool {
	if s.i < len(s.s) && s.s[s.i] == '{' {
		s.i++
		return true
	}
	return false
}

// member reads up to the value of the next member of an object: the comma
// before it unless it is the first, its key and the colon. done reports
// the closing brace instead.
func (s *fastScanner) member(first bool) (key string, done, ok bool) {
	s.ws()
	if s.i >= len(s.s) {
		return "", false, false
	}
	switch c := s.s[s.i]; {
	case c == '}':
		s.i++
		return "", true, true
	case !first:
		if c != ',' {
			return "", false, false
		}
		s.i++
		s.ws()
	}
	key, ok = s.key()
	if !ok {
		return "", false, false
	}
	s.ws()
	if s.i >= len(s.s) || s.s[s.i] != ':' {
		return "", false, false
	}
	s.i++
	s.ws()
	return key, false, true
}

// str reads a string that needs no unquoting: no escapes, no control
// characters, valid UTF-8. Its value is then its bytes as they stand.
func (s *fastScanner) str() (string, bool) {
	if s.i >= len(s.s) || s.s[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	for i := start; i < len(s.s); {
		switch c := s.s[i]; {
		case c == '"':
			s.i = i + 1
			return s.s[start:i], true
		case c < 0x20 || c == '\\':
			return "", false
		case c < utf8.RuneSelf:
			i++
		case (0xe1 <= c && c <= 0xec || c == 0xee || c == 0xef) && i+2 < len(s.s) &&
			s.s[i+1]&0xc0 == 0x80 && s.s[i+2]&0xc0 == 0x80:
			// Most text is Chinese, three bytes a character; with these
			// leads any two continuation bytes are valid (no overlong
			// form, no surrogate), which spares the general decoding.
			i += 3
		default:
			r, size := utf8.DecodeRuneInString(s.s[i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			i += size
		}
	}
	return "", false
}

// key reads a key. It need not be checked as str checks values: a key
// taken must equal one of the format's, which are plain ASCII, so
// anything else fails the match.
func (s *fastScanner) key() (string, bool) {
	if s.i >= len(s.s) || s.s[s.i] != '"' {
		return "", false
	}
	start := s.i + 1
	for i := start; i < len(s.s); i++ {
		if s.s[i] == '"' {
			s.i = i + 1
			return s.s[start:i], true
		}
	}
	return "", false
}

// integer reads a plain JSON integer of at most maxDigits digits, few
// enough that it fits the field on any platform.
func (s *fastScanner) integer(maxDigits int) (int64, bool) {
	i := s.i
	neg := i < len(s.s) && s.s[i] == '-'
	if neg {
		i++
	}
	start := i
	var v int64
	for i < len(s.s) && s.s[i] >= '0' && s.s[i] <= '9' {
		v = v*10 + int64(s.s[i]-'0')
		i++
	}
	n := i - start
	// A leading zero is a syntax error, and a fraction or exponent a type
	// error; both end the number here and fail on the byte after it.
	if n == 0 || n > maxDigits || (n > 1 && s.s[start] == '0') {
		return 0, false
	}
	s.i = i
	if neg {
		v = -v
	}
	return v, true
}

// whole reads an int field.
func (s *fastScanner) whole(v *int) bool {
	n, ok := s.integer(9)
	*v = int(n)
	return ok
}

// amount reads what jsonAmount.UnmarshalJSON keeps: the text of a string
// without escapes, or of a JSON number token.
func (s *fastScanner) amount(a *jsonAmount) bool {
	if s.i < len(s.s) && s.s[s.i] == '"' {
		v, ok := s.str()
		*a = jsonAmount(v)
		return ok
	}
	start := s.i
	if !s.number() {
		return false
	}
	*a = jsonAmount(s.s[start:s.i])
	return true
}

// number reads a JSON number token:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *fastScanner) number() bool {
	if s.i < len(s.s) && s.s[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.s) && s.s[s.i] == '0':
		s.i++
	case !s.digits():
		return false
	}
	if s.i < len(s.s) && s.s[s.i] == '.' {
		s.i++
		if !s.digits() {
			return false
		}
	}
	if s.i < len(s.s) && (s.s[s.i] == 'e' || s.s[s.i] == 'E') {
		s.i++
		if s.i < len(s.s) && (s.s[s.i] == '+' || s.s[s.i] == '-') {
			s.i++
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits reads one or more decimal digits.
func (s *fastScanner) digits() bool {
	start := s.i
	for s.i < len(s.s) && s.s[s.i] >= '0' && s.s[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}

// event reads the envelope into j and its bodies into sc, and returns the
// bodies it has read.
func (s *fastScanner) event(j *jsonEvent, sc *fastBodies) (bodies uint32, ok bool) {
	if !s.open() {
		return 0, false
	}
	var seen uint32
	for first := true; ; first = false {
		key, done, ok := s.member(first)
		if done || !ok {
			return bodies, ok
		}
		var bit uint32
		switch key {
		case "id":
			bit = 1 << 0
			j.ID, ok = s.str()
		case "ledger":
			bit = 1 << 1
			j.Ledger, ok = s.str()
		case "unit":
			bit = 1 << 2
			j.Unit, ok = s.str()
		case "fiscal_year":
			bit = 1 << 3
			ok = s.whole(&j.FiscalYear)
		case "date":
			bit = 1 << 4
			j.Date, ok = s.str()
		case "source":
			bit = 1 << 5
			j.Source, ok = s.str()
		case "voucher":
			bit = 1 << 6
			j.Voucher, ok = s.str()
		case "memo":
			bit = 1 << 7
			j.Memo, ok = s.str()
		default:
			var b uint32
			b, ok = s.body(sc, key, true)
			bodies |= b
			bit = b << 8
		}
		if !ok || seen&bit != 0 {
			return 0, false
		}
		seen |= bit
	}
}

// fastBodies has room for every body. decodeJSONFast keeps it in its own
// frame, so that the body of an event costs no allocation (and no write
// barriers while the collector runs, which is most of the time at ingest
// rates).
type fastBodies struct {
	appropriation jsonAppropriation
	otherIncome   jsonOtherIncome
	expenditure   jsonExpenditure
	opening       jsonOpening
	nonFiscal     jsonAmountOnly
	surplus       jsonAmountOnly
	budget        jsonBudget
	unit          jsonUnit
	asset         jsonAsset
	liability     jsonLiability
	procurement   jsonProcurement
	performance   jsonPerformance
	reversal      jsonReversal
	adjustment    jsonAdjustment
}

// The bodies, one bit each.
const (
	hasAppropriation uint32 = 1 << iota
	hasOtherIncome
	hasExpenditure
	hasOpening
	hasNonFiscal
	hasSurplus
	hasBudget
	hasUnit
	hasAsset
	hasLiability
	hasProcurement
	hasPerformance
	hasReversal
	hasYearEndClosed
	hasAdjustment
)

// bodies returns the jsonBodies of the bodies read, pointing into sc.
func (sc *fastBodies) bodies(read uint32) jsonBodies {
	var j jsonBodies
	if read&hasAppropriation != 0 {
		j.Appropriation = &sc.appropriation
	}
	if read&hasOtherIncome != 0 {
		j.OtherIncome = &sc.otherIncome
	}
	if read&hasExpenditure != 0 {
		j.Expenditure = &sc.expenditure
	}
	if read&hasOpening != 0 {
		j.OpeningBalance = &sc.opening
	}
	if read&hasNonFiscal != 0 {
		j.NonFiscalSurplusUsed = &sc.nonFiscal
	}
	if read&hasSurplus != 0 {
		j.SurplusDistribution = &sc.surplus
	}
	if read&hasBudget != 0 {
		j.Budget = &sc.budget
	}
	if read&hasUnit != 0 {
		j.UnitRegistered = &sc.unit
	}
	if read&hasAsset != 0 {
		j.AssetChanged = &sc.asset
	}
	if read&hasLiability != 0 {
		j.LiabilityChanged = &sc.liability
	}
	if read&hasProcurement != 0 {
		j.Procurement = &sc.procurement
	}
	if read&hasPerformance != 0 {
		j.Performance = &sc.performance
	}
	if read&hasReversal != 0 {
		j.Reversal = &sc.reversal
	}
	if read&hasYearEndClosed != 0 {
		j.YearEndClosed = &struct{}{}
	}
	if read&hasAdjustment != 0 {
		j.OpeningAdjusted = &sc.adjustment
	}
	return j
}

// body reads the body under key into sc and returns its bit; 0 and false
// for a key that is no body.
func (s *fastScanner) body(sc *fastBodies, key string, top bool) (bit uint32, ok bool) {
	switch key {
	case "appropriation":
		return hasAppropriation, s.appropriation(&sc.appropriation)
	case "other_income":
		return hasOtherIncome, s.otherIncome(&sc.otherIncome)
	case "expenditure":
		return hasExpenditure, s.expenditure(&sc.expenditure)
	case "opening_balance":
		return hasOpening, s.opening(&sc.opening)
	case "non_fiscal_surplus_used":
		return hasNonFiscal, s.amountOnly(&sc.nonFiscal)
	case "surplus_distribution":
		return hasSurplus, s.amountOnly(&sc.surplus)
	case "budget":
		return hasBudget, s.budget(&sc.budget)
	case "unit_registered":
		return hasUnit, s.unit(&sc.unit)
	case "asset_changed":
		return hasAsset, s.asset(&sc.asset)
	case "liability_changed":
		return hasLiability, s.liability(&sc.liability)
	case "procurement_contracted":
		return hasProcurement, s.procurement(&sc.procurement)
	case "performance_evaluated":
		return hasPerformance, s.performance(&sc.performance)
	case "reversal":
		// A reversal of a reversal is refused by Validate anyway. Leaving
		// it to the strict decoder bounds the nesting here (encoding/json
		// has a depth limit of its own) and spares mirroring how checkKeys
		// skips the keys inside it.
		if !top {
			return 0, false
		}
		return hasReversal, s.reversal(&sc.reversal)
	case "year_end_closed":
		// Unmarshal would take any object, checkKeys only an empty one.
		if !s.open() {
			return 0, false
		}
		s.ws()
		if s.i >= len(s.s) || s.s[s.i] != '}' {
			return 0, false
		}
		s.i++
		return hasYearEndClosed, true
	case "opening_adjusted":
		return hasAdjustment, s.adjustment(&sc.adjustment)
	}
	return 0, false
}

func (s *fastScanner) reversal(r *jsonReversal) bool {
	if !s.open() {
		return false
	}
	// Reversals are few: their bodies may as well be on the heap.
	inner := new(fastBodies)
	var seen, bodies uint32
	for first := true; ; first = false {
		key, done, ok := s.member(first)
		if done || !ok {
			r.jsonBodies = inner.bodies(bodies)
			return ok
		}
		var bit uint32
		switch key {
		case "event_id":
			bit = 1 << 0
			r.EventID, ok = s.str()
		case "reason":
			bit = 1 << 1
			r.Reason, ok = s.str()
		default:
			var b uint32
			b, ok = s.body(inner, key, false)
			bodies |= b
			bit = b << 2
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
}

// object reads a JSON object member by member: field reads the value of
// key and returns its bit (its own place among the struct's members) and
// whether the value was read. An unknown key (bit 0) or a repeated member
// sends the line to the strict decoder, which reports it.
func (s *fastScanner) object(field func(key string) (bit uint32, ok bool)) bool {
	if !s.open() {
		return false
	}
	var seen uint32
	for first := true; ; first = false {
		key, done, ok := s.member(first)
		if done || !ok {
			return ok
		}
		bit, ok := field(key)
		if !ok || bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
}

func (s *fastScanner) appropriation(b *jsonAppropriation) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "fund":
			bit = 1 << 0
			b.Fund, ok = s.str()
		case "functional":
			bit = 1 << 1
			b.Functional, ok = s.str()
		case "amount":
			bit = 1 << 2
			ok = s.amount(&b.Amount)
		}
		return bit, ok
	})
}

func (s *fastScanner) otherIncome(b *jsonOtherIncome) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "kind":
			bit = 1 << 0
			b.Kind, ok = s.str()
		case "functional":
			bit = 1 << 1
			b.Functional, ok = s.str()
		case "amount":
			bit = 1 << 2
			ok = s.amount(&b.Amount)
		}
		return bit, ok
	})
}

func (s *fastScanner) expenditure(b *jsonExpenditure) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "functional":
			bit = 1 << 0
			b.Functional, ok = s.str()
		case "economic":
			bit = 1 << 1
			b.Economic, ok = s.str()
		case "kind":
			bit = 1 << 2
			b.Kind, ok = s.str()
		case "project":
			bit = 1 << 3
			b.Project, ok = s.str()
		case "fund":
			bit = 1 << 4
			b.Fund, ok = s.str()
		case "amount":
			bit = 1 << 5
			ok = s.amount(&b.Amount)
		case "reception":
			bit = 1 << 6
			b.Reception = new(jsonReception)
			ok = s.reception(b.Reception)
		}
		return bit, ok
	})
}

func (s *fastScanner) reception(r *jsonReception) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "batches":
			bit = 1 << 0
			ok = s.whole(&r.Batches)
		case "visitors":
			bit = 1 << 1
			ok = s.whole(&r.Visitors)
		case "foreign_visitors":
			bit = 1 << 2
			ok = s.whole(&r.ForeignVisitors)
		}
		return bit, ok
	})
}

func (s *fastScanner) opening(b *jsonOpening) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "fund":
			bit = 1 << 0
			b.Fund, ok = s.str()
		case "functional":
			bit = 1 << 1
			b.Functional, ok = s.str()
		case "amount":
			bit = 1 << 2
			ok = s.amount(&b.Amount)
		}
		return bit, ok
	})
}

func (s *fastScanner) amountOnly(b *jsonAmountOnly) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "amount":
			bit = 1 << 0
			ok = s.amount(&b.Amount)
		}
		return bit, ok
	})
}

func (s *fastScanner) budget(b *jsonBudget) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "stage":
			bit = 1 << 0
			b.Stage, ok = s.str()
		case "change":
			bit = 1 << 1
			b.Change, ok = s.str()
		case "functional":
			bit = 1 << 2
			b.Functional, ok = s.str()
		case "economic":
			bit = 1 << 3
			b.Economic, ok = s.str()
		case "kind":
			bit = 1 << 4
			b.Kind, ok = s.str()
		case "project":
			bit = 1 << 5
			b.Project, ok = s.str()
		case "fund":
			bit = 1 << 6
			b.Fund, ok = s.str()
		case "amount":
			bit = 1 << 7
			ok = s.amount(&b.Amount)
		}
		return bit, ok
	})
}

func (s *fastScanner) unit(b *jsonUnit) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "name":
			bit = 1 << 0
			b.Name, ok = s.str()
		case "department":
			bit = 1 << 1
			b.Department, ok = s.str()
		case "type":
			bit = 1 << 2
			b.Type, ok = s.str()
		}
		return bit, ok
	})
}

func (s *fastScanner) asset(b *jsonAsset) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "class":
			bit = 1 << 0
			b.Class, ok = s.str()
		case "change":
			bit = 1 << 1
			b.Change, ok = s.str()
		case "quantity":
			bit = 1 << 2
			b.Quantity, ok = s.integer(18)
		case "unit_price":
			bit = 1 << 3
			ok = s.amount(&b.UnitPrice)
		case "amount":
			bit = 1 << 4
			ok = s.amount(&b.Amount)
		}
		return bit, ok
	})
}

func (s *fastScanner) liability(b *jsonLiability) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "change":
			bit = 1 << 0
			b.Change, ok = s.str()
		case "amount":
			bit = 1 << 1
			ok = s.amount(&b.Amount)
		}
		return bit, ok
	})
}

func (s *fastScanner) procurement(b *jsonProcurement) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "category":
			bit = 1 << 0
			b.Category, ok = s.str()
		case "reserved":
			bit = 1 << 1
			b.Reserved, ok = s.str()
		case "supplier":
			bit = 1 << 2
			b.Supplier, ok = s.str()
		case "amount":
			bit = 1 << 3
			ok = s.amount(&b.Amount)
		}
		return bit, ok
	})
}

func (s *fastScanner) performance(b *jsonPerformance) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "project":
			bit = 1 << 0
			b.Project, ok = s.str()
		case "score":
			bit = 1 << 1
			ok = s.amount(&b.Score)
		case "grade":
			bit = 1 << 2
			b.Grade, ok = s.str()
		case "problems_found":
			bit = 1 << 3
			ok = s.whole(&b.ProblemsFound)
		case "problems_fixed":
			bit = 1 << 4
			ok = s.whole(&b.ProblemsFixed)
		}
		return bit, ok
	})
}

func (s *fastScanner) adjustment(b *jsonAdjustment) bool {
	return s.object(func(key string) (bit uint32, ok bool) {
		switch key {
		case "fund":
			bit = 1 << 0
			b.Fund, ok = s.str()
		case "functional":
			bit = 1 << 1
			b.Functional, ok = s.str()
		case "change":
			bit = 1 << 2
			b.Change, ok = s.str()
		case "amount":
			bit = 1 << 3
			ok = s.amount(&b.Amount)
		case "reason":
			bit = 1 << 4
			b.Reason, ok = s.str()
		}
		return bit, ok
	})
}
