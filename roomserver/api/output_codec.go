package api

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/axon-hs/axon/internal/jsontext"
)

// EncodeOutput is json.Marshal(o), written directly for the common
// output: a new room event. encoding/json re-scans and compacts every
// json.RawMessage it writes, which for a new event meant reading the
// whole PDU twice per output; the PDU here is the roomserver's own
// compact JSON and is copied as it is. Every field of OutputNewRoomEvent
// must be written here (TestEncodeOutputKeepsEveryField fails otherwise).
// Anything else (other output
// types, added state events, a state delta reference, strings that are not valid UTF-8, which
// encoding/json would rewrite) goes through json.Marshal. Decoding
// either encoding gives the same OutputEvent (output_encode_test.go).
func EncodeOutput(o *OutputEvent) ([]byte, error) {
	n := o.NewRoomEvent
	if o.Type != OutputTypeNewRoomEvent || n == nil || o.Redaction != nil || o.Backfill != nil || o.Forget != nil || o.PurgeRoom != nil ||
		len(n.AddedStateEvents) > 0 || n.StateDelta != nil || len(n.Event) == 0 || !plainStrings(n) {
		return json.Marshal(o)
	}
	b := make([]byte, 0, encodedLen(n))
	b = append(b, `{"type":"new_room_event","new_room_event":{"room_id":`...)
	b = appendString(b, n.RoomID)
	b = append(b, `,"room_version":`...)
	b = appendString(b, n.RoomVersion)
	b = append(b, `,"event_id":`...)
	b = appendString(b, n.EventID)
	b = append(b, `,"event":`...)
	b = append(b, n.Event...)
	b = appendStrings(b, `,"adds_state_event_ids":`, n.AddsStateEventIDs)
	b = appendStrings(b, `,"removes_state_event_ids":`, n.RemovesStateEventIDs)
	b = appendStrings(b, `,"added_state_event_ids":`, n.AddedStateEventIDs)
	if n.HistoryVisibility != "" {
		b = append(b, `,"history_visibility":`...)
		b = appendString(b, n.HistoryVisibility)
	}
	if t := n.TransactionID; t != nil {
		b = append(b, `,"transaction_id":{"device_id":`...)
		b = appendString(b, t.DeviceID)
		b = append(b, `,"txn_id":`...)
		b = appendString(b, t.TransactionID)
		b = append(b, '}')
	}
	if n.SendAsServer != "" {
		b = append(b, `,"send_as_server":`...)
		b = appendString(b, n.SendAsServer)
	}
	if n.HistoryGap {
		b = append(b, `,"history_gap":true`...)
	}
	return append(b, "}}"...), nil
}

// encodedLen is what EncodeOutput writes for n when no string needs an
// escape: the buffer is allocated once (a fixed 256 bytes of room grew it,
// doubling the event's copy, whenever a transaction ID was there).
func encodedLen(n *OutputNewRoomEvent) int {
	const fixed = len(`{"type":"new_room_event","new_room_event":{"room_id":"","room_version":"","event_id":"","event":` +
		`,"history_visibility":"","transaction_id":{"device_id":"","txn_id":""},"send_as_server":"","history_gap":true}}`)
	size := fixed + len(n.Event) + len(n.RoomID) + len(n.RoomVersion) + len(n.EventID) + len(n.HistoryVisibility) + len(n.SendAsServer)
	if t := n.TransactionID; t != nil {
		size += len(t.DeviceID) + len(t.TransactionID)
	}
	for _, l := range [][]string{n.AddsStateEventIDs, n.RemovesStateEventIDs, n.AddedStateEventIDs} {
		if len(l) > 0 {
			size += len(`,"removes_state_event_ids":[]`)
		}
		for _, id := range l {
			size += len(id) + 3
		}
	}
	return size
}

// plainStrings: every string of n is valid UTF-8 (so appendString
// writes what encoding/json would decode to the same value).
func plainStrings(n *OutputNewRoomEvent) bool {
	ok := utf8.ValidString(n.RoomID) && utf8.ValidString(n.RoomVersion) && utf8.ValidString(n.EventID) &&
		utf8.ValidString(n.HistoryVisibility) && utf8.ValidString(n.SendAsServer)
	if t := n.TransactionID; t != nil {
		ok = ok && utf8.ValidString(t.DeviceID) && utf8.ValidString(t.TransactionID)
	}
	for _, l := range [][]string{n.AddsStateEventIDs, n.RemovesStateEventIDs, n.AddedStateEventIDs} {
		for _, s := range l {
			ok = ok && utf8.ValidString(s)
		}
	}
	return ok
}

// appendStrings writes key and the list, omitted when empty (omitempty).
func appendStrings(b []byte, key string, l []string) []byte {
	if len(l) == 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '[')
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendString writes s (valid UTF-8) as a JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// DecodeOutput is json.Unmarshal(data, o) for a zero o, read directly
// for the common output (a new room event, as EncodeOutput writes it):
// decoding by reflection re-scanned the whole PDU for every consumer.
// Anything where the two could differ (other keys or output types,
// escaped keys, strings with \u escapes or invalid UTF-8, which
// encoding/json rewrites) goes through json.Unmarshal. The new room
// event's JSON may alias data: data must not change while o is in use
// (a stream message's data never does).
func DecodeOutput(data []byte, o *OutputEvent) error {
	if decodeNewRoomEvent(data, o) {
		return nil
	}
	*o = OutputEvent{}
	return json.Unmarshal(data, o)
}

func decodeNewRoomEvent(data []byte, o *OutputEvent) bool {
	// Read in place (gjson.ParseBytes copies the whole message into a
	// string, and the IDs taken from it kept that copy alive as long as
	// the output was held). Kept strings are cloned (str, strs); the
	// event, most of the message, is not copied (a 1.5 KB copy per
	// consumer per event): it aliases data.
	root := jsontext.ParseInPlace(data)
	if !root.IsObject() || root.Get("type").Str != string(OutputTypeNewRoomEvent) {
		return false
	}
	n := &OutputNewRoomEvent{}
	ok, seenEvent, seenTxn := true, false, false
	str := func(v gjson.Result, dst *string) {
		switch v.Type {
		case gjson.String:
			ok = ok && plainDecoded(v)
			*dst = strings.Clone(v.Str)
		case gjson.Null:
		default:
			ok = false
		}
	}
	strs := func(v gjson.Result) []string {
		if v.Type == gjson.Null {
			return nil
		}
		if !v.IsArray() {
			ok = false
			return nil
		}
		out := []string{}
		v.ForEach(func(_, item gjson.Result) bool {
			ok = ok && item.Type == gjson.String && plainDecoded(item)
			out = append(out, strings.Clone(item.Str))
			return ok
		})
		return out
	}
	root.ForEach(func(k, v gjson.Result) bool {
		ok = ok && strings.IndexByte(k.Raw, '\\') < 0
		switch {
		case !ok:
		case k.Str == "type":
			ok = v.Type == gjson.String && v.Raw == `"new_room_event"` // every one (json keeps the last)
		case k.Str == "new_room_event" && v.IsObject() && !seenEvent:
			seenEvent = true // a repeat would be merged field by field: left to json
			v.ForEach(func(k, v gjson.Result) bool {
				ok = ok && strings.IndexByte(k.Raw, '\\') < 0
				switch {
				case !ok:
				case k.Str == "room_id":
					str(v, &n.RoomID)
				case k.Str == "room_version":
					str(v, &n.RoomVersion)
				case k.Str == "event_id":
					str(v, &n.EventID)
				case k.Str == "event":
					n.Event = jsontext.RawInPlace(v)
				case k.Str == "adds_state_event_ids":
					n.AddsStateEventIDs = strs(v)
				case k.Str == "removes_state_event_ids":
					n.RemovesStateEventIDs = strs(v)
				case k.Str == "added_state_event_ids":
					n.AddedStateEventIDs = strs(v)
				case k.Str == "history_gap":
					ok = v.Type == gjson.True || v.Type == gjson.False
					n.HistoryGap = v.Type == gjson.True
				case k.Str == "history_visibility":
					str(v, &n.HistoryVisibility)
				case k.Str == "send_as_server":
					str(v, &n.SendAsServer)
				case k.Str == "transaction_id" && v.IsObject() && !seenTxn:
					seenTxn = true
					t := &TransactionID{}
					v.ForEach(func(k, v gjson.Result) bool {
						switch k.Str {
						case "device_id":
							str(v, &t.DeviceID)
						case "txn_id":
							str(v, &t.TransactionID)
						default:
							ok = false
						}
						return ok
					})
					n.TransactionID = t
				default:
					ok = false
				}
				return ok
			})
		default:
			ok = false
		}
		return ok
	})
	if ok = ok && seenEvent; ok {
		*o = OutputEvent{Type: OutputTypeNewRoomEvent, NewRoomEvent: n}
	}
	return ok
}

// plainDecoded: gjson's reading of the string is encoding/json's.
func plainDecoded(v gjson.Result) bool {
	return !strings.Contains(v.Raw, `\u`) && utf8.ValidString(v.Str)
}
