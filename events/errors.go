package events

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched (errors.Is) by every *ValidationError: the event is
// malformed or breaks a rule, and publishing it again unchanged will not help.
var ErrInvalid = errors.New("invalid event")

// Code is a stable machine-readable reason for a rejection. Clients branch on
// it; its spelling never changes once published.
type Code string

// Rejection codes.
const (
	CodeMalformedJSON     Code = "malformed_json"      // not a JSON object
	CodeMalformedProtobuf Code = "malformed_protobuf"  // not a valid protobuf Event
	CodeUnknownField      Code = "unknown_field"       // a field the format does not define
	CodeUnknownBody       Code = "unknown_body"        // a body kind this ledger does not know
	CodeMissingBody       Code = "missing_body"        // no body at all
	CodeMultipleBodies    Code = "multiple_bodies"     // more than one body
	CodeMissingField      Code = "missing_field"       // a required field is empty
	CodeInvalidField      Code = "invalid_field"       // a field of the wrong type or form
	CodeInvalidID         Code = "invalid_id"          // id not usable as an idempotency key
	CodeInvalidLedger     Code = "invalid_ledger"      // ledger name not usable
	CodeInvalidAmount     Code = "invalid_amount"      // not a decimal number
	CodeAmountPrecision   Code = "amount_precision"    // more than 2 decimal places
	CodeAmountNotPositive Code = "amount_not_positive" // zero or negative
	CodeAmountTooLarge    Code = "amount_too_large"    // above MaxAmount
	CodeInvalidDate       Code = "invalid_date"        // not YYYY-MM-DD or not a real day
	CodeDateOutsideYear   Code = "date_outside_fiscal_year"
	CodeInvalidFiscalYear Code = "invalid_fiscal_year"
	CodeMalformedCode     Code = "malformed_code" // classification code of the wrong shape
	CodeUnknownCode       Code = "unknown_code"   // classification code not in the catalog
	CodeInvalidEnum       Code = "invalid_enum"   // fund or kind not one of the listed values
	CodeProjectRequired   Code = "project_required"
	CodeProjectNotAllowed Code = "project_not_allowed"
	CodeFundNotAllowed    Code = "fund_not_allowed"
	CodeIDConflict        Code = "id_conflict"             // id already used for different content
	CodeLedgerMismatch    Code = "ledger_mismatch"         // event's ledger differs from where it was sent
	CodeReversalTarget    Code = "reversal_target_unknown" // the event to reverse is not in the ledger
	CodeAlreadyReversed   Code = "already_reversed"        // the event was reversed before
	CodeReversalMismatch  Code = "reversal_mismatch"       // the reversal does not restate its event
	CodeYearClosed        Code = "year_closed"             // the fiscal year is closed (年终结账)
	CodeNegativeBalance   Code = "negative_balance"        // a balance to carry forward is negative
	CodeNotAdjustable     Code = "not_adjustable"          // an opening adjustment of a year whose previous year is open
	CodeInvalidUTF8       Code = "invalid_utf8"            // text that is not UTF-8
	CodeEventTooLarge     Code = "event_too_large"         // a payload larger than any real event (see the transports' limits)
)

// ValidationError says what is wrong with an event in words a finance
// officer understands: which field, what value, and what was expected.
type ValidationError struct {
	Code     Code
	Field    string // dotted path, e.g. "expenditure.amount"
	Value    string // the offending value as received (may be empty)
	Expected string // what would have been accepted
}

// Error is the reason as a publisher reads it; the code travels beside it
// (Outcome.Code), so it is not repeated here.
func (e *ValidationError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: expected %s", e.Field, e.Expected)
	}
	return fmt.Sprintf("%s: got %q, expected %s", e.Field, e.Value, e.Expected)
}

// Unwrap lets errors.Is(err, ErrInvalid) match.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

func invalid(code Code, field, value, expected string) *ValidationError {
	return &ValidationError{Code: code, Field: field, Value: value, Expected: expected}
}

// CodeOf returns the rejection code of err, or "" when err is not a
// validation error.
func CodeOf(err error) Code {
	var v *ValidationError
	if errors.As(err, &v) {
		return v.Code
	}
	return ""
}
