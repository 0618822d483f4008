package events

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
)

// encoding/json is lenient where an import format must not be: it matches
// keys case-insensitively ("Expenditure"), lets a repeated key silently
// replace the first (two "expenditure" bodies, the last wins), and names an
// unknown key without saying where it is. checkKeys walks the object once
// more, in a single pass without allocations for well-formed events, and
// rejects all three with the key's dotted path.

// knownKeys lists the exact keys of the envelope (under "") and of every
// object inside it, by dotted path ("expenditure", "expenditure.reception"),
// read from the JSON struct tags so that the two can never disagree.
var knownKeys = func() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	var walk func(path string, t reflect.Type, keys map[string]bool, open map[reflect.Type]bool)
	walk = func(path string, t reflect.Type, keys map[string]bool, open map[reflect.Type]bool) {
		open[t] = true
		defer delete(open, t)
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				walk(path, f.Type, keys, open) // promoted fields: same object
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			keys[name] = true
			// A type inside itself (a reversal's body) is walked once: the
			// validation refuses deeper nesting anyway.
			if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && !open[f.Type.Elem()] {
				sub := map[string]bool{}
				m[join(path, name)] = sub
				walk(join(path, name), f.Type.Elem(), sub, open)
			}
		}
	}
	root := map[string]bool{}
	m[""] = root
	walk("", reflect.TypeFor[jsonEvent](), root, map[reflect.Type]bool{})
	return m
}()

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// checkKeys validates the keys of the JSON object at the start of data,
// which encoding/json has already found syntactically valid.
func checkKeys(data []byte) error {
	s := keyScanner{b: data}
	return s.object("")
}

type keyScanner struct {
	b []byte
	i int
}

var errMalformed = invalid(CodeMalformedJSON, "event", "", "one JSON object per line")

func (s *keyScanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// object scans an object whose keys must be those of knownKeys[path], and
// the objects inside it in turn.
func (s *keyScanner) object(path string) error {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errMalformed
	}
	s.i++
	known := knownKeys[path]
	var seen [16][]byte
	nseen := 0
	for {
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return nil
		}
		raw, ok := s.str()
		if !ok {
			return errMalformed
		}
		field := func() string { // only built for an error
			switch {
			case len(raw) == 0:
				return path + "(empty key)"
			case path != "":
				return path + "." + string(raw)
			}
			return string(raw)
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errMalformed
		}
		s.i++
		s.ws()
		isObject := s.i < len(s.b) && s.b[s.i] == '{'
		if !known[string(raw)] {
			if path == "" && isObject {
				return invalid(CodeUnknownBody, field(), "", "exactly one known body: "+kindList())
			}
			return invalid(CodeUnknownField, field(), "", "only the fields of the event format, which are case-sensitive (see the README)")
		}
		for _, k := range seen[:min(nseen, len(seen))] {
			if bytes.Equal(k, raw) {
				return invalid(CodeInvalidField, field(), "", "each field once; this one appears twice")
			}
		}
		if nseen < len(seen) {
			seen[nseen] = raw
		}
		nseen++
		if nested := join(path, string(raw)); isObject && knownKeys[nested] != nil {
			if err := s.object(nested); err != nil {
				return err
			}
		} else if !s.skip() {
			return errMalformed
		}
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
		}
	}
}

// str scans a string and returns its value (the raw bytes when it has no
// escapes, which is every key of a well-formed event).
func (s *keyScanner) str() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
			continue
		case '"':
			s.i++
			raw := s.b[start+1 : s.i-1]
			if !escaped {
				return raw, true
			}
			var v string
			if json.Unmarshal(s.b[start:s.i], &v) != nil {
				return nil, false
			}
			return []byte(v), true
		}
		s.i++
	}
	return nil, false
}

// skip scans over any JSON value.
func (s *keyScanner) skip() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	default:
		for s.i < len(s.b) && !strings.ContainsRune(",}] \t\r\n", rune(s.b[s.i])) {
			s.i++
		}
		return true
	}
}

// truncate cuts s to at most n runes for an error message.
func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
