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

// Row is one golden line of a single-column table: the side of a two-sided
// table (or empty), the official row name and its printed value in 万元
// ("4,096.66").
type Row struct {
	Side, Name, Value string
}

// Load reads a single-column table (columns side, name, value).
func Load(name string) ([]Row, error) {
	_, rows, err := Table(name)
	if err != nil {
		return nil, err
	}
	out := make([]Row, len(rows))
	for i, c := range rows {
		if len(c) != 3 {
			return nil, fmt.Errorf("golden %s: row %q: want side, name, value", name, c)
		}
		out[i] = Row{Side: c[0], Name: c[1], Value: c[2]}
	}
	return out, nil
}

// Table reads testdata/golden/<name>.tsv from the module root: its header
// and its rows, every row as long as the header. Lines starting with # are
// comments.
func Table(name string) (header []string, rows [][]string, err error) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "golden", name+".tsv")
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("golden %s: %w", name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		t := sc.Text()
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		c := strings.Split(t, "\t")
		if header == nil {
			header = c
			continue
		}
		if len(c) != len(header) {
			return nil, nil, fmt.Errorf("golden %s: line %q: %d columns, header has %d", name, t, len(c), len(header))
		}
		rows = append(rows, c)
	}
	return header, rows, sc.Err()
}
