// Package jsontext holds the one rule for what text and JSON Axon accepts
// from outside (clients, other servers) before anything reaches a
// database or a stream: valid UTF-8, no NUL character (PostgreSQL text
// cannot store U+0000, and a stored one stops every consumer that copies
// it) and JSON nested at most MaxDepth levels (deeper JSON is a denial of
// service for every recursive reader downstream).
package jsontext

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// MaxDepth is how deeply objects and arrays may nest in any JSON Axon
// accepts: request bodies, event content, account data, push rules, PDUs.
// Real clients and servers stay far below it.
const MaxDepth = 64

var (
	// ErrInvalidUTF8 is text that is not UTF-8.
	ErrInvalidUTF8 = errors.New("text is not valid UTF-8")
	// ErrNUL is a NUL character (raw, or escaped as \u0000 in JSON).
	ErrNUL = errors.New("text contains a NUL character")
	// ErrTooDeep is JSON nested deeper than MaxDepth.
	ErrTooDeep = errors.New("JSON is nested too deeply")
)

// CheckString reports whether s is acceptable text (a path or query
// parameter, a header value…).
func CheckString(s string) error {
	if !utf8.ValidString(s) {
		return ErrInvalidUTF8
	}
	if strings.IndexByte(s, 0) >= 0 {
		return ErrNUL
	}
	return nil
}

// Check scans JSON (assumed syntactically valid; callers check with
// json.Valid) for invalid UTF-8, NUL characters in any string (keys too)
// and nesting deeper than MaxDepth. It is one linear pass without
// allocation, cheap next to decoding.
func Check(data []byte) error {
	if !utf8.Valid(data) {
		return ErrInvalidUTF8
	}
	depth := 0
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inString {
			switch c {
			case '"':
				inString = false
			case 0:
				return ErrNUL
			case '\\':
				if i+5 < len(data) && data[i+1] == 'u' && string(data[i+2:i+6]) == "0000" {
					return ErrNUL
				}
				i++ // skip the escaped character
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > MaxDepth {
				return ErrTooDeep
			}
		case '}', ']':
			depth--
		case 0:
			return ErrNUL
		}
	}
	return nil
}
