package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// utf8Error reports the first byte of data that is not UTF-8, naming the
// field it lies in, or nil when data is all UTF-8. encoding/json would
// read such a byte as U+FFFD, so the event stored would not be the one
// sent: it is refused instead.
func utf8Error(data []byte) *ValidationError {
	if utf8.Valid(data) {
		return nil
	}
	off := 0
	for off < len(data) {
		r, n := utf8.DecodeRune(data[off:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		off += n
	}
	field := jsonPathAt(data, off)
	if field == "" {
		field = "event"
	}
	lo := max(0, off-12)
	return invalid(CodeInvalidUTF8, field, fmt.Sprintf("byte %d (0x%02x) after %q", off, data[off], strings.ToValidUTF8(string(data[lo:off]), "")),
		"text in UTF-8")
}

// pathFrame is an object or array jsonPathAt is inside.
type pathFrame struct {
	object bool
	key    string // an object's current key
	index  int    // an array's current element
	ready  bool   // an object's next string is a key
}

// next moves a frame past one value.
func (f *pathFrame) next() {
	if f.object {
		f.ready = true
	} else {
		f.index++
	}
}

// jsonPathAt names the field of the JSON value that byte off lies in
// (e.g. "expenditure.memo"), as far as the JSON can be read up to there.
func jsonPathAt(data []byte, off int) string {
	var stack []pathFrame
	path := func() string {
		var parts []string
		for _, f := range stack {
			switch {
			case f.object && f.key != "":
				parts = append(parts, f.key)
			case !f.object:
				parts = append(parts, strconv.Itoa(f.index))
			}
		}
		return strings.Join(parts, ".")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return path()
		}
		end := int(dec.InputOffset())
		top := len(stack) - 1
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, pathFrame{object: true, ready: true})
			case '[':
				stack = append(stack, pathFrame{})
			default:
				stack = stack[:top]
				if top > 0 {
					stack[top-1].next()
				}
			}
		default:
			if top >= 0 && stack[top].object && stack[top].ready {
				stack[top].key, stack[top].ready = fmt.Sprint(t), false
				if end > off {
					return path()
				}
				continue
			}
			if end > off {
				return path()
			}
			if top >= 0 {
				stack[top].next()
			}
		}
	}
}
