package events

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The fast path is held to one property: on any input it either declines
// or gives exactly what decodeJSONStrict gives, event and error alike.
// The inputs are the sample ledger, every string literal of this package's
// tests (their lines, and their values put into every field), and variants
// of these: other key orders and spacing, numbers for amounts, Chinese
// names, and single edits of every member.

// checkFast decodes line both ways and reports whether the fast path took
// it.
func checkFast(tb testing.TB, line []byte) (handled bool) {
	tb.Helper()
	in := bytes.Clone(line)
	fe, handled, ferr := decodeJSONFast(in)
	// Callers reuse their buffers (bufio.Scanner does): nothing decoded
	// may share memory with the input.
	clear(in)
	se, serr := decodeJSONStrict(line)
	de, derr := DecodeJSON(line)
	if !reflect.DeepEqual(de, se) || !reflect.DeepEqual(derr, serr) {
		tb.Errorf("DecodeJSON and decodeJSONStrict differ on %q\n got %+v, %v\nwant %+v, %v", line, de, derr, se, serr)
	}
	if !handled {
		return false
	}
	if !reflect.DeepEqual(fe, se) || !reflect.DeepEqual(ferr, serr) {
		tb.Errorf("fast and strict decoding differ on %q\nfast   %+v, %v\nstrict %+v, %v", line, fe, ferr, se, serr)
	}
	return true
}

// TestDecodeJSONFastSample: the sample ledger is what publishers send, so
// the fast path must take every line of it; else ingest would quietly fall
// back to the slow path.
func TestDecodeJSONFastSample(t *testing.T) {
	for i, line := range fastSampleLines(t) {
		if !checkFast(t, line) {
			t.Errorf("sample line %d: the fast path declined a line in the plain form\n%s", i+1, line)
		}
	}
}

// TestDecodeJSONFastTestLines: every line literal of the package's tests.
// The valid ones without escapes are in the plain form and must be taken.
func TestDecodeJSONFastTestLines(t *testing.T) {
	lines, _ := testLiterals(t)
	if len(lines) < 30 {
		t.Fatalf("found only %d JSON lines in the tests", len(lines))
	}
	for _, l := range lines {
		handled := checkFast(t, []byte(l))
		if _, err := decodeJSONStrict([]byte(l)); err == nil && !strings.Contains(l, `\`) && !handled {
			t.Errorf("the fast path declined a valid line in the plain form\n%s", l)
		}
	}
}

// TestDecodeJSONFastPlainVariants: other key orders, spacing, amounts as
// JSON numbers and enums by their Chinese names are all still the plain
// form, so the fast path must take them and agree.
func TestDecodeJSONFastPlainVariants(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for _, line := range fastBaseLines(t) {
		v := parseJV(t, line)
		variants := []string{
			v.encode(jsonStyle{order: reverseOrder}),
			v.encode(jsonStyle{order: shuffleOrder(rng)}),
			v.encode(jsonStyle{order: shuffleOrder(rng), space: " "}),
			v.encode(jsonStyle{space: "\t"}),
			v.encode(jsonStyle{space: "\r\n "}),
			" \t\r\n" + v.encode(jsonStyle{}) + "\r\n\t ",
			v.encode(jsonStyle{numbers: true}),
			v.encode(jsonStyle{chinese: true, order: shuffleOrder(rng)}),
			v.encode(jsonStyle{numbers: true, chinese: true, space: " \n"}),
		}
		for _, s := range variants {
			if !checkFast(t, []byte(s)) {
				t.Errorf("the fast path declined a line in the plain form\n%s", s)
			}
		}
	}
}

// TestDecodeJSONFastEdits: one edit of one member at a time, at every
// depth; the fast path may decline, but where it decodes it must agree.
func TestDecodeJSONFastEdits(t *testing.T) {
	_, values := testLiterals(t)
	bases := fastBaseLines(t)
	if testing.Short() {
		bases = bases[:8]
	}
	var n, handled int
	check := func(s string) {
		n++
		if checkFast(t, []byte(s)) {
			handled++
		}
	}
	for bi, line := range bases {
		v := parseJV(t, line)
		for _, p := range v.paths(nil) {
			// The member itself: gone, twice, its key in other case,
			// unknown keys beside it.
			check(v.edit(p, func(ms []jm, i int) []jm { return append(ms[:i:i], ms[i+1:]...) }).encode(jsonStyle{}))
			check(v.edit(p, func(ms []jm, i int) []jm { return append(ms[:i+1:i+1], ms[i:]...) }).encode(jsonStyle{}))
			m := ms(v, p)[p[len(p)-1]]
			for _, k := range []string{strings.ToUpper(m.key), strings.ToUpper(m.key[:1]) + m.key[1:], m.key + " ", "", "colour", "reversal", "year_end_closed", "id", "amount", "expenditure"} {
				check(v.edit(p, func(ms []jm, i int) []jm {
					ms = append([]jm(nil), ms...)
					ms[i].key = k
					return ms
				}).encode(jsonStyle{}))
			}
			// Its value: every kind of JSON token, and the odd forms of
			// strings and numbers the fast path must recognize.
			for _, raw := range oddValues {
				check(v.edit(p, setValue(jv{kind: 'r', str: raw})).encode(jsonStyle{}))
			}
			// The test literals as values: the rejection tables' bad
			// ids, dates, amounts and enum values in every field. Only
			// some bases, as these are many.
			if bi%8 == 0 && m.val.kind == '"' {
				for _, s := range values {
					check(v.edit(p, setValue(jv{kind: '"', str: s})).encode(jsonStyle{}))
					if json.Valid([]byte(s)) {
						check(v.edit(p, setValue(jv{kind: 'r', str: s})).encode(jsonStyle{}))
					}
				}
			}
		}
		// The line as a whole: cut short, with something after it, or
		// with other bytes around it.
		s := v.encode(jsonStyle{})
		if bi%4 == 0 {
			for i := range len(s) {
				check(s[:i])
			}
		}
		for _, tail := range []string{"}", "]", " }", "}}", ",", " x", "\x00", "\v", "\f", "\u00a0", "\u2028", s, " " + s, "\n" + s} {
			check(s + tail)
			check(tail + s)
		}
	}
	t.Logf("%d edited lines, %d decoded by the fast path", n, handled)
	if handled == 0 || handled == n {
		t.Errorf("the fast path took %d of %d edited lines: the edits do not test it", handled, n)
	}
}

// oddValues replace one value at a time: the JSON tokens that do not
// belong, numbers the fast path must read as the strict path does or
// decline, and strings it must decline (escapes, control characters,
// invalid UTF-8) or take as they stand.
var oddValues = []string{
	`null`, `true`, `false`, `[]`, `["1.00"]`, `{}`, `{"amount":"1.00"}`, `{"a":1}`, `{ }`, `{"":""}`,
	`0`, `-0`, `01`, `-01`, `00`, `1`, `-1`, `2020`, `2020.0`, `2020.5`, `2e3`, `2E+3`, `1e-2`, `1.`, `.5`, `-`, `+1`, `1.00`,
	`12.5`, `586849.00`, `999999999999.99`, `1000000000000`, `123456789`, `1234567890`, `999999999999999999`,
	`9223372036854775807`, `9223372036854775808`, `-9223372036854775808`, `99999999999999999999`, `0x10`, `NaN`, `Infinity`,
	`""`, `"0"`, `"1.00"`, `"-1.00"`, `"1e3"`, `" 1.00"`, `"2020"`, `"2020-02-29"`, `"2020-02-30"`,
	`"general_budget"`, `"一般公共预算"`, `"调减"`, `"basic"`, `"x"`, `"\u0041"`, `"a\nb"`, `"\""`, `"\\"`, `"\/"`,
	"\"a\x01b\"", "\"\x7f\"", "\"\t\"", "\"\xff\"", "\"\xe4\xb8\"", "\"\xe4\xb8\"\"", "\"\xef\xbf\xbd\"", "\"\xef\xbf\xbf\"",
	"\"\xc0\x80\"", "\"\xc2\x80\"", "\"\xe0\x80\x80\"", "\"\xe0\xa0\x80\"", "\"\xed\x9f\xbf\"", "\"\xed\xa0\x80\"", "\"\xee\x80\x80\"",
	"\"\xf0\x80\x80\x80\"", "\"\xf0\x9f\x98\x80\"", "\"\xf4\x8f\xbf\xbf\"", "\"\xf4\x90\x80\x80\"", "\"\xf0\x80\x80\"", "\"\xf8\x88\x80\x80\x80\"", "\"\xfe\x80\x80\"",
	`"`, `"abc`, `tru`, `nul`, `[`, `{`, `}`, `{"a":}`, `{"a" "b"}`, `{,}`, `1,`, `"a","b"`,
}

func setValue(val jv) func(ms []jm, i int) []jm {
	return func(ms []jm, i int) []jm {
		ms = append([]jm(nil), ms...)
		ms[i].val = val
		return ms
	}
}

// FuzzDecodeJSONFast: on any input the fast path declines or agrees with
// the strict decoder.
func FuzzDecodeJSONFast(f *testing.F) {
	for _, l := range fastSampleLines(f) {
		f.Add(l)
	}
	lines, _ := testLiterals(f)
	for _, l := range lines {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFast(t, data)
	})
}

// fastSampleLines returns the lines of the sample ledger.
func fastSampleLines(tb testing.TB) [][]byte {
	tb.Helper()
	data, err := os.ReadFile("../testdata/qingpu-2020.jsonl")
	if err != nil {
		tb.Fatal(err)
	}
	var lines [][]byte
	for l := range bytes.Lines(data) {
		if l = bytes.TrimRight(l, "\r\n"); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	if len(lines) < 700 {
		tb.Fatalf("sample has only %d lines", len(lines))
	}
	return lines
}

// fastBaseLines are the valid plain lines to vary: the tests' own, which
// cover every body, and a spread of the sample.
func fastBaseLines(tb testing.TB) []string {
	tb.Helper()
	lines, _ := testLiterals(tb)
	var bases []string
	for _, l := range lines {
		if _, err := decodeJSONStrict([]byte(l)); err == nil && !strings.Contains(l, `\`) {
			bases = append(bases, l)
		}
	}
	sample := fastSampleLines(tb)
	for i := 0; i < len(sample); i += 37 {
		bases = append(bases, string(sample[i]))
	}
	return bases
}

// testLiterals returns the string literals of the package's tests: the
// JSON lines (starting with {) and the other values.
func testLiterals(tb testing.TB) (lines, values []string) {
	tb.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		tb.Fatal(err)
	}
	seen := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			tb.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || seen[s] || len(s) > 4096 {
				return true
			}
			seen[s] = true
			if strings.HasPrefix(s, "{") {
				lines = append(lines, s)
			} else {
				values = append(values, s)
			}
			return true
		})
	}
	return lines, values
}

// jv is a JSON value kept as written, so that it can be written back in
// another order, spacing or form.
type jv struct {
	kind byte   // '{' object, '[' array, '"' string, 'r' any other token, as its text
	str  string // a string's value, or a token's text
	mems []jm   // an object's members, in order
	elts []jv   // an array's elements
}

type jm struct {
	key string
	val jv
}

func parseJV(tb testing.TB, s string) jv {
	tb.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	v, err := readJV(d)
	if err != nil {
		tb.Fatalf("parse %s: %v", s, err)
	}
	return v
}

func readJV(d *json.Decoder) (jv, error) {
	tok, err := d.Token()
	if err != nil {
		return jv{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			v := jv{kind: '['}
			for d.More() {
				e, err := readJV(d)
				if err != nil {
					return jv{}, err
				}
				v.elts = append(v.elts, e)
			}
			_, err := d.Token()
			return v, err
		}
		v := jv{kind: '{'}
		for d.More() {
			k, err := d.Token()
			if err != nil {
				return jv{}, err
			}
			e, err := readJV(d)
			if err != nil {
				return jv{}, err
			}
			v.mems = append(v.mems, jm{key: k.(string), val: e})
		}
		_, err := d.Token()
		return v, err
	case string:
		return jv{kind: '"', str: t}, nil
	case json.Number:
		return jv{kind: 'r', str: t.String()}, nil
	case bool:
		return jv{kind: 'r', str: strconv.FormatBool(t)}, nil
	case nil:
		return jv{kind: 'r', str: "null"}, nil
	}
	return jv{}, io.ErrUnexpectedEOF
}

// jsonStyle is how encode writes a value.
type jsonStyle struct {
	order   func(n int) []int // the order of an object's members; nil keeps it
	space   string            // between all tokens
	numbers bool              // amounts and scores as JSON numbers
	chinese bool              // enums by their official names
}

func keepOrder(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

func reverseOrder(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = n - 1 - i
	}
	return p
}

func shuffleOrder(rng *rand.Rand) func(n int) []int {
	return func(n int) []int { return rng.Perm(n) }
}

func (v jv) encode(st jsonStyle) string {
	var b strings.Builder
	v.write(&b, st, "", "")
	return b.String()
}

func (v jv) write(b *strings.Builder, st jsonStyle, parent, key string) {
	switch v.kind {
	case '{':
		b.WriteString("{" + st.space)
		order := st.order
		if order == nil {
			order = keepOrder
		}
		for n, i := range order(len(v.mems)) {
			if n > 0 {
				b.WriteString(st.space + "," + st.space)
			}
			m := v.mems[i]
			writeString(b, m.key)
			b.WriteString(st.space + ":" + st.space)
			m.val.write(b, st, key, m.key)
		}
		b.WriteString(st.space + "}")
	case '[':
		b.WriteString("[" + st.space)
		for i, e := range v.elts {
			if i > 0 {
				b.WriteString(st.space + "," + st.space)
			}
			e.write(b, st, parent, key)
		}
		b.WriteString(st.space + "]")
	case '"':
		s := v.str
		if st.numbers && (key == "amount" || key == "unit_price" || key == "score") && json.Valid([]byte(s)) {
			b.WriteString(s)
			return
		}
		if st.chinese {
			if name, ok := chineseName(parent, key, s); ok {
				s = name
			}
		}
		writeString(b, s)
	default:
		b.WriteString(v.str)
	}
}

// writeString writes s as JSON, escaping only what JSON requires.
func writeString(b *strings.Builder, s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		panic(err)
	}
	b.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

// chineseName returns the official name of the enum code s in field key of
// body parent.
func chineseName(parent, key, s string) (string, bool) {
	var names map[string]string
	switch key {
	case "fund":
		names = codeNames(fundNames)
	case "kind":
		if parent == "other_income" {
			names = codeNames(incomeKindNames)
		} else {
			names = codeNames(expenditureKindNames)
		}
	case "stage":
		names = codeNames(budgetStageNames)
	case "type":
		names = codeNames(unitTypeNames)
	case "class":
		names = codeNames(assetClassNames)
	case "category":
		names = codeNames(procurementCategoryNames)
	case "reserved", "supplier":
		names = codeNames(enterpriseNames)
	case "grade":
		names = codeNames(gradeNames)
	case "change":
		names = map[string]string{"increase": "调增", "decrease": "调减"}
	}
	name, ok := names[s]
	return name, ok
}

func codeNames[E ~uint8](m map[E]enumName) map[string]string {
	names := map[string]string{}
	for _, n := range m {
		names[n.code] = n.name
	}
	return names
}

// paths returns the position of every member at every depth: the indexes
// of the members leading to it.
func (v jv) paths(prefix []int) [][]int {
	var ps [][]int
	for i, m := range v.mems {
		p := append(prefix[:len(prefix):len(prefix)], i)
		ps = append(ps, p)
		ps = append(ps, m.val.paths(p)...)
	}
	return ps
}

// ms returns the members of the object holding the member at p.
func ms(v jv, p []int) []jm {
	for _, i := range p[:len(p)-1] {
		v = v.mems[i].val
	}
	return v.mems
}

// edit returns a copy of v with the members of the object holding the
// member at p replaced by f(members, index).
func (v jv) edit(p []int, f func(ms []jm, i int) []jm) jv {
	if len(p) == 1 {
		v.mems = f(v.mems, p[0])
		return v
	}
	mems := append([]jm(nil), v.mems...)
	mems[p[0]].val = mems[p[0]].val.edit(p[1:], f)
	v.mems = mems
	return v
}
