// Package wire converts the protobuf wire form of events and outcomes to and
// from the events and ledger values; it is the only package that imports the
// generated types.
//
// The protobuf form (proto/budgetledger/v1/event.proto) carries the same
// fields as the JSON form under the same names, so DecodeEvent reports the
// same rejection codes and field paths as events.DecodeJSON: amounts are
// parsed exactly with events.ParseAmount, dates with events.ParseDate. Like
// DecodeJSON it checks only the form; events.Validate checks the rules.
//
// Two differences follow from protobuf itself. An unset enum is its
// UNSPECIFIED zero value and decodes to the zero Go value, which Validate
// reports as a missing field. And a oneof holds one body: a message that
// repeats a body field keeps the last one, so CodeMultipleBodies cannot
// arise here.
package wire
