// Package golden reads the golden statements in testdata/golden: figures
// typed by hand from the published reference report, never produced by the
// code under test, so tests comparing against them can fail.
package golden

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Row is one golden line: the side of a two-sided table (or empty), the
// official row name and its printed value in 万元 ("4,096.66").
type Row struct {
	Side, Name, Value string
}

// Load reads testdata/golden/<name>.tsv from the module root.
func Load(name string) ([]Row, error) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "golden", name+".tsv")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("golden %s: %w", name, err)
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	header := true
	for sc.Scan() {
		t := sc.Text()
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if header {
			header = false
			continue
		}
		c := strings.Split(t, "\t")
		if len(c) != 3 {
			return nil, fmt.Errorf("golden %s: line %q: want side, name, value", name, t)
		}
		rows = append(rows, Row{Side: c[0], Name: c[1], Value: c[2]})
	}
	return rows, sc.Err()
}
