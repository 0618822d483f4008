// Package events defines what happened: the immutable facts that accounting
// systems publish to a budget ledger (appropriations received, other income,
// expenditures, opening balances and surplus movements), their exact amounts,
// their validation, and the catalogs of government budget classification
// codes (支出功能分类 and 部门预算支出经济分类) they are checked against.
//
// An Event is a value. Once Validate has accepted it, nothing changes it: a
// correction is a new event. The log that stores events (package ledger) adds
// its own envelope (sequence, recorded time, hash); the folds that read them
// (package projections) never see anything but these values.
package events
