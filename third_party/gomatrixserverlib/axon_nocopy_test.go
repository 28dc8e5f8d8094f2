package gomatrixserverlib

import (
	"testing"
	"unsafe"
)

// TestFilledEventPointsIntoItsJSON: fillEventV2 takes the event's strings
// from its JSON in place (patch 16), not from a copy of the whole event.
func TestFilledEventPointsIntoItsJSON(t *testing.T) {
	js := []byte(`{"room_id":"!r:hs","sender":"@u:hs","type":"m.room.message","content":{"body":"x"},"depth":3,"origin_server_ts":17,"prev_events":["$p"],"auth_events":["$a"]}`)
	var e eventV2
	if !fillEventV2(&e, js) {
		t.Fatal("declined")
	}
	lo, hi := uintptr(unsafe.Pointer(&js[0])), uintptr(unsafe.Pointer(&js[len(js)-1]))
	for _, s := range []string{e.eventFields.SenderID, e.eventFields.Type, e.eventFields.RoomID} {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(s))); p < lo || p > hi {
			t.Errorf("%q is a copy, not in the event's JSON", s)
		}
	}
	if e.eventFields.SenderID != "@u:hs" || e.eventFields.Type != "m.room.message" || e.eventFields.RoomID != "!r:hs" {
		t.Errorf("fields %+v", e.eventFields)
	}
}
