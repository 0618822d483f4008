package service

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadDepartments(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	d, err := loadDepartments(write("ok.tsv", "# 区财政局汇总\ndepartment\tledger\nqingpu\tqingpu-zwb\nqingpu\tqingpu-kw\nother\tother-1\n"))
	if err != nil || !slices.Equal(d["qingpu"], []string{"qingpu-zwb", "qingpu-kw"}) || len(d) != 2 {
		t.Errorf("departments %v %v", d, err)
	}
	for _, bad := range []struct{ text, want string }{
		{"dept\tledger\nq\tq\n", "header must name"},
		{"department\tledger\nqingpu\tQingpu\n", "ledger"},
		{"department\tledger\nq/x\tq\n", "usable in a URL"},
		{"department\tledger\nqingpu\n", "want a department and a ledger"},
	} {
		if _, err := loadDepartments(write("bad.tsv", bad.text)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error about %s", bad.text, err, bad.want)
		}
	}
	if d, err := loadDepartments(""); err != nil || len(d) != 0 {
		t.Errorf("no file: %v %v", d, err)
	}
}
