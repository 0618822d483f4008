package events

import (
	"bufio"
	"embed"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Classification is one of the two code systems an expenditure is classified
// by.
type Classification uint8

// The classifications.
const (
	// Functional is 支出功能分类: what the money is for (类 3 digits, 款 5, 项 7).
	Functional Classification = 1
	// Economic is 部门预算支出经济分类: what the money buys (类 3 digits, 款 5).
	Economic Classification = 2
)

func (c Classification) String() string {
	switch c {
	case Functional:
		return "functional"
	case Economic:
		return "economic"
	}
	return "invalid"
}

// Level is the depth of a classification code: 类, 款 or 项.
type Level uint8

// The levels, by code length.
const (
	Class   Level = 1 // 类, 3 digits
	Section Level = 2 // 款, 5 digits
	Item    Level = 3 // 项, 7 digits (functional only)
)

// LevelOf returns the level a code's length implies, or 0.
func LevelOf(code string) Level {
	switch len(code) {
	case 3:
		return Class
	case 5:
		return Section
	case 7:
		return Item
	}
	return 0
}

// Entry is one code of a catalog with its official name and where it was
// seen, so every printed name can be traced to a published source.
type Entry struct {
	Code     string
	Name     string
	Editions string // budget years of the documents the code+name was seen in
	Sources  string
}

// Catalog holds the classification codes that events may use. The zero value
// is empty; DefaultCatalog returns the embedded one. A Catalog is safe for
// concurrent reads once built; Load must not run concurrently with lookups.
type Catalog struct {
	codes map[Classification]map[string]Entry
	// names holds, for codes whose official name changed between editions
	// of the classification, every name with the editions it was seen in.
	names map[Classification]map[string][]Entry
}

//go:embed catalog/*.tsv
var catalogFiles embed.FS

var (
	defaultOnce    sync.Once
	defaultCatalog *Catalog
)

// DefaultCatalog returns a copy of the embedded catalog: 功能分类 and 经济分类
// codes with official names, each sourced (see catalog/*.tsv).
func DefaultCatalog() *Catalog {
	defaultOnce.Do(func() {
		c := &Catalog{}
		for _, f := range []struct {
			name string
			cl   Classification
		}{
			{"catalog/functional.tsv", Functional},
			{"catalog/functional-classes-2020.tsv", Functional},
			{"catalog/economic.tsv", Economic},
		} {
			r, err := catalogFiles.Open(f.name)
			if err != nil {
				panic(err) // embedded at build time
			}
			if err := c.load(r, f.name, f.cl); err != nil {
				panic(err)
			}
			r.Close()
		}
		defaultCatalog = c
	})
	return defaultCatalog.clone()
}

func (c *Catalog) clone() *Catalog {
	n := &Catalog{codes: map[Classification]map[string]Entry{}, names: map[Classification]map[string][]Entry{}}
	for cl, m := range c.codes {
		n.codes[cl] = make(map[string]Entry, len(m))
		for k, v := range m {
			n.codes[cl][k] = v
		}
	}
	for cl, m := range c.names {
		n.names[cl] = make(map[string][]Entry, len(m))
		for k, v := range m {
			n.names[cl][k] = append([]Entry(nil), v...)
		}
	}
	return n
}

// LoadFile adds the codes of a deployment's TSV file to c. The file has a
// header line naming its columns: kind (functional or economic), code, name,
// and optionally editions and sources. A code already present is replaced, so
// a deployment can also correct a name.
func (c *Catalog) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("load catalog: %w", err)
	}
	defer f.Close()
	return c.load(f, path, 0)
}

// load reads a TSV. When cl is zero every row names its classification in a
// "kind" column.
func (c *Catalog) load(r io.Reader, name string, cl Classification) error {
	if c.codes == nil {
		c.codes = map[Classification]map[string]Entry{}
	}
	sc := bufio.NewScanner(r)
	col := map[string]int{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(col) == 0 {
			for i, f := range fields {
				col[strings.TrimSpace(f)] = i
			}
			if _, ok := col["code"]; !ok {
				return fmt.Errorf("catalog %s: header has no code column", name)
			}
			if _, ok := col["name"]; !ok {
				return fmt.Errorf("catalog %s: header has no name column", name)
			}
			if _, ok := col["kind"]; !ok && cl == 0 {
				return fmt.Errorf("catalog %s: header has no kind column (functional or economic)", name)
			}
			continue
		}
		get := func(k string) string {
			if i, ok := col[k]; ok && i < len(fields) {
				return strings.TrimSpace(fields[i])
			}
			return ""
		}
		rowCl := cl
		if rowCl == 0 {
			switch get("kind") {
			case "functional", "功能分类":
				rowCl = Functional
			case "economic", "经济分类":
				rowCl = Economic
			default:
				return fmt.Errorf("catalog %s line %d: kind %q: expected functional or economic", name, line, get("kind"))
			}
		}
		e := Entry{Code: get("code"), Name: normalizeName(get("name")), Editions: get("editions"), Sources: get("sources")}
		if err := checkCodeShape(rowCl, e.Code); err != nil {
			return fmt.Errorf("catalog %s line %d: %w", name, line, err)
		}
		if e.Name == "" {
			return fmt.Errorf("catalog %s line %d: code %s has no name", name, line, e.Code)
		}
		if _, err := editions(e.Editions); err != nil {
			return fmt.Errorf("catalog %s line %d: editions %q: %w", name, line, e.Editions, err)
		}
		c.add(rowCl, e)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("catalog %s: %w", name, err)
	}
	return nil
}

// add records e. A row naming a code already known with another name, for
// other editions, adds that name for those editions (a renamed code: 210
// was 医疗卫生与计划生育支出 before it became 卫生健康支出); otherwise the row
// replaces the code's entry, so a deployment can correct a name.
func (c *Catalog) add(cl Classification, e Entry) {
	if c.codes[cl] == nil {
		c.codes[cl] = map[string]Entry{}
	}
	if c.names == nil {
		c.names = map[Classification]map[string][]Entry{}
	}
	if c.names[cl] == nil {
		c.names[cl] = map[string][]Entry{}
	}
	old, ok := c.codes[cl][e.Code]
	if ok && old.Name != e.Name && e.Editions != "" && old.Editions != "" && e.Editions != old.Editions {
		if len(c.names[cl][e.Code]) == 0 {
			c.names[cl][e.Code] = []Entry{old}
		}
		c.names[cl][e.Code] = append(c.names[cl][e.Code], e)
		// The default entry is the name of the latest edition.
		if latest(e.Editions) > latest(old.Editions) {
			c.codes[cl][e.Code] = e
		}
		return
	}
	c.codes[cl][e.Code] = e
	delete(c.names[cl], e.Code)
}

// editions parses "2020,2024" into years.
func editions(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		y, err := strconv.Atoi(f)
		if err != nil || y < MinYear-100 || y > MaxYear {
			return nil, fmt.Errorf("want budget years such as 2020,2024")
		}
		out = append(out, y)
	}
	return out, nil
}

func latest(s string) int {
	ys, _ := editions(s)
	if len(ys) == 0 {
		return 0
	}
	return slices.Max(ys)
}

// NameIn returns the official name of code as the classification of fiscal
// year y prints it: for a code renamed between editions, the name of the
// latest edition not after y (or, for a year before every edition, the
// earliest); otherwise its only name. "" when the catalog lacks the code.
func (c *Catalog) NameIn(cl Classification, code string, y int) string {
	versions := c.names[cl][code]
	if len(versions) == 0 {
		return c.codes[cl][code].Name
	}
	best, bestYear := "", 0
	earliest, earliestYear := "", 1<<30
	for _, v := range versions {
		ys, _ := editions(v.Editions)
		for _, ey := range ys {
			if ey <= y && ey > bestYear {
				best, bestYear = v.Name, ey
			}
			if ey < earliestYear {
				earliest, earliestYear = v.Name, ey
			}
		}
	}
	if best != "" {
		return best
	}
	return earliest
}

// normalizeName turns half-width brackets into the full-width ones official
// names use, so 维修(护)费 and 维修（护）费 are one name.
func normalizeName(s string) string {
	return strings.NewReplacer("(", "（", ")", "）").Replace(s)
}

func checkCodeShape(cl Classification, code string) error {
	lv := LevelOf(code)
	if lv == 0 || (cl == Economic && lv == Item) || !allDigits(code) {
		return fmt.Errorf("%s code %q: expected %s", cl, code, codeShape(cl))
	}
	return nil
}

func codeShape(cl Classification) string {
	if cl == Economic {
		return "3 or 5 digits (类 or 款)"
	}
	return "3, 5 or 7 digits (类, 款 or 项)"
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// Lookup returns the entry of code in classification cl.
func (c *Catalog) Lookup(cl Classification, code string) (Entry, bool) {
	e, ok := c.codes[cl][code]
	return e, ok
}

// Name returns the official name of code in its latest edition, or "" when
// the catalog lacks it. Statements use NameIn, the name of their year.
func (c *Catalog) Name(cl Classification, code string) string {
	return c.codes[cl][code].Name
}

// Codes returns the codes of cl at the given level, sorted.
func (c *Catalog) Codes(cl Classification, level Level) []string {
	var out []string
	for code := range c.codes[cl] {
		if LevelOf(code) == level {
			out = append(out, code)
		}
	}
	slices.Sort(out)
	return out
}

// Len returns how many codes of cl the catalog holds.
func (c *Catalog) Len(cl Classification) int { return len(c.codes[cl]) }

// checkCode validates that code is a well-formed code of the given level and
// that it and its parents are in the catalog (a 项 without its 款 and 类
// could not be printed in the statements).
func (c *Catalog) checkCode(cl Classification, field, code string, want Level) error {
	shape := "a 7-digit 功能分类 项 code such as 2019999"
	if cl == Economic {
		shape = "a 5-digit 经济分类 款 code such as 30201"
	}
	if code == "" {
		return invalid(CodeMissingField, field, "", shape)
	}
	if LevelOf(code) != want || !allDigits(code) {
		return invalid(CodeMalformedCode, field, code, shape)
	}
	for _, n := range []int{3, 5, 7} {
		if n > len(code) {
			break
		}
		if _, ok := c.codes[cl][code[:n]]; !ok {
			what := "a code of the " + cl.String() + " catalog"
			if n < len(code) {
				what = fmt.Sprintf("a code whose parent %s is in the %s catalog (add it with a catalog file)", code[:n], cl)
			} else {
				what += " (add it with a catalog file if it is an official code)"
			}
			return invalid(CodeUnknownCode, field, code, what)
		}
	}
	return nil
}
