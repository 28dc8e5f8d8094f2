package gomatrixserverlib

import (
	"unsafe"

	"github.com/tidwall/gjson"
)

// Axon patch 16: gjson.ParseBytes copies its input into a string, and the
// event JSON was copied so for every parse: while filling a new event
// (twice per build and again in every consumer), canonicalising and
// redacting. parseNoCopy parses the bytes in place. js must not change
// while the result (or a string taken from it) is in use: true of an
// event's JSON, which the event keeps as it is (the strings fillEventV2
// sets point into it, as its eventJSON does), and of the inputs the
// encoders only read while writing a new output.
func parseNoCopy(js []byte) gjson.Result {
	if len(js) == 0 {
		return gjson.Result{}
	}
	return gjson.Parse(unsafe.String(unsafe.SliceData(js), len(js)))
}
