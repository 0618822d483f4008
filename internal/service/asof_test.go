package service_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/budgetledger/budgetledger"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/httpapi"
	"github.com/budgetledger/budgetledger/internal/service"
	"github.com/budgetledger/budgetledger/projections"
)

// TestCheckpointedAnswersAsTheLog: ledgerd answers statements and checks
// from its checkpoints (years, months and days of the as-of date); the same
// API folding the log itself must answer byte for byte alike, for every
// statement and the checks, as of dates across the year.
func TestCheckpointedAnswersAsTheLog(t *testing.T) {
	s, err := service.Start(context.Background(), service.Config{
		DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", NATSListen: "127.0.0.1:0", Demo: true, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fromLog := httptest.NewServer(httpapi.New(s.Log(), events.DefaultCatalog(), httpapi.Options{Logger: quiet}))
	defer fromLog.Close()
	get := func(base, path string) string {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Status + "\n" + string(b)
	}
	var paths []string
	for _, asOf := range []string{"2020-01-31", "2020-02-29", "2020-06-30", "2020-07-01", "2020-09-15", "2020-12-30", "2020-12-31"} {
		for _, spec := range projections.Specs {
			paths = append(paths, "/v1/ledgers/"+budgetledger.SampleLedgerName+"/statements/"+spec.Name+"?year=2020&as_of="+asOf,
				"/v1/ledgers/"+budgetledger.SampleLedgerName+"/statements/"+spec.Name+"?year=2020&unit=本级&as_of="+asOf)
		}
		paths = append(paths, "/v1/ledgers/"+budgetledger.SampleLedgerName+"/checks?year=2020&as_of="+asOf)
	}
	for _, p := range paths {
		if got, want := get("http://"+s.HTTPAddr(), p), get(fromLog.URL, p); got != want {
			t.Errorf("%s: ledgerd answers\n%.600s\nthe log answers\n%.600s", p, got, want)
		}
	}
}
