//go:build race

package service_test

// raceEnabled: the race detector multiplies memory use, so figures of
// memory are not checked under it.
const raceEnabled = true
