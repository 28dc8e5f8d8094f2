package pushrules

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/jsontext"
)

// Event is an event parsed once for evaluation against many users' rules:
// each field looked up is cached, as is the lower-cased body. Not safe
// for concurrent use.
type Event struct {
	root   gjson.Result
	fields map[string]gjson.Result
	body   string
	bodyOK bool
	lowerd bool
	// memo holds the results of shared conditions (shared.go).
	memo [maxSharedConds]uint8
}

const (
	memoUnknown uint8 = iota
	memoFalse
	memoTrue
)

// NewEvent wraps client-format event JSON.
// js must not change while the Event is in use (it is parsed in place).
func NewEvent(js []byte) *Event {
	return &Event{root: jsontext.ParseInPlace(js), fields: make(map[string]gjson.Result, 8)}
}

func (e *Event) get(path string) gjson.Result {
	if v, ok := e.fields[path]; ok {
		return v
	}
	v := e.root.Get(path)
	e.fields[path] = v
	return v
}

// lowerBody is content.body lower-cased, and whether it is a string.
func (e *Event) lowerBody() (string, bool) {
	if !e.lowerd {
		e.lowerd = true
		if v := e.get("content.body"); v.Type == gjson.String {
			e.body, e.bodyOK = strings.ToLower(v.Str), true
		}
	}
	return e.body, e.bodyOK
}
