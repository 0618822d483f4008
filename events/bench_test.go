package events_test

import (
	"testing"

	"github.com/budgetledger/budgetledger/events"
)

// The benchmarks use a 项目支出 line, the longest body.

func BenchmarkDecodeJSON(b *testing.B) {
	line := []byte(baseProject)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := events.DecodeJSON(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate(b *testing.B) {
	c := events.DefaultCatalog()
	e, err := events.DecodeJSON([]byte(baseProject))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := events.Validate(&e, c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalBinary(b *testing.B) {
	e, err := events.DecodeJSON([]byte(baseProject))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalBinary(b *testing.B) {
	e, err := events.DecodeJSON([]byte(baseProject))
	if err != nil {
		b.Fatal(err)
	}
	data, err := e.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var out events.Event
	for b.Loop() {
		if err := out.UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecoder is BenchmarkUnmarshalBinary through one Decoder, as a
// replay decodes the log.
func BenchmarkDecoder(b *testing.B) {
	e, err := events.DecodeJSON([]byte(baseProject))
	if err != nil {
		b.Fatal(err)
	}
	data, err := e.MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var d events.Decoder
	var out events.Event
	for b.Loop() {
		if err := d.Decode(data, &out); err != nil {
			b.Fatal(err)
		}
	}
}
