// Package projections folds events into the published statements of a
// department's final accounts (部门决算), as of any date. A fold is a pure
// function of the events it is given: it never reads the log, the clock or
// the network, so the same events always give the same statement, byte for
// byte.
//
// Amounts are summed exactly in 分 (int64, with overflow checked) and only
// the finished cell is rounded to 万元: each printed cell is its exact sum
// divided by 10,000 and rounded half up to 2 places, never a sum of rounded
// cells. That is why a printed total may differ by 0.01 from its printed
// parts, exactly as in the official tables.
package projections
