package budgetledger_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/budgetledger/budgetledger/events"
)

// TestReadmeExamples keeps the README's event examples true: each one must
// decode and validate, and together they show every body kind.
func TestReadmeExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[events.Kind]bool{}
	for _, line := range bytes.Split(readme, []byte("\n")) {
		if !bytes.HasPrefix(line, []byte(`{"id":`)) {
			continue
		}
		e, err := events.DecodeJSON(line)
		if err == nil {
			err = events.Validate(&e, events.DefaultCatalog())
		}
		if err != nil {
			t.Errorf("README example %s: %v", line, err)
			continue
		}
		kinds[e.Body.Kind()] = true
	}
	for _, k := range events.Kinds {
		if !kinds[k] {
			t.Errorf("README has no example of body %s", k)
		}
	}
}
