package events_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/budgetledger/budgetledger/events"
)

func TestDefaultCatalogNames(t *testing.T) {
	c := events.DefaultCatalog()
	tests := []struct {
		cl   events.Classification
		code string
		name string
	}{
		{events.Functional, "2019999", "其他一般公共服务支出"},
		{events.Functional, "201", "一般公共服务支出"},
		{events.Functional, "20103", "政府办公厅（室）及相关机构事务"},
		{events.Economic, "30217", "公务接待费"},
		{events.Economic, "302", "商品和服务支出"},
		{events.Economic, "30213", "维修（护）费"},
	}
	for _, tt := range tests {
		e, ok := c.Lookup(tt.cl, tt.code)
		if !ok || e.Name != tt.name || e.Code != tt.code {
			t.Errorf("Lookup(%s, %s) = %+v, %v; want name %s", tt.cl, tt.code, e, ok, tt.name)
		}
		if e.Sources == "" {
			t.Errorf("%s %s has no source", tt.cl, tt.code)
		}
		if got := c.Name(tt.cl, tt.code); got != tt.name {
			t.Errorf("Name(%s, %s) = %q", tt.cl, tt.code, got)
		}
	}
	// The classifications are separate name spaces.
	if _, ok := c.Lookup(events.Economic, "2019999"); ok {
		t.Error("2019999 found in the economic catalog")
	}
	if got := c.Name(events.Functional, "30217"); got != "" {
		t.Errorf("Name(functional, 30217) = %q, want empty", got)
	}
}

// TestDefaultCatalogT1Classes: every 类 line of the 2020 收入支出决算总表
// (T1) is in the catalog, so any statement can print its name.
func TestDefaultCatalogT1Classes(t *testing.T) {
	c := events.DefaultCatalog()
	t1 := strings.Fields("201 202 203 204 205 206 207 208 210 211 212 213 214 215 216 217 219 220 221 222 223 224 229 234")
	if len(t1) != 24 {
		t.Fatalf("test lists %d classes", len(t1))
	}
	var missing []string
	for _, code := range t1 {
		if c.Name(events.Functional, code) == "" {
			missing = append(missing, code)
		}
	}
	if len(missing) > 0 {
		t.Errorf("T1 类 codes missing from the functional catalog: %v", missing)
	}
}

// catalogCodes reads the codes of the embedded TSV files straight from disk,
// independently of the loader.
func catalogCodes(t *testing.T, files ...string) []string {
	t.Helper()
	var codes []string
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join("catalog", f))
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			line = strings.TrimRight(line, "\r")
			if i == 0 || line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			codes = append(codes, strings.SplitN(line, "\t", 2)[0])
		}
	}
	slices.Sort(codes)
	return slices.Compact(codes)
}

// TestDefaultCatalogParents: every 项 has its 款 and 类, every 款 its 类,
// in both classifications. A code without its parents would validate
// nowhere and print nowhere, so the list of the missing ones is the failure.
func TestDefaultCatalogParents(t *testing.T) {
	c := events.DefaultCatalog()
	for _, tt := range []struct {
		cl    events.Classification
		files []string
	}{
		{events.Functional, []string{"functional.tsv", "functional-classes-2020.tsv"}},
		{events.Economic, []string{"economic.tsv"}},
	} {
		codes := catalogCodes(t, tt.files...)
		if got := c.Len(tt.cl); got != len(codes) {
			t.Errorf("%s: catalog holds %d codes, the files list %d", tt.cl, got, len(codes))
		}
		var missing []string
		for _, code := range codes {
			if _, ok := c.Lookup(tt.cl, code); !ok {
				missing = append(missing, code+" itself")
			}
			for _, n := range []int{3, 5} {
				if n < len(code) {
					if _, ok := c.Lookup(tt.cl, code[:n]); !ok {
						missing = append(missing, code[:n]+" (parent of "+code+")")
					}
				}
			}
		}
		if len(missing) > 0 {
			t.Errorf("%s catalog lacks:\n%s", tt.cl, strings.Join(missing, "\n"))
		}
	}
}

// TestDefaultCatalogIsACopy: a deployment's additions to its copy do not
// leak into other copies.
func TestDefaultCatalogIsACopy(t *testing.T) {
	a := events.DefaultCatalog()
	if err := writeCatalog(t, a, "kind\tcode\tname\nfunctional\t2019998\t测试项\n"); err != nil {
		t.Fatal(err)
	}
	if b := events.DefaultCatalog(); b.Name(events.Functional, "2019998") != "" {
		t.Error("a LoadFile into one DefaultCatalog copy changed another")
	}
}

// writeCatalog writes content to a temporary TSV and loads it into c.
func writeCatalog(t *testing.T, c *events.Catalog, content string) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "extra.tsv")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return c.LoadFile(path)
}

// TestLoadFileAddsCode: a code unknown to the embedded catalog validates
// once a deployment's file adds it.
func TestLoadFileAddsCode(t *testing.T) {
	c := events.DefaultCatalog()
	line := []byte(edit(t, baseExpenditure,
		setIn("expenditure", "functional", "2019998"), setIn("expenditure", "economic", "30298")))
	if _, err := ingest(line, c); events.CodeOf(err) != events.CodeUnknownCode {
		t.Fatalf("before LoadFile: %v, want %s", err, events.CodeUnknownCode)
	}
	err := writeCatalog(t, c, "# deployment additions\r\n"+
		"kind\tcode\tname\teditions\r\n"+
		"functional\t2019998\t其他测试支出\t2020\r\n"+
		"\r\n"+
		"经济分类\t30298\t测试费\r\n")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest(line, c); err != nil {
		t.Errorf("after LoadFile: %v", err)
	}
	e, ok := c.Lookup(events.Functional, "2019998")
	if !ok || e.Name != "其他测试支出" || e.Editions != "2020" {
		t.Errorf("Lookup(2019998) = %+v, %v", e, ok)
	}
	if got := c.Name(events.Economic, "30298"); got != "测试费" {
		t.Errorf("Name(economic, 30298) = %q", got)
	}
}

// TestLoadFileChildNeedsParent: a 项 whose 款 is in no catalog is still
// rejected, naming the parent.
func TestLoadFileChildNeedsParent(t *testing.T) {
	c := events.DefaultCatalog()
	if err := writeCatalog(t, c, "kind\tcode\tname\nfunctional\t2019801\t孤儿项\n"); err != nil {
		t.Fatal(err)
	}
	line := []byte(edit(t, baseExpenditure, setIn("expenditure", "functional", "2019801")))
	_, err := ingest(line, c)
	if events.CodeOf(err) != events.CodeUnknownCode || !strings.Contains(err.Error(), "20198") {
		t.Errorf("ingest = %v, want %s naming parent 20198", err, events.CodeUnknownCode)
	}
}

func TestLoadFileReplacesName(t *testing.T) {
	c := events.DefaultCatalog()
	if err := writeCatalog(t, c, "code\tkind\tname\n30217\teconomic\t公务接待费(更正)\n"); err != nil {
		t.Fatal(err)
	}
	if got := c.Name(events.Economic, "30217"); got != "公务接待费（更正）" {
		t.Errorf("Name(30217) = %q", got)
	}
}

// TestLoadFileNormalizesBrackets: 维修(护)费 and 维修（护）费 are one name.
func TestLoadFileNormalizesBrackets(t *testing.T) {
	c := &events.Catalog{}
	if err := writeCatalog(t, c, "kind\tcode\tname\neconomic\t30213\t维修(护)费\nfunctional\t20103\t政府办公厅(室)及相关机构事务\n"); err != nil {
		t.Fatal(err)
	}
	if got := c.Name(events.Economic, "30213"); got != "维修（护）费" {
		t.Errorf("Name(30213) = %q, want 维修（护）费", got)
	}
	want := events.DefaultCatalog().Name(events.Functional, "20103")
	if got := c.Name(events.Functional, "20103"); got != want {
		t.Errorf("Name(20103) = %q, want the embedded %q", got, want)
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"header without code", "kind\tnumber\tname\nfunctional\t2019998\tx\n"},
		{"header without name", "kind\tcode\ttitle\nfunctional\t2019998\tx\n"},
		{"header without kind", "code\tname\n2019998\tx\n"},
		{"header comma separated", "kind,code,name\nfunctional,2019998,x\n"},
		{"unknown kind", "kind\tcode\tname\nfunctionl\t2019998\tx\n"},
		{"empty kind", "kind\tcode\tname\n\t2019998\tx\n"},
		{"code with letters", "kind\tcode\tname\nfunctional\t20199x8\tx\n"},
		{"code of 6 digits", "kind\tcode\tname\nfunctional\t201999\tx\n"},
		{"code of 4 digits", "kind\tcode\tname\neconomic\t3021\tx\n"},
		{"economic 项", "kind\tcode\tname\neconomic\t3021701\tx\n"},
		{"empty code", "kind\tcode\tname\nfunctional\t\tx\n"},
		{"full-width digits", "kind\tcode\tname\nfunctional\t２０１\tx\n"},
		{"no name", "kind\tcode\tname\nfunctional\t2019998\t\n"},
		{"short row", "kind\tcode\tname\nfunctional\n"},
		{"bad row after good ones", "kind\tcode\tname\nfunctional\t2019998\tx\nfunctional\t2019\ty\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := writeCatalog(t, events.DefaultCatalog(), tt.content); err == nil {
				t.Errorf("LoadFile accepted %q", tt.content)
			}
		})
	}
	if err := events.DefaultCatalog().LoadFile(filepath.Join(t.TempDir(), "absent.tsv")); err == nil {
		t.Error("LoadFile of a missing file succeeded")
	}
}

func TestLevelOf(t *testing.T) {
	for code, want := range map[string]events.Level{
		"201": events.Class, "20199": events.Section, "2019999": events.Item,
		"": 0, "2": 0, "2019": 0, "201999": 0, "20199999": 0,
	} {
		if got := events.LevelOf(code); got != want {
			t.Errorf("LevelOf(%q) = %d, want %d", code, got, want)
		}
	}
}

// TestEmptyCatalog: the zero Catalog knows no code, so every code is
// unknown rather than a panic.
func TestEmptyCatalog(t *testing.T) {
	var c events.Catalog
	_, err := ingest([]byte(baseExpenditure), &c)
	if events.CodeOf(err) != events.CodeUnknownCode {
		t.Errorf("ingest with empty catalog = %v, want %s", err, events.CodeUnknownCode)
	}
	if c.Len(events.Functional) != 0 {
		t.Errorf("Len = %d", c.Len(events.Functional))
	}
}

// TestCatalogEditions: a code renamed between editions prints the name of
// the statement's year.
func TestCatalogEditions(t *testing.T) {
	c := events.DefaultCatalog()
	path := filepath.Join(t.TempDir(), "renamed.tsv")
	if err := os.WriteFile(path, []byte("kind\tcode\tname\teditions\tsources\nfunctional\t210\t医疗卫生与计划生育支出\t2016,2017\ttest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		year int
		want string
	}{{2015, "医疗卫生与计划生育支出"}, {2017, "医疗卫生与计划生育支出"}, {2019, "医疗卫生与计划生育支出"}, {2020, "卫生健康支出"}, {2026, "卫生健康支出"}} {
		if got := c.NameIn(events.Functional, "210", tc.year); got != tc.want {
			t.Errorf("210 in %d: %s, want %s", tc.year, got, tc.want)
		}
	}
	if got := c.Name(events.Functional, "210"); got != "卫生健康支出" {
		t.Errorf("latest name %s", got)
	}
	if got := c.NameIn(events.Functional, "2019999", 2010); got != "其他一般公共服务支出" {
		t.Errorf("unrenamed code: %s", got)
	}
}
