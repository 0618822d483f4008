package projections

import "errors"

var (
	// ErrOverflow is returned when a sum leaves the range of int64 分
	// (about 9.2e16 元): the events are not real amounts.
	ErrOverflow = errors.New("amount overflow")
	// ErrUnplaced is returned when an event cannot be placed on any line of
	// the statement's official layout (for example a 功能分类 类 the layout
	// has no line for). Failing loudly beats a total that silently omits it.
	ErrUnplaced = errors.New("event has no line in the statement layout")
)
