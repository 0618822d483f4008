package journal

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/budgetledger/budgetledger/events"
)

// Tool is one of the programs the journal is written for, by the name of
// its executable.
type Tool string

// The tools.
const (
	Hledger Tool = "hledger"
	Ledger  Tool = "ledger"
)

// BalanceArgs returns the arguments (after the program name) with which t
// prints the balance of the accounts matching any of the queries (e.g. 收入)
// over the fiscal year of asOf, up to and including asOf: the command that
// reproduces a line of the 收入支出决算总表 as of that date.
func (t Tool) BalanceArgs(file string, asOf events.Date, query ...string) []string {
	begin := events.NewDate(asOf.Year(), time.January, 1).String()
	// Both tools' end dates are exclusive.
	end := events.DateOf(time.Date(asOf.Year(), time.Month(int(asOf)/100%100), int(asOf)%100+1, 0, 0, 0, 0, time.UTC)).String()
	if t == Ledger {
		return append([]string{"-f", file, "balance", "--begin", begin, "--end", end, "--flat"}, query...)
	}
	return append([]string{"-f", file, "balance", "-b", begin, "-e", end, "--flat"}, query...)
}

// Balance runs t on a journal file Write wrote and returns the total
// balance of the accounts matching any of the queries over the fiscal year
// of asOf, up to and including asOf, with the journal's sign (收入
// negative).
func (t Tool) Balance(ctx context.Context, file string, asOf events.Date, query ...string) (events.Amount, error) {
	r, err := t.RunBalance(ctx, file, asOf, query...)
	return r.Total, err
}

// BalanceRun is one run of a tool's balance command: the total it printed,
// how long the run took and the most memory its process held.
type BalanceRun struct {
	Total   events.Amount
	Elapsed time.Duration
	MaxRSS  int64 // bytes
}

// RunBalance is Balance with what the run cost, for comparing the tools
// with the ledger's own answer.
func (t Tool) RunBalance(ctx context.Context, file string, asOf events.Date, query ...string) (BalanceRun, error) {
	var r BalanceRun
	if t != Hledger && t != Ledger {
		return r, fmt.Errorf("balance: unknown tool %q: expected %s or %s", t, Hledger, Ledger)
	}
	cmd := exec.CommandContext(ctx, string(t), t.BalanceArgs(file, asOf, query...)...)
	// hledger refuses a file with Chinese account names under a non-UTF-8
	// locale ("invalid byte sequence").
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	r.Elapsed = time.Since(start)
	if err != nil {
		return r, fmt.Errorf("%s balance %s: %w: %s", t, strings.Join(query, " "), err, strings.TrimSpace(stderr.String()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSS = ru.Maxrss << 10 // Linux reports KiB
	}
	if r.Total, err = ParseBalance(out); err != nil {
		return r, fmt.Errorf("%s balance %s: %w", t, strings.Join(query, " "), err)
	}
	return r, nil
}

// ParseBalance reads the total from the output of hledger's or ledger's
// balance command on a journal Write wrote. Both print one line per
// account and, under a line of dashes, the total; ledger prints no total
// when one line is all there is, and nothing at all when nothing matched,
// which is a total of 0.
func ParseBalance(out []byte) (events.Amount, error) {
	var lines []string
	for l := range strings.Lines(string(out)) {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	total := ""
	switch {
	case len(lines) == 0:
		return 0, nil
	case len(lines) == 1:
		total = lines[0]
	default:
		for i := len(lines) - 2; i >= 0; i-- {
			if strings.Trim(lines[i], "-") == "" {
				total = lines[i+1]
				break
			}
		}
		if total == "" || total != lines[len(lines)-1] {
			return 0, fmt.Errorf("%w: %d lines without a single total under a line of dashes", ErrBalanceOutput, len(lines))
		}
	}
	// "1234.50 CNY  收入" for a single account, "1234.50 CNY" or "0" for a total.
	amount, _, _ := strings.Cut(total, "  ")
	amount = strings.TrimSuffix(amount, " "+Commodity)
	if amount == "0" {
		return 0, nil
	}
	a, err := parseSigned(amount)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", ErrBalanceOutput, total)
	}
	return a, nil
}

// parseSigned parses a signed amount of 元 with two decimals, as both tools
// print amounts in CNY.
func parseSigned(s string) (events.Amount, error) {
	neg := strings.HasPrefix(s, "-")
	intPart, frac, ok := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	if !ok || len(frac) != 2 || intPart == "" || len(intPart) > 16 {
		return 0, ErrBalanceOutput
	}
	var v int64
	for _, c := range []byte(intPart + frac) {
		if c < '0' || c > '9' {
			return 0, ErrBalanceOutput
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return events.Amount(v), nil
}
