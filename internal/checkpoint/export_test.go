package checkpoint

// SetFoldWorkers sets the number of workers of a long fold until the
// returned function restores it.
func SetFoldWorkers(n int) (restore func()) {
	w := foldWorkers
	foldWorkers = n
	return func() { foldWorkers = w }
}
