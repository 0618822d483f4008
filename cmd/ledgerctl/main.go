// Command ledgerctl is the publisher's and operator's tool for a budget
// ledger:
//
//	ledgerctl publish [-nats URL] [-ledger L] FILE.jsonl   publish events, wait for every outcome
//	ledgerctl report STATEMENT -ledger L -year Y [-as-of D] [-unit U] [-format text|csv|json]
//	ledgerctl status -ledger L ID                          the outcome of one event id
//	ledgerctl rejections -ledger L                         rejected events with their reasons
//	ledgerctl verify [-ledger L] [-data DIR] [-deep]       prove the log intact (chains, indexes, checkpoints, file)
//	ledgerctl check -ledger L -year Y                      check the rules tying the tables together
//	ledgerctl check -published DIR -year Y                 check a report before it is published
//	ledgerctl export -ledger L [-data DIR] [-o FILE]       the books as a journal for hledger and ledger-cli
//	ledgerctl backup -o FILE [-server URL | -data DIR]     a consistent, verified copy of the log
//	ledgerctl restore -data DIR FILE                       put a backup in place
//
// Reads go to ledgerd's HTTP API (-server, default http://127.0.0.1:8080);
// verify -data DIR checks a stopped ledgerd's file directly.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/budgetledger/budgetledger/checks"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/checkpoint"
	"github.com/budgetledger/budgetledger/internal/publish"
	"github.com/budgetledger/budgetledger/internal/report"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

const usage = `usage:
  ledgerctl publish [-nats URL] [-ledger L] [-wait D] FILE.jsonl
  ledgerctl report STATEMENT -ledger L -year Y [-as-of YYYY-MM-DD] [-known-at TIME|SEQ] [-unit U] [-format text|csv|json] [-server URL]
      STATEMENT: income-expenditure, income, expenditure, fiscal-summary,
                 general-budget-expenditure, basic-expenditure, three-public,
                 government-fund, state-capital, balance-sheet, notes
  ledgerctl status -ledger L [-server URL] ID
  ledgerctl rejections -ledger L [-server URL]
  ledgerctl verify [-ledger L] [-server URL | -data DIR | -file FILE] [-deep]
                                                            prove the log intact: chains, indexes, checkpoints, file
  ledgerctl check -ledger L -year Y [-server URL] [-v]      the rules tying the tables together (勾稽关系)
  ledgerctl check -published DIR -year Y [-ledger L] [-v]   the same rules on a report typed from its PDF, and
                                                            with -ledger every printed cell against the books
  ledgerctl replay -ledger L [-server URL | -data DIR] [-out DIR] [-catalog FILE]
                                                            rebuild every statement from the log (chain checked)
                                                            and compare it byte for byte with the live one
  ledgerctl backup -o FILE [-server URL | -data DIR]          a consistent copy of the log, verified, while ledgerd serves
  ledgerctl restore -data DIR FILE                           put a backup in place (ledgerd stopped); the old file is kept
  ledgerctl export -ledger L [-server URL | -data DIR] [-format ledger] [-o FILE]
                                                            the money as a journal hledger and ledger-cli read
                                                            (chain checked), to check the statements with them
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the exit status: 0 success, 1 the
// command ran but found a problem (a rejected event, a broken chain), 2 a
// usage or connection error.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	code := 0
	switch args[0] {
	case "publish":
		code, err = cmdPublish(ctx, args[1:], stdout)
	case "report":
		err = cmdReport(ctx, args[1:], stdout)
	case "status":
		code, err = cmdStatus(ctx, args[1:], stdout)
	case "rejections":
		err = cmdRejections(ctx, args[1:], stdout)
	case "verify":
		code, err = cmdVerify(ctx, args[1:], stdout)
	case "check":
		code, err = cmdCheck(ctx, args[1:], stdout)
	case "replay":
		code, err = cmdReplay(ctx, args[1:], stdout, stderr)
	case "export":
		code, err = cmdExport(ctx, args[1:], stdout, stderr)
	case "backup":
		code, err = cmdBackup(ctx, args[1:], stdout)
	case "restore":
		code, err = cmdRestore(ctx, args[1:], stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = fmt.Errorf("unknown command %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "ledgerctl:", err)
		if errors.Is(err, flag.ErrHelp) || code == 0 {
			return 2
		}
	}
	return code
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

func cmdPublish(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	fs := newFlags("publish")
	natsURL := fs.String("nats", "nats://127.0.0.1:4222", "NATS server URL")
	ledgerName := fs.String("ledger", "", "ledger for lines that do not name one")
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for outcomes")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if fs.NArg() != 1 {
		return 2, fmt.Errorf("publish: give one FILE.jsonl (or - for standard input)")
	}
	in := io.Reader(os.Stdin)
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return 2, err
		}
		defer f.Close()
		in = f
	}
	nc, err := nats.Connect(*natsURL, nats.Name("ledgerctl"), nats.Timeout(5*time.Second))
	if err != nil {
		return 2, fmt.Errorf("connect %s: %w (is ledgerd running?)", *natsURL, err)
	}
	defer nc.Close()
	sum, err := publish.File(ctx, nc, in, publish.Options{Ledger: *ledgerName, Wait: *wait})
	if err != nil {
		return 2, err
	}
	fmt.Fprintf(stdout, "published %d events in %s\n", len(sum.Lines), sum.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(stdout, "  accepted   %d\n  duplicates %d\n  rejected   %d\n", sum.Accepted, sum.Duplicates, sum.Rejected)
	if sum.Unresolved > 0 {
		fmt.Fprintf(stdout, "  no outcome %d (still waiting in the inbox? is ledgerd running? publishing again is safe)\n", sum.Unresolved)
	}
	for _, l := range sum.Lines {
		switch {
		case !l.Resolved:
			fmt.Fprintf(stdout, "line %d  %s  no outcome within %s\n", l.Number, l.ID, *wait)
		case l.Outcome.Status == ledger.Rejected:
			fmt.Fprintf(stdout, "line %d  %s  rejected  %s: %s\n", l.Number, l.ID, l.Outcome.Code, l.Outcome.Reason)
		}
	}
	if sum.Rejected > 0 || sum.Unresolved > 0 {
		return 1, nil
	}
	return 0, nil
}

// client reads ledgerd's HTTP API.
type client struct {
	base string
	http *http.Client
}

func serverFlag(fs *flag.FlagSet) *string {
	return fs.String("server", "http://127.0.0.1:8080", "ledgerd HTTP API")
}

// get fetches path and decodes JSON into v; a non-2xx answer is an error
// carrying the API's message.
func (c client) get(ctx context.Context, path string, v any) (int, error) {
	code, body, err := c.raw(ctx, path)
	if err != nil {
		return code, err
	}
	return code, json.Unmarshal(body, v)
}

// raw fetches path as is (a statement's CSV or JSON bytes); a non-2xx
// answer is an error carrying the API's message.
func (c client) raw(ctx context.Context, path string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w (is ledgerd running?)", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = string(body)
		}
		return resp.StatusCode, nil, fmt.Errorf("%s: %s", resp.Status, e.Error)
	}
	return resp.StatusCode, body, nil
}

func newClient(server string) client {
	return client{base: server, http: &http.Client{Timeout: time.Minute}}
}

func cmdReport(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("report: name the statement first: %s", statementNames())
	}
	statement := args[0]
	fs := newFlags("report")
	server := serverFlag(fs)
	ledgerName := fs.String("ledger", "", "ledger, e.g. qingpu-zwb")
	year := fs.Int("year", 0, "fiscal year")
	asOf := fs.String("as-of", "", "last effective date counted (default: the year's end)")
	unit := fs.String("unit", "", "one budget unit (default: all units consolidated)")
	knownAt := fs.String("known-at", "", "as the books stood at this moment (RFC 3339) or log sequence")
	format := fs.String("format", "text", "text, csv or json")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *ledgerName == "" || (*year == 0 && *asOf == "") {
		return fmt.Errorf("report: -ledger and -year (or -as-of) are required")
	}
	q := url.Values{}
	if *year != 0 {
		q.Set("year", fmt.Sprint(*year))
	}
	if *asOf != "" {
		q.Set("as_of", *asOf)
	}
	if *unit != "" {
		q.Set("unit", *unit)
	}
	if *knownAt != "" {
		q.Set("known_at", *knownAt)
	}
	var doc report.Document
	path := "/v1/ledgers/" + url.PathEscape(*ledgerName) + "/statements/" + url.PathEscape(statement) + "?" + q.Encode()
	if _, err := newClient(*server).get(ctx, path, &doc); err != nil {
		return err
	}
	switch *format {
	case "text":
		return report.WriteText(stdout, doc)
	case "csv":
		return report.WriteCSV(stdout, doc)
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	return fmt.Errorf("report: -format %q: expected text, csv or json", *format)
}

func statementNames() string {
	var names []string
	for _, s := range projections.Specs {
		names = append(names, s.Name+" ("+s.Title+")")
	}
	return strings.Join(names, ", ")
}

func cmdStatus(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	fs := newFlags("status")
	server := serverFlag(fs)
	ledgerName := fs.String("ledger", "", "ledger")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *ledgerName == "" || fs.NArg() != 1 {
		return 2, fmt.Errorf("status: -ledger L and one event id are required")
	}
	var o map[string]any
	code, err := newClient(*server).get(ctx, "/v1/ledgers/"+url.PathEscape(*ledgerName)+"/events/"+url.PathEscape(fs.Arg(0)), &o)
	if code == http.StatusNotFound {
		fmt.Fprintf(stdout, "%s: unknown (never received, or still waiting in the inbox)\n", fs.Arg(0))
		return 1, nil
	}
	if err != nil {
		return 2, err
	}
	switch o["status"] {
	case "rejected":
		fmt.Fprintf(stdout, "%s: rejected (%v) at %v: %v\n", fs.Arg(0), o["code"], o["recorded_at"], o["reason"])
		return 1, nil
	default:
		fmt.Fprintf(stdout, "%s: %v, seq %v, recorded %v\n", fs.Arg(0), o["status"], o["seq"], o["recorded_at"])
	}
	return 0, nil
}

func cmdRejections(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("rejections")
	server := serverFlag(fs)
	ledgerName := fs.String("ledger", "", "ledger")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ledgerName == "" {
		return fmt.Errorf("rejections: -ledger is required")
	}
	c := newClient(*server)
	var after uint64
	n := 0
	for {
		var page struct {
			Rejections []ledger.Rejection `json:"rejections"`
		}
		path := fmt.Sprintf("/v1/ledgers/%s/rejections?after=%d&limit=1000", url.PathEscape(*ledgerName), after)
		if _, err := c.get(ctx, path, &page); err != nil {
			return err
		}
		for _, r := range page.Rejections {
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\t%s\n", r.Number, r.RecordedAt.Format(time.RFC3339), r.ID, r.Code, r.Reason)
			after = r.Number
			n++
		}
		if len(page.Rejections) < 1000 {
			break
		}
	}
	if n == 0 {
		fmt.Fprintln(stdout, "no rejected events")
	}
	return nil
}

// cmdVerify proves a log intact: every ledger's chain, indexes and
// rejections, its stored checkpoint (with -deep, against the log folded
// again), and the structure of the whole file. It exits 1 when anything
// is damaged, saying what and where.
func cmdVerify(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	fs := newFlags("verify")
	server := serverFlag(fs)
	dataDir := fs.String("data", "", "verify the log file in this data directory (ledgerd stopped), or -file")
	file := fs.String("file", "", "verify this log file (a backup, say)")
	ledgerName := fs.String("ledger", "", "verify this ledger only (default: every ledger)")
	deep := fs.Bool("deep", false, "also fold each ledger's log again and compare its stored checkpoint with it")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *dataDir != "" && *file == "" {
		*file = filepath.Join(*dataDir, "ledger.db")
	}
	if *file != "" {
		return verifyFile(ctx, *file, *ledgerName, *deep, stdout)
	}
	c := newClient(*server)
	names := []string{*ledgerName}
	if *ledgerName == "" {
		var err error
		if names, err = ledgerNames(ctx, c); err != nil {
			return 2, err
		}
	}
	if len(names) == 0 {
		fmt.Fprintln(stdout, "no ledgers to verify")
		return 0, nil
	}
	code := 0
	for _, name := range names {
		var v struct {
			Events     uint64                 `json:"events"`
			Head       string                 `json:"head"`
			Rejections uint64                 `json:"rejections"`
			Checkpoint ledger.CheckpointCheck `json:"checkpoint"`
			File       ledger.FileCheck       `json:"file"`
		}
		q := url.Values{}
		if *deep {
			q.Set("deep", "true")
		}
		last := name == names[len(names)-1]
		if !last {
			q.Set("file", "false") // the file is checked once, with the last ledger
		}
		path := "/v1/ledgers/" + url.PathEscape(name) + "/verify?" + q.Encode()
		status, err := c.get(ctx, path, &v)
		if status == http.StatusConflict {
			fmt.Fprintf(stdout, "%s: NOT VERIFIED: %v\n", name, err)
			code = 1
			continue
		}
		if err != nil {
			return 2, err
		}
		fmt.Fprintf(stdout, "%s: verified %d events; head %s; %d rejections; %s\n", name, v.Events, v.Head, v.Rejections, checkpointLine(v.Checkpoint, *deep))
		if last {
			fmt.Fprintln(stdout, fileLine(v.File))
		}
	}
	return code, nil
}

// verifyFile is cmdVerify on a log file read directly.
func verifyFile(ctx context.Context, path, only string, deep bool, stdout io.Writer) (int, error) {
	if _, err := os.Stat(path); err != nil {
		return 2, err
	}
	l, err := ledger.Open(path, ledger.Options{ReadOnly: true})
	if errors.Is(err, ledger.ErrDamaged) {
		fmt.Fprintf(stdout, "%s: NOT VERIFIED: %v\n", path, err)
		return 1, nil
	}
	if err != nil {
		return 2, err
	}
	defer l.Close()
	code := 0
	if st, err := ledger.CheckFile(path); err == nil && st.MetaErr() != nil {
		fmt.Fprintf(stdout, "%s: NOT VERIFIED: %v\n", path, st.MetaErr())
		code = 1
	}
	fc, err := l.CheckFile(ctx)
	switch {
	case errors.Is(err, ledger.ErrDamaged):
		fmt.Fprintf(stdout, "%s: NOT VERIFIED: %v\n", path, err)
		code = 1
	case err != nil:
		return 2, err
	}
	names := []string{only}
	if only == "" {
		if names, err = l.Ledgers(); err != nil {
			fmt.Fprintf(stdout, "%s: NOT VERIFIED: %v\n", path, err)
			return 1, nil
		}
	}
	for _, name := range names {
		var refold func(context.Context, ledger.Checkpoint) ([]events.Event, error)
		if deep {
			refold = func(ctx context.Context, cp ledger.Checkpoint) ([]events.Event, error) {
				return checkpoint.Refold(ctx, l, name, cp.Seq)
			}
		}
		v, err := l.VerifyDeep(ctx, name, refold)
		switch {
		case errors.Is(err, ledger.ErrCheckpointDamaged):
			fmt.Fprintf(stdout, "%s: verified %d events; head %s; %d rejections; checkpoint DAMAGED: %v (the log is intact; ledgerd rebuilds the checkpoint from it when it starts)\n",
				name, v.Events, v.HeadHex, v.Rejections, err)
			code = 1
		case errors.Is(err, ledger.ErrChainBroken), errors.Is(err, ledger.ErrDamaged):
			fmt.Fprintf(stdout, "%s: NOT VERIFIED after %d events: %v\n", name, v.Events, err)
			code = 1
		case err != nil:
			return 2, err
		default:
			fmt.Fprintf(stdout, "%s: verified %d events; head %s; %d rejections; %s\n", name, v.Events, v.HeadHex, v.Rejections, checkpointLine(v.Checkpoint, deep))
		}
	}
	if code == 0 || fc.Pages > 0 {
		fmt.Fprintln(stdout, fileLine(fc))
	}
	return code, nil
}

func checkpointLine(c ledger.CheckpointCheck, deep bool) string {
	switch {
	case !c.Stored:
		return "no checkpoint stored"
	case deep:
		return fmt.Sprintf("checkpoint at seq %d (%d events) intact and equal to the log folded again", c.Seq, c.Events)
	}
	return fmt.Sprintf("checkpoint at seq %d (%d events) intact", c.Seq, c.Events)
}

func fileLine(f ledger.FileCheck) string {
	return fmt.Sprintf("file: structure intact at transaction %d: %d pages of %d bytes, %d in use, %d free", f.TxID, f.Pages, f.PageSize, f.Reached, f.Free)
}

// ledgerNames lists the ledgers ledgerd serves.
func ledgerNames(ctx context.Context, c client) ([]string, error) {
	var list struct {
		Ledgers []struct {
			Ledger string `json:"ledger"`
		} `json:"ledgers"`
	}
	if _, err := c.get(ctx, "/v1/ledgers", &list); err != nil {
		return nil, err
	}
	var names []string
	for _, l := range list.Ledgers {
		names = append(names, l.Ledger)
	}
	return names, nil
}

func cmdCheck(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	fs := newFlags("check")
	server := serverFlag(fs)
	ledgerName := fs.String("ledger", "", "check this ledger's statements")
	published := fs.String("published", "", "check a published report: a directory of <statement>-<year>.tsv files (with -ledger: against the books too)")
	year := fs.Int("year", 0, "fiscal year")
	verbose := fs.Bool("v", false, "list the rules that hold too")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	if *year == 0 || (*ledgerName == "" && *published == "") {
		return 2, fmt.Errorf("check: give -year and -ledger, -published, or both (to check a report against the books)")
	}
	var results []checks.Result
	switch {
	case *published != "":
		r, err := checks.LoadDir(*published, *year)
		if err != nil {
			return 2, err
		}
		results = checks.Run(r)
		if *ledgerName != "" {
			books, err := booksReport(ctx, newClient(*server), *ledgerName, *year)
			if err != nil {
				return 2, err
			}
			results = append(results, checks.Compare(r, books)...)
		}
	default:
		var doc struct {
			Results []checks.Result `json:"results"`
		}
		path := fmt.Sprintf("/v1/ledgers/%s/checks?year=%d", url.PathEscape(*ledgerName), *year)
		if _, err := newClient(*server).get(ctx, path, &doc); err != nil {
			return 2, err
		}
		results = doc.Results
	}
	count := map[checks.Status]int{}
	for _, r := range results {
		count[r.Status]++
		if r.Status == checks.Pass && !*verbose {
			continue
		}
		fmt.Fprintf(stdout, "%-8s rule %-6s %s: %s vs %s (difference %s)", r.Status, r.Rule, r.Check, r.Left, r.Right, r.Diff)
		if r.Note != "" {
			fmt.Fprintf(stdout, "; %s", r.Note)
		}
		fmt.Fprintln(stdout)
	}
	fmt.Fprintf(stdout, "%d rules: %d hold, %d within rounding, %d fail, %d skipped\n",
		len(results), count[checks.Pass], count[checks.Rounding], count[checks.Fail], count[checks.Skipped])
	if count[checks.Fail] > 0 {
		return 1, nil
	}
	return 0, nil
}

// booksReport reads every statement of a ledger from the API as the
// checker's printed report, with the exact amounts.
func booksReport(ctx context.Context, c client, ledgerName string, year int) (checks.Report, error) {
	r := checks.Report{Tables: map[string]*checks.Table{}}
	for _, spec := range projections.Specs {
		var doc report.Document
		path := fmt.Sprintf("/v1/ledgers/%s/statements/%s?year=%d", url.PathEscape(ledgerName), spec.Name, year)
		if _, err := c.get(ctx, path, &doc); err != nil {
			return r, err
		}
		t := &checks.Table{Name: spec.Name, Columns: doc.Columns}
		for _, row := range doc.Rows {
			cr := checks.Row{Side: row.Side, Code: row.Code, Name: row.Name, Key: row.Key}
			values, amounts := row.Values, row.AmountsYuan
			if len(values) == 0 {
				values, amounts = []string{row.Value}, []string{row.AmountYuan}
			}
			for i, v := range values {
				cell, err := checks.ParseCell(v, amounts[i])
				if err != nil {
					return r, fmt.Errorf("%s %s: %w", spec.Name, row.Name, err)
				}
				cr.Cells = append(cr.Cells, cell)
			}
			t.Rows = append(t.Rows, cr)
		}
		for _, f := range doc.Facts {
			if cell, err := checks.ParseCell(f.Value, ""); err == nil {
				t.Rows = append(t.Rows, checks.Row{Name: f.Name, Key: f.Key, Cells: []checks.Cell{cell}})
			}
		}
		r.Tables[spec.Name] = t
	}
	return r, nil
}
