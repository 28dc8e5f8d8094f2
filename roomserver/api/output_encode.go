package api

import (
	"encoding/json"
	"unicode/utf8"
)

// EncodeOutput is json.Marshal(o), written directly for the common
// output: a new room event. encoding/json re-scans and compacts every
// json.RawMessage it writes, which for a new event meant reading the
// whole PDU twice per output; the PDU here is the roomserver's own
// compact JSON and is copied as it is. Anything else (other output
// types, added state events, strings that are not valid UTF-8, which
// encoding/json would rewrite) goes through json.Marshal. Decoding
// either encoding gives the same OutputEvent (output_encode_test.go).
func EncodeOutput(o *OutputEvent) ([]byte, error) {
	n := o.NewRoomEvent
	if o.Type != OutputTypeNewRoomEvent || n == nil || o.Redaction != nil || o.Backfill != nil || o.Forget != nil || o.PurgeRoom != nil ||
		len(n.AddedStateEvents) > 0 || len(n.Event) == 0 || !plainStrings(n) {
		return json.Marshal(o)
	}
	b := make([]byte, 0, len(n.Event)+256)
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
	return append(b, "}}"...), nil
}

// plainStrings: every string of n is valid UTF-8 (so appendString
// writes what encoding/json would decode to the same value).
func plainStrings(n *OutputNewRoomEvent) bool {
	ok := utf8.ValidString(n.RoomID) && utf8.ValidString(n.RoomVersion) && utf8.ValidString(n.EventID) &&
		utf8.ValidString(n.HistoryVisibility) && utf8.ValidString(n.SendAsServer)
	if t := n.TransactionID; t != nil {
		ok = ok && utf8.ValidString(t.DeviceID) && utf8.ValidString(t.TransactionID)
	}
	for _, l := range [][]string{n.AddsStateEventIDs, n.RemovesStateEventIDs} {
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
