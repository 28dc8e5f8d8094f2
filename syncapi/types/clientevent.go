package types

import (
	"encoding/json"
	"fmt"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/tidwall/gjson"
)

// This file is the one place PDUs become client-format events. When the
// roomserver grows a shared formatter it replaces ToClientJSON.

// clientEvent is the spec's ClientEvent (without room-less variants).
type clientEvent struct {
	Content        json.RawMessage `json:"content"`
	EventID        string          `json:"event_id"`
	OriginServerTS int64           `json:"origin_server_ts"`
	RoomID         string          `json:"room_id"`
	Sender         string          `json:"sender"`
	StateKey       *string         `json:"state_key,omitempty"`
	Type           string          `json:"type"`
	Redacts        string          `json:"redacts,omitempty"`
	Unsigned       json.RawMessage `json:"unsigned,omitempty"`
}

// ToClientJSON formats a PDU for clients. unsigned replaces the PDU's own
// unsigned object when non-nil (e.g. to add redacted_because).
func ToClientJSON(pdu gomatrixserverlib.PDU, unsigned json.RawMessage) ([]byte, error) {
	content := json.RawMessage(pdu.Content())
	if len(content) == 0 {
		content = json.RawMessage("{}")
	}
	ce := clientEvent{
		Content:        content,
		EventID:        pdu.EventID(),
		OriginServerTS: int64(pdu.OriginServerTS()),
		RoomID:         pdu.RoomID().String(),
		Sender:         string(pdu.SenderID()),
		StateKey:       pdu.StateKey(),
		Type:           pdu.Type(),
		Redacts:        pdu.Redacts(),
		Unsigned:       unsigned,
	}
	if ce.Unsigned == nil {
		if u := pdu.Unsigned(); len(u) > 0 && gjson.ValidBytes(u) && string(u) != "{}" {
			ce.Unsigned = u
		}
	}
	return json.Marshal(ce)
}

// EventFromPDU builds the stored form of pdu.
func EventFromPDU(pdu gomatrixserverlib.PDU, historyVisibility string) (*Event, error) {
	js, err := ToClientJSON(pdu, nil)
	if err != nil {
		return nil, fmt.Errorf("format event %s: %w", pdu.EventID(), err)
	}
	ev := &Event{
		EventID:           pdu.EventID(),
		RoomID:            pdu.RoomID().String(),
		Type:              pdu.Type(),
		Sender:            string(pdu.SenderID()),
		StateKey:          pdu.StateKey(),
		OriginTS:          int64(pdu.OriginServerTS()),
		JSON:              js,
		HistoryVisibility: historyVisibility,
		Redacted:          pdu.Redacted(),
	}
	content := gjson.ParseBytes(pdu.Content())
	if pdu.Type() == "m.room.member" {
		ev.Membership = content.Get("membership").String()
	}
	rel := content.Get(`m\.relates_to`)
	ev.RelatesTo = rel.Get("event_id").String()
	ev.RelType = rel.Get("rel_type").String()
	if ev.RelType == "m.thread" && ev.RelatesTo != "" {
		ev.ThreadID = ev.RelatesTo
	}
	if u := content.Get("url"); u.Type == gjson.String && u.String() != "" {
		ev.ContainsURL = true
	}
	return ev, nil
}

// ParsePDU parses trusted PDU JSON of the given room version.
func ParsePDU(roomVersion string, js []byte, redacted bool) (gomatrixserverlib.PDU, error) {
	verImpl, err := gomatrixserverlib.GetRoomVersion(gomatrixserverlib.RoomVersion(roomVersion))
	if err != nil {
		return nil, err
	}
	return verImpl.NewEventFromTrustedJSON(js, redacted)
}
