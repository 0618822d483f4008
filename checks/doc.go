// Package checks evaluates the rules that tie the published tables of a
// 部门决算 together (勾稽关系): totals equal the sum of their lines, each
// table agrees with the others, balances roll forward. It works on printed
// figures (万元 with 2 decimals), so the same rules check the ledger's own
// statements and a report about to be published, typed from its PDF.
//
// A rule compares two sides made of printed cells. Each printed cell may be
// off its exact amount by half a cent of 万元, so a difference of at most
// 0.005 per cell involved is reported as within rounding, not as a failure.
package checks
