package api

import (
	"encoding/json"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
)

// ClientEvent is an event as the Client-Server API serves it.
type ClientEvent struct {
	Content        json.RawMessage `json:"content"`
	EventID        string          `json:"event_id"`
	OriginServerTS int64           `json:"origin_server_ts"`
	RoomID         string          `json:"room_id,omitempty"`
	Sender         string          `json:"sender"`
	StateKey       *string         `json:"state_key,omitempty"`
	Type           string          `json:"type"`
	Redacts        string          `json:"redacts,omitempty"`
	Unsigned       json.RawMessage `json:"unsigned,omitempty"`
}

// FormatOptions tune ToClientEvent.
type FormatOptions struct {
	// OmitRoomID for /sync timelines, where the room is the enclosing key.
	OmitRoomID bool
	// Now is used to compute unsigned.age (default time.Now()).
	Now time.Time
	// ExtraUnsigned fields are merged into unsigned (e.g. transaction_id,
	// prev_content, replaces_state).
	ExtraUnsigned map[string]any
	// OmitAge leaves unsigned.age out (and unsigned itself when nothing
	// else is in it): for JSON stored to be served later, where an age
	// computed now would be stale.
	OmitAge bool
}

// ToClientEvent converts a PDU to the client format: content, event_id,
// room_id, sender, type, state_key, origin_server_ts, and unsigned with the
// stored unsigned fields (redacted_because…) plus age.
func ToClientEvent(ev gomatrixserverlib.PDU, opts FormatOptions) ClientEvent {
	ce := ClientEvent{
		Content:        ev.Content(),
		EventID:        ev.EventID(),
		OriginServerTS: int64(ev.OriginServerTS()),
		Sender:         string(ev.SenderID()),
		StateKey:       ev.StateKey(),
		Type:           ev.Type(),
		Redacts:        RedactsOf(ev),
	}
	if len(ce.Content) == 0 {
		ce.Content = json.RawMessage("{}")
	}
	if !opts.OmitRoomID {
		ce.RoomID = ev.RoomID().String()
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	unsigned := map[string]any{}
	if raw := ev.Unsigned(); len(raw) > 0 {
		var stored map[string]json.RawMessage
		if json.Unmarshal(raw, &stored) == nil {
			for k, v := range stored {
				unsigned[k] = v
			}
		}
	}
	for k, v := range opts.ExtraUnsigned {
		unsigned[k] = v
	}
	if opts.OmitAge {
		delete(unsigned, "age") // a stored one (from another server) too
		if len(unsigned) > 0 {
			ce.Unsigned, _ = json.Marshal(unsigned)
		}
		return ce
	}
	if age := now.UnixMilli() - int64(ev.OriginServerTS()); age >= 0 {
		unsigned["age"] = age
	} else {
		unsigned["age"] = 0
	}
	ce.Unsigned, _ = json.Marshal(unsigned)
	return ce
}

// ToClientEvents formats a list.
func ToClientEvents(evs []*Event, opts FormatOptions) []ClientEvent {
	out := make([]ClientEvent, 0, len(evs))
	for _, ev := range evs {
		out = append(out, ToClientEvent(ev.PDU, opts))
	}
	return out
}

// RedactsOf is the event a redaction targets: content.redacts from room
// v11 on, the top-level key before (both are honoured).
func RedactsOf(ev gomatrixserverlib.PDU) string {
	if ev.Type() != spec.MRoomRedaction {
		return ""
	}
	if r := gjson.GetBytes(ev.Content(), "redacts"); r.Type == gjson.String {
		return r.Str
	}
	return ev.Redacts()
}
