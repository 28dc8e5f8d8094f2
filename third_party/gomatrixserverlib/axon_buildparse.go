package gomatrixserverlib

import (
	"encoding/base64"
	"reflect"
	"strconv"

	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
)

// Axon patch 5: Build used to parse the event it had just written with
// json.Unmarshal into the event struct (reflection, about a fifth of
// building a message). The JSON is its own output, so its shape is
// known: builtEvent fills the same struct from one gjson pass instead,
// and returns nil (the caller then takes the json.Unmarshal path) for
// anything it does not expect. TestBuiltEventEqualsParsed holds it equal
// to the parsed event in every room version.

var (
	trustedWithIDV2 = reflect.ValueOf(newEventFromTrustedJSONWithEventIDV2).Pointer()
	trustedWithIDV3 = reflect.ValueOf(newEventFromTrustedJSONWithEventIDV3).Pointer()
)

// builtEvent is what ver.NewEventFromTrustedJSONWithEventID(eventID,
// eventJSON, false) returns, for Build's own output; nil if it cannot
// tell.
func builtEvent(ver IRoomVersion, eventID string, eventJSON []byte) PDU {
	impl, ok := ver.(RoomVersionImpl)
	if !ok || impl.newEventFromTrustedJSONWithEventIDFunc == nil {
		return nil
	}
	switch reflect.ValueOf(impl.newEventFromTrustedJSONWithEventIDFunc).Pointer() {
	case trustedWithIDV2:
		res := &eventV2{}
		if !fillEventV2(res, eventJSON) || checkID(res.eventFields.RoomID, "room", '!') != nil {
			return nil
		}
		res.roomVersion, res.eventJSON, res.EventIDRaw = impl.Version(), eventJSON, eventID
		return res
	case trustedWithIDV3:
		res := &eventV3{}
		if !fillEventV2(&res.eventV2, eventJSON) {
			return nil
		}
		res.roomVersion, res.eventJSON, res.EventIDRaw = impl.Version(), eventJSON, eventID
		if checkRoomID(res) != nil {
			return nil
		}
		return res
	}
	return nil
}

// fillEventV2 sets the fields json.Unmarshal would set from the
// top-level keys Build writes; false for any other key or type.
func fillEventV2(e *eventV2, eventJSON []byte) bool {
	root := gjson.ParseBytes(eventJSON)
	if !root.IsObject() {
		return false
	}
	ok := true
	str := func(v gjson.Result, dst *string) {
		switch v.Type {
		case gjson.String:
			*dst = v.Str
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
			if item.Type != gjson.String {
				ok = false
				return false
			}
			out = append(out, item.Str)
			return true
		})
		return out
	}
	raw := func(v gjson.Result) spec.RawJSON {
		return append(spec.RawJSON(nil), v.Raw...)
	}
	root.ForEach(func(k, v gjson.Result) bool {
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
