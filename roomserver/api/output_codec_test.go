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
		{"state delta left out falls back", OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: &OutputNewRoomEvent{
			RoomID: "!r:hs", RoomVersion: "10", EventID: "$e", Event: encodeEvent, StateDelta: &StateDeltaRef{Before: 3, After: 7, AddsEvent: true},
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

// TestEncodeOutputAllocatesOnce: a message's output, with IDs as long as
// real ones and every optional field, is written into one allocation.
func TestEncodeOutputAllocatesOnce(t *testing.T) {
	o := &OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: &OutputNewRoomEvent{
		RoomID: "!OGEhHVWSdvArJzumhm:matrix.example.org", RoomVersion: "10", EventID: "$9AcnmPlYXtwm0GjuCIjU8Sz1fDoqCJ0lNW8dQmGBn3Q",
		Event: encodeEvent, HistoryVisibility: VisibilityShared, SendAsServer: "matrix.example.org", HistoryGap: true,
		AddsStateEventIDs:    []string{"$9AcnmPlYXtwm0GjuCIjU8Sz1fDoqCJ0lNW8dQmGBn3Q"},
		RemovesStateEventIDs: []string{"$Mj2VnT5V7Lb8uOJtSpvP6HbrPStXy2Gq1bLMLxkYx0c", "$Q3PaP9CSbmUg7x0xUvTg0jLAIVtG6bf8d9s7yTXgeu4"},
		AddedStateEventIDs:   []string{"$xk6CwZsuUsGd2j9bV4hLJEQzJm6bLq3C0fWc0OmV0nQ"},
		TransactionID:        &TransactionID{DeviceID: "QWERTYUIOPASDF", TransactionID: "m1764763200000.42"},
	}}
	if n := testing.AllocsPerRun(20, func() {
		if _, err := EncodeOutput(o); err != nil {
			t.Fatal(err)
		}
	}); n != 1 {
		t.Fatalf("%v allocations per output, want 1", n)
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

// TestDecodeOutputMatchesUnmarshal: DecodeOutput reads what
// json.Unmarshal reads, for EncodeOutput's output and for inputs where a
// direct reading could differ (which it leaves to json.Unmarshal).
func TestDecodeOutputMatchesUnmarshal(t *testing.T) {
	msg := &OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: &OutputNewRoomEvent{
		RoomID: "!r:hs", RoomVersion: "10", EventID: "$e", Event: encodeEvent, HistoryVisibility: VisibilityShared,
		AddsStateEventIDs: []string{"$a"}, RemovesStateEventIDs: []string{"$b"}, SendAsServer: "hs",
		TransactionID: &TransactionID{DeviceID: "DEV", TransactionID: "t\"x\\n"},
	}}
	encoded, err := EncodeOutput(msg)
	if err != nil {
		t.Fatal(err)
	}
	nre := `"room_id":"!r:hs","room_version":"10","event_id":"$e","event":{"a": 1}`
	for _, tc := range []struct {
		data   string
		direct bool
	}{
		{string(encoded), true},
		{`{"type":"new_room_event","new_room_event":{` + nre + `,"event":null,"adds_state_event_ids":null}}`, true},
		{`{"new_room_event":{` + nre + `},"type":"new_room_event"}`, true},
		{`{"type":"new_room_event","new_room_event":{` + nre + `},"type":"redaction"}`, false},
		{`{"type":"new_room_event","new_room_event":{` + nre + `},"new_room_event":{"event_id":"$2"}}`, false},
		{`{"type":"new_room_event","new_room_event":{` + nre + `,"transaction_id":{"device_id":"D"},"transaction_id":{"txn_id":"t"}}}`, false},
		{`{"type":"new_room_event","new_room_event":{` + nre + `,"event_id":"\u00e9"}}`, false},
		{`{"type":"new_room_event","new_room_event":{` + nre + `,"event_id":"` + "\xff" + `"}}`, false},
		{`{"type":"new_room_event","new_room_event":{` + nre + `,"Event_ID":"$x"}}`, false},
		{`{"type":"new_room_event","new_room_event":{` + nre + `,"added_state_events":[{}]}}`, false},
		{`{"type":"new_room_event","new_room_event":null}`, false},
		{`{"type":"new_room_event"}`, false},
		{`{"type":"purge_room","purge_room":{"room_id":"!r:hs"}}`, false},
	} {
		var direct, slow OutputEvent
		if got := decodeNewRoomEvent([]byte(tc.data), &direct); got != tc.direct {
			t.Errorf("%s: read directly %v, want %v", tc.data, got, tc.direct)
		}
		if err := DecodeOutput([]byte(tc.data), &direct); err != nil {
			t.Fatalf("%s: %v", tc.data, err)
		}
		if err := json.Unmarshal([]byte(tc.data), &slow); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(direct, slow) {
			t.Errorf("%s: DecodeOutput %+v, json.Unmarshal %+v", tc.data, direct, slow)
		}
	}
}

// BenchmarkDecodeOutput is a consumer's decoding of one new message's
// output.
func BenchmarkDecodeOutput(b *testing.B) {
	data, _ := EncodeOutput(&OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: &OutputNewRoomEvent{
		RoomID: "!r:hs", RoomVersion: "10", EventID: "$e", Event: encodeEvent, HistoryVisibility: VisibilityShared,
		TransactionID: &TransactionID{DeviceID: "DEV", TransactionID: "m1234.5"},
	}})
	b.Run("DecodeOutput", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var o OutputEvent
			if err := DecodeOutput(data, &o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var o OutputEvent
			if err := json.Unmarshal(data, &o); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestEncodeOutputKeepsEveryField: a new field of OutputNewRoomEvent that
// the direct encoder does not write fails here, instead of vanishing
// from the stream (HistoryGap and AddedStateEventIDs once did).
func TestEncodeOutputKeepsEveryField(t *testing.T) {
	n := &OutputNewRoomEvent{}
	v := reflect.ValueOf(n).Elem()
	for i := 0; i < v.NumField(); i++ {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch {
		case name == "AddedStateEvents", name == "StateDelta": // written by json.Marshal (checked above)
		case name == "Event":
			f.Set(reflect.ValueOf(json.RawMessage(`{"type":"m.room.message"}`)))
		case f.Kind() == reflect.String:
			f.SetString("v-" + name)
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			f.Set(reflect.ValueOf([]string{"$a-" + name, "$b-" + name}))
		case f.Kind() == reflect.Pointer && f.Type().Elem() == reflect.TypeOf(TransactionID{}):
			f.Set(reflect.ValueOf(&TransactionID{DeviceID: "D", TransactionID: "T"}))
		default:
			t.Fatalf("field %s (%s): teach this test to fill it, and EncodeOutput to write it", name, f.Type())
		}
	}
	data, err := EncodeOutput(&OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: n})
	if err != nil {
		t.Fatal(err)
	}
	for name, decode := range map[string]func([]byte, *OutputEvent) error{
		"json":   func(b []byte, o *OutputEvent) error { return json.Unmarshal(b, o) },
		"direct": DecodeOutput,
	} {
		var got OutputEvent
		if err := decode(data, &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.NewRoomEvent, n) {
			t.Errorf("%s decode of EncodeOutput lost fields:\n got %+v\nwant %+v", name, got.NewRoomEvent, n)
		}
	}
}

// The fast decoder reads the message in place. The strings it keeps
// must not point into it (an ID kept in a cache would hold the whole
// message); the event's JSON, most of the message, is not copied: it
// aliases the message, which no one changes (DecodeOutput's contract).
func TestDecodeOutputKeepsNoViewOfInput(t *testing.T) {
	data := []byte(`{"type":"new_room_event","new_room_event":{"room_id":"!r:hs","room_version":"10","event_id":"$e","event":{"type":"m.room.message"},` +
		`"adds_state_event_ids":["$s"],"removes_state_event_ids":["$t"],"added_state_event_ids":["$u"],"history_visibility":"shared","send_as_server":"hs",` +
		`"transaction_id":{"device_id":"D","txn_id":"t1"}}}`)
	var o OutputEvent
	if !decodeNewRoomEvent(data, &o) {
		t.Fatal("declined")
	}
	if string(o.NewRoomEvent.Event) != `{"type":"m.room.message"}` {
		t.Fatalf("event = %s", o.NewRoomEvent.Event)
	}
	withoutEvent := func() string {
		n := *o.NewRoomEvent
		n.Event = nil
		js, err := json.Marshal(n)
		if err != nil {
			t.Fatal(err)
		}
		return string(js)
	}
	before := withoutEvent() // a copy that does not change with data
	for i := range data {
		data[i] = 'X'
	}
	if after := withoutEvent(); after != before {
		t.Fatalf("output changed with its input:\n%s\n%s", before, after)
	}
	if o.NewRoomEvent.Event[0] != 'X' {
		t.Error("the event was copied; DecodeOutput's contract says it aliases data")
	}
}
