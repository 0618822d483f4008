// Package httpapi is the HTTP way to the ledger: statements (JSON or CSV),
// the outcome of any event id, the rejection list, the event list,
// verification, a consistent backup of the log, liveness (/healthz) and
// readiness (/readyz), and appends for systems that prefer HTTP to NATS,
// read within fixed bounds (append.go). Errors are mapped to HTTP statuses
// here and nowhere else.
package httpapi

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/budgetledger/budgetledger/checks"
	"github.com/budgetledger/budgetledger/events"
	"github.com/budgetledger/budgetledger/internal/report"
	"github.com/budgetledger/budgetledger/ledger"
	"github.com/budgetledger/budgetledger/projections"
)

// Handler serves the API.
type Handler struct {
	log         *ledger.Log
	cat         *events.Catalog
	logger      *slog.Logger
	mux         *http.ServeMux
	departments map[string][]string
	events      EventsFunc
	ready       func() error
	refold      func(ctx context.Context, ledgerName string, seq uint64) ([]events.Event, error)
	bodies      chan struct{} // one token per request body being read (append.go)
}

// EventsFunc returns what a ledger knew at k, for folding into statements
// as of asOf: it may leave out what is dated after asOf and stand for
// earlier periods by their sums dated at the periods' ends, which folds as
// of asOf cannot tell apart (checkpoint.Store's EventsAsOf). An asOf that
// is no calendar date (math.MaxInt32) asks for every event as it is, for
// folds as of any date.
type EventsFunc func(ctx context.Context, ledgerName string, asOf events.Date, k ledger.KnownAt, errp *error) func(yield func(events.Event) bool)

// Options configure a Handler.
type Options struct {
	Logger *slog.Logger
	// Departments defines departments as sets of ledgers, whose statements
	// consolidate those of their ledgers.
	Departments map[string][]string
	// Events serves the folds; the log itself when nil.
	Events EventsFunc
	// Ready tells why the service cannot take events now, or nil; it
	// answers /readyz. Nil: the log's own Health.
	Ready func() error
	// Refold rebuilds a ledger's checkpoint of its first seq records from
	// the log, for verify?deep=true; without it deep verification is
	// refused.
	Refold func(ctx context.Context, ledgerName string, seq uint64) ([]events.Event, error)
}

// New returns the API handler over a log.
func New(l *ledger.Log, cat *events.Catalog, opts Options) *Handler {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	h := &Handler{log: l, cat: cat, logger: logger, mux: http.NewServeMux(), departments: opts.Departments, events: opts.Events,
		ready: opts.Ready, refold: opts.Refold, bodies: make(chan struct{}, maxBodies)}
	if h.ready == nil {
		h.ready = l.Health
	}
	if h.events == nil {
		h.events = func(ctx context.Context, ledgerName string, _ events.Date, k ledger.KnownAt, errp *error) func(yield func(events.Event) bool) {
			return l.EventsKnownAt(ctx, ledgerName, k, errp)
		}
	}
	// /healthz is liveness: the process serves. /readyz is readiness: it
	// can take events now (503 with the reason while it cannot).
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	h.mux.HandleFunc("GET /readyz", h.readyz)
	h.mux.HandleFunc("GET /v1/backup", h.backup)
	h.mux.HandleFunc("GET /v1/ledgers", h.ledgers)
	h.mux.HandleFunc("GET /v1/ledgers/{ledger}/events", h.listEvents)
	h.mux.HandleFunc("POST /v1/ledgers/{ledger}/events", h.appendEvents)
	h.mux.HandleFunc("GET /v1/ledgers/{ledger}/events/{id}", h.outcome)
	h.mux.HandleFunc("GET /v1/ledgers/{ledger}/rejections", h.rejections)
	h.mux.HandleFunc("GET /v1/ledgers/{ledger}/verify", h.verify)
	h.mux.HandleFunc("GET /v1/statements", h.statements)
	h.mux.HandleFunc("GET /v1/ledgers/{ledger}/checks", h.checks)
	h.mux.HandleFunc("GET /v1/ledgers/{ledger}/statements/{statement}", h.statement)
	h.mux.HandleFunc("GET /v1/departments", h.listDepartments)
	h.mux.HandleFunc("GET /v1/departments/{department}/statements/{statement}", h.departmentStatement)
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// apiError is the body of every error response.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := h.status(err)
	if status == http.StatusInternalServerError {
		h.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeJSON(w, status, apiError{Error: err.Error(), Code: code})
}

// status maps an error to its HTTP status and code.
func (h *Handler) status(err error) (int, string) {
	status, code := http.StatusInternalServerError, "internal"
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		status, code = http.StatusNotFound, "not_found"
	case errors.Is(err, errBadRequest):
		status, code = http.StatusBadRequest, "bad_request"
	case errors.Is(err, ledger.ErrChainBroken):
		status, code = http.StatusConflict, "chain_broken"
	case errors.Is(err, ledger.ErrDamaged):
		status, code = http.StatusConflict, "damaged"
	case errors.Is(err, ledger.ErrCheckpointDamaged):
		status, code = http.StatusConflict, "checkpoint_damaged"
	case errors.Is(err, ledger.ErrStopped):
		status, code = http.StatusServiceUnavailable, "stopped"
	case errors.Is(err, projections.ErrUnplaced), errors.Is(err, projections.ErrOverflow):
		// The events are in the log but this statement cannot show them;
		// the message names the event and what is wrong.
		status, code = http.StatusUnprocessableEntity, "unprocessable"
	case errors.Is(err, ledger.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		status, code = http.StatusServiceUnavailable, "unavailable"
	case errors.Is(err, errTooLarge):
		status, code = http.StatusRequestEntityTooLarge, "too_large"
	case errors.Is(err, errNotRecorded):
		status, code = http.StatusServiceUnavailable, "not_recorded"
	}
	return status, code
}

var errBadRequest = errors.New("bad request")

func badRequest(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, a...))
}

func (h *Handler) ledgers(w http.ResponseWriter, r *http.Request) {
	names, err := h.log.Ledgers()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	type info struct {
		Ledger string `json:"ledger"`
		Events uint64 `json:"events"`
	}
	out := []info{}
	for _, n := range names {
		c, err := h.log.Len(n)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		out = append(out, info{n, c})
	}
	writeJSON(w, 200, map[string]any{"ledgers": out})
}

func (h *Handler) outcome(w http.ResponseWriter, r *http.Request) {
	led, id := r.PathValue("ledger"), r.PathValue("id")
	o, err := h.log.Outcome(led, id)
	if errors.Is(err, ledger.ErrNotFound) {
		// Not an error for the publisher's question: the ledger has no
		// outcome yet (never received, or still in the inbox).
		writeJSON(w, http.StatusNotFound, map[string]string{"ledger": led, "id": id, "status": "unknown",
			"error": "no outcome for this id: never received, or still waiting in the inbox"})
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, 200, o)
}

func (h *Handler) rejections(w http.ResponseWriter, r *http.Request) {
	after, limit, err := paging(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rs, err := h.log.Rejections(r.PathValue("ledger"), after, limit)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if rs == nil {
		rs = []ledger.Rejection{}
	}
	// Past the day's quota rejections are counted, not stored: the
	// counts tell how many there were.
	counts, err := h.log.RejectionCounts(r.PathValue("ledger"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if counts == nil {
		counts = []ledger.RejectionCount{}
	}
	writeJSON(w, 200, map[string]any{"rejections": rs, "counts": counts})
}

func paging(r *http.Request) (after uint64, limit int, err error) {
	q := r.URL.Query()
	limit = 100
	if s := q.Get("after"); s != "" {
		if after, err = strconv.ParseUint(s, 10, 64); err != nil {
			return 0, 0, badRequest("after=%q: expected a sequence number", s)
		}
	}
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > 10000 {
			return 0, 0, badRequest("limit=%q: expected 1 to 10000", s)
		}
	}
	return after, limit, nil
}

type recordDoc struct {
	Seq        uint64       `json:"seq"`
	RecordedAt string       `json:"recorded_at"`
	Hash       string       `json:"hash"`
	Event      events.Event `json:"event"`
}

func (h *Handler) listEvents(w http.ResponseWriter, r *http.Request) {
	after, limit, err := paging(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	out := []recordDoc{}
	errStop := errors.New("page full")
	err = h.log.Scan(r.Context(), r.PathValue("ledger"), after, func(rec ledger.Record) error {
		out = append(out, recordDoc{rec.Seq, rec.RecordedAt.UTC().Format(time.RFC3339Nano), hex.EncodeToString(rec.Hash[:]), rec.Event})
		if len(out) >= limit {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, 200, map[string]any{"events": out})
}

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	if err := h.ready(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
		return
	}
	writeJSON(w, 200, map[string]string{"status": "ready"})
}

// backup streams a consistent copy of the whole log file as of the last
// commit, while appends go on; the headers name its log and transaction.
func (h *Handler) backup(w http.ResponseWriter, r *http.Request) {
	started := false
	_, err := h.log.Backup(w, func(info ledger.BackupInfo) error {
		started = true
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.FormatInt(info.Bytes, 10))
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="ledger-%s-%d.db"`, info.Log, info.TxID))
		w.Header().Set("Budgetledger-Log", info.Log)
		w.Header().Set("Budgetledger-Txid", strconv.FormatUint(info.TxID, 10))
		w.WriteHeader(200)
		return nil
	})
	if err != nil {
		if !started {
			h.fail(w, r, err)
			return
		}
		// Too late for a status: the copy ends short of its length,
		// which the client sees.
		h.logger.Warn("backup cut short", "err", err)
	}
}

// verify checks a ledger's chain, indexes and rejections, its stored
// checkpoint, and the structure of the whole file; with deep=true it
// also folds the log again and compares the checkpoint with it.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	deep := false
	if s := r.URL.Query().Get("deep"); s != "" {
		var err error
		if deep, err = strconv.ParseBool(s); err != nil {
			h.fail(w, r, badRequest("deep=%q: expected true or false", s))
			return
		}
	}
	if deep && h.refold == nil {
		h.fail(w, r, badRequest("deep=true: this server cannot fold a ledger's log again"))
		return
	}
	name := r.PathValue("ledger")
	var refold func(context.Context, ledger.Checkpoint) ([]events.Event, error)
	if deep {
		refold = func(ctx context.Context, cp ledger.Checkpoint) ([]events.Event, error) {
			return h.refold(ctx, name, cp.Seq)
		}
	}
	v, err := h.log.VerifyDeep(r.Context(), name, refold)
	// The file's structure is the whole file's: file=false leaves it out
	// (ledgerctl verify asks for it once, with the last ledger).
	var file ledger.FileCheck
	if err == nil && r.URL.Query().Get("file") != "false" {
		file, err = h.log.CheckFile(r.Context())
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	writeJSON(w, 200, map[string]any{"ledger": v.Ledger, "events": v.Events, "head": v.HeadHex, "verified": true,
		"rejections": v.Rejections, "checkpoint": v.Checkpoint, "deep": deep, "file": file})
}

// filter reads year=, as_of= and unit=.
func filter(r *http.Request) (projections.Filter, error) {
	q := r.URL.Query()
	f := projections.Filter{Ledger: r.PathValue("ledger"), Unit: q.Get("unit")}
	if s := q.Get("as_of"); s != "" {
		d, err := events.ParseDate(s)
		if err != nil || !d.Valid() {
			return f, badRequest("as_of=%q: expected a date as YYYY-MM-DD", s)
		}
		f.AsOf = d
	}
	if s := q.Get("year"); s != "" {
		y, err := strconv.Atoi(s)
		if err != nil || y < events.MinYear || y > events.MaxYear {
			return f, badRequest("year=%q: expected a fiscal year such as 2020", s)
		}
		f.FiscalYear = y
	}
	switch {
	case f.FiscalYear == 0 && f.AsOf == 0:
		return f, badRequest("year is required (e.g. year=2020), or as_of=YYYY-MM-DD")
	case f.FiscalYear == 0:
		f.FiscalYear = f.AsOf.Year()
	case f.AsOf != 0 && f.AsOf.Year() != f.FiscalYear:
		return f, badRequest("as_of=%s is outside fiscal year %d", f.AsOf, f.FiscalYear)
	}
	return f, nil
}

// checks evaluates the rules that tie the tables together on the ledger's
// own statements.
func (h *Handler) checks(w http.ResponseWriter, r *http.Request) {
	f, err := filter(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if _, err := h.log.Len(f.Ledger); err != nil {
		h.fail(w, r, err)
		return
	}
	known, err := h.knownAt(r, f.Ledger, false)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// One read of the log for every statement.
	var evs []events.Event
	var scanErr error
	units := map[string]bool{}
	// Rule 12 reads next year's opening balances too, and the statements
	// are folded as of several dates: every event, as it is.
	for e := range h.events(r.Context(), f.Ledger, math.MaxInt32, known, &scanErr) {
		evs = append(evs, e)
		units[e.Unit] = true
	}
	if scanErr != nil {
		h.fail(w, r, scanErr)
		return
	}
	if f.Unit != "" && !units[f.Unit] {
		h.fail(w, r, fmt.Errorf("unit %q has no events in %s (its units: %s): %w", f.Unit, f.Ledger,
			strings.Join(slices.Sorted(maps.Keys(units)), ", "), ledger.ErrNotFound))
		return
	}
	sts := map[string]*projections.Statement{}
	for _, spec := range projections.Specs {
		st, err := spec.Fold(slices.Values(evs), f, h.cat)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		sts[spec.Name] = st
	}
	// Rule 12 needs the next year's opening balances, when the ledger
	// already holds them, and this year's end.
	next := f
	next.FiscalYear, next.AsOf = f.FiscalYear+1, 0
	yearEnd := f.AsOf == 0 || f.AsOf == events.YearEnd(f.FiscalYear)
	if yearEnd && slices.ContainsFunc(evs, func(e events.Event) bool {
		switch e.Body.(type) {
		case events.OpeningBalance, events.OpeningAdjusted:
			return next.Match(&e)
		}
		return false
	}) {
		for _, name := range []string{"income-expenditure", "fiscal-summary"} {
			spec, _ := projections.SpecByName(name)
			st, err := spec.Fold(slices.Values(evs), next, h.cat)
			if err != nil {
				h.fail(w, r, err)
				return
			}
			sts[checks.NextYear+name] = st
		}
	}
	results := checks.Run(checks.FromStatements(sts))
	failed := 0
	for _, res := range results {
		if res.Status == checks.Fail {
			failed++
		}
	}
	asOf := f.AsOf
	if asOf == 0 {
		asOf = events.YearEnd(f.FiscalYear)
	}
	doc := map[string]any{"ledger": f.Ledger, "fiscal_year": f.FiscalYear, "as_of": asOf.String(),
		"failed": failed, "results": results}
	if known.Bounded() {
		doc["known_at"] = r.URL.Query().Get("known_at")
	}
	writeJSON(w, 200, doc)
}

// statements lists the statements the API serves.
func (h *Handler) statements(w http.ResponseWriter, r *http.Request) {
	type spec struct {
		Name  string `json:"name"`
		Title string `json:"title"`
	}
	out := []spec{}
	for _, s := range projections.Specs {
		out = append(out, spec{s.Name, s.Title})
	}
	writeJSON(w, 200, map[string]any{"statements": out})
}

func (h *Handler) statement(w http.ResponseWriter, r *http.Request) {
	f, err := filter(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.serveStatement(w, r, f, f.Ledger, []string{f.Ledger})
}

// knownAt reads known_at=: a log sequence (a whole number) or a moment
// (RFC 3339, e.g. 2020-07-15T18:00:00+08:00). A sequence bounds one ledger
// only, so it is refused for a department.
//
// A bound in the future is refused: its answer would still change as events
// arrive, and known_at promises an answer that never does.
func (h *Handler) knownAt(r *http.Request, ledgerName string, department bool) (ledger.KnownAt, error) {
	s := r.URL.Query().Get("known_at")
	if s == "" {
		return ledger.KnownAt{}, nil
	}
	// An unencoded + in a query reads as a space: put it back before the
	// offset of a moment.
	s = strings.Replace(s, " ", "+", 1)
	if n, err := strconv.ParseUint(s, 10, 64); err == nil && n > 0 {
		if department {
			return ledger.KnownAt{}, badRequest("known_at=%s: a sequence belongs to one ledger; give a moment (RFC 3339) for a department", s)
		}
		last, err := h.log.Len(ledgerName)
		if err != nil {
			return ledger.KnownAt{}, err
		}
		if n > last {
			return ledger.KnownAt{}, badRequest("known_at=%d: beyond the log's last sequence, %d", n, last)
		}
		return ledger.KnownAt{Seq: n}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return ledger.KnownAt{}, badRequest("known_at=%q: expected a log sequence or a moment such as 2020-07-15T18:00:00+08:00 (write + as %%2B in a URL)", s)
	}
	if t.After(time.Now()) {
		return ledger.KnownAt{}, badRequest("known_at=%s: a moment in the future", s)
	}
	return ledger.KnownAt{Time: t}, nil
}

func (h *Handler) listDepartments(w http.ResponseWriter, r *http.Request) {
	type dept struct {
		Department string   `json:"department"`
		Ledgers    []string `json:"ledgers"`
	}
	out := []dept{}
	for _, name := range slices.Sorted(maps.Keys(h.departments)) {
		out = append(out, dept{name, h.departments[name]})
	}
	writeJSON(w, 200, map[string]any{"departments": out})
}

// departmentStatement consolidates the statement of every ledger of a
// department: their events folded together, exactly as one ledger's units
// are.
func (h *Handler) departmentStatement(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("department")
	ledgers, ok := h.departments[name]
	if !ok {
		h.fail(w, r, fmt.Errorf("department %q: %w (departments are defined by ledgerd -departments FILE)", name, ledger.ErrNotFound))
		return
	}
	f, err := filter(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.serveStatement(w, r, f, name, ledgers)
}

// serveStatement folds the events of ledgers into the statement the path
// names; title names what the statement is of (a ledger or a department).
func (h *Handler) serveStatement(w http.ResponseWriter, r *http.Request, f projections.Filter, title string, ledgers []string) {
	spec, ok := projections.SpecByName(r.PathValue("statement"))
	if !ok {
		var names []string
		for _, s := range projections.Specs {
			names = append(names, s.Name)
		}
		h.fail(w, r, fmt.Errorf("statement %q: %w (the statements are %s)", r.PathValue("statement"), ledger.ErrNotFound, strings.Join(names, ", ")))
		return
	}
	for _, l := range ledgers {
		if _, err := h.log.Len(l); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	known, err := h.knownAt(r, f.Ledger, len(ledgers) != 1 || title != f.Ledger)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	// Note whether a unit= was seen while folding, so that a mistyped one
	// is an error rather than a statement of zeros; until it is, the units
	// met, to name them in that error. Noting every event's unit in a map
	// was a third of a statement's time.
	var scanErr error
	seen := f.Unit == ""
	units := map[string]bool{}
	// A unit= is checked against every event, not only those up to as_of.
	until := f.LastDate() // the statement's as-of date
	if f.Unit != "" {
		until = math.MaxInt32
	}
	evs := func(yield func(events.Event) bool) {
		for _, l := range ledgers {
			for e := range h.events(r.Context(), l, until, known, &scanErr) {
				if !seen {
					seen = e.Unit == f.Unit
					units[e.Unit] = true
				}
				if !yield(e) {
					return
				}
			}
			if scanErr != nil {
				return
			}
		}
	}
	f.Ledger = "" // every event of the ledgers read counts
	st, err := spec.Fold(evs, f, h.cat)
	if err == nil {
		err = scanErr
	}
	if err == nil && !seen {
		known := slices.Sorted(maps.Keys(units))
		err = fmt.Errorf("unit %q has no events in %s (its units: %s): %w", f.Unit, title, strings.Join(known, ", "), ledger.ErrNotFound)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	st.Ledger = title
	h.writeStatement(w, r, st, known)
}

func (h *Handler) writeStatement(w http.ResponseWriter, r *http.Request, st *projections.Statement, known ledger.KnownAt) {
	doc := report.FromStatement(st)
	switch {
	case known.Seq != 0:
		doc.KnownAt = "seq " + strconv.FormatUint(known.Seq, 10)
	case !known.Time.IsZero():
		doc.KnownAt = known.Time.Format(time.RFC3339Nano)
	}
	if r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv") {
		name := fmt.Sprintf("%s-%d-%s.csv", st.Ledger, st.FiscalYear, st.AsOf)
		if doc.KnownAt != "" {
			name = strings.TrimSuffix(name, ".csv") + "-known-" + strings.NewReplacer(" ", "", ":", "", "+", "").Replace(doc.KnownAt) + ".csv"
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
		if err := report.WriteCSV(w, doc); err != nil {
			h.logger.Warn("write csv", "err", err)
		}
		return
	}
	writeJSON(w, 200, doc)
}
