package checkpoint

// SetFold sets the chunk length and the number of workers of a long fold
// until the returned function restores them.
func SetFold(chunk, workers int) (restore func()) {
	c, w := foldChunk, foldWorkers
	foldChunk, foldWorkers = chunk, workers
	return func() { foldChunk, foldWorkers = c, w }
}
