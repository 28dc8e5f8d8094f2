package jsontext

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// ParseInPlace is gjson.ParseBytes without its copy of the whole input
// into a string: the result, and every string taken from it, points into
// js. Only for bytes nobody changes while those are in use (a stream
// message's data, an event's JSON), where the copy was a second one of
// each message a consumer reads.
func ParseInPlace(js []byte) gjson.Result {
	if len(js) == 0 {
		return gjson.Result{}
	}
	return gjson.Parse(unsafe.String(unsafe.SliceData(js), len(js)))
}

// RawInPlace is v.Raw as bytes without a copy, for a value of a result
// of ParseInPlace: it aliases that input, so neither may change while
// the other is in use.
func RawInPlace(v gjson.Result) []byte {
	if v.Raw == "" {
		return nil
	}
	return unsafe.Slice(unsafe.StringData(v.Raw), len(v.Raw))
}
