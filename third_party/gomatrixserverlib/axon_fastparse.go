package gomatrixserverlib

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
)

// Axon patch 7: trusted events of the v2 format (every room version from
// v3) were parsed with json.Unmarshal into the event struct, by
// reflection: a fifth of building a message, and again in every
// consumer. fillEventV2 fills the same struct from one gjson pass, and
// declines (the caller then uses json.Unmarshal) whenever the two could
// differ: an unexpected key, a type json.Unmarshal would refuse, a
// string with a \u escape or invalid UTF-8 (which encoding/json
// rewrites). TestFillEventV2MatchesUnmarshal and TestBuiltEventEqualsParsed
// hold it equal to json.Unmarshal.

// unmarshalEventV2 is json.Unmarshal(eventJSON, e) for a zero e, by
// fillEventV2 where it can tell the result is the same.
func unmarshalEventV2(eventJSON []byte, e *eventV2) error {
	if fillEventV2(e, eventJSON) {
		return nil
	}
	*e = eventV2{}
	return json.Unmarshal(eventJSON, e)
}

// fillEventV2 sets the fields json.Unmarshal would set from the
// top-level keys Build writes; false for any other key or type.
//
// Axon patch 16: gjson.ParseBytes copies the whole event into a string,
// and the fields taken from it (room, sender, type, event IDs) kept that
// copy alive beside the event's own JSON as long as the event lived:
// ~1 KB per message, 4.6 MB of the heap at axon-bench's peak. The event
// is read in place instead, and each kept string is copied on its own.
func fillEventV2(e *eventV2, eventJSON []byte) bool {
	// Read only while this function runs; nothing below keeps a string
	// of it (str and strs clone, raw copies).
	root := parseNoCopy(eventJSON)
	if !root.IsObject() {
		return false
	}
	ok := true
	str := func(v gjson.Result, dst *string) {
		switch v.Type {
		case gjson.String:
			ok = ok && !strings.Contains(v.Raw, `\u`) && utf8.ValidString(v.Str)
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
			if item.Type != gjson.String || strings.Contains(item.Raw, `\u`) || !utf8.ValidString(item.Str) {
				ok = false
				return false
			}
			out = append(out, strings.Clone(item.Str))
			return true
		})
		return out
	}
	raw := func(v gjson.Result) spec.RawJSON {
		return append(spec.RawJSON(nil), v.Raw...)
	}
	root.ForEach(func(k, v gjson.Result) bool {
		if strings.IndexByte(k.Raw, '\\') >= 0 {
			ok = false // an escaped key: json.Unmarshal's matching decides
			return false
		}
		switch k.Str {
		case "room_id":
			str(v, &e.eventFields.RoomID)
		case "sender":
			str(v, &e.eventFields.SenderID)
		case "type":
			str(v, &e.eventFields.Type)
		case "redacts":
			str(v, &e.eventFields.Redacts)
		case "state_key":
			e.eventFields.StateKey = nil
			if v.Type != gjson.Null {
				var s string
				str(v, &s)
				e.eventFields.StateKey = &s
			}
		case "content":
			e.eventFields.Content = raw(v)
		case "unsigned":
			e.eventFields.Unsigned = raw(v)
		case "depth":
			n, err := strconv.ParseInt(v.Raw, 10, 64)
			ok = ok && v.Type == gjson.Number && err == nil
			e.eventFields.Depth = n
		case "origin_server_ts":
			n, err := strconv.ParseUint(v.Raw, 10, 64)
			ok = ok && v.Type == gjson.Number && err == nil
			e.eventFields.OriginServerTS = spec.Timestamp(n)
		case "prev_events":
			e.PrevEvents = strs(v)
		case "auth_events":
			e.AuthEvents = strs(v)
		case "prev_state_events":
			e.PrevStateEvents = strs(v)
		case "hashes", "signatures", "origin", "prev_state":
			// not fields of the struct
		default:
			ok = false
		}
		return ok
	})
	return ok
}

// signaturesJSON is {signingName: {keyID: base64(sig)}} as json.Marshal
// writes it, for names that need no escaping; ok false otherwise.
func signaturesJSON(signingName string, keyID KeyID, sig []byte) ([]byte, bool) {
	if !plainJSONString(signingName) || !plainJSONString(string(keyID)) {
		return nil, false
	}
	b := make([]byte, 0, len(signingName)+len(keyID)+base64.RawStdEncoding.EncodedLen(len(sig))+12)
	b = append(b, `{"`...)
	b = append(b, signingName...)
	b = append(b, `":{"`...)
	b = append(b, keyID...)
	b = append(b, `":"`...)
	b = base64.RawStdEncoding.AppendEncode(b, sig)
	return append(b, `"}}`...), true
}

// plainJSONString: printable ASCII that json.Marshal writes unchanged.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
