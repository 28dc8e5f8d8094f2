package api

import (
	"encoding/json"
	"fmt"

	"github.com/matrix-org/gomatrixserverlib"
)

// Event is a PDU together with its room version, so it can cross process
// boundaries (polylith) and be parsed back: it marshals as
// {"room_version": "...", "pdu": {...}}.
type Event struct {
	gomatrixserverlib.PDU
}

// NewEvent wraps pdu.
func NewEvent(pdu gomatrixserverlib.PDU) *Event { return &Event{PDU: pdu} }

// ParseEvent reads stored/trusted PDU JSON of a room version.
func ParseEvent(roomVersion string, eventJSON []byte) (*Event, error) {
	v, err := gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(roomVersion))
	if err != nil {
		return nil, err
	}
	pdu, err := v.NewEventFromTrustedJSON(eventJSON, false)
	if err != nil {
		return nil, err
	}
	return &Event{PDU: pdu}, nil
}

// ParseEventWithID is ParseEvent for JSON whose event ID is known (no
// reference hash to compute).
func ParseEventWithID(roomVersion, eventID string, eventJSON []byte) (*Event, error) {
	v, err := gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(roomVersion))
	if err != nil {
		return nil, err
	}
	pdu, err := v.NewEventFromTrustedJSONWithEventID(eventID, eventJSON, false)
	if err != nil {
		return nil, err
	}
	return &Event{PDU: pdu}, nil
}

type wireEvent struct {
	RoomVersion string          `json:"room_version"`
	EventID     string          `json:"event_id"`
	Redacted    bool            `json:"redacted,omitempty"`
	PDU         json.RawMessage `json:"pdu"`
}

// MarshalJSON implements json.Marshaler.
func (e *Event) MarshalJSON() ([]byte, error) {
	if e == nil || e.PDU == nil {
		return []byte("null"), nil
	}
	return json.Marshal(wireEvent{RoomVersion: string(e.Version()), EventID: e.EventID(), Redacted: e.Redacted(), PDU: e.JSON()})
}

// UnmarshalJSON implements json.Unmarshaler.
func (e *Event) UnmarshalJSON(data []byte) error {
	var w wireEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	v, err := gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(w.RoomVersion))
	if err != nil {
		return err
	}
	if w.EventID != "" {
		e.PDU, err = v.NewEventFromTrustedJSONWithEventID(w.EventID, w.PDU, w.Redacted)
	} else {
		e.PDU, err = v.NewEventFromTrustedJSON(w.PDU, w.Redacted)
	}
	if err != nil {
		return fmt.Errorf("parse event: %w", err)
	}
	return nil
}
