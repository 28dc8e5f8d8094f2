package gomatrixserverlib

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// Axon patch 16: gjson.ParseBytes copies its input into a string, and the
// event JSON was copied so for every parse: while filling a new event
// (twice per build and again in every consumer), canonicalising and
// redacting. parseNoCopy parses the bytes in place. js must not change
// while the result is in use, and nothing kept may point into it
// (fillEventV2 clones the strings it keeps: an event's JSON is replaced
// when it is signed or redacted, and a view would keep the old one
// alive); the encoders only read their inputs while writing a new output.
func parseNoCopy(js []byte) gjson.Result {
	if len(js) == 0 {
		return gjson.Result{}
	}
	return gjson.Parse(unsafe.String(unsafe.SliceData(js), len(js)))
}
