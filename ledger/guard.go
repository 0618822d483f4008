package ledger

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// A log file is read through bbolt's memory map. On a damaged file a page
// id or length can point past the end of the file or of the map, and the
// read faults (SIGBUS, SIGSEGV), which kills the process; or bbolt meets
// something it cannot have written and panics. guard turns both into an
// error wrapping ErrDamaged, on the goroutine that reads, so that one bad
// file, or one request for it, never takes the service down. Every
// goroutine that touches the map runs under it.
//
// Only those two are turned into errors: a fault at an address (a
// runtime.Error with an Addr method, which only debug.SetPanicOnFault makes;
// a nil dereference has none) and a panic raised inside bbolt or this
// package's reading of what bbolt returned (a key or value of a length the
// log never writes, say). A panic raised in any other code, such as a
// caller's function a scan calls, is a bug of that code and goes on as it
// came.
func (l *Log) guard(what string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if !isFault(r) && !fromStorage() {
			panic(r)
		}
		err = fmt.Errorf("%s: %w: %v", what, ErrDamaged, r)
		l.log.Error("reading the log file failed: it is damaged", "file", l.path, "during", what, "err", r,
			"stack", string(debug.Stack()))
		l.stop(err)
	}()
	return fn()
}

// isFault reports whether r is a memory fault made a panic by
// SetPanicOnFault (not a nil dereference, which is a bug).
func isFault(r any) bool {
	e, ok := r.(runtime.Error)
	if !ok {
		return false
	}
	_, addr := e.(interface{ Addr() uintptr })
	return addr
}

// fromStorage reports whether the panic being recovered was raised in
// bbolt or in this package: the first frame the deferred call sees that is
// neither the runtime's nor the standard library's (a bounds check in
// encoding/binary, say) is the code that panicked.
func fromStorage() bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		pkg := f.Function
		if i := strings.LastIndex(pkg, "/"); i >= 0 {
			if j := strings.Index(pkg[i:], "."); j >= 0 {
				pkg = pkg[:i+j]
			}
		} else if j := strings.Index(pkg, "."); j >= 0 {
			pkg = pkg[:j]
		}
		first, _, _ := strings.Cut(pkg, "/")
		switch {
		case !strings.Contains(first, "."):
			// The runtime or the standard library: look further.
		case pkg == ledgerPackage && strings.Contains(f.Function, ".(*Log).guard"):
			// guard's own deferred call.
		default:
			return pkg == ledgerPackage || strings.HasPrefix(pkg, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}

// ledgerPackage is this package's import path, as frames name it.
var ledgerPackage = func() string {
	pc, _, _, _ := runtime.Caller(0)
	fn := runtime.FuncForPC(pc).Name()
	i := strings.LastIndex(fn, "/")
	return fn[:i+strings.Index(fn[i:], ".")]
}()
