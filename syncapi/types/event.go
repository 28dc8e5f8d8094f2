package types

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// Event is a room event as the syncapi stores and serves it. JSON is the
// client-format event without viewer-specific fields; Serve adds those.
type Event struct {
	Pos               StreamPosition
	EventID           string
	RoomID            string
	Type              string
	Sender            string
	StateKey          *string
	OriginTS          int64
	JSON              []byte
	RoomVersion       string
	TxnDevice         string
	TxnID             string
	HistoryVisibility string
	// Membership is content.membership for m.room.member events.
	Membership string
	// RelatesTo/RelType come from content.m.relates_to.
	RelatesTo string
	RelType   string
	// ThreadID is the thread root this event belongs to ("" for the main
	// timeline). A thread root itself is in the main timeline.
	ThreadID    string
	ContainsURL bool
	Redacted    bool
	// HistoryGap: history before this event is missing here (its prev
	// events were never received), so a timeline reaching it is limited.
	HistoryGap bool
}

// IsState reports whether the event has a state key.
func (e *Event) IsState() bool { return e.StateKey != nil }

// Serve returns the event's JSON for viewerDevice: unsigned.age is
// computed now (stored JSON cannot carry it), the transaction ID is
// echoed only to the device that sent it, and bundled aggregations (may
// be nil) are attached as unsigned.m.relations.
func (e *Event) Serve(viewerDevice string, relations json.RawMessage) json.RawMessage {
	return e.ServeTo(viewerDevice, "", relations)
}

// ServeTo is Serve for a timeline read by a user whose membership at the
// event is membership (Matrix 1.11, MSC4115): it goes in
// unsigned.membership unless empty.
func (e *Event) ServeTo(viewerDevice, membership string, relations json.RawMessage) json.RawMessage {
	out, set := withAge(e.JSON, max(time.Now().UnixMilli()-e.OriginTS, 0), membership)
	if membership != "" && !set {
		if b, err := sjson.SetBytes(out, "unsigned.membership", membership); err == nil {
			out = b
		}
	}
	if e.TxnID != "" && viewerDevice != "" && viewerDevice == e.TxnDevice {
		if b, err := sjson.SetBytes(out, "unsigned.transaction_id", e.TxnID); err == nil {
			out = b
		}
	}
	if len(relations) > 0 {
		if b, err := sjson.SetRawBytes(out, "unsigned.m\\.relations", relations); err == nil {
			out = b
		}
	}
	return out
}

// withAge returns a copy of the event JSON js with unsigned.age set,
// splicing bytes rather than re-encoding (every served event pays this).
// When js has no unsigned object and membership (may be empty) is a plain
// word, unsigned.membership goes in the same splice, as sjson would have
// put it after age, and set is true: each woken /sync serves every
// timeline event with the viewer's membership, and sjson parses the whole
// event again to add it.
func withAge(js []byte, age int64, membership string) (out []byte, set bool) {
	u := gjson.GetBytes(js, "unsigned")
	if !u.Exists() && membership != "" && plainWord(membership) {
		if end := bytes.LastIndexByte(js, '}'); end > 0 {
			return splice(js, end, `,"unsigned":{"age":`+strconv.FormatInt(age, 10)+`,"membership":"`+membership+`"}`), true
		}
	}
	return withAgeOnly(js, u, age), false
}

// plainWord reports whether s is lower-case ASCII letters only (nothing
// to escape in JSON), as every membership is.
func plainWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// withAgeOnly is withAge without membership; u is js's unsigned.
func withAgeOnly(js []byte, u gjson.Result, age int64) []byte {
	switch {
	case u.Exists() && u.IsObject() && u.Index > 0 && !u.Get("age").Exists():
		at := u.Index + strings.IndexByte(u.Raw, '{') + 1
		field := `"age":` + strconv.FormatInt(age, 10)
		if strings.TrimSpace(u.Raw[strings.IndexByte(u.Raw, '{')+1:]) != "}" {
			field += ","
		}
		return splice(js, at, field)
	case !u.Exists():
		if end := bytes.LastIndexByte(js, '}'); end > 0 {
			return splice(js, end, `,"unsigned":{"age":`+strconv.FormatInt(age, 10)+`}`)
		}
	}
	if b, err := sjson.SetBytes(clone(js), "unsigned.age", age); err == nil {
		return b
	}
	return clone(js)
}

func splice(js []byte, at int, insert string) []byte {
	out := make([]byte, 0, len(js)+len(insert))
	out = append(out, js[:at]...)
	out = append(out, insert...)
	return append(out, js[at:]...)
}

// Erase strips what the sender wrote from a message whose sender was
// erased, as a redaction does (the room version's redaction algorithm;
// content emptied if the version is unknown). There is no
// redacted_because: no redaction event exists.
func (e *Event) Erase() error {
	var js []byte
	verImpl, err := gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(e.RoomVersion))
	if err == nil {
		js, err = verImpl.RedactEventJSON(e.JSON)
	} else {
		js, err = sjson.SetRawBytes(e.JSON, "content", []byte("{}"))
	}
	if err != nil {
		return err
	}
	e.JSON, e.Redacted, e.ContainsURL = js, true, false
	return nil
}

// StrippedState is the event reduced to type, state_key, sender and
// content, as used in invite_state.
func (e *Event) StrippedState() json.RawMessage {
	return strip(gjson.ParseBytes(e.JSON))
}

// InviteRoomState is the room state the inviting server sent with this
// invite (unsigned.invite_room_state: full PDUs since Matrix 1.16,
// stripped before), stripped for clients; nil when it sent none.
func (e *Event) InviteRoomState() []json.RawMessage {
	var out []json.RawMessage
	for _, r := range gjson.GetBytes(e.JSON, "unsigned.invite_room_state").Array() {
		typ, key := r.Get("type"), r.Get("state_key")
		if typ.Type != gjson.String || key.Type != gjson.String || r.Get("sender").Type != gjson.String || !r.Get("content").IsObject() {
			continue // not an event
		}
		if typ.Str == "m.room.member" && e.StateKey != nil && key.Str == *e.StateKey {
			continue // the invite itself follows
		}
		out = append(out, strip(r))
	}
	return out
}

// strip reduces an event to type, state_key, sender and content (spec
// "Stripped state").
func strip(r gjson.Result) json.RawMessage {
	m := map[string]json.RawMessage{
		"type":      json.RawMessage(r.Get("type").Raw),
		"state_key": json.RawMessage(r.Get("state_key").Raw),
		"sender":    json.RawMessage(r.Get("sender").Raw),
		"content":   json.RawMessage(r.Get("content").Raw),
	}
	b, _ := json.Marshal(m)
	return b
}

// Content returns the event's content JSON.
func (e *Event) Content() []byte {
	return []byte(gjson.GetBytes(e.JSON, "content").Raw)
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
