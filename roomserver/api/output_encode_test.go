package api

import (
	"encoding/json"
	"reflect"
	"testing"
)

var encodeEvent = json.RawMessage(`{"auth_events":["$a","$b","$c"],"content":{"body":"hello \"you\" <b>\u2028","msgtype":"m.text"},"depth":12,"hashes":{"sha256":"x"},"origin_server_ts":1,"prev_events":["$p"],"room_id":"!r:hs","sender":"@u:hs","signatures":{"hs":{"ed25519:a":"s"}},"type":"m.room.message"}`)

// TestEncodeOutputDecodesLikeMarshal: whatever path EncodeOutput takes,
// its bytes decode to the same value as json.Marshal's, field for field.
func TestEncodeOutputDecodesLikeMarshal(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    OutputEvent
	}{
		{"message", OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: &OutputNewRoomEvent{
			RoomID: "!r:hs", RoomVersion: "10", EventID: "$e", Event: encodeEvent, HistoryVisibility: VisibilityShared,
			TransactionID: &TransactionID{DeviceID: "DEV", TransactionID: "t\"x\\n\x01\u00e9<>&\u2028"},
		}}},
		{"state change, federated", OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: &OutputNewRoomEvent{
			RoomID: "!r:hs", RoomVersion: "12", EventID: "$e", Event: encodeEvent,
			AddsStateEventIDs: []string{"$e"}, RemovesStateEventIDs: []string{"$old", "$older"}, SendAsServer: "hs",
		}}},
		{"no optional fields", OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: &OutputNewRoomEvent{
			RoomID: "!r:hs", RoomVersion: "10", EventID: "$e", Event: encodeEvent,
		}}},
		{"invalid UTF-8 falls back", OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: &OutputNewRoomEvent{
			RoomID: "!r:hs", RoomVersion: "10", EventID: "$e", Event: encodeEvent, TransactionID: &TransactionID{DeviceID: "D", TransactionID: "\xff\xfe"},
		}}},
		{"added state events fall back", OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: &OutputNewRoomEvent{
			RoomID: "!r:hs", RoomVersion: "10", EventID: "$e", Event: encodeEvent, AddedStateEvents: []json.RawMessage{encodeEvent},
		}}},
		{"other output", OutputEvent{Type: OutputTypePurgeRoom, PurgeRoom: &OutputPurgeRoom{RoomID: "!r:hs"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodeOutput(&tc.o)
			if err != nil {
				t.Fatal(err)
			}
			want, err := json.Marshal(&tc.o)
			if err != nil {
				t.Fatal(err)
			}
			var g, w any
			if err := json.Unmarshal(got, &g); err != nil {
				t.Fatalf("EncodeOutput wrote invalid JSON: %v\n%s", err, got)
			}
			if err := json.Unmarshal(want, &w); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("EncodeOutput:\n%s\njson.Marshal:\n%s", got, want)
			}
			var back OutputEvent
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if back.Type != tc.o.Type {
				t.Fatalf("type %q, want %q", back.Type, tc.o.Type)
			}
		})
	}
}

// BenchmarkEncodeOutput is the roomserver's encoding of one new message's
// output (staged in the outbox for every event).
func BenchmarkEncodeOutput(b *testing.B) {
	o := &OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: &OutputNewRoomEvent{
		RoomID: "!r:hs", RoomVersion: "10", EventID: "$e", Event: encodeEvent, HistoryVisibility: VisibilityShared,
		TransactionID: &TransactionID{DeviceID: "DEV", TransactionID: "m1234.5"},
	}}
	b.Run("EncodeOutput", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := EncodeOutput(o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(o); err != nil {
				b.Fatal(err)
			}
		}
	})
}
