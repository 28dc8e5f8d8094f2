package api

import (
	"encoding/json"

	"github.com/matrix-org/gomatrixserverlib"
)

// EventTemplateRequest asks for an event template on a room's head.
type EventTemplateRequest struct {
	RoomID   string          `json:"room_id"`
	Sender   string          `json:"sender"`
	Type     string          `json:"type"`
	StateKey *string         `json:"state_key,omitempty"`
	Content  json.RawMessage `json:"content"`
}

// EventTemplate is an unsigned event ready for the sender's server to
// sign (the "event" of a make_join/make_leave/make_knock response).
type EventTemplate struct {
	RoomVersion string                       `json:"room_version"`
	Proto       gomatrixserverlib.ProtoEvent `json:"proto"`
}
