package types

import (
	"encoding/json"

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
}

// IsState reports whether the event has a state key.
func (e *Event) IsState() bool { return e.StateKey != nil }

// Serve returns the event's JSON for viewerDevice: the transaction ID is
// echoed only to the device that sent it, and bundled aggregations (may
// be nil) are attached as unsigned.m.relations.
func (e *Event) Serve(viewerDevice string, relations json.RawMessage) json.RawMessage {
	out := e.JSON
	if e.TxnID != "" && viewerDevice != "" && viewerDevice == e.TxnDevice {
		if b, err := sjson.SetBytes(clone(out), "unsigned.transaction_id", e.TxnID); err == nil {
			out = b
		}
	}
	if len(relations) > 0 {
		if b, err := sjson.SetRawBytes(clone(out), "unsigned.m\\.relations", relations); err == nil {
			out = b
		}
	}
	return out
}

// StrippedState is the event reduced to type, state_key, sender and
// content, as used in invite_state.
func (e *Event) StrippedState() json.RawMessage {
	r := gjson.ParseBytes(e.JSON)
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
