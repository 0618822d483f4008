package journal

import (
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"

	"github.com/budgetledger/budgetledger/events"
)

// Top-level accounts: the lines of the 收入支出决算总表 the journal keeps,
// and the money they move.
const (
	accountIncome       = "收入"
	accountExpenditure  = "支出"
	accountSurplusUsed  = "使用非财政拨款结余"
	accountOpening      = "年初结转和结余"
	accountAdjusted     = "年初结转和结余:年初调整"
	accountDistribution = "结余分配"
	accountClosing      = "年末结转和结余"
	accountFunds        = "资金"
)

// Commodity is the commodity of every amount.
const Commodity = "CNY"

// Stats is what Write wrote.
type Stats struct {
	Transactions int // transactions written
	Skipped      int // events with no money in the journal: budgets, assets, registrations, closes…
	// Years sums each year's transactions (by the year of their date, which
	// is the event's fiscal year) as the lines of the 收入支出决算总表 they
	// are: what the tools' balance over that year reports, signs as printed
	// in the table.
	Years map[int]Year
}

// Year is one year's totals, in the 收入支出决算总表's terms.
type Year struct {
	Income              events.Amount // 本年收入合计 (−收入)
	Expenditure         events.Amount // 本年支出合计 (支出)
	SurplusUsed         events.Amount // 使用非财政拨款结余 (−使用非财政拨款结余)
	Opening             events.Amount // 年初结转和结余 (−年初结转和结余)
	SurplusDistribution events.Amount // 结余分配
	Closing             events.Amount // 年末结转和结余 (资金 + 年末结转和结余)
}

// flushAt is the buffer size at which Write hands its bytes on: large
// enough that the writer's cost vanishes, small enough to stay in cache.
const flushAt = 64 << 10

// Write writes the money events of evs to w as a journal, in the order
// given, and returns what it wrote. The events should be one ledger's, in
// log order, as ledger.Log.Events yields them: a close's carried balances
// are known by following it. Errors of the sequence are the caller's to
// check.
func Write(w io.Writer, evs iter.Seq[events.Event]) (Stats, error) {
	j := writer{w: w, buf: make([]byte, 0, flushAt+4096), years: map[int]*yearSums{}}
	j.buf = append(j.buf, header...)
	for e := range evs {
		if err := j.event(&e); err != nil {
			return j.stats(), err
		}
		if len(j.buf) >= flushAt {
			if err := j.flush(); err != nil {
				return j.stats(), err
			}
		}
	}
	if err := j.flush(); err != nil {
		return j.stats(), err
	}
	st := j.stats()
	for y, s := range j.years {
		if s.overflow {
			return st, fmt.Errorf("year %d: %w", y, ErrOverflow)
		}
	}
	return st, nil
}

const header = "; 部门决算 journal for hledger and ledger-cli; amounts in 元.\n" +
	"; Credits are negative: 收入, 使用非财政拨款结余, 年初结转和结余.\n" +
	"; A fiscal year as of D: balance -b YEAR-01-01 -e D+1 (ledger: --begin, --end).\n\n"

type writer struct {
	w     io.Writer
	buf   []byte
	tx    int
	skip  int
	years map[int]*yearSums
	// year caches the sums of the last year written: events come in long
	// runs of one year.
	year    *yearSums
	yearKey int
	// closing is the 年终结账 just read, while the balances it carried
	// follow it: the ledger appends them right after the close.
	closing closeMark
}

// closeMark is what the carried balances need of their close. It is not
// the event itself: holding a pointer to it would move every event read
// to the heap.
type closeMark struct {
	id   string
	year int
	date events.Date
}

// yearSums are a Year's lines in 分. An overflow is noted as it happens
// and reported once, at the end of Write, so that adding stays a plain
// call on the path every event takes.
type yearSums struct {
	income, expenditure, surplusUsed, opening, distribution int64
	overflow                                                bool
}

func (s *yearSums) add(line *int64, v int64) {
	sum := *line + v
	if (v > 0 && sum < *line) || (v < 0 && sum > *line) {
		s.overflow = true
	}
	*line = sum
}

func (j *writer) sums(d events.Date) *yearSums {
	y := d.Year()
	if j.year == nil || j.yearKey != y {
		s, ok := j.years[y]
		if !ok {
			s = &yearSums{}
			j.years[y] = s
		}
		j.year, j.yearKey = s, y
	}
	return j.year
}

func (j *writer) stats() Stats {
	st := Stats{Transactions: j.tx, Skipped: j.skip, Years: make(map[int]Year, len(j.years))}
	for y, s := range j.years {
		closing := s.income
		for _, v := range []int64{s.surplusUsed, s.opening, -s.expenditure, -s.distribution} {
			s.add(&closing, v)
		}
		st.Years[y] = Year{Income: events.Amount(s.income), Expenditure: events.Amount(s.expenditure),
			SurplusUsed: events.Amount(s.surplusUsed), Opening: events.Amount(s.opening),
			SurplusDistribution: events.Amount(s.distribution), Closing: events.Amount(closing)}
	}
	return st
}

func (j *writer) flush() error {
	if len(j.buf) == 0 {
		return nil
	}
	_, err := j.w.Write(j.buf)
	j.buf = j.buf[:0]
	if err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

// event writes e's transactions, if it has any.
func (j *writer) event(e *events.Event) error {
	closing := j.closing
	j.closing = closeMark{}
	body, sign := e.Body, int64(1)
	var reversed *events.Reversal
	if r, ok := body.(events.Reversal); ok {
		body, sign, reversed = r.Body, -1, &r
	}
	var err error
	switch b := body.(type) {
	case events.Appropriation:
		err = j.appropriation(e, reversed, b, sign)
	case events.OtherIncome:
		err = j.otherIncome(e, reversed, b, sign)
	case events.Expenditure:
		err = j.expenditure(e, reversed, b, sign)
	case events.OpeningBalance:
		if closing.id != "" && reversed == nil && isCarried(e, closing) {
			if err = j.carried(e, closing, b); err != nil {
				return err
			}
			j.closing = closing
		}
		err = j.opening(e, reversed, &openingAccounts, b.Fund, b.Functional, sign*int64(b.Amount), "")
	case events.OpeningAdjusted:
		err = j.opening(e, reversed, &adjustedAccounts, b.Fund, b.Functional, sign*int64(events.BodyAmount(b)), b.Reason)
	case events.NonFiscalSurplusUsed:
		j.header(e, reversed, "")
		a := sign * int64(b.Amount)
		j.posting(accountSurplusUsed, "", -a)
		j.posting(fundAccounts[events.FundNonFiscal], "", a)
		s := j.end(e)
		s.add(&s.surplusUsed, a)
	case events.SurplusDistribution:
		j.header(e, reversed, "")
		a := sign * int64(b.Amount)
		j.posting(accountDistribution, "", a)
		j.posting(fundAccounts[events.FundNonFiscal], "", -a)
		s := j.end(e)
		s.add(&s.distribution, a)
	case events.YearEndClosed:
		if reversed == nil {
			j.closing = closeMark{e.ID, e.FiscalYear, e.Date}
		}
		j.skip++
	case nil, events.Budget, events.UnitRegistered, events.AssetChanged, events.LiabilityChanged,
		events.ProcurementContracted, events.PerformanceEvaluated:
		j.skip++
	default:
		return fmt.Errorf("event %s: body %T: %w", e.ID, body, ErrUnexportable)
	}
	return err
}

// isCarried reports whether e is an opening balance the ledger carried
// forward at the close just before it: it names the close's id with ":n"
// and opens the next year.
func isCarried(e *events.Event, close closeMark) bool {
	return e.FiscalYear == close.year+1 && len(e.ID) > len(close.id) &&
		e.ID[len(close.id)] == ':' && strings.HasPrefix(e.ID, close.id)
}

func (j *writer) appropriation(e *events.Event, rv *events.Reversal, b events.Appropriation, sign int64) error {
	if !b.Fund.Fiscal() {
		return fmt.Errorf("event %s: appropriation fund %d: %w", e.ID, b.Fund, ErrUnexportable)
	}
	j.header(e, rv, "")
	a := sign * int64(b.Amount)
	j.posting(appropriationAccounts[b.Fund], b.Functional, -a)
	j.posting(fundAccounts[b.Fund], "", a)
	s := j.end(e)
	s.add(&s.income, a)
	return nil
}

func (j *writer) otherIncome(e *events.Event, rv *events.Reversal, b events.OtherIncome, sign int64) error {
	if int(b.IncomeKind) >= len(incomeAccounts) || incomeAccounts[b.IncomeKind] == "" {
		return fmt.Errorf("event %s: income kind %d: %w", e.ID, b.IncomeKind, ErrUnexportable)
	}
	j.header(e, rv, "")
	a := sign * int64(b.Amount)
	j.posting(incomeAccounts[b.IncomeKind], b.Functional, -a)
	j.posting(fundAccounts[events.FundNonFiscal], "", a)
	s := j.end(e)
	s.add(&s.income, a)
	return nil
}

func (j *writer) expenditure(e *events.Event, rv *events.Reversal, b events.Expenditure, sign int64) error {
	if !knownFund(b.Fund) {
		return fmt.Errorf("event %s: expenditure fund %d: %w", e.ID, b.Fund, ErrUnexportable)
	}
	if int(b.ExpenditureKind) >= len(expenditureKinds) || expenditureKinds[b.ExpenditureKind] == "" {
		return fmt.Errorf("event %s: expenditure kind %d: %w", e.ID, b.ExpenditureKind, ErrUnexportable)
	}
	j.header(e, rv, "")
	a := sign * int64(b.Amount)
	j.buf = append(j.buf, "    "...)
	j.buf = append(j.buf, expenditureAccounts[b.Fund]...)
	j.buf = appendPart(j.buf, b.Functional)
	j.buf = appendPart(j.buf, b.Economic)
	j.buf = append(j.buf, "  "...)
	j.buf = appendAmount(j.buf, a)
	j.buf = append(j.buf, "  ; 支出类型: "...)
	j.buf = append(j.buf, expenditureKinds[b.ExpenditureKind]...)
	j.buf = append(j.buf, '\n')
	if b.Project != "" {
		j.buf = append(j.buf, "      ; 项目: "...)
		j.buf = tagValue.append(j.buf, b.Project)
		j.buf = append(j.buf, '\n')
	}
	j.posting(fundAccounts[b.Fund], "", -a)
	s := j.end(e)
	s.add(&s.expenditure, a)
	return nil
}

// opening writes a 年初结转和结余 (or, into the adjusted accounts, a
// 年初调整) of a, signed as the statement counts it.
func (j *writer) opening(e *events.Event, rv *events.Reversal, accounts *[nFunds]string, fund events.Fund, functional string, a int64, reason string) error {
	if !knownFund(fund) {
		return fmt.Errorf("event %s: fund %d: %w", e.ID, fund, ErrUnexportable)
	}
	j.header(e, rv, reason)
	j.posting(accounts[fund], functional, -a)
	j.posting(fundAccounts[fund], "", a)
	s := j.end(e)
	s.add(&s.opening, a)
	return nil
}

// carried writes the closed year's side of a balance the close carried
// forward: on the close's date, out of 资金 into 年末结转和结余. Without it
// the money would be in 资金 twice, at the end of the closed year and again
// as the next year's opening balance.
func (j *writer) carried(e *events.Event, close closeMark, b events.OpeningBalance) error {
	if !knownFund(b.Fund) {
		return fmt.Errorf("event %s: fund %d: %w", e.ID, b.Fund, ErrUnexportable)
	}
	j.buf = appendDate(j.buf, close.date)
	j.voucher(e.Voucher)
	j.buf = append(j.buf, ' ')
	j.buf = description.append(j.buf, e.ID)
	j.buf = append(j.buf, "  ; 年终结账: "...)
	j.buf = tagValue.append(j.buf, close.id)
	j.buf = append(j.buf, '\n')
	j.tags(e)
	j.posting(closingAccounts[b.Fund], b.Functional, int64(b.Amount))
	j.posting(fundAccounts[b.Fund], "", -int64(b.Amount))
	j.buf = append(j.buf, '\n')
	j.tx++
	return nil
}

// header writes the transaction line and its tags. A reversal is tagged
// with the event it reverses and why.
func (j *writer) header(e *events.Event, rv *events.Reversal, reason string) {
	j.buf = appendDate(j.buf, e.Date)
	j.voucher(e.Voucher)
	j.buf = append(j.buf, ' ')
	j.buf = description.append(j.buf, e.ID)
	if e.Source != "" {
		j.buf = append(j.buf, "  ; 来源: "...)
		j.buf = tagValue.append(j.buf, e.Source)
	}
	j.buf = append(j.buf, '\n')
	j.tags(e)
	if rv != nil {
		j.buf = append(j.buf, "    ; 冲销: "...)
		j.buf = tagValue.append(j.buf, rv.EventID)
		j.buf = append(j.buf, '\n')
		reason = rv.Reason
	}
	if reason != "" {
		j.buf = append(j.buf, "    ; 原因: "...)
		j.buf = tagValue.append(j.buf, reason)
		j.buf = append(j.buf, '\n')
	}
}

// voucher writes the voucher number as the transaction's code.
func (j *writer) voucher(voucher string) {
	if voucher != "" {
		j.buf = append(j.buf, " ("...)
		j.buf = description.append(j.buf, voucher)
		j.buf = append(j.buf, ')')
	}
}

// tags writes the tags of every transaction made from e.
func (j *writer) tags(e *events.Event) {
	if e.Unit != "" {
		j.buf = append(j.buf, "    ; 单位: "...)
		j.buf = tagValue.append(j.buf, e.Unit)
		j.buf = append(j.buf, '\n')
	}
	if e.Memo != "" {
		j.buf = append(j.buf, "    ; 摘要: "...)
		j.buf = tagValue.append(j.buf, e.Memo)
		j.buf = append(j.buf, '\n')
	}
}

// posting writes one posting of a to account, under code if it has one.
func (j *writer) posting(account, code string, a int64) {
	j.buf = append(j.buf, "    "...)
	j.buf = append(j.buf, account...)
	j.buf = appendPart(j.buf, code)
	j.buf = append(j.buf, "  "...)
	j.buf = appendAmount(j.buf, a)
	j.buf = append(j.buf, '\n')
}

// end closes the transaction and returns the sums of its year.
func (j *writer) end(e *events.Event) *yearSums {
	j.buf = append(j.buf, '\n')
	j.tx++
	return j.sums(e.Date)
}

// appendPart appends ":part" to an account name, or nothing for an empty
// part (an optional 功能分类).
func appendPart(b []byte, part string) []byte {
	if part == "" {
		return b
	}
	b = append(b, ':')
	return accountPart.append(b, part)
}

// appendAmount appends fen as 元 with two decimals and the commodity.
func appendAmount(b []byte, fen int64) []byte {
	u := uint64(fen)
	if fen < 0 {
		b = append(b, '-')
		u = -u
	}
	b = strconv.AppendUint(b, u/100, 10)
	b = append(b, '.', byte('0'+u%100/10), byte('0'+u%10))
	return append(b, " "+Commodity...)
}

// appendDate appends d as YYYY-MM-DD, which both tools read.
func appendDate(b []byte, d events.Date) []byte {
	y, m, day := int(d)/10000, int(d)/100%100, int(d)%100
	if y < 1000 || y > 9999 {
		return fmt.Appendf(b, "%04d-%02d-%02d", y, m, day)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+day/10), byte('0'+day%10))
}

// cleaner rewrites the ASCII bytes that would end or change the field they
// are written into: for each byte, the text to write instead, or "" to keep
// it. Bytes of multi-byte UTF-8 characters are never ASCII, so they pass.
type cleaner [128]string

func (c *cleaner) append(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		x := s[i]
		if x >= 128 || c[x] == "" {
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, c[x]...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

func newCleaner(keep func(byte) bool, repl map[byte]string) *cleaner {
	var c cleaner
	for x := range 128 {
		switch {
		case repl[byte(x)] != "":
			c[x] = repl[byte(x)]
		case x < 0x20 || x == 0x7f:
			// A line break would end the transaction; the validated fields
			// hold none but a memo's.
			c[x] = " "
		case !keep(byte(x)):
			c[x] = "_"
		}
	}
	return &c
}

var (
	// description is for the code and description: a ")" would end the
	// code early and a ";" starts a comment.
	description = newCleaner(func(byte) bool { return true },
		map[byte]string{'(': "（", ')': "）", ';': "；"})
	// tagValue is for tag values: hledger ends a value at a comma.
	tagValue = newCleaner(func(byte) bool { return true }, map[byte]string{',': "，"})
	// accountPart is for codes inside account names: ":" would add a level,
	// two spaces end the name, and brackets make a posting virtual. Codes
	// are digits, so only a deployment's own catalog could bring any other.
	accountPart = newCleaner(func(x byte) bool {
		return x >= '0' && x <= '9' || x >= 'A' && x <= 'Z' || x >= 'a' && x <= 'z' || x == '.' || x == '-' || x == '_'
	}, nil)
)

// The account names by enum value, built once from the events package's
// official names.
const nFunds = events.FundNonFiscal + 1

var (
	fundLabels            [nFunds]string
	fundAccounts          [nFunds]string
	appropriationAccounts [nFunds]string
	expenditureAccounts   [nFunds]string
	openingAccounts       [nFunds]string
	adjustedAccounts      [nFunds]string
	closingAccounts       [nFunds]string
	incomeAccounts        [events.IncomeOther + 1]string
	expenditureKinds      [events.ExpenditureSubsidySubordinate + 1]string
)

func knownFund(f events.Fund) bool { return int(f) < len(fundLabels) && fundLabels[f] != "" }

func init() {
	for _, f := range events.Funds {
		label := f.Name()
		if f.Fiscal() {
			label += "财政拨款"
		}
		fundLabels[f] = label
		fundAccounts[f] = accountFunds + ":" + label
		appropriationAccounts[f] = accountIncome + ":" + label + "收入"
		expenditureAccounts[f] = accountExpenditure + ":" + label
		openingAccounts[f] = accountOpening + ":" + label
		adjustedAccounts[f] = accountAdjusted + ":" + label
		closingAccounts[f] = accountClosing + ":" + label
	}
	for _, k := range events.IncomeKinds {
		incomeAccounts[k] = accountIncome + ":" + k.Name()
	}
	for _, k := range events.ExpenditureKinds {
		expenditureKinds[k] = k.Name()
	}
}
